"""The contract document names everything the code sends and takes (docs/protocol*.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from motcua import protocol
from motcua.clock import ManualClock
from tests.conftest import ROOT, at
from tests.dispatcher.local import LocalDispatcher

DOCS = "\n".join(p.read_text(encoding="utf-8")
                 for p in sorted((ROOT / "docs").glob("protocol*.md")))
FENCED = re.findall(r"```[a-z]*\n(.*?)```", DOCS, re.S)
SPANS = re.findall(r"`([^`\n]+)`", re.sub(r"```[a-z]*\n.*?```", "", DOCS, flags=re.S))
# A name counts as written when it stands in code: a `span` or a fenced example.
NAMED = {w for text in FENCED + SPANS for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}


def keys(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if not re.fullmatch(r"[A-Z]?\d+|[a-z]+\d*", k) or k.isalpha():
                out.add(k)
            keys(v, out)
    elif isinstance(value, list):
        for v in value:
            keys(v, out)
    return out


def test_every_error_code_and_command_is_in_the_contract() -> None:
    missing = [c for c in protocol.MESSAGES if c not in NAMED]
    assert not missing, f"error codes not in docs/protocol*.md: {missing}"
    types = [t for role in protocol.PARSERS.values() for t in role]
    assert not [t for t in types if t not in NAMED], "command types missing from the contract"


def test_every_field_sent_is_in_the_contract(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desk = LocalDispatcher(office, ManualClock(at("09:00")))
    try:
        desk.ok("kiosk", "k1", "walk_in", service="A", priority=True)
        desk.ok("kiosk", "k1", "walk_in", service="B")
        desk.ok("counter", "1", "next")
        desk.ok("counter", "1", "recall")
        desk.ok("counter", "1", "transfer", counter="2")
        desk.ok("counter", "2", "next")
        desk.ok("counter", "2", "refuse", reason="ngoài thẩm quyền", guidance="UBND xã")
        desk.error("kiosk", "k1", "walk_in", service="Z")
        sent = [m for _, m in desk.published]
        sent += [json.loads(o.payload) for o in desk.d.state(force=True)]
        found: set[str] = set()
        for m in sent:
            keys(m, found)
        assert sent and found
        services = set(office.services) | set(office.counters)
        missing = sorted(k for k in found - services if k not in NAMED)
        assert not missing, f"fields sent but not in docs/protocol*.md: {missing}"
    finally:
        desk.close()


def test_the_dispatcher_presence_is_in_the_contract() -> None:
    for key in ("instance", "pid", "host", "since", "day", "seq", "storage", "problem"):
        assert key in NAMED, key


def _message_types() -> list[type[protocol.Message]]:
    found, todo = [], [protocol.Message]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo += kind.__subclasses__()
    return [k for k in found if k.__module__ == protocol.messages.__name__]


def test_every_field_of_every_message_type_is_in_the_contract() -> None:
    """From the types themselves: a field added to motcua/protocol/messages.py without a
    word in the contract fails here, whether or not a test happens to send it."""
    kinds = _message_types()
    assert {k.__name__ for k in kinds} >= {"Reply", "Board", "Order", "CounterState",
                                           "OfficeInfo", "CallEvent", "TicketEvent",
                                           "Presence", "TicketInfo", "BookingInfo"}
    missing = sorted(f"{k.__name__}.{name}" for k in kinds for name in k.model_fields
                     if name not in NAMED)
    assert not missing, f"message fields not in docs/protocol*.md: {missing}"


def test_every_command_field_is_in_the_contract_and_goes_out_as_it_comes_back() -> None:
    """Each typed command a room sends (Requester.send) is what the dispatcher parses."""
    examples: list[protocol.Command] = [
        protocol.WalkIn("A", priority=True), protocol.CheckIn("eyJ.x.y"), protocol.Next(),
        protocol.Recall(), protocol.Done(), protocol.NoShow(), protocol.Call("A012"),
        protocol.Transfer(service="B"), protocol.Transfer(counter="3"),
        protocol.Refuse("ngoài thẩm quyền", "UBND xã"), protocol.Pause(), protocol.Resume(),
        protocol.SignIn("cb01", "0042"), protocol.SignOut(), protocol.CloseDay(),
        protocol.BookingAdd("A", at("09:00"), id="BK-1", name="Trần T. B"),
        protocol.BookingCancel("BK-1"), protocol.BookingMove("BK-1", at("10:00")),
        protocol.Verify("A012", True), protocol.Verify("A012", False, "thẻ không đọc được"),
    ]
    assert {type(c) for c in examples} == set(protocol.TYPE_OF)
    role_of = {t: role for role, parsers in protocol.PARSERS.items() for t in parsers}
    for command in examples:
        ctype, fields = protocol.wire(command)
        body = json.dumps({"v": 1, "id": "contract-1", "type": ctype, **fields}).encode()
        assert protocol.parse(role_of[ctype], body).command == command
        assert not [k for k in keys(fields, set()) if k not in NAMED], ctype
