"""What the board knows and shows, apart from Kivy: messages parsed once, rows to draw."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from display.speech import nfc
from motcua.config import OfficeConfig

HIGHLIGHT_S = 8.0  # the newest call stands out this long: long enough to look up and read
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
MAX_RECENT = 10


class BadMessage(ValueError):
    """A message the board cannot use; it is logged and the board keeps what it had."""


def decode(payload: bytes) -> dict[str, Any]:
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadMessage(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadMessage("not a JSON object")
    if body.get("v") != 1:
        raise BadMessage(f"unknown version {body.get('v')!r}")
    return body


def _str(body: dict[str, Any], key: str, default: str | None = None, limit: int = 120) -> str:
    value = body.get(key, default)
    if value is None:
        raise BadMessage(f"'{key}' is missing")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadMessage(f"'{key}' must be text, not {type(value).__name__}")
    return nfc(str(value))[:limit]


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadMessage(f"'{key}' must be a number")
    return max(0, int(value))


def _list(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise BadMessage(f"'{key}' must be a list of objects")
    return value


@dataclass(frozen=True)
class Serving:
    counter: str
    counter_name: str
    ticket: str
    since: str = ""


@dataclass(frozen=True)
class RecentCall:
    ticket: str
    counter: str
    counter_name: str
    at: str = ""


@dataclass(frozen=True)
class Waiting:
    count: int
    est_wait_min: int


@dataclass(frozen=True)
class Board:
    """state/board of PROTOCOL.md."""
    at: str
    serving: tuple[Serving, ...]
    recent: tuple[RecentCall, ...]
    waiting: dict[str, Waiting]
    closed: bool = False

    @classmethod
    def parse(cls, body: dict[str, Any], names: dict[str, str]) -> Board:
        serving = tuple(Serving(c := _str(s, "counter", limit=32),
                                _str(s, "counter_name", names.get(c) or f"Quầy {c}"),
                                _str(s, "ticket", limit=12), _str(s, "since", ""))
                        for s in _list(body, "serving"))
        recent = tuple(RecentCall(_str(r, "ticket", limit=12), c := _str(r, "counter", limit=32),
                                  _str(r, "counter_name", names.get(c) or f"Quầy {c}"),
                                  _str(r, "at", "")) for r in _list(body, "recent"))
        raw = body.get("waiting", {})
        if not isinstance(raw, dict) or not all(isinstance(w, dict) for w in raw.values()):
            raise BadMessage("'waiting' must be an object of services")
        waiting = {str(code): Waiting(_int(w, "count"), _int(w, "est_wait_min"))
                   for code, w in raw.items()}
        return cls(_str(body, "at", ""), serving, recent[:MAX_RECENT], waiting,
                   body.get("closed") is True)


@dataclass(frozen=True)
class Call:
    """event/call of PROTOCOL.md; `received` is when it came (time.perf_counter)."""
    ticket: str
    counter: str
    counter_name: str
    kind: str
    at: str
    received: float = 0.0

    @classmethod
    def parse(cls, body: dict[str, Any], names: dict[str, str], received: float = 0.0) -> Call:
        counter = _str(body, "counter", limit=32)
        kind = _str(body, "kind", "call")
        if kind not in ("call", "recall"):
            raise BadMessage(f"'kind' must be call or recall, not {kind!r}")
        return cls(_str(body, "ticket", limit=12), counter,
                   _str(body, "counter_name", names.get(counter) or f"Quầy {counter}"),
                   kind, _str(body, "at", ""), received)


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class OfficeInfo:
    """The office as the board shows it: from office.toml first, then state/config."""
    name: str
    services: tuple[ServiceInfo, ...]
    counters: dict[str, str]
    notices: tuple[str, ...]

    @classmethod
    def from_config(cls, office: OfficeConfig) -> OfficeInfo:
        return cls(nfc(office.name),
                   tuple(ServiceInfo(s.code, nfc(s.name), nfc(s.name_en))
                         for s in office.services.values()),
                   {c.id: nfc(c.name) for c in office.counters.values()},
                   tuple(nfc(n) for n in office.display.notices))

    def updated(self, body: dict[str, Any]) -> OfficeInfo:
        """This office with what state/config says (the dispatcher's view wins)."""
        services = tuple(ServiceInfo(_str(s, "code", limit=8), _str(s, "name"),
                                     _str(s, "name_en", "")) for s in _list(body, "services"))
        counters = {_str(c, "id", limit=32): _str(c, "name") for c in _list(body, "counters")}
        display = body.get("display")
        notices = self.notices
        if isinstance(display, dict) and isinstance(display.get("notices"), list):
            notices = tuple(nfc(str(n))[:300] for n in display["notices"] if isinstance(n, str))
        return replace(self, name=_str(body, "name", self.name), notices=notices,
                       services=services or self.services, counters=counters or self.counters)


def _counter_key(counter: str) -> tuple[int, str]:
    m = re.match(r"\d+", counter)
    return (int(m.group()) if m else 10**9, counter)


@dataclass
class BoardModel:
    """The board's state between messages and the screen; owned by the UI thread."""
    office: OfficeInfo
    rows: int = 6
    board: Board | None = None
    fresh: tuple[str, str] | None = None  # (ticket, counter) of the newest call
    fresh_until: float = 0.0
    connection: str = "connecting"  # connecting | online | lost
    dispatcher_online: bool | None = None
    extra_calls: list[Call] = field(default_factory=list)

    def apply_board(self, board: Board, now: float) -> None:
        before = {s.counter: s.ticket for s in self.board.serving} if self.board else None
        self.board = board
        if before is not None:
            # a call this board missed as an event (e.g. during a reconnect) still stands out
            changed = [s for s in board.serving if before.get(s.counter) != s.ticket]
            if changed and not self.is_fresh(now):
                newest = max(changed, key=lambda s: s.since)
                self.fresh, self.fresh_until = (newest.ticket, newest.counter), now + HIGHLIGHT_S

    def apply_call(self, call: Call, now: float) -> None:
        """Show a call at once, before the board that follows it arrives."""
        self.fresh, self.fresh_until = (call.ticket, call.counter), now + HIGHLIGHT_S
        board = self.board or Board("", (), (), {})
        serving = [s for s in board.serving if s.counter != call.counter]
        serving.append(Serving(call.counter, call.counter_name, call.ticket, call.at))
        recent = list(board.recent)
        known = any((r.ticket, r.counter) == (call.ticket, call.counter) for r in recent)
        if call.kind == "call" or not known:  # the dispatcher lists a recall where it was
            recent = [RecentCall(call.ticket, call.counter, call.counter_name, call.at)]
            recent += [r for r in board.recent
                       if (r.ticket, r.counter) != (call.ticket, call.counter)]
        self.board = replace(board, serving=tuple(serving), recent=tuple(recent[:MAX_RECENT]))

    def is_fresh(self, now: float) -> bool:
        return self.fresh is not None and now < self.fresh_until

    def serving_rows(self, now: float) -> list[tuple[str, str, bool]]:
        """(ticket, counter name, highlighted) for the table, by counter; the newest calls
        win when more counters serve than the board has rows."""
        if not self.board:
            return []
        serving = sorted(self.board.serving, key=lambda s: s.since, reverse=True)[:self.rows]
        serving.sort(key=lambda s: _counter_key(s.counter))
        fresh = self.fresh if self.is_fresh(now) else None
        return [(s.ticket, s.counter_name, (s.ticket, s.counter) == fresh) for s in serving]

    def recent_rows(self, limit: int) -> list[tuple[str, str]]:
        if not self.board:
            return []
        return [(r.ticket, r.counter_name) for r in self.board.recent[:limit]]

    def waiting_rows(self) -> list[tuple[str, str, str]]:
        """(service name, how many wait, expected wait) per service, in office order."""
        waiting = self.board.waiting if self.board else {}
        rows = []
        for s in self.office.services:
            w = waiting.get(s.code)
            if w is None:
                rows.append((s.name, "–", ""))
            elif w.count == 0:
                rows.append((s.name, "0", ""))  # nobody waits: the 0 says it all
            else:
                rows.append((s.name, str(w.count), f"~{max(1, w.est_wait_min)} phút"))
        return rows


def clock_texts(now: datetime) -> tuple[str, str]:
    """('08:42', 'Thứ Tư, 25/11/2026')."""
    return now.strftime("%H:%M"), f"{WEEKDAYS_VI[now.weekday()]}, {now:%d/%m/%Y}"
