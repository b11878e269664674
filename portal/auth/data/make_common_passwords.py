"""Regenerate ``common-passwords.txt``: the 10,000 most common passwords, most common first.

Source: the ``passwords`` frequency list inside the ``zxcvbn`` package (MIT; see README.md in this
folder). Run from the project root:

    .venv/bin/python portal/auth/data/make_common_passwords.py
"""

from __future__ import annotations

from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

COUNT = 10_000
OUTPUT = Path(__file__).resolve().parent / "common-passwords.txt"


def entries(count: int = COUNT) -> list[str]:
    """Lower-cased, stripped, de-duplicated, in the list's order (most common first)."""
    cleaned = (word.strip().lower() for word in FREQUENCY_LISTS["passwords"])
    unique = list(dict.fromkeys(word for word in cleaned if word))
    if len(unique) < count:
        raise SystemExit(f"Danh sách của zxcvbn chỉ có {len(unique)} mục, cần {count}.")
    return unique[:count]


def main() -> None:
    words = entries()
    OUTPUT.write_text("\n".join(words) + "\n", encoding="utf-8", newline="\n")
    print(f"Đã ghi {len(words)} mật khẩu phổ biến vào {OUTPUT}")


if __name__ == "__main__":
    main()
