#!/usr/bin/env bash
# `make run`: gunicorn and the job queue's consumer together. If either stops, the other is stopped;
# Ctrl-C or SIGTERM stops both. The environment (instance/portal.env) is already loaded by make.
set -u
BIN="${BIN:-.venv/bin}"
"$BIN/python" -m portal.jobs.consumer &
consumer=$!
"$BIN/gunicorn" --workers "${WORKERS:-2}" --bind "127.0.0.1:${PORT:-8000}" --access-logfile - wsgi:app &
web=$!
stop() { kill -TERM "$web" "$consumer" 2>/dev/null; wait "$web" "$consumer" 2>/dev/null; }
trap 'stop; exit 0' INT TERM
wait -n "$web" "$consumer"
status=$?
echo "Một tiến trình đã dừng (mã $status); dừng nốt tiến trình còn lại." >&2
stop
exit "$status"
