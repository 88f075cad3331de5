"""`motcua counter` arguments: every mistake gets a clear message in Vietnamese and English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main as motcua
from tests.conftest import ROOT


@pytest.mark.parametrize("args, vi, en", [
    (["--counter", "9"], "không có quầy '9'", "known: 1, 2, 3"),
    (["--counter", "1", "--broker", "http://x"], "địa chỉ máy chủ MQTT", "invalid broker URL"),
    (["--counter", "1", "--geometry", "big"], "cần dạng 1100x720", "expected 1100x720"),
    (["--counter", "1", "--geometry", "800x600"], "cửa sổ nhỏ nhất", "smallest window"),
])
def test_mistakes_in_arguments(office_file: Path, capsys, args, vi, en) -> None:  # type: ignore[no-untyped-def]
    assert motcua(["counter", "--config", str(office_file), *args]) == 2
    err = capsys.readouterr().err
    assert vi in err and en in err


def test_mistakes_in_the_office_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert motcua(["counter", "--config", str(tmp_path / "missing.toml"), "--counter", "1"]) == 2
    err = capsys.readouterr().err
    assert "missing.toml" in err and "the office file has mistakes" in err
    broken = tmp_path / "office.toml"
    broken.write_text("[office]\nid = 'Bad Id'\n", encoding="utf-8")
    assert motcua(["counter", "--config", str(broken), "--counter", "1"]) == 2
    assert "tệp cấu hình có lỗi" in capsys.readouterr().err


@pytest.mark.process
def test_runs_as_a_module() -> None:
    out = subprocess.run([sys.executable, "-m", "counter", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--counter" in out.stdout


@pytest.mark.kivy
def test_open_windows_for_the_demo(hall, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The real entry point, as `motcua demo` would start it: two windows come online."""
    from counter.app import open_windows
    from tests.kivy_support import kivy_env, xvfb

    with xvfb(2048, 800) as display:
        for key, value in kivy_env(tmp_path / "kivy", display).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("PYTHONPATH", str(ROOT))
        procs = open_windows(hall.office_file, hall.broker.url)
        try:
            for cid in ("1", "3"):
                hall.watch.wait_for(f"/presence/counter/{cid}",
                                    lambda m: m["status"] == "online", timeout=40)
            assert all(p.poll() is None for p in procs)
        finally:
            for p in procs:
                p.terminate()
                p.wait(10)
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert open_windows(hall.office_file, hall.broker.url) == []
