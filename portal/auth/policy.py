"""Password policy, SPEC §13.2: length and character classes counted on the NFKC form, the
shipped common-password list, the person's own context (username, name, organisation), zxcvbn
strength, history and trivial variations; plus temporary passwords and the rotation dates.

Pure functions: no Flask, no database. The caller gathers the context (names, earlier hashes)
and turns the returned Vietnamese messages into form errors.
"""

from __future__ import annotations

import re
import secrets
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from portal.text import fold

# --- settings ---------------------------------------------------------------------------------------

LEGAL_MIN_LENGTH = 8  # Hà Nam Điều 21.2.b: at least 8 characters


@dataclass(frozen=True)
class PolicySettings:
    min_length: int = 8
    max_length: int = 128
    require_classes: bool = True  # upper, lower, digit, special
    min_strength: int = 3  # zxcvbn score 0..4
    history: int = 10  # last N passwords refused
    max_age_days: int = 90  # 0 = never expires
    admin_max_age_days: int = 60  # 0 = never expires
    warn_days: int = 7
    temporary_hours: int = 72  # lifetime of a one-time temporary password
    context_words: tuple[str, ...] = ("ubnd", "vanthu", "tinh", "matkhau", "password", "admin", "qlvb")


_TRUE = {"1", "true", "yes", "on", "co", "có"}
_FALSE = {"0", "false", "no", "off", "khong", "không"}


def _bad(key: str, rule: str, value: Any) -> ValueError:
    return ValueError(f"Cấu hình PORTAL_{key} không hợp lệ: {rule} (nhận được {value!r}).")


