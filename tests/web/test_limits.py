"""How many pages a server keeps open: the same ticket link, board address or staff sign-in
opened a 5th time replaces its oldest page (which stays closed and says so); past `[web]
phones` ticket pages a new one is told to come back later (close 4429). A real Mosquitto,
dispatcher and `motcua web`; Python WebSocket clients, and real Chromium for what a citizen
sees."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from broker_config.dev import DevBroker
from tests.conftest import needs
from tests.waiting import wait_until
from tests.web.support import SIZES, WebOffice, shot
from tests.web.test_attack import counter_socket, sign_in_counter

Opener = Callable[[ClientConnection], ClientConnection]


@pytest.fixture
@needs("process", "mqtt")
def small(broker: DevBroker, office_file: Path, tmp_path: Path) -> Iterator[WebOffice]:
    """An office whose web server keeps at most 3 ticket pages open."""
    office = WebOffice(broker, office_file, tmp_path, web="phones = 3\n")
    yield office
    office.close()


@pytest.fixture
def keep() -> Iterator[Opener]:
    """Keeps the sockets a test opens, closes them all at its end."""
    with contextlib.ExitStack() as stack:
        yield stack.enter_context


def ws_url(live: WebOffice, path: str) -> str:
    return live.base.replace("http://", "ws://") + path


def ticket_url(live: WebOffice, number: str) -> str:
    return ws_url(live, live.ticket_path(number).replace("/t/", "/ws/t/", 1))


def ticket_socket(live: WebOffice, keep: Opener, number: str) -> ClientConnection:
    ws = keep(connect(ticket_url(live, number), open_timeout=10))
    assert first_view(ws)["number"] == number
    return ws


def first_view(ws: ClientConnection) -> dict[str, Any]:
    while True:
        m = json.loads(ws.recv(timeout=10))
        if m.get("type") != "ping":
            return dict(m)


def closed_with(ws: ClientConnection, timeout: float = 10) -> int | None:
    """The close code the server sent, reading (and dropping) what came before it."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.recv(timeout=max(0.1, deadline - time.monotonic()))
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
    except TimeoutError:
        return None
    return None


def test_a_fifth_page_of_one_ticket_replaces_the_oldest(live: WebOffice, keep: Opener) -> None:
    number = live.walk_in("A")
    pages = [ticket_socket(live, keep, number) for _ in range(4)]
    fifth = ticket_socket(live, keep, number)
    assert closed_with(pages[0]) == 4409
    # The four still open all hear the call.
    live.counter("1", "next")
    for ws in [*pages[1:], fifth]:
        while (m := json.loads(ws.recv(timeout=10))).get("type") != "call":
            pass
        assert m["ticket"] == number
    for _ in range(20):  # a link opened over and over: always four, never more
        ticket_socket(live, keep, number)
    assert all(closed_with(ws, 5) == 4409 for ws in [*pages[1:], fifth])


def test_boards_of_one_address_are_bounded_alike(live: WebOffice, keep: Opener) -> None:
    boards = [keep(connect(ws_url(live, "/ws/board"), open_timeout=10)) for _ in range(5)]
    assert closed_with(boards[0]) == 4409
    assert first_view(boards[4])["type"] == "board"


def test_one_sign_in_keeps_four_counter_pages(staffed: WebOffice, keep: Opener) -> None:
    cookie = sign_in_counter(staffed, "1", "cb01", "1234")
    pages = [keep(counter_socket(staffed, cookie)) for _ in range(5)]
    assert closed_with(pages[0]) == 4409
    assert first_view(pages[4])["type"] == "counter"
    # Another officer's sign-in at another counter is not touched by it.
    other = keep(counter_socket(staffed, sign_in_counter(staffed, "2", "cb02", "5678")))
    assert first_view(other)["type"] == "counter" and closed_with(other, 1) is None


def test_past_the_office_cap_a_phone_is_told_to_come_back(small: WebOffice,
                                                          keep: Opener) -> None:
    numbers = [small.walk_in("A") for _ in range(4)]
    open_ = [ticket_socket(small, keep, n) for n in numbers[:3]]
    late = keep(connect(ticket_url(small, numbers[3]), open_timeout=10))
    assert closed_with(late) == 4429
    # A board is not a phone: it still opens.
    board = keep(connect(ws_url(small, "/ws/board"), open_timeout=10))
    assert first_view(board)["type"] == "board"
    # One phone goes: there is room again, and the ones open were never disturbed.
    open_[0].close()
    wait_until(lambda: reopened(small, keep, numbers[3]), timeout=10,
               what="room for the 4th phone")
    small.counter("1", "next")
    assert json.loads(open_[1].recv(timeout=10))["type"] in ("call", "ticket")
    assert "Traceback" not in (small.workdir / "web.log").read_text()


def reopened(live: WebOffice, keep: Opener, number: str) -> bool:
    try:
        ticket_socket(live, keep, number)
    except (ConnectionClosed, AssertionError):
        return False
    return True


def test_the_replaced_phone_page_says_so_and_a_tap_takes_it_back(
        live: WebOffice, browser: Any, keep: Opener) -> None:
    number = live.walk_in("A")
    w, h = SIZES["phone"]
    page = browser.new_context(viewport={"width": w, "height": h}, is_mobile=True,
                               has_touch=True).new_page()
    page.goto(live.base + live.ticket_path(number))
    page.wait_for_selector("body[data-connection='online'][data-status='waiting']",
                           timeout=15000)
    others = [ticket_socket(live, keep, number) for _ in range(4)]  # the same link 4 times
    page.wait_for_selector("body[data-connection='replaced']", timeout=10000)
    assert "đã được mở ở nơi khác" in page.inner_text(".lost")
    shot(page, "ticket-replaced-phone")
    page.wait_for_timeout(2500)  # it stays closed: no tug of war with the other pages
    assert page.get_attribute("body", "data-connection") == "replaced"
    assert all(closed_with(ws, 0.5) is None for ws in others)
    page.tap(".lost")
    page.wait_for_selector("body[data-connection='online'][data-status='waiting']",
                           timeout=15000)
    assert closed_with(others[0]) == 4409  # the oldest of the others made room
    page.context.close()


def test_the_server_makes_room_for_its_pages(office_file: Path) -> None:
    """A socket per page: the soft limit of open files is raised to what [web] phones needs
    (systemd's default of 1,024 would refuse phones first); short of it, the log says so."""
    import resource

    from motcua import config
    from web.app import room_for_pages
    from web.server import BOARDS

    office = config.load(office_file)
    need = office.web.phones + BOARDS + 256
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, before[1]))
        assert room_for_pages(office) == need == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


@pytest.mark.process
def test_a_hard_limit_too_low_is_said_in_both_languages(office_file: Path) -> None:
    import subprocess
    import sys

    code = ("import logging, sys; logging.basicConfig(stream=sys.stdout); "
            "from motcua import config; from web.app import room_for_pages; "
            f"print(room_for_pages(config.load({str(office_file)!r})))")
    done = subprocess.run(["prlimit", "--nofile=256:1024", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "1024"
    assert "chỉ mở được 1024 tệp" in done.stdout and "only 1024 open files" in done.stdout
