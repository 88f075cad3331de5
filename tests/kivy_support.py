"""Kivy under Xvfb for the UI tests: a virtual screen per test session, a clean Kivy home."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.waiting import wait_until


def free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@contextmanager
def xvfb(width: int = 1920, height: int = 1080) -> Iterator[str]:
    """Start Xvfb; yield its DISPLAY (":N")."""
    if not shutil.which("Xvfb"):
        raise RuntimeError("Xvfb is not installed: apt-get install -y xvfb (make test does)")
    n = free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", f"{width}x{height}x24",
                             "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"Xvfb :{n} exited with {proc.returncode}")
            return Path(f"/tmp/.X11-unix/X{n}").exists()
        wait_until(up, timeout=10, what=f"Xvfb :{n} started", interval=0.05)
        yield f":{n}"
    finally:
        proc.terminate()
        proc.wait(5)


def kivy_env(home: Path, display: str | None = None) -> dict[str, str]:
    """Environment for a Kivy process: quiet, no argv parsing, its own KIVY_HOME."""
    home.mkdir(parents=True, exist_ok=True)
    env = {"KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1", "KIVY_NO_FILELOG": "1",
           "KIVY_HOME": str(home), "SDL_AUDIODRIVER": os.environ.get("SDL_AUDIODRIVER", "dummy")}
    if display:
        env["DISPLAY"] = display
    return env
