# Two commands: `make run` serves the portal, `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
ENV_FILE := instance/portal.env
DEBIAN_TEST_PACKAGES := slapd ldap-utils chromium poppler-utils softhsm2 opensc libnss3-tools

.PHONY: run test lint install install-dev lock lock-check system-deps migrate seed clean

UV_VERSION := 0.13.8

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Every runtime and test dependency comes from requirements.lock, pinned with hashes: a fresh clone
# installs exactly what was tested. The portal itself is put on the path by a .pth file (no build step,
# nothing fetched that the lock does not pin).
$(VENV)/.installed: requirements.lock | $(BIN)/python
	@$(PY) scripts/lockfile.py check
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	echo "$(CURDIR)" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/portal-source.pth"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed

# Refresh the lock from pyproject.toml, keeping every pin that still satisfies it.
# `make lock UPGRADE=pyhanko` upgrades one package (and what it needs); `make lock UPGRADE=all` all of them.
lock: | $(BIN)/python
	$(BIN)/pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile pyproject.toml --all-extras --generate-hashes --python-version 3.11 \
	  --custom-compile-command "make lock" --no-header -q \
	  $(if $(UPGRADE),$(if $(filter all,$(UPGRADE)),--upgrade,--upgrade-package $(UPGRADE))) \
	  -o requirements.lock
	$(PY) scripts/lockfile.py stamp

lock-check:
	@$(PY) scripts/lockfile.py check

# Secrets are generated once and kept in instance/ (never committed).
$(ENV_FILE):
	mkdir -p instance
	umask 077; { \
	  echo "PORTAL_ENV=production"; \
	  echo "PORTAL_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')"; \
	  echo "PORTAL_AUDIT_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')"; \
	  echo "PORTAL_DATABASE_URL=sqlite:///$(CURDIR)/instance/portal.db"; \
	  echo "PORTAL_STORAGE_DIR=$(CURDIR)/instance/storage"; \
	  echo "PORTAL_BREAK_GLASS_USERNAME=khancap.tinh"; \
	} > $@
	@echo "Đã tạo $(ENV_FILE) với khóa bí mật mới."

migrate: $(VENV)/.installed $(ENV_FILE)
	@# the demo's development signing keys (never for real documents); added to older env files too
	@grep -q '^PORTAL_PKI_PASSPHRASE=' $(ENV_FILE) || { umask 077; { \
	  echo "PORTAL_SIGNING_DEV_PKI=true"; \
	  echo "PORTAL_PKI_DIR=$(CURDIR)/instance/pki"; \
	  echo "PORTAL_PKI_PASSPHRASE=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')"; \
	} >> $(ENV_FILE); }
	set -a; . ./$(ENV_FILE); set +a; $(BIN)/flask --app wsgi portal db-upgrade

seed: migrate
	set -a; . ./$(ENV_FILE); set +a; $(BIN)/flask --app wsgi portal seed-demo --if-empty
	set -a; . ./$(ENV_FILE); set +a; $(BIN)/flask --app wsgi portal pki init-demo

# gunicorn and the job queue's consumer (python -m portal.jobs.consumer), stopped together (scripts/serve.sh)
run: seed
	@echo "Cổng thông tin: http://127.0.0.1:$(PORT)"
	set -a; . ./$(ENV_FILE); set +a; BIN=$(BIN) PORT=$(PORT) WORKERS=$(WORKERS) exec scripts/serve.sh

# Debian packages the suite needs (a real slapd, Chromium for Playwright, poppler for PDFs).
system-deps:
	@missing=""; \
	command -v /usr/sbin/slapd >/dev/null || missing="$$missing slapd"; \
	command -v ldapadd >/dev/null || missing="$$missing ldap-utils"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v softhsm2-util >/dev/null || missing="$$missing softhsm2"; \
	command -v pkcs11-tool >/dev/null || missing="$$missing opensc"; \
	command -v certutil >/dev/null || missing="$$missing libnss3-tools"; \
	if [ -n "$$missing" ]; then \
	  echo "Cài gói Debian còn thiếu:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

test: lock-check system-deps $(VENV)/.installed lint
	@echo "=== Bộ kiểm thử trên SQLite ==="
	PORTAL_TEST_DATABASE=sqlite $(BIN)/pytest -p no:cacheprovider -m "not e2e"
	@echo "=== Kiểm thử trình duyệt (Playwright, Chromium) trên SQLite ==="
	@# a process of its own: Playwright's sync API keeps an event loop running in the main thread,
	@# which pyHanko's asyncio.run() (signing, validation) must not find
	PORTAL_TEST_DATABASE=sqlite $(BIN)/pytest -p no:cacheprovider -m e2e
	@echo "=== Bộ kiểm thử trên PostgreSQL ==="
	PORTAL_TEST_DATABASE=postgresql $(BIN)/pytest -p no:cacheprovider -m "not e2e"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
