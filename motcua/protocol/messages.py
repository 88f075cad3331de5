"""Everything the dispatcher sends — replies, state, events, presence — as one set of types.

The dispatcher builds these and `encode`s them; every client `read`s them back into the same
types, so the version is checked and the fields are validated in this one place. Pydantic
(already the office file's schema library) because the clients need validation on the way
in — a board must survive any payload — and the dispatcher needs exact JSON on the way out.

Fields follow docs/protocol.md; `tests/core/test_contract.py` checks that every field here
is written there. A field whose default is None is left out of the JSON unless it was
given (so `"ticket": null` is sent where the contract says so, and `transferred` only when
true). A client ignores fields it does not know (`extra="ignore"`): the contract only ever
adds optional fields.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from motcua.protocol.codes import MESSAGES, VERSION


def _rfc3339(text: str) -> str:
    try:
        if datetime.fromisoformat(text).tzinfo is None:
            raise ValueError("no offset")
    except ValueError as exc:
        raise ValueError(f"not an RFC 3339 time with an offset: {text[:40]!r}") from exc
    return text


Stamp = Annotated[str, AfterValidator(_rfc3339)]  # "2026-11-24T09:05:12+07:00"


class BadMessage(ValueError):
    """A payload that is not a message of this contract: its reader logs it and goes on."""


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)

    @classmethod
    @cache
    def _optional(cls) -> tuple[str, ...]:
        return tuple(k for k, f in cls.model_fields.items()
                     if f.default is None and not f.is_required())

    @model_serializer(mode="wrap")
    def _leave_out_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        given = self.model_fields_set
        for name in self._optional():
            if data.get(name) is None and name not in given:
                data.pop(name, None)
        return data


class Versioned(Message):
    """A whole payload (not a part of one): it carries the contract's version."""

    v: int = VERSION


# -- parts ------------------------------------------------------------------------------
class BookingInfo(Message):
    """A booking wherever it appears: in a ticket, a booking event, an admin reply."""

    id: str
    service: str
    start: Stamp
    end: Stamp
    arrival: str | None = None  # in a ticket: on_time, late or early
    name: str | None = None  # in an admin reply only: the name the booking was made under


class CheckInfo(Message):
    """The chip ID / fingerprint check of a ticket, as the officer recorded it."""

    verified: bool
    at: Stamp
    counter: str
    reason: str | None = None  # why not verified
    officer: str | None = None  # who checked (offices with officers)


class TicketInfo(Message):
    number: str
    service: str
    kind: str  # walk_in or booking
    status: str  # waiting, serving, done, no_show, refused, unserved
    issued_at: Stamp
    priority: bool
    ahead: int
    est_wait_min: int
    booking: BookingInfo | None
    counter: str | None
    called_at: Stamp | None
    transferred: bool | None = None
    target_counter: str | None = None
    closed_at: Stamp | None = None
    reason: str | None = None
    guidance: str | None = None
    requires: list[str] | None = None  # its service's checks: chip_id, fingerprint
    check: CheckInfo | None = None  # the check's result, once recorded
    overdue_at: Stamp | None = None  # when its wait passed the target
    officer: str | None = None  # who called it last (offices with officers)


class ErrorInfo(Message):
    code: str
    message: str
    message_en: str
    detail: str | None = None


class OfficerInfo(Message):
    code: str
    name: str


# -- replies ----------------------------------------------------------------------------
class Reply(Versioned):
    id: str
    ok: bool
    error: ErrorInfo | None = None
    ticket: TicketInfo | None = None  # a reply that issues or calls a ticket (null: nobody)
    day: str | None = None  # close_day
    booking: BookingInfo | None = None  # booking_add, booking_cancel, booking_move
    booking_date: str | None = None  # wrong_date
    retry_after: float | None = None  # rate_limited, seconds
    free_slots: list[str] | None = None  # slot_full
    reason: str | None = None  # invalid_booking
    opens_at: Stamp | None = None  # office_closed: when it opens next
    officer: OfficerInfo | None = None  # sign_in: who is now signed in
    until: Stamp | None = None  # locked: when sign-in is possible again

    @property
    def code(self) -> str | None:
        return self.error.code if self.error else None


def ok_reply(cmd_id: str, **fields: Any) -> Reply:
    return Reply(id=cmd_id, ok=True, **fields)


def error_reply(cmd_id: str, code: str, detail: str = "", *,
                message: tuple[str, str] | None = None, **extra: Any) -> Reply:
    vi, en = message or MESSAGES[code]
    if detail and code == "bad_request":
        en = f"{en} {detail}"
    error = ErrorInfo(code=code, message=vi, message_en=en, **({"detail": detail} if detail
                                                                 else {}))
    return Reply(id=cmd_id, ok=False, error=error, **extra)


# -- retained state ---------------------------------------------------------------------
class Serving(Message):
    counter: str
    counter_name: str
    ticket: str
    since: Stamp | None


class RecentCall(Message):
    ticket: str
    counter: str
    counter_name: str
    at: Stamp


class Waiting(Message):
    count: int = Field(ge=0)
    est_wait_min: int = Field(ge=0)


class OverdueInfo(Message):
    """A waiting ticket past the target wait, never called yet."""

    ticket: str
    service: str
    since: Stamp  # when its wait began to count
    waited_min: int = Field(ge=0)


