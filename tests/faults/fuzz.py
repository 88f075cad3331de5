"""A seeded generator of commands and booking tokens for fuzzing the dispatcher: well-formed
ones, mutated ones (fields, JSON, bytes, ids, topics) and junk; with its own oracle of
which commands carry a readable id and so must be answered."""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from motcua import protocol, topics
from motcua.protocol import MAX_COMMAND_BYTES

# The protocol's id: 8-64 of A-Za-z0-9_- (fullmatch: a trailing newline is not an id).
ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
DEVICE_RE = re.compile(r"[a-z0-9-]{1,32}")
ROLES = ("kiosk", "counter", "admin")
TYPES = {"kiosk": ("walk_in", "check_in"),
         "counter": ("next", "recall", "done", "no_show", "call", "transfer", "refuse",
                     "pause", "resume"),
         "admin": ("close_day", "booking_add", "booking_cancel", "booking_move")}
WEIRD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 2**63, 1e308, float("nan"), "", " ", "\u0000", "A" * 5000,
    "Nguyễn Văn A", "Nguye\u0302\u0303n", "\ud800".encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace"), "../../etc/passwd", "'; DROP TABLE tickets; --", "%s%n",
    [], [1, 2], {}, {"a": {"b": []}}, "2026-11-25T09:00:00+07:00", "2026-02-30T09:00:00",
    "2026-11-25T09:00:00", "A001", "a001", "Z999", "H001", "1", "99", "B", "\n", "🙂" * 10)
SIGNER = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Case:
    topic: str
    payload: bytes
    key: tuple[str, str, str] | None  # (role, device, id) when a reply is owed


def expected_key(office: str, topic: str, payload: bytes) -> tuple[str, str, str] | None:
    """The oracle, from PROTOCOL.md alone: which commands must get a reply."""
    parts = topic.split("/")
    if (len(parts) != 5 or parts[:3] != ["motcua", office, "cmd"] or parts[3] not in ROLES
            or not DEVICE_RE.fullmatch(parts[4])):
        return None
    if len(payload) > MAX_COMMAND_BYTES:
        return None
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(body, dict):
        return None
    cmd_id = body.get("id")
    if not isinstance(cmd_id, str) or not ID_RE.fullmatch(cmd_id):
        return None
    return parts[3], parts[4], cmd_id


def dispatcher_key(office: str, case: Case) -> tuple[tuple[str, str, str] | None, bool]:
    """(role, device, id) as the dispatcher's own parser reads it, and whether it rejects
    the body; for leaving out known bugs only, never as the oracle."""
    where = topics.parse_cmd(case.topic)
    if where is None or where[0] != office:
        return None, False
    try:
        envelope = protocol.parse(where[1], case.payload)
    except protocol.Rejected as exc:
        return (where[1], where[2], str(exc.extra.get("id"))), True
    except protocol.Unreadable:
        return None, False
    return (where[1], where[2], envelope.id), False


