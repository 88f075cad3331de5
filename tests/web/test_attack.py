"""A hostile citizen on the public Wi-Fi, a curious officer on the LAN: plain HTTP and
WebSocket clients against a live office (real Mosquitto, dispatcher and `motcua web`)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.web.support import DAY, WebOffice


def post(live: WebOffice, path: str, body: bytes, origin: str | None = None,
         cookie: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Content-Type": "application/json",
               "Origin": origin if origin is not None else live.base}
    if cookie:
        headers["Cookie"] = cookie
    req = urllib.request.Request(live.base + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


def assert_clear(status: int, body: dict[str, Any]) -> None:
    """A refusal a person reads: 4xx, a code, Vietnamese and English."""
    assert 400 <= status < 500, (status, body)
    assert body["ok"] is False
    assert body["error"]["code"] and body["error"]["message"] and body["error"]["message_en"]


def test_odd_bodies_get_a_clear_error(staffed: WebOffice) -> None:
    bodies = [b'{"officer": "\\ud800", "pin": "1234"}',
              b'{"officer": "ld01", "pin": "\\udfff\\ud800"}',
              b'{"officer": "ld01", "pin": ' + b"9" * 5000 + b"}",
              b'{"officer": 1e999999}', b"\xff\xfe", b"[]", b"null", b"",
              b'{"officer": "' + b"a" * 100_000 + b'"}']
    for path in ("/hall/sign-in", "/counter/sign-in"):
        for body in bodies:
            status, answer, _ = post(staffed, path, body)
            assert_clear(status, answer)
    status, answer, _ = post(staffed, "/counter/sign-in",
                             b'{"counter": "1", "officer": "cb01\\ud800", "pin": "1234"}')
    assert_clear(status, answer)
    assert answer["error"]["code"] == "bad_request"
    assert "Traceback" not in (staffed.workdir / "web.log").read_text()


def test_cross_site_posts_and_sockets_are_refused(staffed: WebOffice) -> None:
    body = b'{"officer": "ld01", "pin": "2468"}'
    for origin in ("http://evil.example", "null", "", f"evil://127.0.0.1:{staffed.port}"):
        status, answer, _ = post(staffed, "/hall/sign-in", body, origin=origin)
        assert status == 403 and answer["error"]["code"] == "bad_origin", (origin, answer)
    status, answer, headers = post(staffed, "/hall/sign-in", body)
    assert status == 200 and answer["ok"], answer
    cookie = headers["set-cookie"].split(";")[0]
    ws_url = staffed.base.replace("http", "ws") + "/ws/hall"
    with connect(ws_url, additional_headers={"Cookie": cookie},
                 origin=Origin("http://evil.example")) as ws:
        try:
            ws.recv(timeout=5)
            raise AssertionError("a socket from another origin got the hall view")
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == 4401


def test_ticket_socket_survives_binary_and_huge_frames(live: WebOffice) -> None:
    number = live.walk_in()
    other = live.walk_in()
    url = live.base.replace("http", "ws") + "/ws" + live.ticket_path(number)
    with connect(url) as ws:
        first = json.loads(ws.recv(timeout=10))
        assert other not in json.dumps(first), first
        ws.send(b"\x00" * 1000)
        try:
            ws.send("x" * 2_000_000)
            ws.recv(timeout=5)
        except ConnectionClosed:
            pass
    assert "Traceback" not in (live.workdir / "web.log").read_text()
    with connect(url) as ws:
        assert json.loads(ws.recv(timeout=10))["type"]


def test_ticket_links_of_every_shape_are_the_same_404(live: WebOffice) -> None:
    number = live.walk_in()
    other = live.walk_in()
    good = live.ticket_path(number)
    key = good.split("k=")[1]
    status, _ = live.web.get(good)
    assert status == 200
    paths = [live.ticket_path(other, key=key), live.ticket_path(number, day="2026-11-24"),
             f"/t/{DAY}/{number}?k=" + "a" * 20_000, f"/t/{DAY}/{number}?k=%ED%A0%80",
             f"/t/{DAY}/{number}?k=%F0%9F%98%80", f"/t/{DAY}/{number}",
             f"/t/{DAY}/..%2F{number}?k={key}", f"/t/{DAY}/{number}%00?k={key}",
             f"/t/{DAY}/{number}?k={key}&k=x", f"/t/{DAY}/{number.lower()}?k={key}"]
    bodies = set()
    for path in paths:
        status, body = live.web.get(path)
        assert status == 404, (path, status)
        bodies.add(body)
    assert len(bodies) == 1
    assert "Traceback" not in (live.workdir / "web.log").read_text()


def sign_in_counter(live: WebOffice, counter: str, code: str, pin: str) -> str:
    status, answer, headers = post(live, "/counter/sign-in", json.dumps(
        {"counter": counter, "officer": code, "pin": pin}).encode())
    assert status == 200 and answer["ok"], answer
    return headers["set-cookie"].split(";")[0]


def counter_socket(live: WebOffice, cookie: str) -> Any:
    return connect(live.base.replace("http", "ws") + "/ws/counter",
                   additional_headers={"Cookie": cookie}, origin=Origin(live.base))


def replies_of(ws: Any, want: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while len(got) < want:
        message = json.loads(ws.recv(timeout=15))
        if message["type"] == "reply":
            got.append(message)
    return got


def test_counter_socket_answers_every_odd_press(staffed: WebOffice) -> None:
    live = staffed
    live.walk_in("A")
    cookie = sign_in_counter(live, "1", "cb01", "1234")
    frames = ['{"id": "surrogate-01", "type": "call", "ticket": "\\ud800"}',
              '{"id": "digits-0001", "type": "call", "ticket": ' + "9" * 5000 + "}",
              '{"id": "not json', "[1, 2]", '"next"',
              '{"id": "x", "type": "next"}', '{"id": "\\ud800\\ud800\\ud800x", "type": "next"}',
              '{"id": "extra-field-1", "type": "next", "officer": "ld01"}',
              '{"id": "booking-cmd-1", "type": "check_in", "token": "abc"}',
              '{"id": "type-number-1", "type": 5}',
              '{"id": "refuse-surr-1", "type": "refuse", "reason": "\\udfff", "guidance": ""}']
    with counter_socket(live, cookie) as ws:
        for frame in frames:
            ws.send(frame)
        got = replies_of(ws, len(frames))
        assert all(not r["ok"] and r["error"]["code"] and r["error"]["message_en"]
                   for r in got), got
        ws.send('{"id": "after-all-01", "type": "next"}')
        (reply,) = replies_of(ws, 1)
        assert reply["id"] == "after-all-01" and reply["ok"], reply
        assert reply["ticket"]["number"] == "A001"  # the odd presses took nothing
    assert "Traceback" not in (live.workdir / "web.log").read_text()


def test_a_flood_of_presses_is_refused_busy_never_doubled(staffed: WebOffice) -> None:
    live = staffed
    for _ in range(3):
        live.walk_in("A")
    cookie = sign_in_counter(live, "1", "cb01", "1234")
    with counter_socket(live, cookie) as ws:
        for i in range(20):
            ws.send(json.dumps({"id": "same-next-000001", "type": "next"}))
            ws.send(json.dumps({"id": f"flood-pause-{i:04d}", "type": "pause"}))
        got = replies_of(ws, 40)
    codes = {r["error"]["code"] for r in got if not r["ok"]}
    assert "busy" in codes, codes
    nexts = [r for r in got if r["id"] == "same-next-000001" and r["ok"]]
    assert nexts and {r["ticket"]["number"] for r in nexts} == {"A001"}  # one call, one id
    assert live.counter("2", "sign_in", officer="cb02", pin="5678")["ok"]
    assert live.counter("2", "next")["ticket"]["number"] == "A002"  # nothing else was taken


def test_stolen_forged_and_replayed_cookies(staffed: WebOffice) -> None:
    live = staffed
    cookie = sign_in_counter(live, "1", "cb01", "1234")
    name = cookie.split("=")[0]
    for forged in (f"{name}=" + "A" * 43, f"{name}=" + "é" * 5000, f"{name}=",
                   cookie + "x", f"{name}={cookie.split('=', 1)[1][:-1]}"):
        with counter_socket(live, forged) as ws:
            try:
                ws.recv(timeout=5)
                raise AssertionError(f"a forged cookie got the counter view: {forged[:40]}")
            except ConnectionClosed as exc:
                assert exc.rcvd is not None and exc.rcvd.code == 4401
    status, answer, _ = post(live, "/hall/sign-in", b'{"officer": "ld01", "pin": "2468"}')
    assert status == 200
    # Another officer signs in at counter 1: the first cookie (copied, replayed) is dead.
    sign_in_counter(live, "1", "cb02", "5678")
    with counter_socket(live, cookie) as ws:
        try:
            ws.recv(timeout=5)
            raise AssertionError("a replaced session still opened the counter")
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == 4401
    assert "Traceback" not in (live.workdir / "web.log").read_text()


def test_hall_lockout_and_headers(staffed: WebOffice) -> None:
    live = staffed
    for i in range(5):
        status, answer, headers = post(live, "/hall/sign-in",
                                       json.dumps({"officer": "ld01", "pin": f"000{i}"}).encode())
        assert status == 401 and answer["error"]["code"] == "bad_pin", answer
        assert headers["cache-control"] == "no-store"
    status, answer, headers = post(live, "/hall/sign-in", b'{"officer": "ld01", "pin": "2468"}')
    assert status == 429 and answer["error"]["code"] == "locked", answer  # even the right PIN
    assert 0 < answer["retry_after"] <= 300 and answer["error"]["message_en"]
    # Guessed codes lock nothing else, and answer as a wrong PIN does (no code is revealed).
    status, answer, _ = post(live, "/hall/sign-in", b'{"officer": "zz99", "pin": "2468"}')
    assert status == 401 and answer["error"]["code"] == "bad_pin"
    status, answer, headers = post(live, "/counter/sign-in",
                                   b'{"counter": "1", "officer": "cb01", "pin": "1234"}')
    assert status == 200 and headers["cache-control"] == "no-store"
    assert "httponly" in headers["set-cookie"].lower()
    assert "samesite=strict" in headers["set-cookie"].lower()
    number = live.walk_in()
    status, page = live.web.get(live.ticket_path(number))
    with urllib.request.urlopen(live.base + live.ticket_path(number), timeout=10) as r:
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["Cache-Control"] == "no-store"
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert status == 200 and b"http" not in page.split(b"<body")[0].replace(b"http-equiv", b"")
