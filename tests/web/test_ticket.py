"""The citizen's ticket page (/t/<day>/<number>?k=<key>) in real Chromium: live position,
the call ("Mời số A002 đến Quầy 3") with vibration, the thank-you; and the same 404 for a
wrong key, another day, a guessed number."""

from __future__ import annotations

from typing import Any

import pytest

from tests.waiting import wait_until
from tests.web.support import DAY, SIZES, WebOffice, shot


def status(page: Any) -> str:
    return str(page.inner_text("#status"))


def open_ticket(live: WebOffice, browser: Any, number: str, size: str = "phone") -> Any:
    w, h = SIZES[size]
    ctx = browser.new_context(viewport={"width": w, "height": h}, is_mobile=size == "phone",
                              has_touch=size == "phone")
    page = ctx.new_page()
    page.add_init_script("window.__vibrated = []; navigator.vibrate = "
                         "(p) => { window.__vibrated.push(p); return true; };")
    page.goto(live.base + live.ticket_path(number))
    page.wait_for_selector("body[data-connection='online'][data-status]", timeout=15000)
    return page


def test_a_ticket_follows_its_place_and_its_call(live: WebOffice, browser: Any) -> None:
    first, mine, _ = live.walk_in("A"), live.walk_in("A"), live.walk_in("A")
    page = open_ticket(live, browser, mine)
    assert page.inner_text("#number") == mine == "A002"
    assert "Nộp hồ sơ" in page.inner_text("#service")
    wait_until(lambda: "1 người" in status(page), timeout=10, what="one person ahead")
    live.counter("1", "next")  # A001 called: nobody ahead of A002 now
    wait_until(lambda: "người tiếp theo" in status(page), timeout=10, what="you are next")
    live.counter("3", "next")
    page.wait_for_selector("body[data-status='called']", timeout=5000)
    assert "Mời số A002 đến Quầy 3" in status(page)
    assert page.evaluate("window.__vibrated.length") >= 1
    shot(page, "ticket-called-phone")
    live.counter("3", "done")
    page.wait_for_selector("body[data-status='done']", timeout=5000)
    assert "Cảm ơn" in status(page)
    shot(page, "ticket-thanks-phone")
    page.click(".lang")
    assert "Thank you" in status(page)
    page.context.close()
    assert first == "A001"


def test_the_phone_sounds_its_call_once_the_citizen_turned_sound_on(
        live: WebOffice, browser: Any) -> None:
    """A phone makes sound only after a tap ("Bật âm thanh"): the tap sounds the chime (so
    the citizen hears it works, and the page may play later); the call sounds it again. The
    page beside it, never tapped, stays silent at its own call."""
    first, mine = live.walk_in("A"), live.walk_in("A")
    quiet, page = open_ticket(live, browser, first), open_ticket(live, browser, mine)
    played = "window.__played || []"
    page.tap("#sound")
    wait_until(lambda: page.evaluate(played) == ["/audio/chime.wav"], timeout=10,
               what="the chime played to its end at the tap")
    assert page.get_attribute("#sound", "class") == "sound on"
    live.counter("1", "next")
    quiet.wait_for_selector("body[data-status='called']", timeout=5000)
    live.counter("2", "next")
    page.wait_for_selector("body[data-status='called']", timeout=5000)
    wait_until(lambda: page.evaluate(played) == ["/audio/chime.wav"] * 2, timeout=10,
               what="the chime played again at the call")
    assert page.evaluate("window.__blocked || 0") == 0
    assert page.evaluate("window.__vibrated.length") >= 1
    assert quiet.evaluate(played) == [] and quiet.evaluate("window.__vibrated.length") >= 1
    for p in (page, quiet):
        p.context.close()


def test_a_reloaded_ticket_page_is_right_at_once(live: WebOffice, browser: Any) -> None:
    live.walk_in("A")
    mine = live.walk_in("A")
    live.counter("2", "next")
    live.counter("1", "next")  # A002 at Quầy 1
    page = open_ticket(live, browser, mine)
    assert page.get_attribute("body", "data-status") == "called"
    assert "Quầy 1" in status(page)
    page.context.close()


