"""What an X screen shows, read through libX11 (ctypes): its top-level windows' places and
a screenshot of the whole screen, for tests of several windows at once (`motcua demo`)."""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IS_VIEWABLE = 2
Z_PIXMAP = 2
ALL_PLANES = 0xFFFFFFFF


class _Attributes(ctypes.Structure):  # XWindowAttributes
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int),
                ("height", ctypes.c_int), ("border_width", ctypes.c_int),
                ("depth", ctypes.c_int), ("visual", ctypes.c_void_p),
                ("root", ctypes.c_ulong), ("class_", ctypes.c_int),
                ("bit_gravity", ctypes.c_int), ("win_gravity", ctypes.c_int),
                ("backing_store", ctypes.c_int), ("backing_planes", ctypes.c_ulong),
                ("backing_pixel", ctypes.c_ulong), ("save_under", ctypes.c_int),
                ("colormap", ctypes.c_ulong), ("map_installed", ctypes.c_int),
                ("map_state", ctypes.c_int), ("all_event_masks", ctypes.c_long),
                ("your_event_mask", ctypes.c_long),
                ("do_not_propagate_mask", ctypes.c_long),
                ("override_redirect", ctypes.c_int), ("screen", ctypes.c_void_p)]


class _Image(ctypes.Structure):  # the head of XImage
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
                ("format", ctypes.c_int), ("data", ctypes.POINTER(ctypes.c_char)),
                ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
                ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
                ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int),
                ("bits_per_pixel", ctypes.c_int)]


@dataclass(frozen=True)
class Window:
    left: int
    top: int
    width: int
    height: int


def _x11() -> Any:
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    x = ctypes.CDLL(name)
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XDefaultRootWindow.restype = ctypes.c_ulong
    x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                             ctypes.POINTER(ctypes.c_ulong),
                             ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                             ctypes.POINTER(ctypes.c_uint)]
    x.XGetWindowAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                       ctypes.POINTER(_Attributes)]
    x.XGetImage.restype = ctypes.POINTER(_Image)
    x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                            ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    return x


def windows(display: str) -> list[Window]:
    """The mapped top-level windows of `display` (":N"), bottom to top."""
    x = _x11()
    d = x.XOpenDisplay(display.encode())
    assert d, f"cannot open X display {display}"
    try:
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, n = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        x.XQueryTree(d, x.XDefaultRootWindow(d), ctypes.byref(root), ctypes.byref(parent),
                     ctypes.byref(children), ctypes.byref(n))
        found = []
        for i in range(n.value):
            a = _Attributes()
            x.XGetWindowAttributes(d, children[i], ctypes.byref(a))
            if a.map_state == IS_VIEWABLE and a.width > 1 and a.height > 1:
                found.append(Window(a.x, a.y, a.width, a.height))
        return found
    finally:
        x.XCloseDisplay(d)


def screenshot(display: str, path: Path) -> Path:
    """The whole screen of `display` as a PNG (a 24-bit Xvfb screen)."""
    from PIL import Image

    x = _x11()
    d = x.XOpenDisplay(display.encode())
    assert d, f"cannot open X display {display}"
    try:
        a = _Attributes()
        root = x.XDefaultRootWindow(d)
        x.XGetWindowAttributes(d, root, ctypes.byref(a))
        img = x.XGetImage(d, root, 0, 0, a.width, a.height, ALL_PLANES, Z_PIXMAP).contents
        assert img.bits_per_pixel == 32, img.bits_per_pixel
        raw = ctypes.string_at(img.data, img.bytes_per_line * img.height)
        Image.frombuffer("RGB", (img.width, img.height), raw, "raw", "BGRX",
                         img.bytes_per_line, 1).save(path)
        return path
    finally:
        x.XCloseDisplay(d)
