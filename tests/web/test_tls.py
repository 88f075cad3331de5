"""HTTPS with the office's own CA (broker_config/pki.py): the pages, the ticket link and
the sockets over TLS; a certificate that does not load is refused before the server
starts, in both languages."""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from broker_config.dev import DevBroker, free_port
from broker_config.pki import Authority
from motcua.ticket_links import ticket_key
from tests.conftest import ROOT, motcua_command
from tests.integration.devices import Device, DispatcherProcess
from tests.waiting import wait_until
from tests.web.support import CHROMIUM, DAY, SECRET, with_web


def _pki(folder: Path) -> Authority:
    ca = Authority(folder / "ca")
    ca.folder.mkdir(parents=True)
    ca.create("demo", "BHXH demo")
    ca.issue(folder / "web.crt", folder / "web.key", "web", server=True,
             hosts=["localhost", "127.0.0.1"])
    return ca


@pytest.mark.process
@pytest.mark.mqtt
def test_https_with_the_office_ca(broker: DevBroker, office_file: Path, tmp_path: Path,
                                  browser: Any) -> None:
    ca = _pki(tmp_path)
    port = free_port()
    with_web(office_file, port, f'cert_file = "{tmp_path}/web.crt"\n'
                                f'key_file = "{tmp_path}/web.key"\n')
    dispatcher = DispatcherProcess(office_file, broker.url, tmp_path / "d.log").start()
    log = open(tmp_path / "web.log", "ab")  # noqa: SIM115 (closed below)
    web = subprocess.Popen([*motcua_command(), "web", "--config", str(office_file),
                            "--broker", broker.url], cwd=ROOT, stdout=log, stderr=log)
    kiosk = Device(broker.url, "kiosk", "k1")
    try:
        trust = ssl.create_default_context(cafile=str(ca.cert_path))
        base = f"https://localhost:{port}"

        def health() -> dict[str, Any] | None:
            try:
                with urllib.request.urlopen(base + "/health", context=trust, timeout=2) as r:
                    return dict(json.loads(r.read()))
            except OSError:
                return None
        assert wait_until(lambda: (h := health()) and h["online"] and h, timeout=30,
                          what="HTTPS /health online")
        with pytest.raises(urllib.error.URLError):  # without the office CA: not trusted
            urllib.request.urlopen(base + "/health", context=ssl.create_default_context(),
                                   timeout=5)
        number = kiosk.send("walk_in", service="A")["ticket"]["number"]
        ctx = browser.new_context(ignore_https_errors=True)  # the test browser lacks the CA
        page = ctx.new_page()
        k = ticket_key(SECRET, "demo", DAY, number)
        page.goto(f"{base}/t/{DAY}/{number}?k={k}")
        page.wait_for_selector("body[data-status='waiting'][data-connection='online']",
                               timeout=15000)  # wss:// to the same server
        resp = page.request.post(f"{base}/counter/sign-in", data={"counter": "1"},
                                 headers={"Origin": base})
        assert resp.status == 400  # no officers in this office: said, not a crash
        assert resp.json()["error"]["code"] == "no_officers"
        ctx.close()
        assert CHROMIUM
    finally:
        kiosk.close()
        web.terminate()
        web.wait(10)
        log.close()
        dispatcher.stop()


@pytest.mark.process
def test_a_certificate_that_does_not_load_is_refused(office_file: Path,
                                                     tmp_path: Path) -> None:
    (tmp_path / "bad.crt").write_text("not a certificate")
    (tmp_path / "bad.key").write_text("not a key")
    with_web(office_file, free_port(), f'cert_file = "{tmp_path}/bad.crt"\n'
                                       f'key_file = "{tmp_path}/bad.key"\n')
    run = subprocess.run([*motcua_command(), "web", "--config", str(office_file)], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2, run.stderr
    assert "chứng chỉ hoặc khóa không dùng được" in run.stderr
    assert "the certificate or key cannot be used" in run.stderr
    assert "Traceback" not in run.stderr
