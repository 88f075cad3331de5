"""motcua.logs: the one log format, one line per fact, to the terminal or a file."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from motcua import logs
from motcua.errors import MotcuaError


@pytest.fixture
def restore_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level, chosen = root.handlers[:], root.level, logs._level
    env = {k: os.environ.get(k) for k in ("KIVY_LOG_MODE", "KIVY_NO_FILELOG",
                                          "KCFG_KIVY_LOG_LEVEL")}
    yield
    logging.captureWarnings(False)
    for h in root.handlers:
        if h not in handlers:
            h.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    logs._level = chosen
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_a_bilingual_error_is_one_line_in_a_file(tmp_path: Path, restore_logging) -> None:  # type: ignore[no-untyped-def]
    logs._level = None
    os.environ.pop("KCFG_KIVY_LOG_LEVEL", None)  # an earlier -v test's
    file = tmp_path / "logs" / "app.log"
    logs.setup(logging.INFO, file)
    log = logging.getLogger("dispatcher.run")
    log.error("%s", MotcuaError("không đọc được tệp", "cannot read the file"))
    log.debug("not at INFO")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")  # whatever filters pytest runs under
        logging.captureWarnings(False)  # whatever an earlier test left installed
        logging.captureWarnings(True)
        warnings.warn("an old way", DeprecationWarning, stacklevel=1)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed\nsecond part")
    for h in logging.getLogger().handlers:
        h.flush()
    lines = file.read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith(" ERROR dispatcher.run: không đọc được tệp / cannot read the file")
    assert " WARNING py.warnings: " in lines[1] and "DeprecationWarning: an old way" in lines[1]
    lines = lines[:1] + lines[2:]
    assert lines[1].endswith(" ERROR dispatcher.run: failed / second part")
    assert lines[2] == "Traceback (most recent call last):"  # the traceback follows it
    assert not any("not at INFO" in line for line in lines)
    # Kivy, imported later, hands its records to this handler instead of adding its own.
    assert os.environ["KIVY_LOG_MODE"] == "PYTHON" and os.environ["KIVY_NO_FILELOG"] == "1"
    assert os.environ["KCFG_KIVY_LOG_LEVEL"] == "warning"


def test_a_room_keeps_debug_that_the_command_line_asked_for(restore_logging) -> None:  # type: ignore[no-untyped-def]
    logs._level = None
    logs.setup(logging.DEBUG)  # motcua -v ...
    assert os.environ["KCFG_KIVY_LOG_LEVEL"] == "info"
    logs.setup(logging.INFO)  # ... then the room's own setup
    assert logging.getLogger().level == logging.DEBUG


def test_the_terminal_handler_writes_to_the_stderr_of_the_moment(restore_logging,  # type: ignore[no-untyped-def]
                                                                 monkeypatch) -> None:
    import io
    import sys

    logs._level = None
    logs.setup(logging.INFO)
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logging.getLogger("kiosk.app").info("one")
    first.close()  # a test's capture, closed once that test is over
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("kiosk.app").info("two")
    assert second.getvalue().endswith(" INFO kiosk.app: two\n")
