"""Staff sign-in for the counter and hall pages: an HttpOnly, SameSite=Strict cookie holding a
random session id, bound on the server to one counter (and officer) or to a head's hall view.

The counter a page acts for comes from its session, never from what the page sends: a page
signed in at counter 1 cannot send a command as counter 2."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

COOKIE = "motcua_session"
SESSION_S = 12 * 3600  # a working day; signing out or another sign-in ends it sooner
MAX_SESSIONS = 2000


@dataclass
class Session:
    id: str
    kind: str  # counter or hall
    officer: str  # the officer's code
    name: str
    counter: str = ""  # kind counter: the one counter it acts for
    started: float = 0.0

    @property
    def expired(self) -> bool:
        return time.monotonic() - self.started > SESSION_S


class Sessions:
    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}

    def new(self, kind: str, officer: str, name: str, counter: str = "") -> Session:
        if len(self._by_id) >= MAX_SESSIONS:
            self._prune()
        s = Session(secrets.token_urlsafe(32), kind, officer, name, counter, time.monotonic())
        self._by_id[s.id] = s
        return s

    def get(self, sid: str | None, kind: str) -> Session | None:
        s = self._by_id.get(sid or "")
        if s is None or s.kind != kind:
            return None
        if s.expired:
            self._by_id.pop(s.id, None)
            return None
        return s

    def end(self, sid: str | None) -> Session | None:
        return self._by_id.pop(sid or "", None)

    def end_counter(self, counter: str, keep: str = "") -> list[Session]:
        """Every counter session at `counter` but `keep` (someone else signed in there)."""
        gone = [s for s in self._by_id.values()
                if s.kind == "counter" and s.counter == counter and s.id != keep]
        for s in gone:
            del self._by_id[s.id]
        return gone

    def _prune(self) -> None:
        for s in [s for s in self._by_id.values() if s.expired]:
            del self._by_id[s.id]
        while len(self._by_id) >= MAX_SESSIONS:
            del self._by_id[min(self._by_id.values(), key=lambda s: s.started).id]
