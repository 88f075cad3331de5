"""Starts one app through its real command line (`motcua kiosk|display|counter ...`) and,
once it is drawn, writes what a person would see of it (issue 15: full screen without a
window manager):

    python -m tests.fullscreen --report OUT.json --shots PREFIX -- kiosk --config ... --fullscreen

The report has the X server's idea of the window (its real place and size, asked of Xlib,
not of SDL, which believed the window filled the screen while it did not), Kivy's
Window.size, the screen's size, and the window-coordinate bounds of the app's key widgets.
PREFIX-root.png is the whole X screen (what the wall or the citizen sees), PREFIX-window.png
Kivy's own Window.screenshot.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from PIL import Image


class _XImage(ctypes.Structure):  # the head of Xlib's XImage: what a ZPixmap read needs
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
                ("format", ctypes.c_int), ("data", ctypes.c_void_p),
                ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
                ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
                ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int),
                ("bits_per_pixel", ctypes.c_int)]


class X:
    """Just enough Xlib (libX11 is there wherever SDL runs on X) to ask the server."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("X11") or "libX11.so.6"
        self.lib: Any = ctypes.CDLL(name)
        self.lib.XOpenDisplay.restype = ctypes.c_void_p
        self.lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.lib.XDefaultRootWindow.restype = ctypes.c_ulong
        self.lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.lib.XGetImage.restype = ctypes.POINTER(_XImage)
        self.lib.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                       ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                       ctypes.c_ulong, ctypes.c_int]
        self.lib.XTranslateCoordinates.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
            ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_ulong)]
        self.lib.XGetGeometry.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint),
            ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint)]
        for f in ("XDisplayWidth", "XDisplayHeight"):
            getattr(self.lib, f).argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.dpy = self.lib.XOpenDisplay(None)
        if not self.dpy:
            raise RuntimeError("cannot open the X display")
        self.root = self.lib.XDefaultRootWindow(self.dpy)

    def screen(self) -> tuple[int, int]:
        return self.lib.XDisplayWidth(self.dpy, 0), self.lib.XDisplayHeight(self.dpy, 0)

    def geometry(self, window: int) -> dict[str, int]:
        """Where the window really is on the screen, and how big."""
        root, child = ctypes.c_ulong(), ctypes.c_ulong()
        x, y, rx, ry = ctypes.c_int(), ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        w, h, border, depth = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
        self.lib.XGetGeometry(self.dpy, window, ctypes.byref(root), ctypes.byref(x),
                              ctypes.byref(y), ctypes.byref(w), ctypes.byref(h),
                              ctypes.byref(border), ctypes.byref(depth))
        self.lib.XTranslateCoordinates(self.dpy, window, self.root, 0, 0, ctypes.byref(rx),
                                       ctypes.byref(ry), ctypes.byref(child))
        return {"x": rx.value, "y": ry.value, "width": w.value, "height": h.value}

    def grab(self, path: Path) -> Path:
        """The whole screen as a PNG (24-bit TrueColor, as Xvfb -screen WxHx24 makes it).
        The XImage is left to the process's end: this runs once per probe."""
        w, h = self.screen()
        image = self.lib.XGetImage(self.dpy, self.root, 0, 0, w, h, 0xFFFFFFFF, 2)  # ZPixmap
        if not image:
            raise RuntimeError("XGetImage failed")
        head = image.contents
        size = head.bytes_per_line * head.height
        data = ctypes.string_at(head.data, size)
        Image.frombuffer("RGB", (w, h), data, "raw", "BGRX", head.bytes_per_line,
                         1).save(path)
        return path


def key_widgets(kind: str, app: Any) -> dict[str, Any]:
    """What must be whole on screen: issue 15 names these."""
    if kind == "display":
        ids = app.view.ids
        return {"header": ids.header, "side": ids.side, "body": ids.body}
    if kind == "kiosk":
        home = app.root.get_screen("home")
        return {"walkin": home.ids.walkin, "booking": home.ids.booking, "lang": home.ids.lang}
    if kind == "counter":
        return {name: w for name, w in app.screen.ids.items() if name.startswith("btn_")}
    raise ValueError(kind)


def bounds(widget: Any) -> list[float]:
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return [x0, y0, x1, y1]


