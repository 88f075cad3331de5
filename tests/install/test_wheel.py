"""motcua as a wheel: it holds every module and data file the rooms open at run time, and
installed (not editable) into a fresh venv it runs from outside the checkout: --help, a
test ticket on the file printer, a simulated day, and `motcua install` into a scratch root.
One test (building and installing take ~40 s): the wheel is built once."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_office
from tests.install.support import broker_folder, bundle_for, office_file, scratch_root

ROOMS = ("motcua", "dispatcher", "broker_config", "printer", "kiosk", "display", "counter",
         "cli", "reports", "simulate", "rating")
# Read at run time through Path(__file__): fonts, .kv files, the chime, broker templates.
DATA = (".kv", ".ttf", ".wav", ".conf")
NOT_RUNTIME = {"broker_config/README.md"}  # documentation, in the repository only


def needed() -> set[str]:
    return {p.relative_to(ROOT).as_posix() for room in ROOMS for p in (ROOT / room).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
            and p.relative_to(ROOT).as_posix() not in NOT_RUNTIME
            and (p.suffix in (".py", *DATA) or p.name == "LICENSE")}


def sh(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None,
       timeout: float = 300) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.process
@pytest.mark.timeout(900)
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("motcua-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not needed() - names, sorted(needed() - names)
    assert not {n for n in names if n.startswith(("tests/", "bench/", "examples/"))}

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_ = env_dir / "bin"
    sh(bin_ / "pip", "install", "-q", "-c", ROOT / "requirements.lock", wheel, cwd=tmp_path)
    work = tmp_path / "office"
    work.mkdir()
    # Nothing of the checkout: no PYTHONPATH, the venv's own motcua, run from elsewhere.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_}{os.pathsep}{env.get('PATH', '')}"
    where = sh(bin_ / "python", "-c", "import cli, printer.layout as l, kiosk.ui as k; "
               "print(cli.__file__, l.FONT_DIR, k.KV)", cwd=work, env=env)
    assert str(ROOT) not in where and str(env_dir) in where, where

    assert "install" in sh(bin_ / "motcua", "--help", cwd=work, env=env)
    office = write_office(work)
    printed = sh(bin_ / "motcua", "ticket", "--config", office, "--service", "A", cwd=work,
                 env=env)
    assert list((work / "tickets").glob("*.png")), printed
    sh(bin_ / "motcua", "simulate", "--config", office, "--days", "1", "--seed", "1",
       cwd=work, env=env)

    root = scratch_root(tmp_path / "root")
    broker = broker_folder(tmp_path / "broker")
    sh(bin_ / "motcua", "install", "kiosk", "--root", root, "--office",
       office_file(tmp_path / "src"), "--bundle", bundle_for("kiosk", broker), cwd=work,
       env=env)
    unit = (root / "etc/systemd/system/motcua-kiosk.service").read_text()
    assert f"-- {bin_}/motcua kiosk --config /etc/motcua/office.toml --kiosk k1" in unit
