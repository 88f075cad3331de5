"""/hall in real Chromium: only an office head signs in; queues per service with tickets
waiting past 15 minutes in red, each counter's state and ticket, devices online or not
(a kiosk's paper), today's figures, all live."""

from __future__ import annotations

from typing import Any

from tests.integration.devices import Device
from tests.waiting import wait_until
from tests.web.support import SIZES, WebOffice, shot


def sign_in(live: WebOffice, browser: Any, code: str, pin: str, size: str = "1920x1080") -> Any:
    w, h = SIZES[size]
    page = browser.new_context(viewport={"width": w, "height": h}).new_page()
    page.goto(live.base + "/hall")
    page.wait_for_selector("body[data-screen='signin']", timeout=15000)
    page.fill("#si-officer", code)
    page.fill("#si-pin", pin)
    page.click("#signin button[type=submit]")
    return page


def test_only_a_head_signs_in_and_wrong_pins_lock(staffed: WebOffice, browser: Any) -> None:
    page = sign_in(staffed, browser, "cb01", "1234")  # a counter officer, not a head
    page.wait_for_selector("body[data-error='not_head']", timeout=10000)
    for _ in range(5):
        page.fill("#si-officer", "ld01")
        page.fill("#si-pin", "0000")
        page.click("#signin button[type=submit]")
        page.wait_for_selector("body[data-error='bad_pin']", timeout=10000)
        page.evaluate("delete document.body.dataset.error")
    page.fill("#si-pin", "2468")  # the right PIN, too late: locked for 5 minutes
    page.click("#signin button[type=submit]")
    page.wait_for_selector("body[data-error='locked']", timeout=10000)
    assert "Nhập sai quá nhiều lần" in page.inner_text("#signin-error")
    code = page.evaluate("""() => new Promise(res => { const ws = new WebSocket('ws://' +
        location.host + '/ws/hall'); ws.onclose = (e) => res(e.code); })""")
    assert code == 4401
    page.context.close()


def test_the_hall_view_is_live(staffed: WebOffice, browser: Any) -> None:
    live = staffed
    kiosk2 = Device(live.broker.url, "kiosk", "k2")
    try:
        kiosk2.link.publish("motcua/demo/presence/kiosk/k2", {
            "v": 1, "status": "online", "at": "2026-11-25T08:00:00+07:00",
            "detail": {"printer": "paper_low"}}, retain=True)
        first = live.walk_in("A")
        live.counter("1", "sign_in", officer="cb01", pin="1234")
        live.counter("1", "next")
        page = sign_in(live, browser, "ld01", "2468")
        page.wait_for_selector("body[data-screen='hall'][data-connection='online']",
                               timeout=10000)
        row = page.inner_text("tr[data-counter='1']")
        assert first in row and "Nguyễn Thị Lan" in row
        assert "Đóng" in page.inner_text("tr[data-counter='2']")  # nobody signed in there
        assert "sắp hết giấy" in page.inner_text("tr[data-device='kiosk/k2']")
        assert "trực tuyến" in page.inner_text("tr[data-device='dispatcher/main']")
        for _ in range(3):
            live.walk_in("B")
        page.wait_for_selector(".card[data-service='B'] span[data-ticket='B003']", timeout=5000)
        assert page.inner_text("div[data-figure='issued'] b") == "4"
        assert page.inner_text("div[data-figure='waiting'] b") == "3"
        # The dispatcher's clock runs from 08:00 at real speed: nothing is 15 minutes old yet.
        assert page.query_selector_all(".tickets span.overdue") == []
        kiosk2.close()  # its last will: offline
        page.wait_for_selector("tr[data-device='kiosk/k2'] td.off", timeout=10000)
        shot(page, "hall-1920x1080")
        page.set_viewport_size({"width": 1366, "height": 768})
        shot(page, "hall-1366x768")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, "hall-phone")
        page.context.close()
    finally:
        kiosk2.close()


def test_overdue_tickets_are_red(staffed: WebOffice, browser: Any, tmp_path: Any) -> None:
    """Entry times come from the state the dispatcher sends; a dispatcher whose clock runs
    150x makes the 15 minutes pass in 6 s of waiting."""
    live = staffed
    live.dispatcher.stop()
    from tests.integration.devices import DispatcherProcess

    live.dispatcher = DispatcherProcess(live.office_file, live.broker.url,
                                        tmp_path / "fast.log")
    live.dispatcher.args += ["--speed", "150"]
    live.dispatcher.start()
    live.watch.clear()
    live.watch.wait_for("/presence/dispatcher/main", lambda m: m["status"] == "online",
                        timeout=30)
    old = live.walk_in("A")
    page = sign_in(live, browser, "ld01", "2468")
    page.wait_for_selector(f"span[data-ticket='{old}']", timeout=15000)
    wait_until(lambda: page.query_selector(f"span.overdue[data-ticket='{old}']"), timeout=40,
               interval=0.5, what="the ticket in red after 15 office minutes")
    fresh = live.walk_in("A")
    page.wait_for_selector(f"span[data-ticket='{fresh}']:not(.overdue)", timeout=10000)
    shot(page, "hall-overdue-1366x768")
    page.context.close()