class Board(Versioned):
    """state/board: what a display board shows."""

    office: str
    at: Stamp
    day: str
    seq: int
    closed: bool
    serving: list[Serving]
    recent: list[RecentCall]
    waiting: dict[str, Waiting]
    overdue: list[OverdueInfo] = []  # most overdue first; [] from a dispatcher without it
    counters: dict[str, str] = {}  # counter id -> open, paused or closed
    open: bool | None = None  # tickets are issued now: within opening hours, day not closed
    opens_at: Stamp | None = None  # when not open: the next opening


class Queued(Message):
    ticket: str
    tier: str  # booking or general: the ordering's tier
    priority: bool | None = None  # true for a priority citizen (left out otherwise)
    late: bool | None = None  # true for a booking checked in after its grace
    overdue: bool | None = None  # true when its wait passed the target


class More(Message):
    more: int  # how many more wait beyond the listed ones


class CounterOrder(Message):
    status: str  # open, paused, or closed (an office with officers: nobody signed in)
    current: str | None
    next: list[str]


class Order(Versioned):
    """state/order: the priority ordering."""

    at: Stamp
    queues: dict[str, list[Queued | More]]
    counters: dict[str, CounterOrder]


class CounterState(Versioned):
    """state/counter/{d}: one counter, with its current ticket in full."""

    counter: str
    status: str  # open, paused, or closed (an office with officers: nobody signed in)
    current: TicketInfo | None
    since: Stamp | None
    waiting: int
    next: list[str]
    overdue: list[OverdueInfo] = []  # of this counter's services, most overdue first
    officer: OfficerInfo | None = None  # who is signed in (offices with officers)


class ServiceInfo(Message):
    code: str
    name: str
    name_en: str
    prefix: str
    requires: list[str] | None = None  # chip_id, fingerprint: checked at the counter


class RefusalInfo(Message):
    reason: str
    guidance: str


class CounterInfo(Message):
    id: str
    name: str
    services: list[str]
    bookings: bool


class BookingRulesInfo(Message):
    ticket_prefix: str
    grace_minutes: int
    call_ahead_minutes: int


class KioskInfo(Message):
    priority_button: bool
    languages: list[str]


class DisplayInfo(Message):
    notices: list[str]


class OfficeInfo(Versioned):
    """state/config: the office as devices show it."""

    office: str
    name: str
    timezone: str
    hours: list[tuple[str, str]]
    services: list[ServiceInfo]
    counters: list[CounterInfo]
    booking: BookingRulesInfo
    kiosk: KioskInfo
    display: DisplayInfo
    wait_target_min: float | None = None  # past it a waiting ticket is overdue
    refusals: list[RefusalInfo] | None = None  # the reasons a counter offers


# -- events -----------------------------------------------------------------------------
class CallEvent(Versioned):
    """event/call: a call or recall to announce."""

    ticket: str
    counter: str
    counter_name: str
    kind: Literal["call", "recall"]
    at: Stamp


class TicketEvent(Versioned):
    """event/ticket: a ticket changed (`ticket`), or a booking did (`ticket` null)."""

    ticket: TicketInfo | None
    change: str
    at: Stamp
    booking: BookingInfo | None = None
    reason: str | None = None  # cancelled: why


class Logged(Versioned):
    """What the event log keeps of a fact that is not published (counter paused, day
    closed): its time."""

    at: Stamp
    officer: str | None = None  # signed_in, signed_out, sign_in_failed: the officer's code
    reason: str | None = None  # signed_out: signed_out, moved or day_closed
    level: str | None = None  # rated: the level given (motcua.ratings)


# -- presence ---------------------------------------------------------------------------
class Presence(Versioned):
    """presence/{role}/{d}: online or offline (the last will), and the device's health."""

    status: str  # online or offline
    at: Stamp | None = None
    detail: dict[str, Any] | None = None


class DispatcherDetail(Message):
    """The dispatcher's presence detail: who it is, and whether it can record."""

    instance: str
    pid: int
    host: str
    since: Stamp
    day: str
    seq: int
    storage: str  # ok or unavailable
    problem: str | None = None
    warnings: list[str] | None = None  # what is unsafe in the set-up: demo_key


# -- the wire ---------------------------------------------------------------------------
def encode(message: Message | dict[str, Any]) -> bytes:
    """Strict JSON in UTF-8: raises ValueError (or UnicodeEncodeError) on what cannot be
    sent, such as a lone surrogate or a non-finite number."""
    body = message.model_dump(mode="json") if isinstance(message, Message) else message
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


M = TypeVar("M", bound=Versioned)


def read(kind: type[M], payload: bytes) -> M:
    """The message of type `kind` in `payload`, or BadMessage saying why not. The one place
    a client checks the version."""
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadMessage(f"not JSON: {str(exc)[:120]}") from exc
    if not isinstance(body, dict):
        raise BadMessage("not a JSON object")
    v = body.get("v")
    if type(v) is not int or v != VERSION:
        raise BadMessage(f"version {str(v)[:20]!r}, not {VERSION}")
    try:
        return kind.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise BadMessage(f"not a {kind.__name__}: {where}: {first['msg']}") from exc
