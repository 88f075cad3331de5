"""Drive the dispatcher in process as devices would, with a real SQLite file."""

from __future__ import annotations

import json
import secrets
from typing import Any

from dispatcher.service import Dispatcher
from dispatcher.store import Store
from motcua import topics
from motcua.clock import ManualClock


class LocalDispatcher:
    """Send commands to a Dispatcher as devices would, read what it publishes."""

    def __init__(self, office, clock: ManualClock):  # type: ignore[no-untyped-def]
        self.office, self.clock = office, clock
        self.d = Dispatcher(office, Store(office.storage), clock)
        self.published: list[tuple[str, dict]] = []

    def restart(self) -> None:
        self.d.store.close()
        self.d = Dispatcher(self.office, Store(self.office.storage), self.clock)

    def close(self) -> None:
        self.d.store.close()

    def raw(self, role: str, device: str, payload: bytes) -> list:
        out = self.d.handle(topics.cmd(self.office.id, role, device), payload)
        self.published += [(o.topic, json.loads(o.payload)) for o in out]
        return out

    def send(self, role: str, device: str, ctype: str, cmd_id: str | None = None,
             **fields: Any) -> dict | None:
        """The reply, or None when the dispatcher sent nothing (a device would retry)."""
        body = {"v": 1, "id": cmd_id or secrets.token_hex(8), "type": ctype, **fields}
        out = self.raw(role, device, json.dumps(body).encode())
        replies = [json.loads(o.payload) for o in out if "/reply/" in o.topic]
        assert len(replies) <= 1
        return replies[0] if replies else None

    def reply(self, role: str, device: str, ctype: str, cmd_id: str | None = None,
              **fields: Any) -> dict:
        """The reply, which there must be (whatever it says)."""
        reply = self.send(role, device, ctype, cmd_id, **fields)
        assert reply is not None, f"no reply to {ctype}"
        return reply

    def ok(self, role: str, device: str, ctype: str, **fields: Any) -> dict:
        reply = self.send(role, device, ctype, **fields)
        assert reply and reply["ok"], reply
        return reply

    def error(self, role: str, device: str, ctype: str, **fields: Any) -> str:
        reply = self.send(role, device, ctype, **fields)
        assert reply and not reply["ok"], reply
        assert reply["error"]["message"] and reply["error"]["message_en"]
        return reply["error"]["code"]

    def events(self, kind: str) -> list[dict]:
        return [m for t, m in self.published if t.endswith(f"/event/{kind}")]
