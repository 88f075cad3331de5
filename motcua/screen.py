"""Full screen that fills the real screen, with or without a window manager (issue 15).

Kivy's `fullscreen = auto` asks SDL2 for SDL_WINDOW_FULLSCREEN_DESKTOP. On X, SDL then only
*asks the window manager* (the _NET_WM_STATE_FULLSCREEN hint) to make the window as big
as the screen, yet tells Kivy at once that the window is the desktop's size. On a bare X
session (a kiosk or a wall TV started by xinit, no window manager) nobody answers: the X
window keeps Config's width x height (1280x720, 1280x800, 1100x720), centred, while Kivy
lays out and draws for the whole screen: the top and the right of every screen are cut
off. `fullscreen = 1` (a mode change) goes the same way.

The cure: ask SDL for the desktop's size *before* the window exists and make that the
window's size and place (0, 0). With a window manager the fullscreen hint still applies
(no frame, above the panels); without one the window already covers the screen.

Only ctypes here, no Kivy import: it runs before Kivy reads its Config.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import logging
import os
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SDL_INIT_VIDEO = 0x20


class _DisplayMode(ctypes.Structure):
    _fields_ = [("format", ctypes.c_uint32), ("w", ctypes.c_int), ("h", ctypes.c_int),
                ("refresh_rate", ctypes.c_int), ("driverdata", ctypes.c_void_p)]


def _sdl_library() -> str | None:
    """The SDL2 that Kivy's window will load: the wheel's own copy first (Kivy.libs,
    beside the kivy package), else the system's."""
    spec = importlib.util.find_spec("kivy")
    if spec is not None and spec.origin:
        libs = Path(spec.origin).resolve().parent.parent / "Kivy.libs"
        found = sorted(libs.glob("libSDL2-2*.so*")) if libs.is_dir() else []
        if found:
            return str(found[0])
    return ctypes.util.find_library("SDL2-2.0") or ctypes.util.find_library("SDL2")


def desktop_size(display: int = 0) -> tuple[int, int] | None:
    """The screen's size in pixels (SDL's desktop mode of `display`); None when SDL cannot
    tell (no library, no screen). SDL's video subsystem is started and stopped again: Kivy
    starts it afresh for its window."""
    if os.environ.get("SDL_VIDEODRIVER") in ("dummy", "offscreen"):
        return None  # no real screen: the configured size is the screen
    path = _sdl_library()
    if path is None:
        return None
    try:
        sdl: Any = ctypes.CDLL(path)
        if sdl.SDL_InitSubSystem(SDL_INIT_VIDEO) != 0:
            return None
        try:
            sdl.SDL_GetCurrentVideoDriver.restype = ctypes.c_char_p
            driver = sdl.SDL_GetCurrentVideoDriver() or b""
            if driver in (b"dummy", b"offscreen"):  # chosen for want of a screen
                return None
            mode = _DisplayMode()
            if sdl.SDL_GetDesktopDisplayMode(display, ctypes.byref(mode)) != 0:
                return None
            return (mode.w, mode.h) if mode.w > 0 and mode.h > 0 else None
        finally:
            sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO)
    except (OSError, AttributeError) as exc:  # a missing or odd library: keep the old way
        log.debug("cannot ask SDL for the screen size: %s", exc)
        return None


def fullscreen_config(config: Any, fallback: tuple[int, int]) -> tuple[int, int]:
    """Set Kivy's Config (kivy.config.Config, before the window exists) for a full screen
    that fills the real screen; return the size the window is given."""
    size = desktop_size() or fallback
    config.set("graphics", "width", str(size[0]))
    config.set("graphics", "height", str(size[1]))
    config.set("graphics", "position", "custom")
    config.set("graphics", "left", "0")
    config.set("graphics", "top", "0")
    config.set("graphics", "fullscreen", "auto")
    return size


GEOMETRY_RE = re.compile(r"^(\d{3,5})x(\d{3,5})(?:\+(\d{1,5})\+(\d{1,5}))?$")


def window_config(config: Any, geometry: re.Match[str], fullscreen: bool,
                  minimum: tuple[int, int] | None = None) -> None:
    """A staff or citizen window's Kivy settings from WIDTHxHEIGHT[+X+Y] (GEOMETRY_RE),
    before Kivy creates its window: no quitting on Esc, no red dots on a right click."""
    m = geometry
    config.set("graphics", "width", m.group(1))
    config.set("graphics", "height", m.group(2))
    if m.group(3) is not None:
        config.set("graphics", "position", "custom")
        config.set("graphics", "left", m.group(3))
        config.set("graphics", "top", m.group(4))
    config.set("graphics", "fullscreen", "0")
    if fullscreen:  # the screen's real size, with or without a window manager
        fullscreen_config(config, (int(m.group(1)), int(m.group(2))))
    if minimum is not None:
        config.set("graphics", "minimum_width", str(minimum[0]))
        config.set("graphics", "minimum_height", str(minimum[1]))
    config.set("kivy", "exit_on_escape", "0")
    config.set("input", "mouse", "mouse,multitouch_on_demand")
