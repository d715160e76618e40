"""Voucher codes that a member shows at the counter and a cashier may type by hand.

A code is 65 random bits written as 13 Crockford Base32 characters plus one
Crockford mod-37 check symbol. Crockford's alphabet avoids letters that look
like digits, and the prime modulus catches every single wrong character and
every swap of two neighbouring characters before a code reaches the database.

The check symbol of mod 37 may be one of five symbols (`*~$=U`), which a cashier cannot
find on a phone keyboard and reads out as "star" or "dollar". New codes are drawn again
until their check symbol is a digit or one of Crockford's letters (32 in 37 draws are),
so every new code is digits and unambiguous capitals only; the check itself is unchanged,
so codes issued before keep working. The redraw costs log2(37/32) = 0.2 of the 65 bits.
"""

import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
DATA_LENGTH = 13  # 32**13 == 2**65: 65 bits, above the 64 we want against guessing
CODE_LENGTH = DATA_LENGTH + 1
GROUP_SIZE = 4

# Crockford decoding: these are read the way a cashier most likely meant them.
_CONFUSABLES = str.maketrans({"I": "1", "L": "1", "O": "0"})


def _check_symbol(value: int) -> str:
    return CHECK_ALPHABET[value % len(CHECK_ALPHABET)]


def _encode(value: int) -> str:
    digits = []
    for _ in range(DATA_LENGTH):
        value, digit = divmod(value, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def _decode(data: str) -> int:
    value = 0
    for char in data:
        value = value * len(ALPHABET) + ALPHABET.index(char)
    return value


def new_code() -> str:
    """A fresh code in canonical form: 14 digits and capitals from ALPHABET, no separators."""
    while True:
        value = secrets.randbits(DATA_LENGTH * 5)
        check = _check_symbol(value)
        if check in ALPHABET:
            return _encode(value) + check


def display(code: str) -> str:
    """The code in groups of four for reading aloud or printing, e.g. ABCD-EFGH-JKMN-PQ."""
    compact = normalise(code)
    return "-".join(compact[i : i + GROUP_SIZE] for i in range(0, len(compact), GROUP_SIZE))


def masked(code: str) -> str:
    """The code with its middle hidden, e.g. ABCD-****-****-PQ: enough to match a voucher the
    member shows, not enough to redeem it (complaints name the voucher this way)."""
    grouped = display(code).split("-")
    return "-".join([grouped[0], *("*" * len(group) for group in grouped[1:-1]), grouped[-1]])


def normalise(text: str) -> str:
    """Turn what a cashier typed into the canonical form; ValueError if it cannot be a code.

    Only the shape is checked here; use `is_valid` to check the check symbol.
    """
    # Chinese input methods in full-width mode type "ＡＢＣ－１２"; NFKC folds that to ASCII.
    text = unicodedata.normalize("NFKC", text)
    compact = "".join(text.split()).replace("-", "").upper().translate(_CONFUSABLES)
    if len(compact) != CODE_LENGTH:
        raise ValueError(
            f"A voucher code has {CODE_LENGTH} characters (not counting spaces and hyphens), "
            f"but {len(compact)} were given."
        )
    for position, char in enumerate(compact[:DATA_LENGTH], start=1):
        if char not in ALPHABET:
            raise ValueError(
                f"Character {position} of the voucher code, {char!r}, is not allowed; "
                f"use only digits and the letters {ALPHABET[10:]}."
            )
    if compact[-1] not in CHECK_ALPHABET:
        raise ValueError(
            f"The last character of the voucher code, {compact[-1]!r}, is not allowed; "
            f"it must be one of {CHECK_ALPHABET}."
        )
    return compact


def is_valid(code: str) -> bool:
    """True if the code is well formed and its check symbol matches."""
    try:
        compact = normalise(code)
    except ValueError:
        return False
    return _check_symbol(_decode(compact[:DATA_LENGTH])) == compact[-1]
