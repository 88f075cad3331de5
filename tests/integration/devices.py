"""Real processes for integration tests: a dispatcher child process and devices on MQTT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from motcua.mqtt import Link, Requester
from tests.conftest import ROOT, motcua_command
from tests.waiting import wait_until

START = "2026-11-25T08:00:00+07:00"


class DispatcherProcess:
    def __init__(self, office_file: Path, broker_url: str, log: Path, start_at: str = START):
        self.args = [*motcua_command(), "dispatcher", "--config", str(office_file),
                     "--broker", broker_url, "--start-at", start_at]
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DispatcherProcess:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=log, stderr=log,
                                         env={**os.environ, "PYTHONPATH": str(ROOT)})
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else None


class Device:
    """A kiosk, counter or admin tool: a Link plus a Requester."""

    def __init__(self, url: str, role: str, device: str, retry_every: float = 0.5):
        self.link = Link(url, "demo", role, device, persistent=True).start()
        self.req = Requester(self.link, retry_every=retry_every)

    def send(self, ctype: str, timeout: float = 10.0, cmd_id: str | None = None,
             **fields: Any) -> dict[str, Any]:
        # The reply as every client reads it (motcua.protocol.Reply), in its JSON form.
        reply = self.req.request(ctype, timeout=timeout, cmd_id=cmd_id, **fields)
        return reply.model_dump(mode="json")

    def close(self) -> None:
        self.link.stop()


class Watcher:
    """Subscribes like a display board and keeps every message it sees."""

    def __init__(self, url: str, topic_filter: str = "motcua/demo/#"):
        self.messages: list[tuple[str, dict, float]] = []
        self.lock = threading.Lock()
        self.link = Link(url, "demo", "display", f"watch-{os.getpid()}-{id(self) % 9999}",
                         persistent=False)
        self.link.subscribe(topic_filter, self._on)
        self.link.start()

    def _on(self, topic: str, payload: bytes) -> None:
        if not payload:
            return
        with self.lock:
            self.messages.append((topic, json.loads(payload), time.monotonic()))

    def last(self, suffix: str) -> dict | None:
        with self.lock:
            found = [m for t, m, _ in self.messages if t.endswith(suffix)]
        return found[-1] if found else None

    def wait_for(self, suffix: str, pred=lambda m: True, timeout: float = 10.0) -> dict:  # type: ignore[no-untyped-def]
        def found() -> list[dict] | None:  # in a list: an empty message {} counts too
            with self.lock:
                return next(([m] for t, m, _ in self.messages if t.endswith(suffix) and pred(m)),
                            None)
        return wait_until(found, timeout=timeout, what=f"a {suffix} message matching")[0]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def close(self) -> None:
        self.link.stop()
