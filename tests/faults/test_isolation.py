"""Issue 12, finding 1: one malformed or failing command fails alone.

Whatever one command holds (a lone surrogate, a 5,000-digit integer, 1e999999) and
wherever it fails (parsing, handling, encoding its reply, storing its rows), the other
commands of its group commit are answered as if it had come alone, and the hall in memory
is the hall the database rebuilds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dispatcher.store import Store
from motcua import config
from motcua.clock import ManualClock
from tests.conftest import DEFAULT_LIMITS, at, write_office
from tests.faults.harness import LocalDispatcher, json_replies, memory_matches_disk

KIOSK, COUNTER = "motcua/demo/cmd/kiosk/k{}", "motcua/demo/cmd/counter/{}"

# Each is valid JSON as a device could send it; none may take a ticket or stop the others.
POISON = [
    b'{"v":1,"id":"poison-0001","type":"walk_in","service":"\\ud800"}',
    b'{"v":1,"id":"poison-0002","type":"walk_in","service":"A","priority":' + b"9" * 5000 + b"}",
    b'{"v":1,"id":"poison-0003","type":"walk_in","service":"A","x":1e999999}',
    b'{"v":1,"id":"poison-0004","type":"walk_in","service":"A","x":NaN}',
    b'{"v":1,"id":"poison-0005","type":"walk_in","service":"A","\\udfff":1}',
    b'{"v":1,"id":"poison-0006","type":"refuse","reason":"x\\ud83d"}',
    b'{"v":true,"id":"poison-0007","type":"walk_in","service":"A"}',
    b'{"v":1,"id":"poison-0008","type":"walk_in","service":" A "}',
    b'{"v":1,"id":"poison-0009","type":"walk_in","service":"A","priority":1}',
    b'{"v":1.0,"id":"poison-0010","type":"walk_in","service":"A"}',
    b'{"v":1,"id":"poison-0011","type":"call","ticket":"a001"}',
]


def cmd(cmd_id: str, ctype: str, **fields: Any) -> bytes:
    return json.dumps({"v": 1, "id": cmd_id, "type": ctype, **fields}).encode()


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[LocalDispatcher]:
    d = LocalDispatcher(config.load(write_office(tmp_path)), ManualClock(at("09:00")))
    yield d
    d.close()


def rebuilt(desk: LocalDispatcher) -> dict[str, Any]:
    """The hall a fresh dispatcher would build from the database now."""
    store = Store(desk.office.storage, lock=False)
    try:
        return summary(store.load_hall(desk.office, desk.d.hall.day))
    finally:
        store.close()


def summary(hall: Any) -> dict[str, Any]:
    return {"tickets": {n: (str(t.status), t.counter, t.seq) for n, t in hall.tickets.items()},
            "counters": {c: (str(s.status), s.current) for c, s in hall.counters.items()},
            "seq": hall.seq, "last": dict(hall.last_number), "waiting": sorted(
                t.number for t in hall.waiting())}


def test_poison_beside_60_walk_ins_fails_alone(desk: LocalDispatcher) -> None:
    good = [(KIOSK.format(i % 3), cmd(f"good-{i:04d}", "walk_in", service="AB"[i % 2]))
            for i in range(60)]
    batch = list(good)
    for k, p in enumerate(POISON):
        batch.insert(5 * k + 2, (KIOSK.format(9), p))
    out = desk.d.handle_batch(batch)
    replies = {r["id"]: r for r in json_replies(out)}
    numbers = [replies[f"good-{i:04d}"]["ticket"]["number"] for i in range(60)]
    assert len(set(numbers)) == 60
    assert sorted(numbers) == [f"A{i:03d}" for i in range(1, 31)] + [
        f"B{i:03d}" for i in range(1, 31)]
    for k in range(1, len(POISON) + 1):
        cmd_id = f"poison-{k:04d}"
        assert replies[cmd_id]["error"]["code"] == "bad_request", replies[cmd_id]
        assert replies[cmd_id]["error"]["detail"]
    every = b"".join(o.payload for o in out)
    every.decode("utf-8")  # every byte that left is valid UTF-8 JSON
    for o in out:
        json.loads(o.payload)
    memory_matches_disk(desk)
    assert summary(desk.d.hall) == rebuilt(desk)
    # A retry of a poisoned id gets its first answer; a retry of a good one, its ticket.
    assert json_replies(desk.d.handle(KIOSK.format(9), POISON[0]))[0]["error"]["code"] == (
        "bad_request")
    again = json_replies(desk.d.handle(KIOSK.format(0), good[0][1]))[0]
    assert again == replies["good-0000"]


def test_strict_messages_name_the_field(desk: LocalDispatcher) -> None:
    cases: dict[str, dict[str, object]] = {
             "'v' must be the integer 1": {"v": True, "service": "A"},
             "'service' must be 1-8": {"service": " A "},
             "'priority' must be true or false": {"service": "A", "priority": 1}}
    for i, (says, fields) in enumerate(cases.items()):
        body = {"v": 1, "id": f"strict-{i:04d}", "type": "walk_in", **fields}
        reply = json_replies(desk.d.handle(KIOSK.format(1), json.dumps(body).encode()))[0]
        assert reply["error"]["code"] == "bad_request" and says in reply["error"]["detail"]
        assert says in reply["error"]["message_en"]
    assert not desk.d.hall.tickets


FAULT_POINTS = ["save_ticket", "append_event", "save_reply", "save_counter", "record",
                "load_hall_never"]


def _mixed_batch(round_: int) -> list[tuple[str, bytes]]:
    r = f"{round_:03d}"
    return [(KIOSK.format(1), cmd(f"w1-{r}-x", "walk_in", service="A")),
            (COUNTER.format(1), cmd(f"n1-{r}-x", "next")),
            (KIOSK.format(2), cmd(f"w2-{r}-x", "walk_in", service="B", priority=True)),
            (COUNTER.format(2), cmd(f"n2-{r}-x", "next")),
            (COUNTER.format(1), cmd(f"d1-{r}-x", "done")),
            (KIOSK.format(1), cmd(f"w3-{r}-x", "walk_in", service="A")),
            (COUNTER.format(3), cmd(f"n3-{r}-x", "next"))]


@pytest.mark.parametrize("method", FAULT_POINTS[:-1])
def test_a_fault_at_every_step_of_a_batch_stays_with_its_command(
        desk: LocalDispatcher, method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inject a failure at the k-th call of a store method inside a batch, for every k:
    the command it hit fails alone, every other one is answered, and memory equals a
    fresh rebuild from the database."""
    store = desk.d.store
    original = getattr(store, method)
    for k in range(1, 12):
        calls = [0]

        def failing(*args: Any, calls: list[int] = calls, k: int = k, **kwargs: Any) -> Any:
            calls[0] += 1
            if calls[0] == k:
                raise sqlite3.IntegrityError(f"injected fault at {method} call {k}")
            return original(*args, **kwargs)

        batch = _mixed_batch(k)
        monkeypatch.setattr(store, method, failing)
        out = desk.d.handle_batch(batch)
        monkeypatch.setattr(store, method, original)
        replies = json_replies(out)
        ids = [json.loads(p)["id"] for _, p in batch]
        assert sorted(r["id"] for r in replies) == sorted(ids), (method, k)
        failed = [r for r in replies if not r["ok"] and r["error"]["code"] == "bad_request"]
        assert len(failed) <= 1, (method, k, failed)
        assert summary(desk.d.hall) == rebuilt(desk), (method, k)
        memory_matches_disk(desk)
        # The failed one, retried, keeps its answer; the office goes on normally.
        for r in failed:
            topic, payload = next((t, p) for t, p in batch if json.loads(p)["id"] == r["id"])
            assert json_replies(desk.d.handle(topic, payload))[0] == r
    numbers = [t.number for t in desk.d.hall.tickets.values()]
    assert len(numbers) == len(set(numbers))


