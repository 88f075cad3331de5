"""The units `motcua install` writes, checked by `systemd-analyze verify` (systemd 252).

How: verify runs with `--root V`, a copy of the scratch root's /etc/systemd with
V/usr/lib/systemd/system a symlink to this machine's units. With --root, verify looks
for each ExecStart binary inside V (it refuses a unit whose binary is missing), so V gets
an executable stub at every ExecStart path (the venv's motcua, /usr/bin/cage,
/usr/sbin/mosquitto); and it needs the targets and units ours name (sysinit.target,
getty@.service, Debian's mosquitto.service for the drop-in), which the symlink gives.
No real systemd runs, nothing is enabled."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.install.support import broker_folder, bundle_for, office_file, run, scratch_root

ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
HOST_UNITS = Path("/usr/lib/systemd/system")
pytestmark = [pytest.mark.process,
              pytest.mark.skipif(not Path(ANALYZE).exists() or not HOST_UNITS.is_dir(),
                                 reason="systemd-analyze and systemd's units are needed")]


def verify_root(root: Path, folder: Path) -> tuple[Path, list[str]]:
    shutil.copytree(root / "etc/systemd", folder / "etc/systemd")
    (folder / "usr/lib/systemd").mkdir(parents=True)
    (folder / "usr/lib/systemd/system").symlink_to(HOST_UNITS)
    ours = sorted(str(p.relative_to(folder)) for p in (folder / "etc/systemd/system").glob(
        "motcua-*"))
    # Debian's mosquitto.service runs these too (ExecStartPre, ExecReload).
    execs = {"/usr/sbin/mosquitto", "/bin/mkdir", "/bin/chown", "/bin/kill"}
    for unit in ours:
        for line in (folder / unit).read_text().splitlines():
            if line.startswith("ExecStart="):
                execs |= {w for w in line.split("=", 1)[1].split() if w.startswith("/")}
    for path in execs:
        stub = folder / path.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\n")
        os.chmod(stub, 0o755)
    return folder, [f"/{u}" for u in ours]


def analyze(folder: Path, unit_paths: list[str]) -> tuple[int, str]:
    """Its exit code and what it said, less one known complaint: the host's alias symlinks
    (kmod.service -> systemd-modules-load.service...) do not resolve through the symlinked
    folder under --root ("Too many levels of symbolic links"); none of them is ours."""
    done = subprocess.run([ANALYZE, "verify", f"--root={folder}", "--man=no", *unit_paths],
                          capture_output=True, text=True, timeout=60, cwd=folder)
    said = [line for line in (done.stdout + done.stderr).splitlines()
            if not (line.startswith("Failed to resolve symlink ")
                    and line.endswith("Too many levels of symbolic links"))]
    return done.returncode, "\n".join(said).strip()


@pytest.mark.parametrize("role", ["server", "kiosk", "display", "counter"])
def test_units_verify_clean(role: str, tmp_path: Path) -> None:
    root = scratch_root(tmp_path / "root")
    broker = broker_folder(tmp_path / "broker")
    assert run(role, root, "--office", str(office_file(tmp_path / "src")),
               "--bundle", str(bundle_for(role, broker))) == 0
    folder, units = verify_root(root, tmp_path / "verify")
    if role == "server":  # Debian's unit with our drop-in
        units.append("/usr/lib/systemd/system/mosquitto.service")
        assert (folder / "etc/systemd/system/mosquitto.service.d/motcua.conf").exists()
    code, said = analyze(folder, units)
    assert code == 0 and not said, said


def test_verify_would_catch_a_bad_unit(tmp_path: Path) -> None:
    """The method finds mistakes: an unknown value and a missing binary."""
    root = scratch_root(tmp_path / "root")
    broker = broker_folder(tmp_path / "broker")
    run("kiosk", root, "--office", str(office_file(tmp_path / "src")),
        "--bundle", str(bundle_for("kiosk", broker)))
    folder, units = verify_root(root, tmp_path / "verify")
    unit = folder / units[0].lstrip("/")
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    (folder / "usr/bin/cage").unlink()
    code, said = analyze(folder, units)
    assert "sometimes" in said and "cage" in said and code != 0, said