def test_no_show_and_the_wrong_links_show_nothing(live: WebOffice, browser: Any) -> None:
    mine = live.walk_in("B")
    good = live.ticket_path(mine)
    bad = [live.ticket_path(mine, key="A" * 22),  # a wrong key
           live.ticket_path(mine, key=""),
           live.ticket_path(mine, day="2026-11-24"),  # another day, right key for it
           live.ticket_path(mine).replace(mine, "B001x"),
           f"/t/{DAY}/{mine}"]
    status0, page404 = live.web.get(bad[0])
    assert status0 == 404 and b"Kh\xc3\xb4ng t\xc3\xacm th\xe1\xba\xa5y" in page404
    for path in bad[1:]:
        code, body = live.web.get(path)
        assert (code, body) == (404, page404), path
    assert live.web.get(good)[0] == 200
    page = browser.new_page()
    page.goto(live.base + bad[0])
    assert "Không tìm thấy" in page.inner_text("body") and mine not in page.inner_text("body")
    page.close()


def test_the_socket_refuses_a_wrong_key(live: WebOffice, browser: Any) -> None:
    mine = live.walk_in("A")
    page = browser.new_page()
    page.goto(live.base + "/board")
    code = page.evaluate("""(path) => new Promise(res => {
        const ws = new WebSocket('ws://' + location.host + path);
        ws.onmessage = () => res('message'); ws.onclose = (e) => res(e.code); })""",
                         f"/ws/t/{DAY}/{mine}?k={'B' * 22}")
    assert code == 4404
    page.close()


@pytest.mark.parametrize("size", ["phone", "1366x768", "1920x1080"])
def test_ticket_screenshots(live: WebOffice, browser: Any, size: str) -> None:
    for _ in range(4):
        live.walk_in("A")
    live.counter("1", "next")
    page = open_ticket(live, browser, "A004", size)
    wait_until(lambda: "2 người" in status(page), timeout=10, what="two ahead")
    shot(page, f"ticket-waiting-{size}")
    page.context.close()


def test_after_the_service_the_phone_rates_it_once(live: WebOffice, browser: Any) -> None:
    """The four levels on the phone once the service ended as done; one tap is the ticket's
    rating (stored by the dispatcher with the counter that served it); a second page of the
    same ticket is told it is already rated; a ticket still waiting cannot be rated."""
    import json
    import sqlite3

    mine, other = live.walk_in("A"), live.walk_in("A")
    page = open_ticket(live, browser, mine)
    assert page.is_hidden("#rate")  # waiting: nothing to rate yet
    live.counter("2", "next")
    live.counter("2", "done")
    page.wait_for_selector("body[data-status='done']", timeout=5000)
    page.wait_for_selector("#rate:not([hidden])", timeout=5000)
    shot(page, "ticket-rate-phone")
    page.click("#rate button[data-level='satisfied']")
    wait_until(lambda: page.evaluate("window.__rated || null"), timeout=15,
               what="the rating answered")
    assert page.evaluate("window.__rated.ok") is True
    assert page.is_hidden("#rate") and "Cảm ơn ông/bà đã đánh giá" in status(page)
    shot(page, "ticket-rated-phone")
    with sqlite3.connect(f"file:{live.office.storage}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT * FROM ratings").fetchall()
    assert len(rows) == 1 and "satisfied" in rows[0] and mine in rows[0], rows
    again = open_ticket(live, browser, mine)  # a second phone (or a reload) tries again
    again.wait_for_selector("#rate:not([hidden])", timeout=5000)
    again.click("#rate button[data-level='unsatisfied']")
    wait_until(lambda: again.evaluate("window.__rated || null"), timeout=15,
               what="the second rating answered")
    assert again.evaluate("window.__rated.ok") is True  # the same command id: the first reply
    with sqlite3.connect(f"file:{live.office.storage}?mode=ro", uri=True) as db:
        assert db.execute("SELECT count(*), min(level) FROM ratings").fetchone() == (
            1, "satisfied")
    waiting = open_ticket(live, browser, other)
    waiting.evaluate("1")
    sent = waiting.evaluate("""() => new Promise((done) => {
      const ws = new WebSocket(location.href.replace('http', 'ws').replace('/t/', '/ws/t/'));
      ws.onmessage = (ev) => { const m = JSON.parse(ev.data);
        if (m.type === 'rated') done(m); };
      ws.onopen = () => { ws.send(JSON.stringify({type: 'rate', level: 'nonsense'}));
        ws.send(JSON.stringify({type: 'rate', level: 'very_satisfied'})); };
    })""")
    assert sent["ok"] is False and sent["error"]["code"] in ("bad_request", "not_rateable")
    assert sent["error"]["message"] and sent["error"]["message_en"], json.dumps(sent)
    for p in (page, again, waiting):
        p.context.close()
