"""`motcua kiosk` and `motcua scan` as commands: mistakes said plainly, and a real kiosk
process that prints a ticket for a QR image dropped into its camera folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main as motcua
from kiosk import scan
from tests.conftest import ROOT, at
from tests.integration.devices import DispatcherProcess, Watcher
from tests.kiosk.frames import qr_frame, save
from tests.kivy_support import kivy_env, xvfb
from tests.waiting import wait_until


@pytest.mark.parametrize("args, says", [
    (["--kiosk", "Kiosk 1"], "--kiosk"),
    (["--kiosk", "k1", "--images", "/nonexistent"], "No image folder"),
    (["--kiosk", "k1", "--size", "big"], "--size must look like 1280x800"),
])
def test_kiosk_start_mistakes(office_file, capsys, args, says) -> None:  # type: ignore[no-untyped-def]
    assert motcua(["kiosk", "--config", str(office_file), *args]) == 2
    err = capsys.readouterr().err
    assert says in err


def test_kiosk_with_a_broken_office_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "office.toml"
    bad.write_text("[office]\nid = 'Bad Id'\n")
    assert motcua(["kiosk", "--config", str(bad), "--kiosk", "k1"]) == 2
    err = capsys.readouterr().err
    assert "tệp cấu hình có lỗi" in err and f"{bad}:2: office.id" in err


def test_scan_tells_what_each_image_holds(tmp_path: Path, office_file, make_token,  # type: ignore[no-untyped-def]
                                          capsys) -> None:
    good = save(qr_frame(make_token("BK-9", at("09:00"))), tmp_path / "good.png")
    other = save(qr_frame("https://example.com/"), tmp_path / "other.png")
    assert scan.main([str(good), str(other), "--config", str(office_file),
                      "--today", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "booking BK-9 · office demo · service A" in out and "valid" in out
    assert "not a motcua booking code" in out
    assert scan.main([str(good), "--config", str(office_file), "--today", "2026-11-24"]) == 0
    assert "dated 2026-11-25, not 2026-11-24: the dispatcher decides" in capsys.readouterr().out
    blurred = save(qr_frame("z" * 300, damaged=True), tmp_path / "bad.png")
    assert scan.main([str(blurred), str(tmp_path / "missing.png")]) == 1
    out = capsys.readouterr().out
    assert "cannot be read" in out and "No image file" in out


@pytest.mark.kivy
@pytest.mark.process
def test_the_kiosk_process_prints_a_ticket_for_a_dropped_qr_image(  # type: ignore[no-untyped-def]
        broker, office_file: Path, make_token, tmp_path: Path) -> None:
    camera = tmp_path / "camera"
    camera.mkdir()
    dispatcher = DispatcherProcess(office_file, broker.url, tmp_path / "dispatcher.log").start()
    watch = Watcher(broker.url, "motcua/demo/presence/kiosk/#")
    try:
        with xvfb(1280, 800) as display:
            env = {**os.environ, **kivy_env(tmp_path / "kivy", display),
                   "PYTHONPATH": str(ROOT)}
            kiosk = subprocess.Popen(
                [sys.executable, "-m", "kiosk", "--config", str(office_file), "--kiosk", "k7",
                 "--broker", broker.url, "--images", str(camera), "--size", "1024x640"],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            try:
                # The kiosk itself says when it can issue tickets (a live dispatcher, the
                # office open): the signal to wait for, on a loaded machine too.
                online = watch.wait_for("/presence/kiosk/k7", lambda m: m["status"] == "online"
                                        and m["detail"]["tickets"] == "ok", timeout=30)
                assert online["detail"]["printer"] == "ok"
                assert online["detail"]["decoder"] == "zxing"
                # Dropped as a copy tool would: written aside, then renamed into the folder.
                draft = save(qr_frame(make_token("BK-2026-000777", at("08:20"))),
                             tmp_path / "qr.png")
                draft.rename(camera / "qr.png")
                ticket = tmp_path / "tickets" / "2026-11-25_H001.bin"

                def printed() -> bool:
                    assert kiosk.poll() is None, kiosk.stdout.read().decode()  # type: ignore[union-attr]
                    return ticket.exists()
                try:
                    wait_until(printed, timeout=20, what=f"the ticket {ticket.name} printed")
                except AssertionError as e:
                    kiosk.kill()
                    raise AssertionError(f"{e}; the kiosk said:\n"
                                         + kiosk.stdout.read().decode()[-3000:]) from None  # type: ignore[union-attr]
                kiosk.send_signal(signal.SIGTERM)
                assert kiosk.wait(15) == 0
            finally:
                if kiosk.poll() is None:
                    kiosk.kill()
        watch.wait_for("/presence/kiosk/k7", lambda m: m["status"] == "offline", timeout=10)
    finally:
        watch.close()
        dispatcher.stop()
