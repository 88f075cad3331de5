"""The demo's windows: where each goes on the screen, the office file they read (the demo's
own: its database, broker and printer folder) and the child processes that show them."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motcua.clock import ShiftedClock

ROOT = Path(__file__).resolve().parent.parent
COUNTER_SIZE = (1024, 700)  # counter.app.MIN_SIZE: its smallest window that still fits
LEFT_COLUMN_MIN = 480  # narrower than this, the board and kiosk could not be read
DEFAULT_SCREEN = (1920, 1080)
PEOPLE_COUNTERS = ("1", "3")  # in this order, as many as the screen holds side by side


@dataclass(frozen=True)
class Box:
    width: int
    height: int
    left: int
    top: int

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def geometry(self) -> str:
        return f"{self.size}+{self.left}+{self.top}"

    def overlaps(self, other: Box) -> bool:
        return (self.left < other.left + other.width and other.left < self.left + self.width
                and self.top < other.top + other.height and other.top < self.top + self.height)


@dataclass(frozen=True)
class Tiles:
    """Where the board, the kiosk and the person's counter windows go."""

    screen: tuple[int, int]
    board: Box
    kiosk: Box
    counters: dict[str, Box] = field(default_factory=dict)

    @property
    def overlapping(self) -> bool:
        boxes = [self.board, self.kiosk, *self.counters.values()]
        return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def tile(screen: tuple[int, int], counters: list[str]) -> Tiles:
    """The counter windows (at their smallest) stacked in a right column, as many as the
    screen's height holds (at least one); the board on top of the left column, as wide as
    it and 16:9 at most half the screen high, the kiosk below it. On 1920x1080: the board
    896x504, the kiosk 896x576, one counter 1024x700. A screen too small for a left column
    beside a counter gets it anyway, under the counter (Tiles.overlapping says so)."""
    width, height = screen
    cw, ch = COUNTER_SIZE
    mine = [c for c in PEOPLE_COUNTERS if c in counters] or counters[:1]
    mine = mine[:max(1, height // ch)]
    left = width - cw if width - cw >= LEFT_COLUMN_MIN else max(LEFT_COLUMN_MIN, width // 2)
    board_h = min(left * 9 // 16, height // 2)
    return Tiles(screen, Box(left, board_h, 0, 0), Box(left, height - board_h, 0, board_h),
                 {c: Box(cw, ch, max(0, width - cw), i * ch) for i, c in enumerate(mine)})


def screen_size() -> tuple[int, int]:
    """The screen the windows open on (SDL's desktop size), or 1920x1080 when SDL cannot
    tell."""
    from motcua.screen import desktop_size

    return desktop_size() or DEFAULT_SCREEN


# --- the demo's own office file --------------------------------------------------------

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if BARE_KEY.match(k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON's escapes are TOML's
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    return v.isoformat()  # type: ignore[no-any-return]  # dates and times


def toml_text(data: dict[str, Any], prefix: str = "") -> str:
    """A TOML document holding `data` (what tomllib reads back), tables after plain keys."""
    plain = [f"{_key(k)} = {_value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not _is_tables(v)]
    out = ["\n".join(plain)] if plain else []
    for k, v in data.items():
        name = f"{prefix}{_key(k)}"
        if isinstance(v, dict):
            out.append(f"[{name}]\n{toml_text(v, name + '.')}".rstrip())
        elif _is_tables(v):
            out += [f"[[{name}]]\n{toml_text(t, name + '.')}".rstrip() for t in v]
    return "\n\n".join(out) + "\n"


def _is_tables(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(t, dict) for t in v)


STAFF_FILE = "simulated-staff.json"  # in the demo folder: counter -> [officer, PIN]


def simulated_staff(office: dict[str, Any]) -> dict[str, Any]:
    """An officer for each counter, for the demo's simulated staff to sign in with (a PIN
    of the demo's own, never one of the office file's): {"rows": office-file rows,
    counter: [code, pin]}. The office's own officers stay for the person at a window."""
    from motcua.officers import hash_pin

    staff: dict[str, Any] = {"rows": []}
    for counter in office.get("counters", []):
        cid, pin = str(counter["id"]), f"{secrets.randbelow(10**6):06d}"
        code = f"sim-{cid}"
        staff["rows"].append({"code": code, "name": f"Mô phỏng {counter.get('name', cid)}",
                              "pin": hash_pin(pin, iterations=10_000), "roles": ["counter"]})
        staff[cid] = [code, pin]
    return staff


def demo_office_file(source: Path, data: Path, broker_url: str) -> Path:
    """`data/office.toml`: the office of `source` with the demo's own database, broker and
    ticket folder (a real office file's printer is never used), its keys' paths absolute."""
    office = tomllib.loads(source.read_text(encoding="utf-8"))
    here = source.resolve().parent
    keys = office.get("booking", {}).get("keys", {})
    for kid, path in keys.items():
        keys[kid] = str((here / path).resolve())
    office["broker"] = {"url": broker_url}
    office["storage"] = {**{k: v for k, v in office.get("storage", {}).items()
                            if k in ("keep_command_days", "keep_backups")},
                         "path": str(data / "office.sqlite3"),
                         "backup_dir": str(data / "backups")}
    office["printer"] = {**office.get("printer", {}), "kind": "file",
                         "file": str(data / "tickets")}
    if office.get("officers"):  # counters sign in: the simulated staff need officers too
        staff = simulated_staff(office)
        office["officers"] = [*office["officers"], *staff.pop("rows")]
        (data / STAFF_FILE).write_text(json.dumps(staff), encoding="utf-8")
    path = data / "office.toml"
    path.write_text(f"# The demo's copy of {source.resolve()}: its own database, broker and "
                    f"tickets.\n{toml_text(office)}", encoding="utf-8")
    return path


# --- the windows -------------------------------------------------------------------------

def have_screen() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _kivy_home(folder: Path) -> Path:
    """A Kivy home of the window's own, made before it starts: Kivy makes its folders and
    copies its icons without exist_ok, and windows starting together would race."""
    for sub in ("mods", "extensions/plugins", "logs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    spec = importlib.util.find_spec("kivy")
    logo = Path(spec.origin).parent / "data" / "logo" if spec and spec.origin else None
    if logo is not None and logo.is_dir() and not (folder / "icon").exists():
        shutil.copytree(logo, folder / "icon")
    return folder


class Windows:
    """The demo's Kivy windows, each a child process (Kivy allows one window per process),
    each in a process group of its own: Ctrl-C in the terminal reaches the demo only, which
    closes them (SIGTERM) in order, so none of them dies in a KeyboardInterrupt."""

    def __init__(self, data: Path):
        self.data = data
        self.logs = data / "logs"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._said: set[str] = set()

    def open(self, name: str, module: str, args: list[str], box: Box | None = None) -> None:
        env = {**os.environ, "KIVY_HOME": str(_kivy_home(self.data / "kivy" / name)),
               "KIVY_NO_CONFIG": "1", "KIVY_USE_DEFAULTCONFIG": "1", "KIVY_NO_ARGS": "1",
               "KIVY_LOG_MODE": "PYTHON", "KIVY_NO_FILELOG": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get(
                   "PYTHONPATH", "")) if p)}
        if box is not None:  # the board and kiosk take a size only: Kivy's config the place
            env.update(KCFG_GRAPHICS_POSITION="custom", KCFG_GRAPHICS_LEFT=str(box.left),
                       KCFG_GRAPHICS_TOP=str(box.top))
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", module, *args], cwd=self.data, env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, process_group=0)

    def exited(self) -> list[tuple[str, int]]:
        """Windows that closed by themselves since the last call (a person closed one, or it
        failed to start), with their exit codes."""
        gone = [(name, code) for name, proc in self.procs.items()
                if (code := proc.poll()) is not None and name not in self._said]
        self._said.update(name for name, _ in gone)
        return gone

    def close(self, timeout: float = 10) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __bool__(self) -> bool:
        return bool(self.procs)


def open_windows(config: Path, url: str, clock: ShiftedClock, data: Path,
                 tiles: Tiles) -> Windows:
    """The board, the person's counter terminals and a kiosk fed booking QR images. The
    board's clock starts at the demo's time now, not at the opening: it shows the same
    minute as the dispatcher (a second of start-up is half a minute at 30x)."""
    windows = Windows(data)
    b = tiles.board
    windows.open("display", "display", ["--config", str(config), "--broker", url, "--size",
                                        b.size, "--start-at", clock().isoformat(), "--speed",
                                        str(clock.speed), "--cache", str(data / "voice")], b)
    for cid, box in tiles.counters.items():
        windows.open(f"counter-{cid}", "counter", ["--config", str(config), "--counter", cid,
                                                   "--broker", url, "--geometry",
                                                   box.geometry])
    camera = data / "camera"
    camera.mkdir(parents=True, exist_ok=True)
    windows.open("kiosk", "kiosk", ["--config", str(config), "--kiosk", "k1", "--broker", url,
                                    "--images", str(camera), "--size", tiles.kiosk.size],
                 tiles.kiosk)
    return windows