def inspect(kind: str, report: Path, shots: str) -> None:
    """On Kivy's thread, a second after the first frame: measure, take pictures, stop."""
    from kivy.app import App
    from kivy.core.window import Window

    app = App.get_running_app()
    x = X()
    info = Window._win.get_window_info()
    root_png = x.grab(Path(f"{shots}-root.png"))
    numbered = Window.screenshot(name=f"{shots}-window.png")  # Kivy numbers its file
    window_png = Path(numbered).replace(f"{shots}-window.png") if numbered else None
    out = {"app": kind, "screen": list(x.screen()), "x_window": x.geometry(int(info.window)),
           "window_size": list(Window.size), "system_size": list(Window.system_size),
           "fullscreen": Window.fullscreen,
           "widgets": {name: bounds(w) for name, w in key_widgets(kind, app).items()},
           "shots": [str(root_png), str(window_png)],
           "first_frame_s": _first_frame[0]}
    report.write_text(json.dumps(out, indent=1), encoding="utf-8")
    app.stop()


_first_frame: list[float | None] = [None]


def watch(kind: str, report: Path, shots: str, started: float) -> None:
    """From a side thread: wait for the app's window, then hand over to Kivy's thread."""
    while True:
        app_class = getattr(sys.modules.get("kivy.app"), "App", None)  # once imported whole
        app = app_class.get_running_app() if app_class else None
        if app is not None and app.root is not None:
            break
        time.sleep(0.05)
    from kivy.clock import Clock
    from kivy.core.window import Window

    def first(*_: Any) -> None:
        if _first_frame[0] is None:
            _first_frame[0] = round(time.monotonic() - started, 3)
            Clock.schedule_once(lambda _dt: inspect(kind, report, shots), 1.5)

    Clock.schedule_once(lambda _dt: Window.bind(on_flip=first), 0)


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    p = argparse.ArgumentParser(prog="python -m tests.fullscreen")
    p.add_argument("--report", type=Path, required=True)
    p.add_argument("--shots", required=True, help="path prefix of the PNGs")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- kiosk|display|counter ARGS")
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    threading.Thread(target=watch, args=(command[0], args.report, args.shots, started),
                     daemon=True).start()
    from cli.main import main as motcua

    return motcua(command)


if __name__ == "__main__":
    sys.exit(main())


# -- the tests' side ------------------------------------------------------------------------
def run_fullscreen(kind: str, args: list[str], work: Path, artifacts: Path,
                   screen: tuple[int, int] = (1280, 720)) -> dict[str, Any]:
    """Start `motcua KIND ARGS --fullscreen` on a fresh Xvfb screen with no window manager;
    return the probe's report. The pictures go to artifacts/fullscreen-KIND-WxH-*.png."""
    import os
    import subprocess

    from tests.conftest import ROOT
    from tests.kivy_support import kivy_env, xvfb

    report = work / f"fullscreen-{kind}.json"
    shots = artifacts / f"fullscreen-{kind}-{screen[0]}x{screen[1]}"
    log = work / f"fullscreen-{kind}.log"
    with xvfb(*screen) as display:
        env = {**os.environ, **kivy_env(work / "kivy", display)}
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("SDL_VIDEODRIVER", None)
        with open(log, "wb") as out:
            proc = subprocess.run([sys.executable, "-m", "tests.fullscreen", "--report",
                                   str(report), "--shots", str(shots), "--", kind, *args,
                                   "--fullscreen"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=90)
    assert proc.returncode == 0 and report.exists(), log.read_text(errors="replace")[-3000:]
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return result


def assert_fills_the_screen(report: dict[str, Any]) -> None:
    """The window is the screen (as X has it, not only as SDL believes), Kivy lays out for
    that size, every key widget is whole inside it, and nothing of the screen is left bare."""
    w, h = report["screen"]
    assert report["x_window"] == {"x": 0, "y": 0, "width": w, "height": h}, report
    assert report["window_size"] == [w, h], report
    for name, (x0, y0, x1, y1) in report["widgets"].items():
        assert x1 - x0 > 1 and y1 - y0 > 1, (name, report["widgets"][name])
        assert -0.5 <= x0 <= x1 <= w + 0.5 and -0.5 <= y0 <= y1 <= h + 0.5, \
            f"{name} sticks out of the {w}x{h} window: {report['widgets'][name]}"
    root = Image.open(report["shots"][0]).convert("RGB")
    assert root.size == (w, h)
    black = root.histogram()[0]  # pixels whose red is 0; the bare X root is all black
    assert black < 0.01 * w * h, f"{black} pixels of the screen are not the app's"
