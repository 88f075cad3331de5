"""The one log format of every motcua program (dispatcher, kiosk, board, counter, the CLI's
tools): one line per fact, `time LEVEL logger: message`, to the terminal (the journal of an
installed office) or to a file (`motcua demo`)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_level: int | None = None  # what setup() last chose: a later call never hides more


class Terminal(logging.StreamHandler):  # type: ignore[type-arg]
    """To whatever sys.stderr is when a record comes (a test's capture, a replaced stream),
    never to one that was closed since."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class OneLine(logging.Formatter):
    """A message of several lines (a bilingual MotcuaError: Vietnamese, then English) is put
    on one line, its parts joined by " / ", so that one fact is one line of the journal. A
    traceback still follows on its own lines: it is for whoever debugs, not a fact."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        if "\n" in record.message:
            record.message = " / ".join(
                part.strip() for part in record.message.splitlines() if part.strip())
        return super().formatMessage(record)


def setup(level: int = logging.INFO, file: Path | None = None) -> None:
    """Every program's logging, before anything is logged (and before Kivy is imported).

    Kivy, left to itself, adds its own console handler in its own format beside ours (each
    of its lines twice), turns stderr into log records and keeps a log file of its own under
    ~/.kivy/logs: in Python mode it only hands its records to ours. With `file`, records go
    there and nothing to the terminal."""
    global _level
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # Kivy's start-up banner (versions, GL renderer, providers) is logged as it is imported,
    # from its config's level: only with -v.
    if level <= logging.DEBUG:
        os.environ["KCFG_KIVY_LOG_LEVEL"] = "info"
    else:
        os.environ.setdefault("KCFG_KIVY_LOG_LEVEL", "warning")
    if _level is not None:  # `motcua -v kiosk`: the room's own call keeps DEBUG
        level = min(level, _level)
    _level = level
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(file, encoding="utf-8") if file else Terminal()
    handler.setFormatter(OneLine(FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.captureWarnings(True)  # a library's warning: a record like the others, not a print


def quiet_kivy(verbose: bool = False) -> None:
    """Kivy's own records at INFO only with -v (after the first kivy import, which sets its
    logger's level from its config)."""
    logging.getLogger("kivy").setLevel(logging.INFO if verbose else logging.WARNING)
