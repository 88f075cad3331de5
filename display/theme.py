"""Colours of the board: light text on dark blue, readable across a bright hall."""

from __future__ import annotations


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


BG = rgba("#0a1f3d")
HEADER = rgba("#0d47a1")
PANEL = rgba("#10294d")
ROW_A = rgba("#143361")
ROW_B = rgba("#102b52")
HEADING = rgba("#9ec5ff")
TEXT = rgba("#ffffff")
MUTED = rgba("#c9d6ea")
TICKET = rgba("#ffd54f")
FRESH = rgba("#ffc107")
FRESH_TEXT = rgba("#0a1f3d")
FOOTER = rgba("#06162d")
LOST = rgba("#c62828")
WARN = rgba("#ef6c00")
CLOSED = rgba("#37474f")
CLEAR = (0.0, 0.0, 0.0, 0.0)


def row(index: int, filled: bool, fresh: bool = False) -> tuple[float, float, float, float]:
    """A table row: striped, amber when it is the newest call, bare when empty (so an empty
    hall reads as empty, not as a grid)."""
    if not filled:
        return CLEAR
    if fresh:
        return FRESH
    return ROW_A if index % 2 == 0 else ROW_B


def banner(kind: str) -> tuple[float, float, float, float]:
    return {"lost": LOST, "closed": CLOSED}.get(kind, WARN)


def place(halign: str, left: float, right: float, width: float) -> int:
    """x of a text of `width` aligned in [left, right]."""
    if halign == "left":
        return int(left)
    if halign == "right":
        return int(right - width)
    return int((left + right - width) / 2)
