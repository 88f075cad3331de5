"""What the board knows and shows, apart from Kivy: the contract's messages in, rows to draw."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from display.speech import nfc
from motcua.config import OfficeConfig
from motcua.protocol import Board, CallEvent, OfficeInfo, RecentCall, Serving
from motcua.views import office_info

CLOSED_TEXT = "tạm đóng"  # a counter nobody is signed in to: "Quầy 2: tạm đóng"
HIGHLIGHT_S = 8.0  # the newest call stands out this long: long enough to look up and read
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
MAX_RECENT = 10
TICKET_CHARS, NAME_CHARS = 12, 120  # what the board draws of a ticket number and a name


def shown(text: str, limit: int = NAME_CHARS) -> str:
    """Text from the wire as the board draws it: composed (NFC, so the font finds the
    glyph) and cut to what the row can hold."""
    return nfc(text)[:limit]


@dataclass(frozen=True)
class Heard:
    """A call as the board heard it: the message and when it came (time.perf_counter)."""

    call: CallEvent
    received: float = 0.0


def initial_office(office: OfficeConfig) -> OfficeInfo:
    """The office from its file, until the dispatcher's state/config comes (which wins)."""
    return office_info(office)


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

    def apply_board(self, board: Board, now: float) -> None:
        before = {s.counter: s.ticket for s in self.board.serving} if self.board else None
        self.board = board
        if before is not None:
            # a call this board missed as an event (e.g. during a reconnect) still stands out
            changed = [s for s in board.serving if before.get(s.counter) != s.ticket]
            if changed and not self.is_fresh(now):
                newest = max(changed, key=lambda s: s.since or "")
                self.fresh, self.fresh_until = (newest.ticket, newest.counter), now + HIGHLIGHT_S

    def apply_call(self, call: CallEvent, now: float) -> None:
        """Show a call at once, before the board that follows it arrives."""
        self.fresh, self.fresh_until = (call.ticket, call.counter), now + HIGHLIGHT_S
        board = self.board or Board(office="", at=call.at, day="", seq=0, closed=False,
                                    serving=[], recent=[], waiting={})
        serving = [s for s in board.serving if s.counter != call.counter]
        counters = {**board.counters, call.counter: "open"}  # it calls: someone is there
        serving.append(Serving(counter=call.counter, counter_name=call.counter_name,
                               ticket=call.ticket, since=call.at))
        recent = list(board.recent)
        known = any((r.ticket, r.counter) == (call.ticket, call.counter) for r in recent)
        if call.kind == "call" or not known:  # the dispatcher lists a recall where it was
            recent = [RecentCall(ticket=call.ticket, counter=call.counter,
                                 counter_name=call.counter_name, at=call.at)]
            recent += [r for r in board.recent
                       if (r.ticket, r.counter) != (call.ticket, call.counter)]
        self.board = board.model_copy(update={"serving": serving, "counters": counters,
                                              "recent": recent[:MAX_RECENT]})

    def is_fresh(self, now: float) -> bool:
        return self.fresh is not None and now < self.fresh_until

    def _serving(self) -> list[Serving]:
        """Who is served where; never at a counter the dispatcher says is closed."""
        if not self.board:
            return []
        return [s for s in self.board.serving if self.board.counters.get(s.counter) != "closed"]

    def closed_rows(self) -> list[str]:
        """"Quầy 2: tạm đóng" for each counter nobody is signed in to, by counter; none when
        the whole day is closed (the banner says so)."""
        if not self.board or self.board.closed:
            return []
        names = {c.id: c.name for c in self.office.counters}
        closed = sorted((cid for cid, status in self.board.counters.items()
                         if status == "closed"), key=_counter_key)
        return [f"{shown(names.get(cid, f'Quầy {cid}'))}: {CLOSED_TEXT}" for cid in closed]

    def serving_rows(self, now: float) -> list[tuple[str, str, bool]]:
        """(ticket, counter name, highlighted) for the table, by counter; the newest calls
        win when more counters serve than the board has rows."""
        if not self.board:
            return []
        serving = sorted(self._serving(), key=lambda s: s.since or "",
                         reverse=True)[:self.rows]
        serving.sort(key=lambda s: _counter_key(s.counter))
        fresh = self.fresh if self.is_fresh(now) else None
        return [(shown(s.ticket, TICKET_CHARS), shown(s.counter_name),
                 (s.ticket, s.counter) == fresh) for s in serving]

    def board_rows(self, now: float) -> list[tuple[str, str, bool]]:
        """serving_rows with the newest call first (the board draws it largest): the
        highlighted one while it is fresh, else the latest called; the rest by counter."""
        rows = self.serving_rows(now)
        if not rows or not self.board:
            return rows
        hero = next((i for i, r in enumerate(rows) if r[2]), None)
        if hero is None:
            newest = max(self._serving(), key=lambda s: s.since or "")
            key = (shown(newest.ticket, TICKET_CHARS), shown(newest.counter_name))
            hero = next((i for i, r in enumerate(rows) if r[:2] == key), 0)
        return [rows[hero], *rows[:hero], *rows[hero + 1:]]

    def recent_rows(self, limit: int) -> list[tuple[str, str]]:
        if not self.board:
            return []
        return [(shown(r.ticket, TICKET_CHARS), shown(r.counter_name))
                for r in self.board.recent[:limit]]

    def waiting_rows(self) -> list[tuple[str, str, str]]:
        """(service name, how many wait, expected wait) per service, in office order."""
        waiting = self.board.waiting if self.board else {}
        rows = []
        for s in self.office.services:
            w, name = waiting.get(s.code), shown(s.name)
            if w is None:
                rows.append((name, "–", ""))
            elif w.count == 0:
                rows.append((name, "0", ""))  # nobody waits: the 0 says it all
            else:
                rows.append((name, str(w.count), f"~{max(1, w.est_wait_min)}′"))  # minutes
        return rows

    @property
    def notices(self) -> tuple[str, ...]:
        return tuple(shown(n, 300) for n in self.office.display.notices)

    @property
    def title(self) -> str:
        return shown(self.office.name)


def clock_texts(now: datetime) -> tuple[str, str]:
    """('08:42', 'Thứ Tư, 25/11/2026')."""
    return now.strftime("%H:%M"), f"{WEEKDAYS_VI[now.weekday()]}, {now:%d/%m/%Y}"
