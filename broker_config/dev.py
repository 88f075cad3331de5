"""Run Mosquitto with the project's development config on a loopback port (demo and tests)."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from motcua.errors import MotcuaError

TEMPLATE = Path(__file__).with_name("mosquitto.dev.conf")
MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")


class BrokerError(MotcuaError):
    """The development broker cannot start."""


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or next(
        (p for p in MOSQUITTO_PATHS if os.access(p, os.X_OK)), None)
    if not found:
        raise BrokerError("chưa cài mosquitto: sudo apt-get install -y mosquitto "
                          "(hoặc chạy `make demo`, lệnh này cài nó)",
                          "mosquitto is not installed: sudo apt-get install -y mosquitto "
                          "(or run `make demo`, which installs it)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def render(port: int, data_dir: Path) -> str:
    return TEMPLATE.read_text().format(port=port, data_dir=data_dir.resolve(),
                                       user=getpass.getuser())


class DevBroker:
    """A Mosquitto child process; `restart()` keeps its port and its persistence file."""

    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> DevBroker:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "mosquitto.conf"
        conf.write_text(render(self.port, self.data_dir))
        log = open(self.data_dir / "mosquitto.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen([mosquitto_binary(), "-c", str(conf)], stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log_file = self.data_dir / "mosquitto.log"
                raise BrokerError(f"mosquitto đã dừng với mã {self.proc.returncode}; xem "
                                  f"{log_file}", f"mosquitto exited with "
                                  f"{self.proc.returncode}; see {log_file}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise BrokerError(f"mosquitto không mở cổng {self.port} sau {timeout} giây",
                          f"mosquitto did not listen on port {self.port} in {timeout} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def restart(self) -> DevBroker:
        self.stop()
        return self.start()

    def __enter__(self) -> DevBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
