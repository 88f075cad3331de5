"""Calls the board did not hear: made while it was cut off from the broker, still being
served when it is back. It says the newest few of them, never the ones it said already,
and never the ones that were being served when it started (a restarted board does not
call the whole hall again)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from motcua.protocol import Board, CallEvent, Serving

log = logging.getLogger(__name__)

MAX_CATCH_UP = 3  # said after a reconnect, newest ones; the others are on the board
MAX_AGE = timedelta(minutes=10)  # called longer ago than this: the citizen is long there

Key = tuple[str, str, str]  # (day, ticket, counter): numbers start again every day


def _key(day: str, ticket: str, counter: str) -> Key:
    return (day[:10], ticket, counter)


@dataclass
class Missed:
    """What this board has said, and whether it may have missed calls since.

    Runs on paho's thread only (the feed's callbacks), so it needs no lock. `board()` with
    the first state/board after a reconnect returns the calls to say now.
    """

    limit: int = MAX_CATCH_UP
    said: set[Key] = field(default_factory=set)
    before: set[Key] = field(default_factory=set)  # serving in the last board before the loss
    started: bool = False  # the first board came: what it shows is not news
    behind: bool = False  # reconnected: the next board is compared
    skipped: int = 0  # missed calls not said (beyond `limit`, or too old)

    def heard(self, call: CallEvent) -> bool:
        """Whether to announce a call event: a call once (a catch-up may have said it
        already), a recall every time."""
        key = _key(call.at, call.ticket, call.counter)
        if call.kind == "call" and key in self.said:
            return False
        self.said.add(key)
        return True

    def reconnected(self) -> None:
        self.behind = self.started

    def board(self, board: Board) -> list[CallEvent]:
        keys = {self._serving_key(board, s): s for s in board.serving}
        if not self.started:
            self.started = True
            self.said |= set(keys)  # being served before this board was: not news
            self.before = set(keys)
            return []
        if not self.behind:
            self.before = set(keys)
            return []
        self.behind = False
        missed = [s for k, s in keys.items() if k not in self.said and k not in self.before]
        self.before = set(keys)
        if not missed:
            return []
        now = _time(board.at)
        fresh = [s for s in missed
                 if now is None or (t := _time(s.since)) is None or now - t <= MAX_AGE]
        # stamps are to the second: within one, state/board's recent list (newest first)
        # tells the order
        place = {(r.ticket, r.counter): i for i, r in enumerate(board.recent)}
        fresh.sort(key=lambda s: (s.since or "", -place.get((s.ticket, s.counter), 99)))
        say = fresh[-self.limit:]
        for s in missed:
            self.said.add(self._serving_key(board, s))
        if len(say) < len(missed):
            self.skipped += len(missed) - len(say)
            log.warning("missed while offline, shown on the board but not said "
                        "(lỡ gọi khi mất kết nối, chỉ hiện trên bảng): %s",
                        ", ".join(f"{s.ticket}→{s.counter_name}" for s in missed
                                  if s not in say))
        return [CallEvent(ticket=s.ticket, counter=s.counter, counter_name=s.counter_name,
                          kind="call", at=s.since or board.at) for s in say]

    @staticmethod
    def _serving_key(board: Board, s: Serving) -> Key:
        return _key(s.since or board.day, s.ticket, s.counter)


def _time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None
