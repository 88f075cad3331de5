"""Bad arguments get a clear message in Vietnamese and English, before any window opens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main as motcua
from tests.conftest import ROOT


@pytest.mark.parametrize(("args", "vi", "en"), [
    (["--size", "big"], "kích thước", "WIDTHxHEIGHT"),
    (["--size", "10x10"], "kích thước", "WIDTHxHEIGHT"),
    (["--device", "Board 1"], "chỉ gồm", "only a-z"),
    (["--broker", "http://x"], "không hợp lệ", "mqtt://host:1883"),
    (["--sound", "file"], "cần --audio-out", "needs --audio-out"),
    (["--start-at", "tomorrow"], "không hợp lệ", "not a time"),
])
def test_bad_arguments(office_file: Path, capsys, args: list[str], vi: str, en: str) -> None:  # type: ignore[no-untyped-def]
    assert motcua(["display", "--config", str(office_file), *args]) == 2
    err = capsys.readouterr().err
    assert vi in err and en in err


def test_a_broken_office_file_names_the_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "office.toml"
    bad.write_text('[office]\nid = "Bad Id"\nname = "x"\n', encoding="utf-8")
    assert motcua(["display", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "tệp cấu hình có lỗi" in err and "office file has mistakes" in err
    assert f"{bad}:2" in err


def test_a_missing_office_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert motcua(["display", "--config", str(tmp_path / "nowhere.toml")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


@pytest.mark.process
def test_no_kivy_is_loaded_for_a_bad_argument(office_file: Path) -> None:
    code = ("import sys; from cli.main import main; "
            f"rc = main(['display', '--config', {str(office_file)!r}, '--size', 'x']); "
            "sys.exit(rc if 'kivy' not in sys.modules else 99)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          timeout=60).returncode == 2
