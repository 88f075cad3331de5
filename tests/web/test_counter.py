"""/counter in real Chromium: sign-in with counter + officer code + PIN (the dispatcher's
sign_in), every action of the Kivy terminal by button and by keypad key, errors inline in
vi/en, one command id per press; and a page that tries to act for another counter."""

from __future__ import annotations

from typing import Any

import pytest

from tests.waiting import wait_until
from tests.web.support import SIZES, WebOffice, shot


def sign_in(live: WebOffice, browser: Any, counter: str, code: str, pin: str,
            size: str = "1366x768") -> Any:
    w, h = SIZES[size]
    page = browser.new_context(viewport={"width": w, "height": h}).new_page()
    page.goto(live.base + f"/counter?counter={counter}")
    page.wait_for_selector("body[data-screen='signin']", timeout=15000)
    page.fill("#si-officer", code)
    page.fill("#si-pin", pin)
    page.click("#signin button[type=submit]")
    return page


def current(page: Any) -> str:
    return str(page.get_attribute("#current", "data-ticket"))


def replies(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate("window.__replies || []"))


def wait_reply(page: Any, n: int) -> dict[str, Any]:
    def nth() -> dict[str, Any] | None:
        r = replies(page)
        return r[n - 1] if len(r) >= n else None
    return wait_until(nth, timeout=15, what=f"reply {n}")


def test_sign_in_then_every_action(staffed: WebOffice, browser: Any) -> None:
    live = staffed
    for s in "AAAAB":
        live.walk_in(s)
    page = sign_in(live, browser, "3", "cb01", "0000")
    page.wait_for_selector("body[data-error='bad_pin']", timeout=10000)
    assert "Mã cán bộ hoặc mã PIN không đúng" in page.inner_text("#signin-error")
    shot(page, "counter-signin-error-1366x768")
    page.fill("#si-officer", "cb01")
    page.fill("#si-pin", "1234")
    page.click("#signin button[type=submit]")
    page.wait_for_selector("body[data-screen='counter'][data-status='open']", timeout=10000)
    assert "Nguyễn Thị Lan" in page.inner_text("#who")
    state = live.watch.wait_for("/state/counter/3", lambda m: (m.get("officer") or {}).get(
        "code") == "cb01")
    assert state["status"] == "open"
    # Enter: next (the keypad key), then the buttons
    page.keyboard.press("Enter")
    page.wait_for_selector("#current[data-ticket='A001']", timeout=5000)
    assert wait_reply(page, 1)["ok"]
    page.keyboard.press("+")  # recall
    assert wait_reply(page, 2)["type"] == "recall"
    live.watch.wait_for("/event/call", lambda m: m["kind"] == "recall" and m["ticket"] == "A001")
    page.keyboard.press("*")  # done
    wait_reply(page, 3)
    page.wait_for_selector("#current[data-ticket='']", timeout=5000)
    page.click("button[data-act=next]")
    page.wait_for_selector("#current[data-ticket='A002']", timeout=5000)
    # no-show asks once
    page.keyboard.press("-")
    page.wait_for_selector("body[data-dialog='no_show']")
    shot(page, "counter-noshow-dialog-1366x768")
    page.keyboard.press("Enter")
    assert wait_reply(page, 5)["type"] == "no_show"
    # transfer: 7, choose service B (the second item), Enter
    page.keyboard.press("Enter")
    page.wait_for_selector("#current[data-ticket='A003']", timeout=5000)
    page.wait_for_timeout(900)  # past the double-press guard
    page.keyboard.press("7")
    page.wait_for_selector("body[data-dialog='transfer']")
    page.keyboard.press("2")
    shot(page, "counter-transfer-dialog-1366x768")
    page.keyboard.press("Enter")
    assert wait_reply(page, 7)["type"] == "transfer"
    moved = live.watch.wait_for("/event/ticket", lambda m: m["change"] == "transferred")
    assert moved["ticket"]["number"] == "A003" and moved["ticket"]["service"] == "B"
    # refuse with reason and guidance (the first reason, its guidance prefilled)
    page.keyboard.press("Enter")
    page.wait_for_selector("#current[data-ticket='A003']", timeout=5000)  # first in B now
    page.wait_for_timeout(900)
    page.keyboard.press("8")
    page.wait_for_selector("body[data-dialog='refuse']")
    assert page.input_value("#reason") == "Ngoài thẩm quyền giải quyết"
    page.fill("#guidance", "Liên hệ UBND phường.")
    shot(page, "counter-refuse-dialog-1366x768")
    page.click("#dlgok")
    assert wait_reply(page, 9)["type"] == "refuse"
    refused = live.watch.wait_for("/event/ticket", lambda m: m["change"] == "refused")
    assert refused["ticket"]["guidance"] == "Liên hệ UBND phường."
    # pause: next is refused inline while paused; resume
    page.keyboard.press("/")
    page.wait_for_selector("body[data-status='paused']", timeout=5000)
    page.wait_for_timeout(900)  # a second press this soon is a bounce, as at the terminal
    page.click("button[data-act=pause_resume]")
    page.wait_for_selector("body[data-status='open']", timeout=5000)
    # call a number out of order: 9, type it
    page.wait_for_timeout(900)
    page.keyboard.press("9")
    page.wait_for_selector("body[data-dialog='call']")
    page.fill("#callinput", "B1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#current[data-ticket='B001']", timeout=5000)
    shot(page, "counter-serving-1366x768")
    # an error inline, in both languages: call a number nobody holds
    page.wait_for_timeout(900)
    page.keyboard.press("9")
    page.fill("#callinput", "A999")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-error='unknown_ticket']", timeout=5000)
    assert "Không tìm thấy số thứ tự" in page.inner_text("#dlgerr")
    page.evaluate("Motcua.setLang('en')")  # the switch itself sits behind the dialog
    assert "not waiting" in page.inner_text("#dlgerr")
    page.keyboard.press("Escape")
    ids = [r["id"] for r in replies(page)]
    assert len(ids) == len(set(ids)) >= 12  # one id per press
    page.context.close()


