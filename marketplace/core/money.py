"""Money for people: amounts are integer fen everywhere; this writes them as yuan.

What an offer costs is the price model's (catalog/pricing.py); this only formats.
"""


def yuan(fen: int) -> str:
    """Money is integer fen; shown as ¥12.50 (or ¥12 when whole). Negative amounts keep their sign."""
    sign, fen = ("-", -int(fen)) if int(fen) < 0 else ("", int(fen))
    whole, cents = divmod(fen, 100)
    return f"{sign}¥{whole}" if cents == 0 else f"{sign}¥{whole}.{cents:02d}"
