"""Open the board in its own process from another program (`motcua demo`), when there is a
screen: Kivy allows one window per process, and the demo's process is a terminal view."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path


def have_screen() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("SDL_VIDEODRIVER") in ("kmsdrm", "offscreen"))


def spawn(config: Path, broker_url: str, start_at: datetime | None = None, speed: float = 1.0,
          size: str = "1280x720", log: Path | None = None,
          extra: list[str] | None = None) -> subprocess.Popen[bytes] | None:
    """Start `python -m display` for this office; None when there is no screen to show it.

    Stop it with `.terminate()`: the board leaves cleanly and says so in its presence.
    """
    if not have_screen():
        return None
    args = [sys.executable, "-m", "display", "--config", str(config), "--broker", broker_url,
            "--size", size, *(extra or [])]
    if start_at is not None:
        args += ["--start-at", start_at.isoformat(), "--speed", str(speed)]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)}
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    try:
        return subprocess.Popen(args, cwd=root, env=env, stdout=out, stderr=out)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
