"""Password policy, SPEC §13.2: every rule of ``portal.auth.policy.check`` on its own, the
settings, temporary passwords, rotation dates and the shipped common-password list."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask

from portal.auth import passwords, policy
from portal.auth.policy import Context, PolicySettings, check
from tests.conftest import PASSWORD

DEFAULTS = PolicySettings()
GOOD = ("Trăng-Sáng#Sông7Hồng", "Hn#7kq!Lm2Pz", "Kiểm-Thử@2026xyz")
SIMPLE = policy.MSG_SIMPLE
CLASSES = "Mật khẩu phải có đủ chữ hoa, chữ thường, chữ số và ký tự đặc biệt (còn thiếu: {})."
# only one rule switched on at a time, to show a rule refuses on its own
ONLY_LENGTH = PolicySettings(require_classes=False, min_strength=0)
_FAST = PasswordHasher(memory_cost=1024, time_cost=1, parallelism=1)


def _hash(password: str) -> str:
    return _FAST.hash(unicodedata.normalize("NFKC", password))


def _nfd(value: str) -> str:
    return unicodedata.normalize("NFD", value)


# --- acceptable passwords ---------------------------------------------------------------------------

@pytest.mark.parametrize("password", GOOD)
def test_good_passwords_pass_with_an_empty_context(password):
    assert check(password, Context()) == []


def test_the_suite_default_password_passes_for_a_typical_person():
    assert check(PASSWORD, Context(username="nguoidung1", full_name="Nguyễn Văn An")) == []


def test_decomposed_input_is_the_same_password():
    assert check(_nfd("Trăng-Sáng#Sông7Hồng"), Context()) == []


# --- 1. length --------------------------------------------------------------------------------------

def test_seven_characters_are_too_short_eight_are_enough():
    # Đ and ư are one character each once NFKC has composed them
    seven, eight = "Đưư#7kQ", "Đưư#7kQ!"
    assert len(_nfd(seven)) == 9  # decomposed it has more code points, but length is counted after NFKC
    assert check(_nfd(seven), Context(), ONLY_LENGTH) == ["Mật khẩu phải có ít nhất 8 ký tự."]
    assert check(_nfd(eight), Context(), ONLY_LENGTH) == []
    assert "Mật khẩu phải có ít nhất 8 ký tự." in check(seven, Context())


def test_the_minimum_comes_from_the_settings():
    assert check("Đư#7kQz!x", Context(), PolicySettings(min_length=12, min_strength=0)) == [
        "Mật khẩu phải có ít nhất 12 ký tự."]


def test_128_characters_are_allowed_129_are_not_and_nothing_is_truncated():
    longest = "Trăng-Sáng#Sông7Hồng" + "Đư" * 54
    assert len(longest) == 128
    assert check(longest, Context()) == []
    assert check(_nfd(longest), Context()) == []
    assert check(longest + "x", Context()) == ["Mật khẩu chỉ được có tối đa 128 ký tự."]
    assert check(longest + "x", Context(), PolicySettings(max_length=200)) == []


# --- 2. character classes ---------------------------------------------------------------------------

@pytest.mark.parametrize(("password", "missing"), [
    ("TrangSangSong7Hong", "ký tự đặc biệt"),
    ("Trăng-Sáng#Sông-Hồng", "chữ số"),
    ("trăng-sáng#sông7hồng", "chữ hoa"),
    ("TRĂNG-SÁNG#SÔNG7HỒNG", "chữ thường"),
])
def test_a_missing_class_is_named(password, missing):
    assert check(password, Context()) == [CLASSES.format(missing)]


def test_several_missing_classes_make_one_message():
    assert CLASSES.format("chữ hoa, ký tự đặc biệt") in check("abcdefgh12", Context())


def test_vietnamese_letters_count_as_upper_and_lower():
    assert policy.missing_classes("Đ") == ["chữ thường", "chữ số", "ký tự đặc biệt"]
    assert policy.missing_classes("ư") == ["chữ hoa", "chữ số", "ký tự đặc biệt"]
    # the only capital is Đ, the only small letter ư
    assert check("ĐĐĐ#7ưưư", Context(), PolicySettings(min_strength=0)) == []


def test_a_space_is_a_special_character():
    assert check("Trăng Sáng Sông7Hồng", Context()) == []


def test_classes_can_be_switched_off():
    assert check("trăng-sáng#sông7hồng", Context(), PolicySettings(require_classes=False)) == []


# --- 3. common passwords ----------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["password", "PassWord", "pássword", "12345678", "iloveyou"])
def test_common_passwords_are_refused(password):
    assert check(password, Context(), ONLY_LENGTH) == [policy.MSG_COMMON]


def test_a_common_password_is_refused_with_the_default_settings_too():
    assert policy.MSG_COMMON in check("Password", Context())


def test_the_common_list_file():
    path = Path(policy.__file__).parent / "data" / "common-passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10_000
    assert all(line and line == line.strip() for line in lines)
    assert len(set(lines)) == 10_000
    assert lines[:2] == ["123456", "password"]
    assert policy.common_passwords() == frozenset(lines)


# --- 4. the person's own context --------------------------------------------------------------------

def test_the_username_is_refused():
    assert check("Hq7#nguoidung1!Zt9Kw", Context(username="nguoidung1")) == [policy.MSG_USERNAME]
    assert check("Hq7#NguoiDung1!Zt9Kw", Context(username="nguoidung1")) == [policy.MSG_USERNAME]


def test_a_part_of_the_username_is_refused_but_not_a_short_one():
    ctx = Context(username="hoang.mt")
    assert check("Hq7#Hoang!Zt9Kw", ctx) == [policy.MSG_USERNAME]
    assert check("Hq7#Hoàng!Zt9Kw", ctx) == [policy.MSG_USERNAME]
    assert check("Hq7#Mt!Zt9Kw#x", ctx) == []


@pytest.mark.parametrize("password", ["Hq7#Hương!Zt9Kw", "Hq7#huong!Zt9Kw", "Hq7#NGUYEN!Zt9Kw", "Hq7#Nguyễn!Zt9Kw"])
def test_the_name_is_refused_with_and_without_diacritics(password):
    assert check(password, Context(full_name="Nguyễn Thị Hương")) == [policy.MSG_NAME]
    assert check(_nfd(password), Context(full_name=_nfd("Nguyễn Thị Hương"))) == [policy.MSG_NAME]


def test_short_name_parts_alone_are_allowed_the_whole_name_is_not():
    ctx = Context(full_name="Lê Hà")
    assert check("Hq7#Lê!Zt9Kw#Hà", ctx) == []
    assert check("Hq7#LeHa!Zt9Kw", ctx) == [policy.MSG_NAME]
    assert check("Hq7#Lê-Hà!Zt9Kw", ctx) == [policy.MSG_NAME]


def test_the_middle_name_markers_alone_are_allowed():
    assert check("Hq7#Thịt!Zt9Kw", Context(full_name="Nguyễn Thị Hương")) == []


def test_the_organisation_short_name_and_name_words_are_refused():
    ctx = Context(organisation_names=("SNV", "Sở Nội vụ"))
    assert check("Hq7#Snv!Zt9Kw", ctx) == [policy.MSG_ORGANISATION]
    assert check("Hq7#Nội!Zt9Kw", ctx) == [policy.MSG_ORGANISATION]
    assert check("Hq7#s-n-v!Zt9Kw", ctx) == [policy.MSG_ORGANISATION]
    assert check("Hq7#Vụ!Zt9Kw#So", ctx) == []  # two-letter words are too short on their own


def test_generic_organisation_words_are_not_refused():
    assert check("Hq7#Phòng!Zt9Kw", Context(organisation_names=("VP", "Văn phòng"))) == []


def test_each_context_rule_has_its_own_message():
    ctx = Context(username="hoang.mt", full_name="Trần Văn Bình", organisation_names=("SNV",))
    assert check("Hoang#Binh!Snv7Kw", ctx) == [policy.MSG_USERNAME, policy.MSG_NAME, policy.MSG_ORGANISATION]


# --- 5. guessable shapes ----------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["Ubnd@2026", "Abc@1234", "Hanoi#2024", "Qwerty!123", "Qwertyuiop!1A",
                                      "Aaaaaaaaaa1!", "Abcd@12345", "2026@Ubnd", "Abc1234!"])
def test_simple_passwords_are_refused(password):
    assert check(password, Context()) == [SIMPLE]


@pytest.mark.parametrize("password", ["Ubnd@2026", "Abc@1234", "Hanoi#2024", "2026@Ubnd", "Trăng@2026"])
def test_the_word_and_year_shape_is_refused_without_zxcvbn(password):
    assert policy.is_simple_shape(password)
    assert check(password, Context(), PolicySettings(min_strength=0)) == [SIMPLE]


def test_eight_characters_are_too_few_for_zxcvbn():
    # zxcvbn rates any 8 characters at most 2; a ninth reaches 3
    assert check("Đư#7kQz!", Context()) == [SIMPLE]
    assert check("Đư#7kQz!x", Context()) == []


@pytest.mark.parametrize("password", ["Vanthu!Kq7", "Matkhau!7Kq"])
def test_context_words_lower_the_strength(password):
    assert policy.strength(password, []) == 3
    assert policy.strength(password, DEFAULTS.context_words) == 2
    assert check(password, Context()) == [SIMPLE]
    assert check(password, Context(), PolicySettings(context_words=())) == []


def test_zxcvbn_only_sees_the_first_hundred_characters():
    assert policy.strength("Hn#7kq!Lm2Pz" * 20) >= 3  # 240 characters: no error, no long wait
    assert policy.strength("a" * 100 + "Trăng-Sáng#Sông7Hồng") == policy.strength("a" * 100) < 3
    assert policy.strength("a" * 80 + "Trăng-Sáng#Sông7Hồng") == 4  # the strong tail inside the 100


# --- 6. current password and history ---------------------------------------------------------------

CURRENT = "Hn#7kq!Lm2Pz"


def test_the_same_password_as_now_is_refused():
    ctx = Context(current_password=CURRENT, previous_hashes=(_hash(CURRENT),))
    assert check(CURRENT, ctx) == [policy.MSG_SAME_AS_CURRENT]


@pytest.mark.parametrize(("current", "new"), [
    (CURRENT, "Hn#7kq!Lm2Pz#Q"),
    (CURRENT, "Hn#7kq!Lm2Xy"),
    (CURRENT, "hN#7KQ!lM2pZ"),
    ("Trăng-Sáng#Sông7Hồng", "Trăng-Sáng#Sông8Hồng"),
    ("Trăng-Sáng#Sông7Hồng", "Trang-Sang#Song7Hong"),
])
def test_trivial_variations_of_the_current_password_are_refused(current, new):
    assert check(new, Context(current_password=current)) == [policy.MSG_VARIATION]


def test_a_different_password_is_not_a_variation():
    assert check(CURRENT, Context(current_password="Trăng-Sáng#Sông7Hồng")) == []


def test_the_last_ten_passwords_are_refused_the_eleventh_is_allowed_again():
    older = [f"Cũ-{n}#Mật!Khẩu{n}xq" for n in range(11)]  # newest first
    assert all(check(p, Context()) == [] for p in older)
    ctx = Context(previous_hashes=tuple(_hash(p) for p in older))
    assert check(older[0], ctx) == ["Không được dùng lại một trong 10 mật khẩu gần nhất."]
    assert check(older[9], ctx) == ["Không được dùng lại một trong 10 mật khẩu gần nhất."]
    assert check(_nfd(older[9]), ctx) == ["Không được dùng lại một trong 10 mật khẩu gần nhất."]
    assert check(older[10], ctx) == []
    assert check(older[3], ctx, PolicySettings(history=3)) == []
    assert check(older[2], ctx, PolicySettings(history=3)) == ["Không được dùng lại một trong 3 mật khẩu gần nhất."]
    assert check(older[0], ctx, PolicySettings(history=0)) == []


def test_history_understands_the_portals_own_hashes():
    app = Flask(__name__)
    app.config.update(ARGON2_MEMORY_KIB=1024, ARGON2_TIME_COST=1, ARGON2_PARALLELISM=1)
    with app.app_context():
        stored = passwords.hash_password(_nfd("Trăng-Sáng#Sông7Hồng"))
    ctx = Context(previous_hashes=("not-a-hash", stored))
    assert check("Trăng-Sáng#Sông7Hồng", ctx) == ["Không được dùng lại một trong 10 mật khẩu gần nhất."]
    assert check("Hn#7kq!Lm2Pz", ctx) == []


def test_all_broken_rules_are_reported_at_once():
    ctx = Context(username="nguoidung1", current_password="abc", previous_hashes=(_hash("abc"),))
    assert check("abc", ctx) == [
        "Mật khẩu phải có ít nhất 8 ký tự.",
        CLASSES.format("chữ hoa, chữ số, ký tự đặc biệt"),
        SIMPLE,
        policy.MSG_SAME_AS_CURRENT,
    ]


# --- settings ---------------------------------------------------------------------------------------

def test_missing_keys_keep_the_defaults():
    assert policy.settings_from({}) == DEFAULTS
    assert DEFAULTS.min_length == 8
    assert DEFAULTS.max_length == 128
    assert DEFAULTS.history == 10
    assert (DEFAULTS.max_age_days, DEFAULTS.admin_max_age_days, DEFAULTS.warn_days) == (90, 60, 7)
    assert DEFAULTS.temporary_hours == 72


def test_settings_parse_environment_strings():
    s = policy.settings_from({
        "PASSWORD_MIN_LENGTH": "14", "PASSWORD_MAX_LENGTH": " 64 ", "PASSWORD_REQUIRE_CLASSES": "false",
        "PASSWORD_MIN_STRENGTH": "4", "PASSWORD_HISTORY": "5", "PASSWORD_MAX_AGE_DAYS": "0",
        "PASSWORD_ADMIN_MAX_AGE_DAYS": "30", "PASSWORD_WARN_DAYS": "3", "PASSWORD_TEMPORARY_HOURS": "24",
        "PASSWORD_CONTEXT_WORDS": "UBND, Hà Nam ,,vanthu",
    })
    assert s == PolicySettings(min_length=14, max_length=64, require_classes=False, min_strength=4, history=5,
                               max_age_days=0, admin_max_age_days=30, warn_days=3, temporary_hours=24,
                               context_words=("ubnd", "hanam", "vanthu"))
    assert policy.settings_from({"PASSWORD_CONTEXT_WORDS": ["Sở", "qlvb"], "PASSWORD_HISTORY": 12}).context_words == (
        "so", "qlvb")
    assert policy.settings_from({"PASSWORD_REQUIRE_CLASSES": True}).require_classes is True


@pytest.mark.parametrize(("key", "value"), [
    ("PASSWORD_MIN_LENGTH", "7"),
    ("PASSWORD_MIN_LENGTH", "tám"),
    ("PASSWORD_MAX_LENGTH", "10"),  # below the minimum of 14 set in the test
    ("PASSWORD_MIN_STRENGTH", "5"),
    ("PASSWORD_MIN_STRENGTH", "-1"),
    ("PASSWORD_HISTORY", "-1"),
    ("PASSWORD_MAX_AGE_DAYS", "-30"),
    ("PASSWORD_ADMIN_MAX_AGE_DAYS", "1.5"),
    ("PASSWORD_WARN_DAYS", True),
    ("PASSWORD_TEMPORARY_HOURS", "0"),
    ("PASSWORD_REQUIRE_CLASSES", "có lẽ"),
    ("PASSWORD_CONTEXT_WORDS", 42),
])
def test_nonsense_settings_are_refused_naming_the_variable(key, value):
    with pytest.raises(ValueError, match=f"PORTAL_{key} ") as excinfo:
        policy.settings_from({"PASSWORD_MIN_LENGTH": "14", key: value})
    assert "không hợp lệ" in str(excinfo.value)


# --- temporary passwords ----------------------------------------------------------------------------

def test_temporary_passwords_pass_the_policy():
    seen = set()
    for _ in range(200):
        temporary = policy.generate_temporary()
        assert len(temporary) == 16
        assert not set(temporary) & set("0O1lI")
        assert check(temporary, Context()) == []
        seen.add(temporary)
    assert len(seen) == 200


def test_temporary_passwords_follow_a_longer_minimum():
    settings = PolicySettings(min_length=20)
    temporary = policy.generate_temporary(settings)
    assert len(temporary) == 20
    assert check(temporary, Context(), settings) == []


# --- rotation ---------------------------------------------------------------------------------------

CHANGED = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def test_expiry_is_ninety_days_for_users_and_sixty_for_administrators():
    assert policy.expires_at(CHANGED, False, DEFAULTS) == CHANGED + timedelta(days=90)
    assert policy.expires_at(CHANGED, True, DEFAULTS) == CHANGED + timedelta(days=60)
    assert policy.expires_at(None, False, DEFAULTS) is None
    assert policy.expires_at(CHANGED, False, PolicySettings(max_age_days=0)) is None


def test_days_left_counts_whole_days_rounded_up():
    expiry = CHANGED + timedelta(days=90)
    assert policy.days_left(CHANGED, False, DEFAULTS, CHANGED) == 90
    assert policy.days_left(CHANGED, False, DEFAULTS, expiry - timedelta(days=7)) == 7
    assert policy.days_left(CHANGED, False, DEFAULTS, expiry - timedelta(hours=12)) == 1
    assert policy.days_left(CHANGED, False, DEFAULTS, expiry) == 0
    assert policy.days_left(CHANGED, False, DEFAULTS, expiry + timedelta(days=2)) == -2
    assert policy.days_left(CHANGED, True, DEFAULTS, CHANGED + timedelta(days=59, hours=1)) == 1
    assert policy.days_left(None, False, DEFAULTS, CHANGED) is None
    assert policy.is_expired(CHANGED, False, DEFAULTS, expiry)
    assert not policy.is_expired(CHANGED, False, DEFAULTS, expiry - timedelta(seconds=1))


def test_naive_stored_times_are_read_as_utc():
    naive = CHANGED.replace(tzinfo=None)
    assert policy.days_left(naive, False, DEFAULTS, CHANGED + timedelta(days=83)) == 7


# --- issue 13: word + year + symbols; name syllables in passphrases ----------------------------------

@pytest.mark.parametrize("password", ["Ubnd@2026!", "Admin@2026!", "!2026Ubnd#", "Matkhau@2026!", "@Hanam2026#",
                                      "Vanthu#2026!"])
def test_a_context_word_with_a_year_and_symbols_is_refused(password):
    assert policy.is_word_and_number(password, DEFAULTS.context_words)
    assert check(password, Context()) == [SIMPLE]
    assert check(password, Context(), PolicySettings(min_strength=0)) == [SIMPLE]


@pytest.mark.parametrize(("full_name", "username", "passphrase"), [
    ("Nguyễn Thị Thu", "thu.nt", "Mùa thu Hà Nội rất đẹp 2026!"),
    ("Trần Văn Anh", "anh.tv", "Anh-đi-làm-sớm-mỗi-sáng#7"),
    ("Lê Thị Hoa", "hoa.lt", "Hoa-sen-nở-giữa-đầm-lầy#7"),
])
def test_a_syllable_of_the_name_does_not_block_a_long_passphrase(full_name, username, passphrase):
    assert check(passphrase, Context(username=username, full_name=full_name)) == []


@pytest.mark.parametrize("password", [
    "Nguyễn-Thị-Thu-trồng-cây#2026",  # the whole name
    "Trong-vườn-NguyenThiThu#2026",  # the whole name without spaces
    "Thu-Nguyễn-trồng-cây-ổi#2026",  # given name + surname
    "Nguyễn-Thu-trồng-cây-ổi#2026",  # surname + given name
    "Vườn-cây-của-NTThu#2026xyz",  # initials + given name
    "Vườn-cây-của-TTNguyen#2026",  # initials + surname
])
def test_the_name_as_a_whole_and_its_usual_forms_are_refused_even_in_a_passphrase(password):
    assert policy.MSG_NAME in check(password, Context(full_name="Nguyễn Thị Thu"))


def test_a_short_password_built_on_the_given_name_is_still_refused():
    assert policy.MSG_NAME in check("Hq7#Thu!Zt9Kw", Context(full_name="Nguyễn Thị Thu"))
    assert policy.MSG_USERNAME in check("Hq7#Thu!Zt9Kw", Context(username="thu.nt"))


def test_the_whole_username_is_refused_even_in_a_passphrase():
    assert policy.MSG_USERNAME in check("Mùa-thu-của-thu.nt-rất-đẹp#2026", Context(username="thu.nt"))
