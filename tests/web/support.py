"""A live office for the web tests: real Mosquitto, the dispatcher and `motcua web` as
processes, a kiosk and counters on MQTT, and real Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from broker_config.dev import DevBroker, free_port
from motcua.config import load
from motcua.ticket_links import ticket_key
from tests.conftest import ROOT, motcua_command
from tests.integration.devices import Device, DispatcherProcess, Watcher
from tests.waiting import wait_until

SECRET = "test-secret-of-the-office-0123456789"
DAY = "2026-11-25"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required"]
SIZES = {"1920x1080": (1920, 1080), "1366x768": (1366, 768), "phone": (390, 844)}
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"


def with_web(office_file: Path, port: int, extra: str = "") -> Path:
    (office_file.parent / "web.secret").write_text(SECRET + "\n", encoding="utf-8")
    office_file.write_text(office_file.read_text(encoding="utf-8") + (
        f'\n[web]\nlisten = "127.0.0.1:{port}"\npublic_url = "http://127.0.0.1:{port}"\n'
        f'secret_file = "web.secret"\n{extra}'), encoding="utf-8")
    return office_file


class WebProcess:
    def __init__(self, office_file: Path, broker_url: str, log: Path, port: int):
        self.args = [*motcua_command(), "web", "--config", str(office_file), "--broker",
                     broker_url, "--cache", str(log.parent / "voice-cache")]
        self.log, self.port = log, port
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WebProcess:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=log, stderr=log,
                                         env={**os.environ, "PYTHONPATH": str(ROOT)})
        wait_until(self.up, timeout=30, what="motcua web answering /health")
        return self

    def up(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"motcua web ended: {self.log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), \
                urllib.request.urlopen(self.base + "/health", timeout=2) as r:
            return r.status == 200
        return False

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


# Officers of the staff tests: code -> (name, PIN, roles). Few PBKDF2 rounds: a test office.
OFFICERS = {"cb01": ("Nguyễn Thị Lan", "1234", ["counter"]),
            "cb02": ("Trần Văn Minh", "5678", ["counter"]),
            "ld01": ("Lê Thu Hà", "2468", ["head", "counter"])}


def with_officers(office_file: Path) -> None:
    from motcua.officers import hash_pin

    rows = "".join(f'\n[[officers]]\ncode = "{code}"\nname = "{name}"\n'
                   f'pin = "{hash_pin(pin, iterations=2000)}"\nroles = {roles!r}\n'
                   for code, (name, pin, roles) in OFFICERS.items())
    office_file.write_text(office_file.read_text(encoding="utf-8") + rows.replace("'", '"'),
                           encoding="utf-8")


class WebOffice:
    def __init__(self, broker: DevBroker, office_file: Path, workdir: Path,
                 officers: bool = False, web: str = ""):
        self.broker, self.workdir = broker, workdir
        self.port = free_port()
        self.office_file = with_web(office_file, self.port, web)
        if officers:
            with_officers(self.office_file)
        self.office = load(self.office_file)
        self.dispatcher = DispatcherProcess(self.office_file, broker.url,
                                            workdir / "dispatcher.log").start()
        self.watch = Watcher(broker.url)
        self.watch.wait_for("/state/config", timeout=30)
        self.web = WebProcess(self.office_file, broker.url, workdir / "web.log",
                              self.port).start()
        self.kiosk = Device(broker.url, "kiosk", "k1")
        self.counters: dict[str, Device] = {}

    @property
    def base(self) -> str:
        return self.web.base

    def walk_in(self, service: str = "A") -> str:
        reply = self.kiosk.send("walk_in", service=service)
        assert reply["ok"], reply
        return str(reply["ticket"]["number"])

    def counter(self, counter: str, ctype: str, **fields: Any) -> dict[str, Any]:
        if counter not in self.counters:
            self.counters[counter] = Device(self.broker.url, "counter", counter)
        return self.counters[counter].send(ctype, **fields)

    def ticket_path(self, number: str, day: str = DAY, key: str | None = None) -> str:
        k = ticket_key(SECRET, self.office.id, day, number) if key is None else key
        return f"/t/{day}/{number}?k={k}"

    def close(self) -> None:
        for d in [self.kiosk, *self.counters.values()]:
            d.close()
        self.watch.close()
        self.web.stop()
        self.dispatcher.stop()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