def test_a_page_cannot_act_for_another_counter(staffed: WebOffice, browser: Any) -> None:
    live = staffed
    live.walk_in("A")
    page = sign_in(live, browser, "1", "cb02", "5678")
    page.wait_for_selector("body[data-screen='counter']", timeout=10000)
    # Hand-made messages on the page's own socket: as counter 2, a sign-in, a close_day.
    answers = page.evaluate("""() => new Promise(res => {
        const ws = new WebSocket('ws://' + location.host + '/ws/counter'); const got = {};
        ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.type === 'reply') {
            got[m.id] = m.error ? m.error.code : 'ok';
            if (Object.keys(got).length === 3) res(got); } };
        ws.onopen = () => {
            ws.send(JSON.stringify({id: 'other-counter-1', type: 'next', counter: '2'}));
            ws.send(JSON.stringify({id: 'sign-in-as-x-1', type: 'sign_in', officer: 'ld01',
                                    pin: '2468'}));
            ws.send(JSON.stringify({id: 'close-the-day', type: 'close_day'}));
        }; })""")
    assert answers == {"other-counter-1": "not_this_counter", "sign-in-as-x-1": "not_allowed",
                       "close-the-day": "not_allowed"}
    live.counter("2", "sign_in", officer="cb01", pin="1234")
    assert live.counter("2", "next")["ticket"]["number"] == "A001"  # nothing was taken
    # Without a session (another browser): the socket is refused, the sign-in is asked.
    other = browser.new_page()
    other.goto(live.base + "/counter")
    other.wait_for_selector("body[data-screen='signin']", timeout=10000)
    code = other.evaluate("""() => new Promise(res => { const ws = new WebSocket('ws://' +
        location.host + '/ws/counter'); ws.onclose = (e) => res(e.code); })""")
    assert code == 4401
    status, _ = live.web.get("/counter/sign-in")
    assert status == 405
    page.context.close()
    other.close()


def test_another_sign_in_at_the_counter_ends_the_page(staffed: WebOffice,
                                                      browser: Any) -> None:
    live = staffed
    page = sign_in(live, browser, "2", "cb01", "1234")
    page.wait_for_selector("body[data-screen='counter']", timeout=10000)
    live.counter("2", "sign_in", officer="cb02", pin="5678")  # at the Kivy terminal, say
    page.wait_for_selector("text=Đã có cán bộ khác đăng nhập", timeout=10000)
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-screen='signin']", timeout=10000)
    page.context.close()


def test_sign_out_refused_while_serving(staffed: WebOffice, browser: Any) -> None:
    live = staffed
    live.walk_in("A")
    page = sign_in(live, browser, "1", "ld01", "2468")
    page.wait_for_selector("body[data-screen='counter']", timeout=10000)
    page.keyboard.press("Enter")
    page.wait_for_selector("#current[data-ticket='A001']", timeout=5000)
    page.click("#signout")
    page.wait_for_selector("text=Quầy đang phục vụ một số thứ tự", timeout=5000)
    page.keyboard.press("*")
    page.wait_for_selector("#current[data-ticket='']", timeout=5000)
    page.click("#signout")
    page.wait_for_selector("body[data-screen='signin']", timeout=10000)
    st = live.watch.wait_for("/state/counter/1", lambda m: m["status"] == "closed")
    assert st.get("officer") is None
    page.context.close()


@pytest.mark.parametrize("size", ["1920x1080", "phone"])
def test_counter_screenshots(staffed: WebOffice, browser: Any, size: str) -> None:
    live = staffed
    for _ in range(3):
        live.walk_in("A")
    page = sign_in(live, browser, "1", "cb01", "1234", size)
    page.wait_for_selector("body[data-screen='counter']", timeout=10000)
    page.click("button[data-act=next]")
    page.wait_for_selector("#current[data-ticket='A001']", timeout=5000)
    shot(page, f"counter-{size}")
    page.context.close()
