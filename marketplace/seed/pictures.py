"""Cover pictures for the demo's offers, drawn with Pillow: the category's colour, a simple
icon of the category and the offer's words, the way a small business's designer would
make a listing picture. Stored through the catalogue's own upload path
(`catalog.services._keep_image`: checked, resized to 1200 px and a 400 px thumbnail,
under var/media with an unguessable name), so they are what an owner's upload would be.

The words need a Chinese font: Noto Sans CJK (Debian's fonts-noto-cjk, which `make demo`
installs like `make test` does) or another common CJK font found on the machine. Without
one the covers carry the colour and the icon only.
"""

import hashlib
import io
import os
import threading
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = (800, 450)
CACHE_VERSION = 1  # raise when the drawing changes: cached covers of the old drawing are not read

# Background colours by category (white text on them is at least 4.5:1).
COLOURS = {
    "fitness": (21, 115, 81),
    "health_checkup": (14, 116, 144),
    "medical": (29, 78, 216),
    "dining": (180, 65, 12),
    "cinema": (109, 40, 217),
    "training": (55, 48, 163),
    "shopping": (190, 24, 93),
    "travel": (3, 105, 161),
    "childcare": (180, 83, 9),
    "housekeeping": (15, 118, 110),
    "leisure": (21, 128, 61),
    "legal": (51, 65, 85),
}
KIND_WORDS = {"voucher": "优惠券", "paid": "会员价", "points": "积分兑换", "slot": "在线预约"}

_FONT_PATHS = {
    "bold": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    ),
    "regular": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    ),
}


@lru_cache
def font(weight: str, size: int) -> ImageFont.FreeTypeFont | None:
    """A CJK font of this weight and size (Simplified Chinese face of a collection), or None."""
    for path in _FONT_PATHS[weight] + (_FONT_PATHS["regular"] if weight == "bold" else ()):
        if Path(path).exists():
            # In the Noto CJK collections face 2 is SC (Simplified Chinese) in the Sans build.
            index = 2 if path.endswith(".ttc") and "Noto" in path else 0
            return ImageFont.truetype(path, size, index=index)
    return None


def has_cjk_font() -> bool:
    return font("regular", 20) is not None


def stored_cover(category: str, kind: str, title: str) -> str:
    """Draw the cover (or take it from the cache) and keep it as an owner's upload is
    kept (blocking: the seed calls it in a thread); its media name."""
    from catalog.services import _keep_image

    name, _ = _keep_image(cached_cover(category, kind, title), "offers")
    return name


