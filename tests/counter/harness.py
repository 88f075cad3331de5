"""Counter terminals under test: each in its own process and its own Xvfb screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

from counter.keymap import DOUBLE_PRESS_S
from tests.conftest import ROOT
from tests.kivy_support import kivy_env, xvfb
from tests.waiting import wait_until

PREFIX = "@@ "
ARTIFACTS = ROOT / "tests" / "artifacts" / "counter"


class DriverError(AssertionError):
    pass


# X keysym -> the counter's key name (counter/keymap.py KEY_NAMES), where they differ.
_KEY_ALIASES = {"return": "enter", "add": "+", "plus": "+", "subtract": "-", "minus": "-",
                "multiply": "*", "asterisk": "*", "divide": "/", "slash": "/", "decimal": ".",
                "period": ".", "delete": ".", "escape": "esc"}


def key_name(keysym: str) -> str:
    """The name the counter gives the key an X keysym presses ("KP_Enter", "Return": enter)."""
    name = keysym.removeprefix("KP_").lower()
    return _KEY_ALIASES.get(name, name)


class Terminal:
    """One `counter` window: keys through X, taps on widgets, its view, screenshots."""

    def __init__(self, office_file: Path, counter: str, broker_url: str, workdir: Path,
                 geometry: str = "1100x720+0+0"):
        self.counter = counter
        self._stack = ExitStack()
        display = self._stack.enter_context(xvfb(1280, 800))
        home = workdir / f"kivy-{counter}"
        self.log = workdir / f"counter-{counter}.log"
        env = {**os.environ, **kivy_env(home, display), "PYTHONPATH": str(ROOT)}
        env.pop("KIVY_NO_CONSOLELOG")  # the window's log, tracebacks included, goes to self.log
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.counter.driver", "--config", str(office_file),
                 "--counter", counter, "--broker", broker_url, "--geometry", geometry],
                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                text=True, encoding="utf-8")
        self._next_id = 0
        self._read(timeout=60)  # "ready" once the window is up

    def _read(self, timeout: float) -> Any:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise DriverError(f"counter {self.counter} window exited; see {self.log}:\n"
                                  + self.log.read_text(errors="replace")[-3000:])
            if line.startswith(PREFIX):
                msg = json.loads(line[len(PREFIX):])
                if not msg["ok"]:
                    raise DriverError(msg["result"])
                return msg["result"]
        raise DriverError(f"no answer from counter {self.counter} in {timeout} s")

    def op(self, op: str, timeout: float = 20, **fields: Any) -> Any:
        assert self.proc.stdin is not None
        self._next_id += 1
        self.proc.stdin.write(json.dumps({"op": op, "id": self._next_id, **fields}) + "\n")
        self.proc.stdin.flush()
        return self._read(timeout)

    def ui(self) -> dict[str, Any]:
        return self.op("ui")

    def wait(self, pred: Callable[[dict[str, Any]], bool], what: str,
             timeout: float = 15) -> dict[str, Any]:
        last: list[dict[str, Any]] = []

        def matching() -> dict[str, Any] | None:
            last[:] = [self.ui()]
            return last[0] if pred(last[0]) else None
        try:
            return wait_until(matching, timeout=timeout, what=f"counter {self.counter}: {what}",
                              interval=0.05)
        except AssertionError as e:
            raise AssertionError(f"{e}; last view:\n"
                                 + json.dumps(last[0], ensure_ascii=False, indent=1)) from None

    def idle(self) -> dict[str, Any]:
        """Wait until no command is in flight and the state is in."""
        return self.wait(lambda v: not v["busy"] and not v["banner"], "idle")

    def key(self, *keysyms: str) -> None:
        # A person does not press the same key twice within the double-press window; on
        # an idle machine the test would, and the second press would rightly be a bounce.
        # Only the same key again is a bounce (counter/ui.py _bounced: "no other key
        # between"), so another key goes at once.
        last = getattr(self, "_last_key_at", 0.0)
        same = key_name(keysyms[0]) == getattr(self, "_last_key_name", None)
        if same and (wait := DOUBLE_PRESS_S - (time.monotonic() - last)) > 0:
            time.sleep(wait)
        self.op("key", keys=list(keysyms))
        self._last_key_at = time.monotonic()
        self._last_key_name = key_name(keysyms[-1])

    @staticmethod
    def settle() -> None:
        """Let the double-press window pass, as a person reading the screen would."""
        time.sleep(DOUBLE_PRESS_S)

    def tap(self, target: str) -> str:
        return self.op("tap", target=target)

    def text(self, field: str, text: str) -> None:
        self.op("text", field=field, text=text)

    def force(self, action: str, **fields: Any) -> None:
        self.op("force", action=action, fields=fields)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return Path(self.op("shot", path=str(ARTIFACTS / f"{name}.png")))

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                with suppress(DriverError, OSError, ValueError):
                    self.op("quit", timeout=5)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            self._stack.close()
