"""The shipped font draws every Vietnamese letter, with its marks, and never the box."""

from __future__ import annotations

import unicodedata

import pytest
from PIL import Image, ImageDraw, ImageFont

from printer.layout import BOLD, FONT_DIR, REGULAR, font

VOWELS = "aăâeêioôơuưy"
TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # huyền hỏi ngã sắc nặng
LETTERS = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES] + ["đ"]
ALL = LETTERS + [c.upper() for c in LETTERS]
NOT_IN_ANY_FONT = "\U0010fffd"  # a private-use noncharacter: always the .notdef box


def bitmap(f: ImageFont.FreeTypeFont, ch: str) -> bytes:
    im = Image.new("L", (96, 128), 0)
    ImageDraw.Draw(im).text((16, 16), ch, font=f, fill=255)
    return im.tobytes()


def test_letters_are_precomposed() -> None:
    assert len(ALL) == 2 * (12 * 6 + 1)
    assert all(len(c) == 1 for c in ALL), "NFC gives one code point per Vietnamese letter"


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_every_vietnamese_letter_has_its_own_glyph(bold: bool) -> None:
    f = font(48, bold)
    box = bitmap(f, NOT_IN_ANY_FONT)
    drawn = {c: bitmap(f, c) for c in ALL}
    missing = [c for c, b in drawn.items() if b == box or not any(b)]
    assert not missing, f"drawn as the missing-glyph box: {' '.join(missing)}"
    # All 146 bitmaps differ: every tone mark and hat is really drawn (ố is not ô or o).
    same: dict[bytes, list[str]] = {}
    for c, b in drawn.items():
        same.setdefault(b, []).append(c)
    clashes = [group for group in same.values() if len(group) > 1]
    assert not clashes, f"letters drawn alike: {clashes}"


def test_fonts_ship_with_their_licence() -> None:
    assert REGULAR.is_file() and BOLD.is_file()
    licence = (FONT_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "Bitstream" in licence and "Permission is hereby granted" in licence
