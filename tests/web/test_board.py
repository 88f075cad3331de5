"""/board in real Chromium against a real broker and dispatcher: retained state on load,
calls drawn and announced (chime + espeak-ng voice made on the server), connection lost
over the dimmed last state on a broker restart, and recovery by itself."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from display.speech import call_phrase
from display.voice import REGION_VOICES, Voice
from tests.waiting import wait_until
from tests.web.support import SIZES, WebOffice, shot


def newest(page: Any) -> str:
    return str(page.eval_on_selector("#newest", "e => e.innerText"))


def test_a_reloaded_board_is_right_at_once(live: WebOffice, browser: Any) -> None:
    tickets = [live.walk_in("A") for _ in range(3)] + [live.walk_in("B")]
    called = live.counter("3", "next")["ticket"]["number"]
    live.counter("1", "next")
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(live.base + "/board")
    page.wait_for_selector("body[data-ready='1'][data-connection='online']", timeout=15000)
    # Retained state only (no event since the page opened): serving, newest, waiting.
    serving = page.eval_on_selector_all("#serving tr", "rows => rows.map(r => r.innerText)")
    assert any(called in row and "Quầy 3" in row for row in serving), serving
    assert "A002" in newest(page) and "Quầy 1" in newest(page)
    waiting = page.eval_on_selector("#waiting tr[data-service='A']", "e => e.innerText")
    assert waiting.split()[-2] == "1", waiting  # A001, A002 called: A003 waits
    assert tickets[-1] == "B001"
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=10000)
    assert "A002" in newest(page)
    page.close()


def test_a_call_is_drawn_chimed_and_said(live: WebOffice, browser: Any) -> None:
    live.walk_in("A")
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(live.base + "/board")
    page.wait_for_selector("body[data-ready='1'][data-connection='online']", timeout=15000)
    # The voice of the call about to come is made before it comes (from state/order).
    d = live.office.display  # the demo office: the Southern voice
    voice = Voice(shutil.which("espeak-ng") or "espeak-ng", live.workdir / "voice-cache",
                  REGION_VOICES[d.region])
    ahead = voice.path_for(call_phrase("A001", "2", "Quầy 2", d.number_reading, d.region))
    wait_until(ahead.exists, timeout=20, what="the next call's WAV made in advance")
    live.counter("2", "next")
    page.wait_for_selector("#newest .num[data-ticket='A001']", timeout=5000)
    assert "Quầy 2" in newest(page)
    # The chime, then the voice [display] repeat times (the test office: once), each played
    # to the end by the browser (kiosk autoplay).
    times = d.repeat
    played = wait_until(lambda: (p := page.evaluate("window.__played || []"))
                        and len(p) >= 1 + times and p, timeout=30,
                        what=f"the chime and the voice played {times} time(s)")
    assert played[0] == "/audio/chime.wav" and played[1].startswith("/audio/")
    assert played[1:1 + times] == [played[1]] * times
    assert page.evaluate("window.__blocked || 0") == 0
    status, body = live.web.get(played[1])
    assert status == 200 and body[:4] == b"RIFF"
    wav = live.workdir / "call.wav"
    wav.write_bytes(body)
    seconds = float(subprocess.run(["sox", "--i", "-D", str(wav)], capture_output=True,
                                   text=True, check=True).stdout)
    stats = subprocess.run(["sox", str(wav), "-n", "stat"], capture_output=True, text=True)
    rms = float(next(line.split()[-1] for line in stats.stderr.splitlines()
                     if line.startswith("RMS     amplitude")))
    assert 1.5 < seconds < 8 and rms > 0.01, (seconds, rms)  # a spoken phrase, not silence
    # A recall is said again; the same text is the same cached file.
    live.counter("2", "recall")
    after = 1 + times
    wait_until(lambda: len(page.evaluate("window.__played || []")) >= after + 2, timeout=30,
               what="the recall played")
    assert page.evaluate("window.__played")[after:after + 2] == ["/audio/chime.wav",
                                                                 played[1]]
    page.close()


def test_unknown_audio_is_not_made(live: WebOffice) -> None:
    assert live.web.get("/audio/0123456789abcdef01234567.wav")[0] == 404
    assert live.web.get("/audio/..%2Fetc%2Fpasswd.wav")[0] == 404


def test_broker_restart_says_lost_then_recovers(live: WebOffice, browser: Any) -> None:
    live.walk_in("A")
    live.counter("1", "next")
    mine = live.walk_in("A")
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(live.base + live.ticket_path(mine))
    phone.wait_for_selector("body[data-status='waiting'][data-connection='online']",
                            timeout=15000)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(live.base + "/board")
    page.wait_for_selector("body[data-ready='1'][data-connection='online']", timeout=15000)
    live.broker.stop()
    page.wait_for_selector("body[data-connection='lost']", timeout=10000)
    phone.wait_for_selector("body[data-connection='lost']", timeout=10000)
    shot(phone, "ticket-lost-phone")
    assert page.is_visible(".lost") and "A001" in newest(page)  # the dimmed last state
    assert page.evaluate("getComputedStyle(document.querySelector('main')).opacity") == "0.35"
    shot(page, "board-lost-1920x1080")
    live.broker.start()
    page.wait_for_selector("body[data-connection='online']", timeout=30000)
    assert not page.is_visible(".lost")
    phone.wait_for_selector("body[data-connection='online']", timeout=30000)
    # Live again: a new call reaches both pages without a reload.
    live.counter("2", "next", timeout=20)
    page.wait_for_selector(f"#newest .num[data-ticket='{mine}']", timeout=10000)
    phone.wait_for_selector("body[data-status='called']", timeout=10000)
    page.close()
    phone.close()


def test_web_server_restart_the_page_reconnects(live: WebOffice, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(live.base + "/board")
    page.wait_for_selector("body[data-connection='online']", timeout=15000)
    live.web.stop()
    page.wait_for_selector("body[data-connection='lost']", timeout=10000)
    live.web.start()
    page.wait_for_selector("body[data-connection='online']", timeout=20000)
    page.close()


@pytest.mark.parametrize("size", ["1920x1080", "1366x768", "1280x720", "portrait", "phone"])
def test_board_screenshots(live: WebOffice, browser: Any, size: str) -> None:
    for s in "AAAAABBC":
        live.walk_in(s)
    for c in ("1", "2", "3", "1"):
        live.counter(c, "next")
    w, h = SIZES.get(size) or {"1280x720": (1280, 720), "portrait": (1080, 1920)}[size]
    page = browser.new_page(viewport={"width": w, "height": h})
    page.goto(live.base + "/board")
    page.wait_for_selector("body[data-ready='1'][data-connection='online']", timeout=15000)
    page.wait_for_timeout(300)  # fonts
    # Nothing spills out of the screen: the page fits the TV without scrolling.
    scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement."
                           "scrollHeight]")
    assert scroll[0] <= w and scroll[1] <= h + 1, scroll
    number = page.eval_on_selector("#newest .num", "e => e.getBoundingClientRect().height")
    assert number >= 0.12 * min(w, h), number  # the newest call reads across the hall
    shot(page, f"board-{size}")
    page.click(".lang")
    assert "Now serving" in page.inner_text(".serving h2")
    shot(page, f"board-{size}-en")
    page.close()
    json.dumps(scroll)
