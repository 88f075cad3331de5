"""A board process under test: start it, ask it what it shows, take screenshots, stop it."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.display.driver import REPLY
from tests.kivy_support import kivy_env


class BoardProcess:
    def __init__(self, office_file: Path, url: str, work: Path, display: str,
                 size: str = "1920x1080", extra: list[str] | None = None):
        self.work = work
        self.audio = work / "audio"
        self.args = [sys.executable, "-m", "tests.display.driver", "--config", str(office_file),
                     "--broker", url, "--size", size, "--device", "board-test",
                     "--start-at", "2026-11-25T08:00:00+07:00", "--cache", str(work / "cache"),
                     *(extra or ["--audio-out", str(self.audio), "--audio-pace", "0.25"])]
        self.env = {**os.environ, **kivy_env(work / "kivy", display), "PYTHONPATH": str(ROOT)}
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self.log = work / "board.log"
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 40) -> BoardProcess:
        self.work.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log)
        threading.Thread(target=self._read, daemon=True).start()
        self._next(timeout)  # the driver says when the board is up
        return self

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            if line.startswith(REPLY):
                self.replies.put(json.loads(line[len(REPLY):]))
        self.replies.put({"ok": False, "error": "the board process ended"})

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            answer = self.replies.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the board did not answer; log:\n{self.tail()}") from None
        if not answer.get("ok"):
            raise AssertionError(f"{answer.get('error')}\nstate: {answer.get('state')}\n"
                                 f"log:\n{self.tail()}")
        return answer

    def ask(self, op: str, timeout: float = 30, **fields: Any) -> dict[str, Any]:
        assert self.proc and self.proc.stdin
        self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.proc.stdin.flush()
        return self._next(timeout)

    def wait(self, timeout: float = 15, **until: Any) -> dict[str, Any]:
        return self.ask("wait", timeout=timeout + 10, until=until, wait_s=timeout)["state"]

    def shot(self, path: Path, size: tuple[int, int] | None = None) -> dict[str, Any]:
        return self.ask("shot", path=str(path), size=list(size) if size else None)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def plays(self) -> list[dict[str, Any]]:
        path = self.audio / "plays.jsonl"
        if not path.exists():
            return []
        return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(AssertionError):  # it may be dying already
                self.ask("quit", timeout=10)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def sox_stats(path: Path) -> dict[str, float]:
    """`sox FILE -n stat` as numbers: 'Length (seconds)', 'RMS amplitude', ..."""
    done = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True,
                          check=True)
    stats = {}
    for line in done.stderr.splitlines():
        key, _, value = line.partition(":")
        with contextlib.suppress(ValueError):
            stats[" ".join(key.split())] = float(value.strip())
    return stats


class Cable:
    """A TCP relay between one client and the broker that a test can pull out and plug
    back in: `cut()` closes the live connections and refuses new ones (the client sees its
    socket closed and then its reconnects fail, as with a pulled cable), `mend()` lets it
    connect again. Only the client behind it is cut off; the broker and everyone else run on."""

    def __init__(self, broker_port: int):
        self.broker_port = broker_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.open = True
        self.refused = 0
        self._live: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            if not self.open:
                self.refused += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.broker_port), 5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._live += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        with self._lock:
            live, self._live = self._live, []
        for s in live:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def mend(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.server.close()