def cached_cover(category: str, kind: str, title: str) -> bytes:
    """`cover`, drawn once per var folder and kept under var/cache/covers, so that a later
    seed into an emptied database (the tests seed many times) reads it instead."""
    from marketplace.runtime.paths import var_dir

    key = hashlib.sha256(f"{CACHE_VERSION}|{has_cjk_font()}|{category}|{kind}|{title}".encode()).hexdigest()
    path = var_dir() / "cache" / "covers" / f"{key}.png"
    if path.exists():
        return path.read_bytes()
    picture = cover(category, kind, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.partial")
    partial.write_bytes(picture)
    partial.replace(path)  # whole or not at all, whoever else draws it at the same time
    return picture


def cover(category: str, kind: str, title: str) -> bytes:
    """A PNG of the offer's cover (offers of the same title share it)."""
    colour = COLOURS.get(category, (51, 65, 85))
    picture = Image.new("RGB", SIZE, colour)
    draw = ImageDraw.Draw(picture, "RGBA")
    # Depth: two large soft circles of a lighter tone, off the right edge.
    draw.ellipse((470, -160, 1010, 380), fill=(255, 255, 255, 28))
    draw.ellipse((560, 230, 900, 570), fill=(255, 255, 255, 18))
    _icon(draw, category, (680, 300), 88)
    title_font, chip = font("bold", 52), font("bold", 26)
    if title_font is not None:
        y = 56
        for line in _wrap(draw, title, title_font, 500)[:3]:
            draw.text((48, y), line, font=title_font, fill="white")
            y += 70
        words = KIND_WORDS.get(kind, "")
        width = draw.textlength(words, font=chip)
        draw.rounded_rectangle((48, 362, 48 + width + 36, 408), radius=23, fill="white")
        draw.text((66, 367), words, font=chip, fill=colour)
    out = io.BytesIO()
    picture.save(out, "PNG", optimize=False, compress_level=1)
    return out.getvalue()


def _wrap(draw: ImageDraw.ImageDraw, text: str, face, width: int) -> list[str]:
    """Lines of `text` no wider than `width` (Chinese breaks between any two characters;
    a Latin word stays whole)."""
    lines, line = [], ""
    for token in _tokens(text):
        # A closing mark never starts a line (Chinese line-breaking rules).
        if line and token not in _CLOSERS and draw.textlength(line + token, font=face) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line:
        lines.append(line)
    if len(lines) > 1 and len(lines[-1]) <= 2 and width > 200:  # no lonely last character: balance
        return _wrap(draw, text, face, int(draw.textlength(text, font=face) / len(lines)) + 60)
    if len(lines) > 3:
        lines = lines[:3]
        lines[2] = lines[2][:-1] + "…"
    return lines


_CLOSERS = set("）)】」》，。、；：！？…·%")


def _tokens(text: str) -> list[str]:
    tokens, word = [], ""
    for char in text:
        if char.isascii() and (char.isalnum() or char in "/+-."):
            word += char
            continue
        if word:
            tokens.append(word)
            word = ""
        tokens.append(char)
    if word:
        tokens.append(word)
    return tokens


def _icon(draw: ImageDraw.ImageDraw, category: str, centre: tuple[int, int], r: int) -> None:
    """A white rounded badge with a simple line drawing of the category."""
    x, y = centre
    draw.rounded_rectangle((x - r, y - r, x + r, y + r), radius=r // 3, fill=(255, 255, 255, 235))
    ink = COLOURS.get(category, (51, 65, 85))
    w = max(6, r // 9)
    s = r * 0.55
    if category == "fitness":  # a dumbbell
        draw.rectangle((x - s, y - w / 2, x + s, y + w / 2), fill=ink)
        for side in (-1, 1):
            draw.rounded_rectangle(
                (x + side * s - w * 1.6, y - s * 0.55, x + side * s + w * 1.6, y + s * 0.55), radius=w // 2, fill=ink
            )
            draw.rounded_rectangle(
                (x + side * (s - w * 3) - w, y - s * 0.38, x + side * (s - w * 3) + w, y + s * 0.38),
                radius=w // 2,
                fill=ink,
            )
    elif category == "health_checkup":  # a heart with a pulse line
        draw.ellipse((x - s, y - s * 0.7, x, y + s * 0.3), fill=ink)
        draw.ellipse((x, y - s * 0.7, x + s, y + s * 0.3), fill=ink)
        draw.polygon([(x - s * 0.97, y - s * 0.05), (x + s * 0.97, y - s * 0.05), (x, y + s * 0.95)], fill=ink)
        draw.line(
            [
                (x - s * 0.7, y - s * 0.1),
                (x - s * 0.25, y - s * 0.1),
                (x - s * 0.1, y - s * 0.45),
                (x + s * 0.1, y + s * 0.25),
                (x + s * 0.25, y - s * 0.1),
                (x + s * 0.7, y - s * 0.1),
            ],
            fill="white",
            width=w,
            joint="curve",
        )
    elif category == "medical":  # a cross
        draw.rounded_rectangle((x - s * 0.28, y - s, x + s * 0.28, y + s), radius=w, fill=ink)
        draw.rounded_rectangle((x - s, y - s * 0.28, x + s, y + s * 0.28), radius=w, fill=ink)
    elif category == "dining":  # a bowl and chopsticks
        draw.pieslice((x - s, y - s * 0.6, x + s, y + s * 1.0), 0, 180, fill=ink)
        draw.rectangle((x - s * 1.05, y + s * 0.18, x + s * 1.05, y + s * 0.26), fill=ink)
        draw.line([(x - s * 0.2, y - s * 0.95), (x + s * 0.45, y + s * 0.1)], fill=ink, width=w)
        draw.line([(x + s * 0.15, y - s * 1.0), (x + s * 0.7, y + s * 0.05)], fill=ink, width=w)
    elif category == "cinema":  # a film strip
        draw.rounded_rectangle((x - s, y - s * 0.75, x + s, y + s * 0.75), radius=w, fill=ink)
        for i in range(5):
            hx = x - s * 0.8 + i * s * 0.4
            draw.rectangle((hx - w * 0.6, y - s * 0.62, hx + w * 0.6, y - s * 0.48), fill="white")
            draw.rectangle((hx - w * 0.6, y + s * 0.48, hx + w * 0.6, y + s * 0.62), fill="white")
        draw.polygon([(x - s * 0.22, y - s * 0.3), (x - s * 0.22, y + s * 0.3), (x + s * 0.32, y)], fill="white")
    elif category == "training":  # an open book
        draw.polygon([(x, y - s * 0.55), (x - s, y - s * 0.75), (x - s, y + s * 0.7), (x, y + s * 0.9)], fill=ink)
        draw.polygon([(x, y - s * 0.55), (x + s, y - s * 0.75), (x + s, y + s * 0.7), (x, y + s * 0.9)], fill=ink)
        draw.line([(x, y - s * 0.5), (x, y + s * 0.88)], fill="white", width=max(2, w // 2))
    elif category == "shopping":  # a bag
        draw.rounded_rectangle((x - s * 0.85, y - s * 0.35, x + s * 0.85, y + s), radius=w, fill=ink)
        draw.arc((x - s * 0.45, y - s * 0.95, x + s * 0.45, y + s * 0.05), 180, 360, fill=ink, width=w)
    elif category == "travel":  # a car
        draw.rounded_rectangle((x - s, y - s * 0.1, x + s, y + s * 0.5), radius=w, fill=ink)
        draw.polygon(
            [
                (x - s * 0.6, y - s * 0.1),
                (x - s * 0.35, y - s * 0.6),
                (x + s * 0.35, y - s * 0.6),
                (x + s * 0.6, y - s * 0.1),
            ],
            fill=ink,
        )
        for side in (-1, 1):
            draw.ellipse(
                (x + side * s * 0.55 - s * 0.22, y + s * 0.3, x + side * s * 0.55 + s * 0.22, y + s * 0.74),
                fill=ink,
                outline="white",
                width=max(2, w // 2),
            )
    elif category == "childcare":  # a smiling face
        draw.ellipse((x - s, y - s, x + s, y + s), fill=ink)
        for side in (-1, 1):
            draw.ellipse(
                (x + side * s * 0.38 - w, y - s * 0.3 - w, x + side * s * 0.38 + w, y - s * 0.3 + w), fill="white"
            )
        draw.arc((x - s * 0.5, y - s * 0.35, x + s * 0.5, y + s * 0.55), 20, 160, fill="white", width=w)
    elif category == "housekeeping":  # a house
        draw.polygon([(x, y - s), (x - s, y - s * 0.05), (x + s, y - s * 0.05)], fill=ink)
        draw.rectangle((x - s * 0.7, y - s * 0.1, x + s * 0.7, y + s * 0.9), fill=ink)
        draw.rectangle((x - s * 0.18, y + s * 0.35, x + s * 0.18, y + s * 0.9), fill="white")
    elif category == "leisure":  # mountains and a sun
        draw.ellipse((x + s * 0.25, y - s * 0.95, x + s * 0.85, y - s * 0.35), fill=ink)
        draw.polygon([(x - s, y + s * 0.8), (x - s * 0.3, y - s * 0.45), (x + s * 0.35, y + s * 0.8)], fill=ink)
        draw.polygon([(x - s * 0.1, y + s * 0.8), (x + s * 0.45, y - s * 0.1), (x + s, y + s * 0.8)], fill=ink)
    else:  # legal: a pair of scales
        draw.line([(x, y - s), (x, y + s * 0.8)], fill=ink, width=w)
        draw.line([(x - s * 0.85, y - s * 0.7), (x + s * 0.85, y - s * 0.7)], fill=ink, width=w)
        draw.rectangle((x - s * 0.45, y + s * 0.75, x + s * 0.45, y + s * 0.9), fill=ink)
        for side in (-1, 1):
            px = x + side * s * 0.75
            draw.line([(px, y - s * 0.7), (px - s * 0.25, y + s * 0.05)], fill=ink, width=max(2, w // 2))
            draw.line([(px, y - s * 0.7), (px + s * 0.25, y + s * 0.05)], fill=ink, width=max(2, w // 2))
            draw.chord((px - s * 0.3, y - s * 0.2, px + s * 0.3, y + s * 0.3), 0, 180, fill=ink)
