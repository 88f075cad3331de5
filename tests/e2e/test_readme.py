"""Every command of the README's shell blocks works as written, on a fresh clone, on any day.

The test makes a scratch clone (examples/ and the .venv, no var/), starts the README's
dispatcher in it (`motcua dispatcher --config examples/office.toml`, the real clock) on a
real Mosquitto, and runs each command with bash in README order. One change from a
newcomer's machine: the clone's examples/office.toml names the test broker's free port
instead of 1883, which another program may hold here. A command that is not run is listed
in NOT_RUN with the reason; a README command in neither is a failure. The install steps
("Install an office": sudo, /opt/motcua, a real Debian machine) are prose, not shell blocks:
tests/install run `motcua install` into scratch roots instead.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from broker_config.dev import DevBroker
from tests.conftest import ROOT
from tests.demo.test_demo import LOG_LINE
from tests.waiting import wait_until

README = ROOT / "README.md"
DISPATCHER = ".venv/bin/motcua dispatcher --config examples/office.toml"

# The start of each README command that this test does not run, and why.
NOT_RUN = {
    "make demo": "opens windows and runs until Ctrl-C; tests/demo/test_demo.py runs the demo "
                 "under Xvfb, tests/e2e/test_cli.py without a screen",
    "make test": "the whole suite, of which this test is a part",
    ".venv/bin/motcua broker --port 1883": "the test's broker runs instead, on a free port "
                                           "(1883 may be taken on a test machine)",
    DISPATCHER: "started by this test as written, before the other commands",
    ".venv/bin/motcua kiosk ": "a window that runs until it is closed (tests/kiosk open it "
                               "under Xvfb)",
    ".venv/bin/motcua display ": "a window that runs until it is closed (tests/display)",
    ".venv/bin/motcua rating ": "a window that runs until it is closed (tests/rating)",
    ".venv/bin/motcua web ": "a server that runs until it is stopped (tests/web start it and "
                             "drive every page in Chromium)",
    "chromium --kiosk ": "a full-screen browser for a TV (tests/web drive Chromium headless)",
    ".venv/bin/motcua broker setup ": "writes /etc/mosquitto/motcua, a server's install step "
                                      "(tests/security run it into scratch folders)",
    ".venv/bin/motcua broker bridge ": "needs a central broker to bridge to (tests/security)",
    ".venv/bin/motcua restore ": "needs the dispatcher stopped and an older backup "
                                 "(tests/dispatcher/test_backup.py)",
}


def readme_commands(text: str) -> list[str]:
    """The commands of the ```sh blocks, continuation lines joined."""
    commands: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        pending = ""
        for line in block.splitlines():
            pending += line.rstrip()
            if pending.endswith("\\"):
                pending = pending[:-1].rstrip() + " "
                continue
            if pending.strip():
                commands.append(" ".join(pending.split()))
            pending = ""
    return commands


def not_run(command: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if command.startswith(start)), None)


def test_every_readme_command_is_run_or_said_why_not() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 20 and DISPATCHER in commands
    used = {start for start in NOT_RUN for c in commands if c.startswith(start)}
    assert used == set(NOT_RUN), f"NOT_RUN lists commands the README no longer has: " \
                                 f"{set(NOT_RUN) - used}"
    for c in commands:  # written to run: no [optional] parts, no placeholder
        if not_run(c) is None:
            assert not re.search(r"\[--|\bDIR\b|\bFILE\b|<\w+>", c), c


def test_the_example_export_imports_for_years_yet() -> None:
    rows = list(csv.DictReader((ROOT / "examples/portal-export.csv").open(encoding="utf-8")))
    assert rows and all(date.fromisoformat(r["start"][:10]) > date.today() + timedelta(365)
                        for r in rows), "examples/portal-export.csv: move its dates on"


def scratch_clone(folder: Path, broker_url: str) -> Path:
    clone = folder / "motcua"
    shutil.copytree(ROOT / "examples", clone / "examples")
    (clone / ".venv").symlink_to(ROOT / ".venv")
    office = clone / "examples" / "office.toml"
    text = office.read_text(encoding="utf-8")
    assert 'url = "mqtt://127.0.0.1:1883"' in text
    office.write_text(text.replace('url = "mqtt://127.0.0.1:1883"', f'url = "{broker_url}"'),
                      encoding="utf-8")
    return clone


def bash(command: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], cwd=cwd, text=True,
                          capture_output=True, timeout=timeout)


@pytest.mark.mqtt
@pytest.mark.process
def test_the_readme_commands_work_as_written(tmp_path: Path) -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    with DevBroker(tmp_path / "broker") as broker:
        clone = scratch_clone(tmp_path, broker.url)
        log = tmp_path / "dispatcher.log"
        with open(log, "wb") as out:
            dispatcher = subprocess.Popen(["bash", "-c", f"exec {DISPATCHER}"], cwd=clone,
                                          stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: "dispatcher for demo" in log.read_text(errors="replace")
                       or dispatcher.poll() is not None, timeout=60,
                       what="the README's dispatcher started")
            assert dispatcher.poll() is None, log.read_text(errors="replace")
            failed, ran = [], []
            for command in commands:
                if not_run(command) is not None:
                    continue
                done = bash(command, clone)
                ran.append(command)
                if done.returncode != 0:
                    failed.append(f"$ {command}\n(exit {done.returncode})\n{done.stdout[-1500:]}"
                                  f"{done.stderr[-1500:]}")
        finally:
            dispatcher.terminate()
            dispatcher.wait(20)
    assert not failed, "\n\n".join(failed)
    # The dispatcher's log: one format, one line per fact, the demo key's warning too.
    said = log.read_text(encoding="utf-8").splitlines()
    assert said and all(LOG_LINE.match(line) for line in said), said
    assert any(" ERROR dispatcher.run: DEMO KEY: " in line and "forge bookings" in line
               for line in said), said
    assert len(ran) >= 12, ran
    # What they made, where a newcomer looks for it.
    assert (clone / "var/keys/portal-2027.key.pem").exists()
    assert (clone / "var/bookings/BK-README-1.png").exists()
    assert list((clone / "var/reports").glob("*.png"))
    assert list((clone / "var/demo/tickets").glob("*.png"))
    assert list((clone / "var/demo/backups").glob("*.sqlite3"))