class Fuzzer:
    """Commands for one office day; `day` moves when the test moves the dispatcher's clock."""

    def __init__(self, seed: int, office: str, services: list[str], counters: list[str],
                 tz: tzinfo, sign: SIGNER, day: date, known_bugs: bool = False):
        self.rng = random.Random(seed)
        # known_bugs=False leaves out what is reported and open (see known_bug()), so the
        # fuzzer keeps finding new things; MOTCUA_FUZZ_KNOWN=1 puts it back.
        self.known_bugs = known_bugs
        self.seen: set[tuple[str, str, str]] = set()
        self.office, self.services, self.counters = office, services, counters
        self.tz, self.sign, self.day = tz, sign, day
        self.n = 0
        self.recent_ids: list[tuple[str, str, str]] = []
        self.booking_ids: list[str] = ["BK-FUZZ-1"]
        self.tickets: list[str] = ["A001", "B001", "H001"]
        self.checked_in: list[str] = []

    # -- pieces ---------------------------------------------------------------------------
    def _id(self) -> str:
        self.n += 1
        return f"fz{self.n:08d}-{self.rng.randrange(16**6):06x}"

    def _device(self, role: str) -> str:
        if role == "counter":
            return self.rng.choice([*self.counters, *self.counters, "9", "x-counter"])
        return self.rng.choice(["k1", "k2", "cli", "k-3", "a" * 32])

    def _slot(self) -> datetime:
        start = datetime.combine(self.day, datetime.min.time(), self.tz) + timedelta(hours=7)
        return start + timedelta(minutes=30 * self.rng.randrange(20))

    def token(self) -> str:
        """A booking QR text: signed and good, signed with odd claims, or mutated."""
        r = self.rng.random()
        start = self._slot()
        if self.rng.random() < 0.08:  # another day: wrong_date
            start += timedelta(days=self.rng.choice([-2, -1, 1, 7]))
        if self.rng.random() < 0.2:  # a booking seen before: already checked in, cancelled...
            booking = self.rng.choice(self.checked_in[-20:] or self.booking_ids[-50:])
        else:
            booking = f"BK-F-{self.rng.randrange(10**6):06d}"
            self.booking_ids.append(booking)
        claims: dict[str, Any] = {
            "jti": booking, "aud": self.office, "svc": self.rng.choice(self.services),
            "start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat(),
            "iat": int(start.timestamp()) - 3 * 86400}
        if r < 0.35:
            return self.sign(claims)
        if r < 0.6:
            key = self.rng.choice(list(claims) + ["name", "exp", "nbf"])
            claims[key] = self.rng.choice(WEIRD_VALUES[:24] + (
                (start - timedelta(days=1)).isoformat(), "other-office", ["demo", "x"]))
            if self.rng.random() < 0.2:
                del claims[self.rng.choice(list(claims))]
            try:
                return self.sign(claims)
            except (TypeError, ValueError):
                return "not-signable"
        return self._mutate_text(self.sign(claims))

    def _mutate_text(self, text: str) -> str:
        r, rng = self.rng.random(), self.rng
        if not text:
            return "x"
        i = rng.randrange(len(text))
        if r < 0.2:
            return text[:i] + rng.choice("A-_.=/+é\x00 ") + text[i + 1:]
        if r < 0.35:
            return text[:i]
        if r < 0.5:
            parts = text.split(".")
            rng.shuffle(parts)
            return ".".join(parts)
        if r < 0.6:
            head = base64.urlsafe_b64encode(json.dumps(
                {"alg": rng.choice(["none", "HS256", "EdDSA", "RS256"]), "kid": rng.choice(
                    ["demo-portal", "other", 1, None])}).encode()).rstrip(b"=").decode()
            return ".".join([head, *text.split(".")[1:]])
        if r < 0.7:
            return text + "." + text
        if r < 0.8:
            return text * rng.randrange(2, 40)
        if r < 0.9:
            return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(1, 80)))
        return text.replace(".", "", rng.randrange(1, 3))

    def _fields(self, role: str, ctype: str) -> dict[str, Any]:
        rng = self.rng
        if ctype == "walk_in":
            return {"service": rng.choice([*self.services, *self.services, "Z", "a"]),
                    "priority": rng.random() < 0.2}
        if ctype == "check_in":
            return {"token": self.token()}
        if ctype == "call":
            return {"ticket": rng.choice(self.tickets + ["A999", "X1", "a002"])}
        if ctype == "transfer":
            return rng.choice([{"service": rng.choice(self.services)},
                               {"counter": rng.choice(self.counters)}, {}])
        if ctype == "refuse":
            return {"reason": rng.choice(["Ngoài thẩm quyền", "", "x" * 600]),
                    "guidance": rng.choice([None, "UBND phường", 5])}
        if ctype == "booking_add":
            start = self._slot() + timedelta(days=rng.choice([0, 2, 3, 30, -1]))
            booking = {"service": rng.choice(self.services), "start": start.isoformat(),
                       "name": "Trần Thị B"}
            if rng.random() < 0.5:
                bid = f"BK-FA-{rng.randrange(10**5)}"
                self.booking_ids.append(bid)
                booking["id"] = bid
            return {"booking": booking}
        if ctype in ("booking_cancel", "booking_move"):
            fields: dict[str, Any] = {"booking": rng.choice(self.booking_ids[-50:])}
            if ctype == "booking_move":
                fields["start"] = (self._slot() + timedelta(days=rng.choice([2, 5]))).isoformat()
            return fields
        return {}

    def _mutate_body(self, body: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        for _ in range(rng.randrange(1, 4)):
            r = rng.random()
            key = rng.choice(list(body) or ["id"])
            if r < 0.3:
                body[key] = rng.choice(WEIRD_VALUES)
            elif r < 0.45:
                body.pop(key, None)
            elif r < 0.6:
                body[rng.choice(["x", "extra", "__proto__", "ticket", "service", "v"])] = \
                    rng.choice(WEIRD_VALUES)
            elif r < 0.75:
                body["type"] = rng.choice([t for ts in TYPES.values() for t in ts]
                                          + ["", "WALK_IN", "drop", None, 3])
            elif r < 0.9:
                body["id"] = rng.choice([
                    "short", "x" * 65, "x" * 64, "abcdefgh", "abcdefgh\n", "ab cdefgh",
                    "abcdéfgh", 12345678, None, "", self._id().upper(), "--------"])
            else:
                body["v"] = rng.choice([0, 2, "1", None, 1.0])
        return body

    def _mutate_bytes(self, data: bytes) -> bytes:
        rng, b = self.rng, bytearray(data)
        r = rng.random()
        if r < 0.25 and b:
            for _ in range(rng.randrange(1, 6)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            return bytes(b)
        if r < 0.4:
            return bytes(b[:rng.randrange(len(b) + 1)])
        if r < 0.5:
            return b"\xef\xbb\xbf" + bytes(b)
        if r < 0.6:
            return bytes(b) + b" " * rng.randrange(MAX_COMMAND_BYTES - len(b) - 1,
                                                    MAX_COMMAND_BYTES + 64)
        if r < 0.7:
            return bytes(b).replace(b'"', b"'", 1)
        if r < 0.8:
            return bytes(b).replace(b"}", b',"id":"dup-' + str(self.n).encode() + b'xx"}', 1)
        return bytes(b).decode("utf-8", "replace").encode("utf-16")

    def _junk(self) -> bytes:
        rng = self.rng
        r = rng.random()
        if r < 0.2:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        if r < 0.35:
            depth = rng.choice([10, 900, 5000, 100000])
            return (b'{"v":1,"id":"' + self._id().encode() + b'","type":"walk_in","service":'
                    + b"[" * depth + b"]" * depth + b"}")
        if r < 0.5:
            return json.dumps(rng.choice([[], [1], "walk_in", 42, None, True])).encode()
        if r < 0.6:
            return b'{"v":1,"id":"' + self._id().encode() + b'","type":"walk_in","service":"A",' \
                + b'"pad":"' + b"x" * MAX_COMMAND_BYTES + b'"}'
        if r < 0.7:
            return b'{"v":NaN,"id":"' + self._id().encode() + b'","type":Infinity}'
        if r < 0.8:
            return b""
        return json.dumps({"v": 1, "id": self._id(), "type": "walk_in",
                           "service": "A" * 10**4}).encode()

    def _topic(self, role: str, device: str) -> str:
        if self.rng.random() < 0.97:
            return topics.cmd(self.office, role, device)
        return self.rng.choice([
            topics.cmd("other", role, device), topics.cmd(self.office, "display", device),
            topics.cmd(self.office, role, "UPPER"), topics.cmd(self.office, role, "a" * 33),
            topics.cmd(self.office, role, device) + "/extra", topics.state_board(self.office)])

    # -- one case -------------------------------------------------------------------------
    def case(self) -> Case:
        while True:
            c = self._case()
            key, rejected = dispatcher_key(self.office, c)
            # Reported to the lead: an id this device already used, sent again with a body
            # the parser rejects (bad v, unknown type, bad field), hits the UNIQUE key of
            # the commands table, and the whole batch it came in is dropped unanswered.
            if self.known_bugs or not (rejected and key in self.seen):
                if key is not None:
                    self.seen.add(key)
                if c.key is not None:
                    self.recent_ids.append(c.key)
                return c

    def _case(self) -> Case:
        rng = self.rng
        role = rng.choice(ROLES[:2] * 4 + ROLES[2:])
        device = self._device(role)
        r = rng.random()
        if r < 0.05 and self.recent_ids:  # a retry, or an id reused with another body
            role, device, cmd_id = rng.choice(self.recent_ids[-200:])
        else:
            cmd_id = self._id()
        ctype = rng.choice(TYPES[role] * 3 + TYPES[rng.choice(ROLES)])
        if ctype == "close_day" and rng.random() < 0.9:
            ctype = "booking_cancel"  # close_day ends the fuzzing day early: keep it rare
        body: dict[str, Any] = {"v": 1, "id": cmd_id, "type": ctype,
                                **self._fields(role, ctype)}
        kind = rng.random()
        if kind < 0.45:
            payload = json.dumps(body, ensure_ascii=rng.random() < 0.5).encode()
        elif kind < 0.8:
            payload = json.dumps(self._mutate_body(body), allow_nan=True).encode()
        elif kind < 0.93:
            payload = self._mutate_bytes(json.dumps(body).encode())
        else:
            payload = self._junk()
        topic = self._topic(role, device)
        return Case(topic, payload, expected_key(self.office, topic, payload))

    def note_reply(self, reply: dict[str, Any]) -> None:
        """Ticket numbers seen in replies feed later `call` commands."""
        ticket = reply.get("ticket")
        if isinstance(ticket, dict) and isinstance(ticket.get("number"), str):
            self.tickets.append(ticket["number"])
            del self.tickets[:-100]
            if isinstance(ticket.get("booking"), dict):
                self.checked_in.append(str(ticket["booking"].get("id")))
                del self.checked_in[:-100]
