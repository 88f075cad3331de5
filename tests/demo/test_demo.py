"""`motcua demo` with a screen: its windows tiled, whose counters are whose, logs in files,
a quiet Ctrl-C; and the demo's own office file (its database, broker and tickets)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import tomllib
from contextlib import closing
from pathlib import Path

import pytest

from cli.demo import BY_ITSELF, YOURS, legend, page_box, who
from cli.demo_windows import COUNTER_SIZE, demo_office_file, tile, toml_text
from motcua import config
from tests.conftest import EXAMPLE, ROOT, motcua_command, write_office
from tests.waiting import wait_until

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL)"
                      r" [\w.]+: \S")

# Written to stderr by native code, below Python's logging: zxing-cpp's bindings (nanobind)
# count their objects still alive when the kiosk's interpreter exits.
NATIVE = ("nanobind: ", " - leaked ")


def inside(box, screen: tuple[int, int]) -> bool:  # type: ignore[no-untyped-def]
    return (box.left >= 0 and box.top >= 0 and box.left + box.width <= screen[0]
            and box.top + box.height <= screen[1])


def test_on_a_1080p_screen_the_windows_do_not_overlap() -> None:
    tiles = tile((1920, 1080), ["1", "2", "3"])
    assert not tiles.overlapping
    assert list(tiles.counters) == ["1"]  # two counters of 1024x700 do not fit beside
    boxes = [tiles.board, tiles.kiosk, *tiles.counters.values()]
    assert all(inside(b, (1920, 1080)) for b in boxes)
    assert (tiles.board.width, tiles.board.height) == (896, 504)
    assert (tiles.kiosk.top, tiles.kiosk.height) == (504, 576)
    assert tiles.counters["1"].geometry == f"{COUNTER_SIZE[0]}x{COUNTER_SIZE[1]}+896+0"


def test_a_taller_screen_gets_two_counter_windows() -> None:
    tiles = tile((2560, 1440), ["1", "2", "3"])
    assert list(tiles.counters) == ["1", "3"] and not tiles.overlapping
    assert all(inside(b, (2560, 1440)) for b in [tiles.board, tiles.kiosk,
                                                  *tiles.counters.values()])


def test_a_small_screen_says_its_windows_overlap() -> None:
    tiles = tile((1366, 768), ["1", "2", "3"])
    assert tiles.overlapping and list(tiles.counters) == ["1"]
    assert inside(tiles.counters["1"], (1366, 768))


def test_the_view_says_whose_counters_are_whose(office: config.OfficeConfig) -> None:
    assert who("1", ("1",)) == YOURS and who("2", ("1",)) == BY_ITSELF
    line = legend(office, ("1",))
    assert "Quầy 1: cửa sổ của bạn" in line and "Quầy 2, Quầy 3: tự gọi" in line
    assert "press next by themselves" in legend(office, ())


def test_toml_text_reads_back_as_the_same_office() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert tomllib.loads(toml_text(data)) == data
    odd = {"a b": "quote \" and \\ and ờ", "t": {"x.y": [1, 2.5, True], "inner": {"k": []}},
           "rows": [{"n": 1}, {"n": 2}]}
    assert tomllib.loads(toml_text(odd)) == odd


def test_the_demo_office_is_its_own(tmp_path: Path) -> None:
    """Another database, broker and ticket folder than the office file's, and a real
    office's printer replaced by files; everything else the same office."""
    source = write_office(tmp_path, **{'kind = "file"': 'kind = "network"'})
    data = tmp_path / "demo"
    data.mkdir()
    demo = config.load(demo_office_file(source, data, "mqtt://127.0.0.1:1999"))
    real = config.load(source)
    assert demo.storage == data / "office.sqlite3" != real.storage
    assert demo.broker.url == "mqtt://127.0.0.1:1999"
    assert demo.printer.kind == "file" and demo.printer.file == data / "tickets"
    assert real.printer.kind == "network"
    assert demo.backups.folder == data / "backups" and demo.backups.copy_to is None
    assert (demo.id, demo.name, list(demo.counters), list(demo.services), demo.hours) == (
        real.id, real.name, list(real.counters), list(real.services), real.hours)
    assert demo.booking.keys.keys() == real.booking.keys.keys()