def test_a_reply_that_cannot_be_encoded_stores_nothing(
        desk: LocalDispatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reply is encoded before the commit: a reply that cannot be sent is not kept."""
    from dispatcher import service

    real = service.encode
    monkeypatch.setattr(service, "encode",
                        lambda m: real(m) if getattr(m, "id", None) != "enc-fail-1"
                        else "\ud800".encode())
    out = desk.d.handle_batch([(KIOSK.format(1), cmd("enc-ok-001", "walk_in", service="A")),
                               (KIOSK.format(2), cmd("enc-fail-1", "walk_in", service="A")),
                               (KIOSK.format(3), cmd("enc-ok-002", "walk_in", service="A"))])
    replies = {r["id"]: r for r in json_replies(out)}
    assert replies["enc-ok-001"]["ticket"]["number"] == "A001"
    assert replies["enc-fail-1"]["error"]["code"] == "bad_request"
    assert replies["enc-ok-002"]["ticket"]["number"] == "A002"  # no gap: nothing kept
    assert summary(desk.d.hall) == rebuilt(desk)


def test_limits_per_device_from_the_office_file(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path, limits=DEFAULT_LIMITS))
    assert office.limits.rate("kiosk") == (0.5, 10)
    ticks = [0.0]
    desk = LocalDispatcher(office, ManualClock(at("09:00")))
    desk.d.ticks = lambda: ticks[0]
    try:
        replies = [desk.send("kiosk", "k1", "walk_in", service="A") for _ in range(25)]
        assert [r is not None and r["ok"] for r in replies[:10]] == [True] * 10
        reply = replies[10]
        assert reply is not None
        assert reply["error"]["code"] == "rate_limited" and reply["retry_after"] == 2.0
        assert reply["error"]["message"].startswith("Thiết bị gửi quá nhiều")
        # Told once a second, not once a command: a flood's answers would hold up others.
        assert replies[11:] == [None] * 14
        ticks[0] += 1.0
        assert desk.reply("kiosk", "k1", "walk_in", service="A")["error"]["code"] == (
            "rate_limited")
        ticks[0] += 1.0
        # Another kiosk and the counters are not held back by k1.
        assert desk.reply("kiosk", "k2", "walk_in", service="A")["ok"]
        assert desk.ok("counter", "1", "next")["ticket"]["number"] == "A001"
        # A rate_limited answer is not remembered: the same id later takes effect.
        assert desk.reply("kiosk", "k1", "walk_in", cmd_id="later-0001", service="A")["ok"]
        assert len(desk.d.hall.tickets) == 12
    finally:
        desk.close()


def test_office_file_limits_are_checked(tmp_path: Path) -> None:
    path = write_office(tmp_path, limits="[limits]\nkiosk_per_minute = -1\n"
                        "queued_per_device = 0\nkiosk_burst = true\n")
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    text = str(err.value)
    assert "limits.kiosk_per_minute: must be between 0 and 100000" in text
    assert "limits.queued_per_device: must be at least 1" in text
    assert "limits.kiosk_burst: must be an integer" in text or "kiosk_burst" in text


def test_a_command_failing_after_the_day_rolled_keeps_the_new_day(
        desk: LocalDispatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first walk-in of a morning rolls the day; a command after it in the same batch
    fails: memory stays on the new day, as the database is (found by attacking it)."""
    from datetime import timedelta

    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.clock.now = at("08:00") + timedelta(days=1)
    original = desk.d.store.save_reply

    def failing(role: str, device: str, cmd_id: str, *args: Any) -> None:
        if cmd_id == "thu-fails-1":
            raise sqlite3.IntegrityError("injected")
        original(role, device, cmd_id, *args)

    monkeypatch.setattr(desk.d.store, "save_reply", failing)
    out = desk.d.handle_batch([(KIOSK.format(1), cmd("thu-walk-1", "walk_in", service="A")),
                               (KIOSK.format(2), cmd("thu-fails-1", "walk_in", service="B"))])
    replies = {r["id"]: r for r in json_replies(out)}
    assert replies["thu-walk-1"]["ticket"]["number"] == "A001"
    assert replies["thu-fails-1"]["error"]["code"] == "bad_request"
    assert str(desk.d.hall.day) == "2026-11-26" and list(desk.d.hall.tickets) == ["A001"]
    assert summary(desk.d.hall) == rebuilt(desk)


def test_long_decimals_are_refused_like_long_integers(desk: LocalDispatcher) -> None:
    for i, number in enumerate([b"1234567890123456789.0", b"0.1234567890123456789012345"]):
        payload = (b'{"v":1,"id":"decimal-%02d","type":"walk_in","service":"A","n":' % i
                   + number + b"}")
        reply = json_replies(desk.d.handle(KIOSK.format(1), payload))[0]
        assert reply["error"]["code"] == "bad_request" and "'n'" in reply["error"]["detail"]
    assert not desk.d.hall.tickets
