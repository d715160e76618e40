"""Check characters of China's organisation identifiers.

- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from an
  alphabet without I, O, S, V, Z; the 18th is a check character (weights 3^i mod 31).
- Organisation code (组织机构代码, GB 11714-1997): 8 characters and a check character;
  it forms characters 9-17 of the credit code.
"""

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, ...
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015)."""
    if len(first17) != 17:
        raise ValueError("a unified social credit code has 17 characters before its check character")
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17.upper(), _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def organisation_code_check_char(first8: str) -> str:
    """The 9th character of an organisation code (GB 11714-1997), which is also the
    17th character of a unified social credit code."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def is_valid_credit_code(value: str) -> bool:
    return (
        len(value) == 18 and all(c in CREDIT_CHARS for c in value) and credit_code_check_char(value[:17]) == value[17]
    )