@pytest.mark.mqtt
@pytest.mark.kivy
@pytest.mark.process
def test_the_demo_tiles_its_windows_and_stops_quietly(tmp_path: Path, artifacts: Path) -> None:
    from tests.kivy_support import xvfb
    from tests.xscreen import screenshot, windows

    office = write_office(tmp_path)
    demo_dir = tmp_path / "demo-here"
    with xvfb(1920, 1080) as display:
        env = {**os.environ, "DISPLAY": display, "SDL_AUDIODRIVER": "dummy",
               "MOTCUA_DEMO_DIR": str(demo_dir)}
        # Its own session, as a terminal's foreground job: Ctrl-C is a SIGINT to the group.
        proc = subprocess.Popen([*motcua_command(), "demo", "--config", str(office),
                                 "--speed", "60"], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        lines: list[str] = []
        stdout = proc.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: lines.extend(stdout), daemon=True)
        reader.start()
        data = demo_dir / "motcua-demo-demo"
        expected = tile((1920, 1080), ["1", "2", "3"])
        page = page_box(expected) if shutil.which("chromium") else None  # the board page
        count = 3 + (page is not None)

        def called() -> int:
            try:
                with closing(sqlite3.connect(f"file:{data / 'office.sqlite3'}?mode=ro",
                                             uri=True)) as db:
                    return int(db.execute("SELECT count(*) FROM events "
                                          "WHERE change='called'").fetchone()[0])
            except sqlite3.OperationalError:
                return 0

        def shown() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the demo exited early:\n{''.join(lines)}")
            return len(windows(display)) >= count and called() >= 2
        try:
            wait_until(shown, timeout=90, what="the demo's windows up and calling",
                       interval=0.5)
            wait_until(lambda: (data / "logs" / "kiosk.log").exists()
                       and len(windows(display)) == count, timeout=30,
                       what=f"{count} windows")
            shot = screenshot(display, artifacts / "demo-tiled.png")
            placed = sorted((w.left, w.top, w.width, w.height) for w in windows(display))
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(60)
            reader.join(10)
    out = "".join(lines)
    assert proc.returncode == 0, out
    boxes = [expected.board, expected.kiosk, *expected.counters.values(),
             *([page] if page else [])]
    assert placed == sorted((b.left, b.top, b.width, b.height) for b in boxes), placed
    assert shot.stat().st_size > 50_000  # the windows drawn, not a black screen
    assert "Quầy 1: cửa sổ của bạn" in out and "Quầy 2, Quầy 3: tự gọi" in out
    assert "motcua demo stopped" in out and f"{data / 'logs'}/" in out
    # The terminal shows the view only: no log line, Kivy's or ours, no traceback.
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    assert not re.search(r"\[INFO|INFO kivy|INFO motcua|INFO dispatcher", out), out
    logs = {p.name: p.read_text(encoding="utf-8") for p in (data / "logs").glob("*.log")}
    assert set(logs) == {"demo.log", "display.log", "kiosk.log", "counter-1.log", "web.log",
                         *(["chromium.log"] if page else [])}, logs
    assert "motcua web: http://127.0.0.1:" in out
    for name, text in logs.items():
        if name == "chromium.log":
            continue  # Chromium's own words, in its own format
        assert "Traceback" not in text and "KeyboardInterrupt" not in text, (name, text)
        for line in text.splitlines():  # one format, one line per fact
            assert LOG_LINE.match(line) or line.startswith(NATIVE), (name, line)
    assert "dispatcher for demo" in logs["demo.log"]
    assert not (tmp_path / "tickets").exists()  # the office's own ticket folder: untouched
    assert subprocess.run(["pgrep", "-f", str(demo_dir)], capture_output=True).returncode == 1


@pytest.mark.process
def test_a_window_that_closes_is_said_once(tmp_path: Path) -> None:
    """A window that fails to start (here: an unknown counter) or that a person closes is
    noted once in the live view's log, with its log file."""
    from cli.demo_windows import Windows

    w = Windows(tmp_path)
    w.open("counter-9", "counter", ["--config", str(write_office(tmp_path)), "--counter", "9"])
    wait_until(lambda: w.procs["counter-9"].poll() is not None, timeout=60,
               what="the window exited")
    assert w.exited() == [("counter-9", 2)] and w.exited() == []
    text = (tmp_path / "logs" / "counter-9.log").read_text(encoding="utf-8")
    assert "there is no counter '9'" in text and "Traceback" not in text
    w.close()


@pytest.mark.mqtt
@pytest.mark.process
def test_the_demo_of_an_office_with_officers_signs_its_simulated_staff_in(
        tmp_path: Path) -> None:
    """examples/office-officers.toml: every counter needs an officer signed in. The
    simulated staff sign in as officers of the demo's own (their PINs never the file's)
    and call; without a screen all three counters are theirs."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MOTCUA_DEMO_DIR"] = str(tmp_path)
    done = subprocess.run([*motcua_command(), "demo", "--config",
                           str(ROOT / "examples" / "office-officers.toml"), "--speed", "120",
                           "--duration", "25", "--quiet"], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    data = tmp_path / "motcua-demo-demo"
    with closing(sqlite3.connect(f"file:{data / 'office.sqlite3'}?mode=ro", uri=True)) as db:
        signed = {r[0] for r in db.execute("SELECT counter FROM events "
                                           "WHERE change='signed_in'")}
        called_by = {r[0] for r in db.execute("SELECT officer FROM tickets "
                                              "WHERE officer IS NOT NULL")}
    assert signed == {"1", "2", "3"}, done.stdout
    assert called_by and called_by <= {"sim-1", "sim-2", "sim-3"}, called_by
    staff = json.loads((data / "simulated-staff.json").read_text())
    example = (ROOT / "examples" / "office-officers.toml").read_text(encoding="utf-8")
    assert all(pin not in example for _, pin in staff.values())
    assert "Traceback" not in done.stdout + done.stderr
