"""The one error type a person reads: what went wrong and what to do, in Vietnamese and in
English. Every room raises it (or a subclass naming its kind); the command line prints it
the same way everywhere and exits, never with a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable


class MotcuaError(Exception):
    """A problem someone can act on. `message` is Vietnamese, `message_en` English (the
    same two words as an error reply of the contract); `detail` is for the log only."""

    exit_code = 1

    def __init__(self, message: str, message_en: str, *, detail: str = ""):
        super().__init__(message if message == message_en else f"{message}\n{message_en}")
        self.message, self.message_en, self.detail = message, message_en, detail

    def show(self, prog: str = "motcua") -> str:
        """The text for a terminal: both languages, then the detail when there is one."""
        lines = [f"{prog}: {self.message}"]
        if self.message_en != self.message:
            lines.append(f"{prog}: {self.message_en}")
        if self.detail:
            lines.append(f"  ({self.detail})")
        return "\n".join(lines)


class UsageError(MotcuaError):
    """A command line that cannot be run as given (a wrong option value, a missing file)."""

    exit_code = 2


def fail(exc: MotcuaError, prog: str = "motcua") -> int:
    """Print `exc` for the person at the terminal; the exit code to return."""
    print(exc.show(prog), file=sys.stderr)
    return exc.exit_code


def run_main(main: Callable[[list[str] | None], int | None], prog: str,
             argv: list[str] | None = None) -> int:
    """Run a room's `main(argv)` as a program (`python -m kiosk`): a MotcuaError is printed
    the one way, with its exit code, never as a traceback."""
    try:
        return int(main(argv) or 0)
    except MotcuaError as exc:
        return fail(exc, prog)
