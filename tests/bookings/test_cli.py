"""`motcua booking` against a real Mosquitto and dispatcher process."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import zxingcpp
from PIL import Image

from tests.conftest import ROOT, motcua_command, needs
from tests.integration.devices import DispatcherProcess, Watcher


@pytest.fixture
@needs("process")  # the dispatcher; the CLI runs as a process too
def office_up(broker, office_file: Path, tmp_path: Path) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    proc = DispatcherProcess(office_file, broker.url, tmp_path / "d.log").start()
    w = Watcher(broker.url)
    w.wait_for("/state/config", timeout=20)
    w.close()
    yield office_file
    proc.stop()


def booking(broker, office_file: Path, *args: str) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run([*motcua_command(), "booking", *args, "--config", str(office_file),
                           "--broker", broker.url], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_issue_writes_a_qr_that_any_jwt_library_reads(broker, office_up: Path,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path, portal_key) -> None:
    run = booking(broker, office_up, "issue", "--service", "A", "--start", "2026-11-27 08:00",
                  "--name", "Lê T. C", "--key", str(ROOT / "examples/keys/demo-portal.key.pem"),
                  "--kid", "demo-portal", "--out", str(tmp_path / "qr"))
    assert run.returncode == 0, run.stderr
    png = tmp_path / "qr" / "BK-2026-000001.png"
    token = zxingcpp.read_barcodes(Image.open(png))[0].text
    assert token in run.stdout
    claims = jwt.decode(token, portal_key.public_key(), algorithms=["EdDSA"], audience="demo")
    assert claims["start"] == "2026-11-27T08:00:00+07:00" and claims["svc"] == "A"

    # A key the office does not list: refused before anything is booked (issue 14: the
    # kiosk then told the citizen their code was "wrong or altered").
    stranger = tmp_path / "stranger"
    made = subprocess.run([*motcua_command(), "booking", "keygen", "--out", str(stranger),
                           "--kid", "portal-x"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert made.returncode == 0 and f'portal-x = "{stranger.resolve()}/portal-x.pub.pem"' \
        in made.stdout  # a full path: right wherever the office file is
    untrusted = booking(broker, office_up, "issue", "--service", "A", "--start",
                        "2026-11-27 09:00", "--key", str(stranger / "portal-x.key.pem"),
                        "--kid", "portal-x", "--out", str(tmp_path / "qr"))
    assert untrusted.returncode == 1 and "kiosks would refuse its QR codes" in untrusted.stderr
    assert "ki-ốt sẽ từ chối" in untrusted.stderr
    assert not (tmp_path / "qr" / "BK-2026-000002.png").exists()

    too_soon = booking(broker, office_up, "issue", "--service", "A", "--start",
                       "2026-11-26 08:00")
    assert too_soon.returncode == 1
    assert "sớm nhất 2026-11-27" in too_soon.stderr and "earliest 2026-11-27" in too_soon.stderr

    assert booking(broker, office_up, "cancel", "--id", "BK-2026-000001").returncode == 0
    again = booking(broker, office_up, "cancel", "--id", "BK-2026-000001")
    assert again.returncode == 1 and "No such booking" in again.stderr


def test_import_keeps_good_rows_and_names_bad_ones(broker, office_up: Path,  # type: ignore[no-untyped-def]
                                                   tmp_path: Path) -> None:
    export = tmp_path / "portal.csv"
    export.write_text(
        "id,service,start,name,made_on\n"
        "P-1,A,2026-11-27 08:00,Nguyễn V. A,2026-11-20\n"          # 2: good
        "P-2,Z,2026-11-27 08:00,,2026-11-20\n"                     # 3: unknown service
        "P-3,A,not a time,,2026-11-20\n"                           # 4: bad time
        "P-4,A,2026-11-27 08:00,,\n"                               # 5: no made_on
        "P-5,Phản ánh, kiến nghị hoặc khác,2026-11-27 09:00,,2026-11-20\n"  # 6: bad CSV quoting
        'P-6,"Phản ánh, kiến nghị hoặc khác",2026-11-27 09:00,,2026-11-20\n'  # 7: good, to C
        "P-7,B,2026-11-28 08:00,,2026-11-20\n"                     # 8: Saturday
        "P-8,B,2026-11-27 08:00,,2026-11-26\n",                    # 9: too soon
        encoding="utf-8")
    run = booking(broker, office_up, "import", str(export))
    assert run.returncode == 1
    assert "2 lịch hẹn đã nhập / bookings imported, 6 bị từ chối" in run.stdout
    lines = run.stderr.strip().splitlines()
    assert [line.split(":")[1] for line in lines] == ["3", "4", "5", "6", "8", "9"]
    assert "unknown service 'Z'" in lines[0] and "missing: made_on" in lines[2]
    assert "not a working day" in lines[4] and "earliest" in lines[5]
    # Importing the same file again adds nothing and refuses the same rows.
    rerun = booking(broker, office_up, "import", str(export))
    assert "2 lịch hẹn đã nhập" in rerun.stdout
    json_export = tmp_path / "portal.json"
    json_export.write_text('{"bookings": [{"id": "J-1", "service": "B", '
                           '"start": "2026-11-30T07:30:00+07:00", "made_on": "2026-11-24"}, '
                           '"oops"]}', encoding="utf-8")
    run = booking(broker, office_up, "import", str(json_export))
    assert "1 lịch hẹn đã nhập" in run.stdout and ":2: không phải một bản ghi" in run.stderr