def _int(config: Mapping[str, Any], key: str, default: int, low: int, high: int | None = None) -> int:
    value = config.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        number = default
    elif isinstance(value, bool):
        raise _bad(key, "phải là số nguyên", value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        number = int(value.strip())
    else:
        raise _bad(key, "phải là số nguyên", value)
    if number < low or (high is not None and number > high):
        bounds = f"từ {low} đến {high}" if high is not None else f"lớn hơn hoặc bằng {low}"
        raise _bad(key, f"phải là số nguyên {bounds}", value)
    return number


def _bool(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _bad(key, "phải là true hoặc false", value)


def _words(config: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        raise _bad(key, "phải là danh sách từ, cách nhau bằng dấu phẩy", value)
    words: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise _bad(key, "phải là danh sách từ, cách nhau bằng dấu phẩy", value)
        word = "".join(fold(item).split())  # "Hà Nam" → "hanam", like the defaults
        if word:
            words.append(word)
    return tuple(dict.fromkeys(words))


def settings_from(config: Mapping[str, Any]) -> PolicySettings:
    """Build the settings from the app config (``PASSWORD_*`` keys, values possibly still the
    strings of ``PORTAL_*`` environment variables). Missing keys keep the defaults; nonsense
    raises ValueError naming the environment variable."""
    d = PolicySettings()
    min_length = _int(config, "PASSWORD_MIN_LENGTH", d.min_length, LEGAL_MIN_LENGTH)
    max_length = _int(config, "PASSWORD_MAX_LENGTH", d.max_length, LEGAL_MIN_LENGTH)
    if max_length < min_length:
        raise _bad("PASSWORD_MAX_LENGTH", f"phải lớn hơn hoặc bằng PORTAL_PASSWORD_MIN_LENGTH ({min_length})",
                   config.get("PASSWORD_MAX_LENGTH"))
    return PolicySettings(
        min_length=min_length,
        max_length=max_length,
        require_classes=_bool(config, "PASSWORD_REQUIRE_CLASSES", d.require_classes),
        min_strength=_int(config, "PASSWORD_MIN_STRENGTH", d.min_strength, 0, 4),
        history=_int(config, "PASSWORD_HISTORY", d.history, 0),
        max_age_days=_int(config, "PASSWORD_MAX_AGE_DAYS", d.max_age_days, 0),
        admin_max_age_days=_int(config, "PASSWORD_ADMIN_MAX_AGE_DAYS", d.admin_max_age_days, 0),
        warn_days=_int(config, "PASSWORD_WARN_DAYS", d.warn_days, 0),
        temporary_hours=_int(config, "PASSWORD_TEMPORARY_HOURS", d.temporary_hours, 1),
        context_words=_words(config, "PASSWORD_CONTEXT_WORDS", d.context_words),
    )


# --- context ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    username: str = ""
    full_name: str = ""
    # short names and names of the person's organisations, e.g. ("SNV", "Sở Nội vụ")
    organisation_names: tuple[str, ...] = ()
    # when known (change form): refuse trivial variations of it
    current_password: str | None = None
    # argon2 hashes of the last passwords, newest first
    previous_hashes: tuple[str, ...] = ()


MIN_PART = 3  # shorter parts ("Lê", "Hà", "VP") would refuse far too many passwords on their own

# Words that name the kind of body rather than this one ("Ủy ban nhân dân tỉnh", "Văn phòng", "Trung
# tâm"): they sit in nearly every organisation's name and fold onto everyday syllables (ban, dân,
# văn, tâm), so they are not refused as substrings. They still reach zxcvbn as context words.
GENERIC_ORG_WORDS = frozenset({
    "ban", "nhan", "dan", "hoi", "dong", "tinh", "thanh", "pho", "huyen", "quan", "phuong", "tran",
    "van", "phong", "cuc", "chi", "trung", "tam", "doan", "cong", "truong", "vien", "nganh", "cac", "lien",
})

_SPLIT = re.compile(r"[^a-z0-9]+")


def _parts(folded: str) -> list[str]:
    return [p for p in _SPLIT.split(folded) if p]


def _compact(folded: str) -> str:
    return "".join(_parts(folded))


def _username_tokens(username: str) -> list[str]:
    folded = fold(username)
    tokens = [_compact(folded), *re.split(r"[._\-\s]+", folded)]
    return [t for t in dict.fromkeys(tokens) if len(t) >= MIN_PART]


def _username_whole(username: str) -> list[str]:
    compact = _compact(fold(username))
    return [compact] if len(compact) >= MIN_PART else []


# the conventional middle names (Văn for men, Thị for women) say nothing about the person
NAME_MARKERS = frozenset({"van", "thi"})

# From this length on a password is a passphrase: a single syllable of the person's name or
# username, most of which are everyday words on their own (thu "autumn", anh, hoa "flower"), no
# longer refuses it; the name as a whole and its usual written forms still do.
PASSPHRASE_LENGTH = 20


def _name_forms(full_name: str) -> list[str]:
    """"Nguyễn Thị Thu": nguyenthithu, nguyenthu, thunguyen, ntthu (initials + given name), thunt,
    ttnguyen (initials + surname). Refused anywhere in any password."""
    parts = _parts(fold(full_name))
    if len(parts) < 2:
        return []
    family, given, middle = parts[0], parts[-1], parts[1:-1]
    initials = "".join(p[0] for p in parts[:-1])
    forms = ["".join(parts), family + given, given + family, initials + given, given + initials,
             "".join(p[0] for p in [*middle, given]) + family]
    return [f for f in dict.fromkeys(forms) if len(f) >= MIN_PART]


def _name_syllables(full_name: str) -> list[str]:
    """The syllables themselves (given name, surname, middle names but Văn/Thị): refused only in a
    password shorter than a passphrase."""
    return [p for p in dict.fromkeys(_parts(fold(full_name))) if p not in NAME_MARKERS and len(p) >= MIN_PART]


def _name_tokens(full_name: str) -> list[str]:
    folded = fold(full_name)
    tokens = [*(p for p in _parts(folded) if p not in NAME_MARKERS), _compact(folded)]
    return [t for t in dict.fromkeys(tokens) if len(t) >= MIN_PART]


def _organisation_tokens(names: Iterable[str]) -> list[str]:
    tokens: list[str] = []
    for name in names:
        folded = fold(name)
        tokens.append(_compact(folded))  # "SNV", "S.TTTT", the whole name run together
        tokens.extend(p for p in _parts(folded) if p not in GENERIC_ORG_WORDS)
    return [t for t in dict.fromkeys(tokens) if len(t) >= MIN_PART]


# --- messages ---------------------------------------------------------------------------------------

CLASS_NAMES = ("chữ hoa", "chữ thường", "chữ số", "ký tự đặc biệt")


def msg_too_short(n: int) -> str:
    return f"Mật khẩu phải có ít nhất {n} ký tự."


def msg_too_long(n: int) -> str:
    return f"Mật khẩu chỉ được có tối đa {n} ký tự."


def msg_classes(missing: Iterable[str]) -> str:
    return ("Mật khẩu phải có đủ chữ hoa, chữ thường, chữ số và ký tự đặc biệt "
            f"(còn thiếu: {', '.join(missing)}).")


MSG_COMMON = "Mật khẩu này nằm trong danh sách mật khẩu phổ biến, dễ bị dò ra."
MSG_USERNAME = "Mật khẩu không được chứa tên đăng nhập."
MSG_NAME = "Mật khẩu không được chứa họ tên của bạn."
MSG_ORGANISATION = "Mật khẩu không được chứa tên viết tắt của cơ quan."
MSG_SIMPLE = ("Mật khẩu quá dễ đoán (kiểu “Abc@1234”, “Ubnd@2026”): "
              "hãy dùng cụm từ dài hơn, khó đoán hơn.")
MSG_SAME_AS_CURRENT = "Mật khẩu mới phải khác mật khẩu hiện tại."
MSG_VARIATION = "Mật khẩu mới chỉ khác mật khẩu cũ vài ký tự: hãy chọn mật khẩu khác hẳn."


def msg_history(n: int) -> str:
    return f"Không được dùng lại một trong {n} mật khẩu gần nhất."


# --- the rules --------------------------------------------------------------------------------------


def normalise(password: str) -> str:
    """NFKC, as ``passwords.normalise`` does before hashing."""
    return unicodedata.normalize("NFKC", password)


def missing_classes(password: str) -> list[str]:
    """By Unicode category, so Vietnamese letters count: Đ is upper (Lu), ư lower (Ll). Anything
    that is neither a letter, a number nor a combining mark (punctuation, symbols, spaces) is special."""
    upper = lower = digit = special = False
    for ch in password:
        cat = unicodedata.category(ch)
        if cat == "Lu":
            upper = True
        elif cat == "Ll":
            lower = True
        elif cat == "Nd":
            digit = True
        elif cat[0] not in "LNM":
            special = True
    return [name for name, present in zip(CLASS_NAMES, (upper, lower, digit, special), strict=True) if not present]


@cache
def common_passwords() -> frozenset[str]:
    text = (resources.files("portal.auth") / "data" / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def is_common(password: str) -> bool:
    common = common_passwords()
    return password.lower() in common or fold(password) in common


_LETTERS = r"[^\W\d_]{1,6}"
_SPECIALS = r"[\W_]{1,2}"
_DIGITS = r"\d{1,6}"
# a short word, one or two separators and a number (a year, 123, 1234) in any order: Ubnd@2026,
# Abc@1234, Hanoi#2024, 2026@Ubnd, Abc1234!. Caught here even if zxcvbn's scoring changes.
_SIMPLE_SHAPES = [
    re.compile(rf"^{a}{b}{c}$")
    for a, b, c in (
        (_LETTERS, _SPECIALS, _DIGITS), (_DIGITS, _SPECIALS, _LETTERS), (_LETTERS, _DIGITS, _SPECIALS),
        (_DIGITS, _LETTERS, _SPECIALS), (_SPECIALS, _LETTERS, _DIGITS), (_SPECIALS, _DIGITS, _LETTERS),
    )
]

ZXCVBN_MAX = 100  # zxcvbn's cost grows fast with length; the first 100 characters are plenty
_ZXCVBN_LOCK = threading.Lock()  # zxcvbn keeps the user inputs in a module-level dict


def is_simple_shape(password: str) -> bool:
    return any(shape.fullmatch(password) for shape in _SIMPLE_SHAPES)


_RUNS = re.compile(r"[^\W\d_]+|\d+|[\W_]+")


def is_word_and_number(password: str, context_words: Iterable[str] = ()) -> bool:
    """One word, a number of at most six digits and at most three symbols, in any order:
    Ubnd@2026!, Admin@2026!, !2026Hanoi#, Matkhau@2026!. The word is short (six letters at most) or
    one of the context words; the shapes above miss a second group of symbols."""
    runs = _RUNS.findall(password)
    words = [run for run in runs if not run[0].isdigit() and run[0].isalnum()]
    digits = sum(len(run) for run in runs if run.isdigit())
    symbols = len(password) - digits - sum(len(word) for word in words)
    if len(words) != 1 or not 1 <= digits <= 6 or symbols > 3:
        return False
    word = fold(words[0])
    return len(word) <= 6 or word in set(context_words)


def strength(password: str, user_inputs: Iterable[str] = ()) -> int:
    """zxcvbn score 0..4 of the first 100 characters."""
    sample = password[:ZXCVBN_MAX]
    if not sample:
        return 0
    with _ZXCVBN_LOCK:
        result = zxcvbn(sample, user_inputs=list(user_inputs), max_length=ZXCVBN_MAX)
    return int(result["score"])


def _user_inputs(context: Context, settings: PolicySettings) -> list[str]:
    year = datetime.now(UTC).year
    words = [*settings.context_words, *_username_tokens(context.username), *_name_tokens(context.full_name)]
    for name in (context.full_name, *context.organisation_names):
        folded = fold(name)
        # short parts too ("le", "ha"), and the lower-case words with their diacritics ("hương")
        words.extend([_compact(folded), *_parts(folded), *normalise(name).lower().split()])
    words.extend([str(year), str(year - 1)])
    return [w for w in dict.fromkeys(words) if w]


def _is_variation(new: str, current: str) -> bool:
    """Case and diacritics ignored: the same once digits are removed (Mua-Thu#2025 → Mua-Thu#2026),
    or only the last one or two characters differ (…Abc → …Abc1, …Abc12 → …Abc34)."""
    a, b = fold(new), fold(current)
    if re.sub(r"\d", "", a) == re.sub(r"\d", "", b):
        return True
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    return len(a) - prefix <= 2 and len(b) - prefix <= 2


_VERIFIER = PasswordHasher()


def _used_before(stored_hash: str, password: str) -> bool:
    """argon2 verification takes its costs from the stored hash, so no app settings are needed."""
    try:
        return _VERIFIER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check(password: str, context: Context, settings: PolicySettings = PolicySettings()) -> list[str]:
    """Every rule the password breaks, one Vietnamese message each, in a stable order; [] = acceptable."""
    pw = normalise(password)
    problems: list[str] = []

    # 1. length, in code points after NFKC; never truncated
    if len(pw) < settings.min_length:
        problems.append(msg_too_short(settings.min_length))
    if len(pw) > settings.max_length:
        problems.append(msg_too_long(settings.max_length))

    # 2. character classes
    if settings.require_classes:
        missing = missing_classes(pw)
        if missing:
            problems.append(msg_classes(missing))

    # 3. common passwords
    if is_common(pw):
        problems.append(MSG_COMMON)

    # 4. the person's own context, compared without diacritics or case; in a passphrase only the
    # whole username and name forms, not a syllable that is an everyday word on its own
    folded = fold(pw)
    haystacks = (folded, _compact(folded))
    passphrase = len(pw) >= PASSPHRASE_LENGTH
    for tokens, message in (
        (_username_whole(context.username) if passphrase else _username_tokens(context.username), MSG_USERNAME),
        ([*_name_forms(context.full_name), *([] if passphrase else _name_syllables(context.full_name))], MSG_NAME),
        (_organisation_tokens(context.organisation_names), MSG_ORGANISATION),
    ):
        if any(token in hay for token in tokens for hay in haystacks):
            problems.append(message)

    # 5. guessable shapes: zxcvbn with the context words, and word + year + symbols explicitly
    if (is_simple_shape(pw) or is_word_and_number(pw, settings.context_words)
            or strength(pw, _user_inputs(context, settings)) < settings.min_strength):
        problems.append(MSG_SIMPLE)

    # 6. the current password and the last N
    same_as_current = False
    if context.current_password:
        current = normalise(context.current_password)
        if pw == current:
            same_as_current = True
            problems.append(MSG_SAME_AS_CURRENT)
        elif _is_variation(pw, current):
            problems.append(MSG_VARIATION)
    recent = [h for h in context.previous_hashes[: settings.history] if h]
    if not same_as_current and pw and any(_used_before(h, pw) for h in recent):
        problems.append(msg_history(settings.history))
    return problems


# --- temporary passwords ----------------------------------------------------------------------------

# no 0/O, 1/l/I: the password is read off a screen or a slip of paper
TEMP_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
TEMP_LOWER = "abcdefghijkmnopqrstuvwxyz"
TEMP_DIGITS = "23456789"
TEMP_SPECIALS = "#$%&*+-=?@!"
TEMP_LENGTH = 16


def generate_temporary(settings: PolicySettings = PolicySettings()) -> str:
    """A random one-time password (``secrets``): 16 characters (more if the minimum length says
    so), every class present, nothing ambiguous; always accepted by ``check`` with an empty context."""
    length = min(max(TEMP_LENGTH, settings.min_length), settings.max_length)
    alphabet = TEMP_UPPER + TEMP_LOWER + TEMP_DIGITS + TEMP_SPECIALS
    rng = secrets.SystemRandom()
    for _ in range(100):
        chars = [secrets.choice(pool) for pool in (TEMP_UPPER, TEMP_LOWER, TEMP_DIGITS, TEMP_SPECIALS)]
        chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
        rng.shuffle(chars)
        candidate = "".join(chars)
        if not check(candidate, Context(), settings):
            return candidate
    raise RuntimeError("Không tạo được mật khẩu tạm thời đạt chính sách.")  # pragma: no cover


# --- rotation ---------------------------------------------------------------------------------------


def max_age(is_admin: bool, settings: PolicySettings) -> int:
    return settings.admin_max_age_days if is_admin else settings.max_age_days


def _aware(moment: datetime) -> datetime:
    """Stored instants are UTC; a naive one (SQLite) is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def expires_at(changed_at: datetime | None, is_admin: bool, settings: PolicySettings) -> datetime | None:
    """changed_at + the maximum age (60 days for administrators, 90 for others by default);
    None when the change date is unknown or the age limit is 0 (rotation switched off)."""
    days = max_age(is_admin, settings)
    if changed_at is None or days <= 0:
        return None
    return changed_at + timedelta(days=days)


def days_left(changed_at: datetime | None, is_admin: bool, settings: PolicySettings, now: datetime) -> int | None:
    """Whole days until expiry, rounded up: 1 while less than a day remains, 0 or negative once
    expired (so ``days_left <= 0`` means "must change now"). None when it never expires."""
    expiry = expires_at(changed_at, is_admin, settings)
    if expiry is None:
        return None
    overdue = _aware(now) - _aware(expiry)
    return -(overdue // timedelta(days=1))  # ceil of the remaining days, in exact integer arithmetic


def is_expired(changed_at: datetime | None, is_admin: bool, settings: PolicySettings, now: datetime) -> bool:
    left = days_left(changed_at, is_admin, settings, now)
    return left is not None and left <= 0
