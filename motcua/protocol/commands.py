"""Commands in: typed, parsed once at the edge, strictly (docs/protocol.md, Commands)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from motcua.protocol.codes import VERSION, Rejected
from motcua.ratings import CODES

MAX_COMMAND_BYTES = 16 * 1024
CMD_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_TEXT = 500  # refusal reasons and guidance

@dataclass(frozen=True)
class WalkIn:
    service: str
    priority: bool = False


@dataclass(frozen=True)
class CheckIn:
    token: str


@dataclass(frozen=True)
class Next:
    pass


@dataclass(frozen=True)
class Recall:
    pass


@dataclass(frozen=True)
class Done:
    pass


@dataclass(frozen=True)
class NoShow:
    pass


@dataclass(frozen=True)
class Call:
    ticket: str


@dataclass(frozen=True)
class Transfer:
    service: str | None = None
    counter: str | None = None


@dataclass(frozen=True)
class Refuse:
    reason: str
    guidance: str | None = None


@dataclass(frozen=True)
class Verify:
    """The chip ID card / fingerprint check of `ticket`, the one this counter serves."""

    ticket: str
    verified: bool
    reason: str | None = None  # required when not verified, refused when verified


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class SignIn:
    officer: str
    pin: str


@dataclass(frozen=True)
class SignOut:
    pass


@dataclass(frozen=True)
class Rate:
    """A citizen's rating of a service that ended (motcua.ratings.LEVELS)."""
    ticket: str
    level: str


@dataclass(frozen=True)
class CloseDay:
    pass


@dataclass(frozen=True)
class BookingAdd:
    service: str  # a service code, or the feedback content
    start: datetime
    id: str | None = None
    end: datetime | None = None
    name: str | None = None
    made_on: date | None = None


@dataclass(frozen=True)
class BookingCancel:
    id: str


@dataclass(frozen=True)
class BookingMove:
    id: str
    start: datetime


Command = (WalkIn | CheckIn | Next | Recall | Done | NoShow | Call | Transfer | Refuse | Pause
           | Resume | SignIn | SignOut | Rate | CloseDay | BookingAdd | BookingCancel
           | BookingMove | Verify)
BOOKING_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


CODE_RE = re.compile(r"[A-Za-z0-9_-]+")


def _code(body: dict, name: str, limit: int, required: bool = True) -> str | None:
    """A service, counter or ticket code: exactly as written, no spaces around it."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise Rejected("bad_request", f"'{name}' must be a string")
    if not value or len(value) > limit or not CODE_RE.fullmatch(value):
        raise Rejected("bad_request",
                       f"'{name}' must be 1-{limit} of A-Z a-z 0-9 _ - with no spaces")
    return value


def _text(body: dict, name: str, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise Rejected("bad_request", f"'{name}' must be a string")
    value = value.strip()
    if required and not value:
        raise Rejected("bad_request", f"'{name}' must not be empty")
    if len(value) > limit:
        raise Rejected("bad_request", f"'{name}' is longer than {limit} characters")
    return value or None


PARSERS: dict[str, dict[str, Any]] = {
    "kiosk": {
        "walk_in": lambda b: WalkIn(_code(b, "service", 8) or "", _flag(b, "priority")),
        "check_in": lambda b: CheckIn(_text(b, "token", limit=4096) or ""),
    },
    "counter": {
        "next": lambda b: Next(),
        "recall": lambda b: Recall(),
        "done": lambda b: Done(),
        "no_show": lambda b: NoShow(),
        "call": lambda b: Call(_code(b, "ticket", 12) or ""),
        "transfer": lambda b: _transfer(b),
        "refuse": lambda b: Refuse(_text(b, "reason") or "", _text(b, "guidance", False)),
        "verify": lambda b: _verify(b),
        "pause": lambda b: Pause(),
        "resume": lambda b: Resume(),
        "sign_in": lambda b: SignIn(_code(b, "officer", 32) or "", _pin(b)),
        "sign_out": lambda b: SignOut(),
    },
    # A touchscreen facing the citizen at one counter; its device id is that counter's id.
    "rating": {
        "rate": lambda b: _rate(b),
    },
    # The web service (`motcua web`), for the holder of a ticket's link: its phone page.
    "web": {
        "rate": lambda b: _rate(b),
    },
    "admin": {
        "close_day": lambda b: CloseDay(),
        "booking_add": lambda b: _booking_add(b),
        "booking_cancel": lambda b: BookingCancel(_booking_id(b, "booking")),
        "booking_move": lambda b: BookingMove(_booking_id(b, "booking"), _time(b, "start")),
    },
}


def _time(body: dict, name: str) -> datetime:
    text = _text(body, name, limit=40) or ""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Rejected("bad_request", f"'{name}' must be an RFC 3339 time") from exc
    if value.tzinfo is None:
        raise Rejected("bad_request", f"'{name}' needs an offset, e.g. +07:00")
    return value


def _booking_id(body: dict, name: str) -> str:
    value = _text(body, name, limit=64) or ""
    if not BOOKING_ID_RE.fullmatch(value):
        raise Rejected("bad_request", f"'{name}' must be 1-64 of A-Z a-z 0-9 _ . -")
    return value


def _booking_add(body: dict) -> BookingAdd:
    b = body.get("booking")
    if not isinstance(b, dict):
        raise Rejected("bad_request", "'booking' must be an object")
    made_on = None
    if b.get("made_on") is not None:
        try:
            made_on = date.fromisoformat(str(b["made_on"]))
        except ValueError as exc:
            raise Rejected("bad_request", "'made_on' must be a date YYYY-MM-DD") from exc
    return BookingAdd(service=_text(b, "service", limit=64) or "", start=_time(b, "start"),
                      id=_booking_id(b, "id") if b.get("id") is not None else None,
                      end=_time(b, "end") if b.get("end") is not None else None,
                      name=_text(b, "name", False, limit=100), made_on=made_on)


def _pin(body: dict) -> str:
    value = body.get("pin")
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4,8}", value):
        raise Rejected("bad_request", "'pin' must be a string of 4 to 8 digits")
    return value


def _rate(body: dict) -> Rate:
    ticket = _code(body, "ticket", 12) or ""
    level = body.get("level")
    if not isinstance(level, str) or level not in CODES:
        raise Rejected("bad_request", f"'level' must be one of {', '.join(CODES)}")
    return Rate(ticket, level)


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise Rejected("bad_request", f"'{name}' must be true or false")
    return value


def _verify(body: dict) -> Verify:
    ticket = _code(body, "ticket", 12) or ""
    if not isinstance(body.get("verified"), bool):
        raise Rejected("bad_request", "'verified' must be true or false")
    verified = bool(body["verified"])
    reason = _text(body, "reason", required=False)
    if verified and reason is not None:
        raise Rejected("bad_request", "'reason' is only for a check that failed (verified false)")
    if not verified and reason is None:
        raise Rejected("bad_request", "'reason' is required when 'verified' is false")
    return Verify(ticket, verified, reason)


def _transfer(body: dict) -> Transfer:
    service = _code(body, "service", 8, required=False)
    counter = _code(body, "counter", 32, required=False)
    if (service is None) == (counter is None):
        raise Rejected("bad_request", "give exactly one of 'service' or 'counter'")
    return Transfer(service, counter)


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    command: Command


class Unreadable(Exception):
    """A command whose id cannot be read: dropped and logged, never answered."""


class _Bad:
    """A JSON value that no command may hold (huge integer, non-finite number)."""

    def __init__(self, what: str):
        self.what = what


def _int(text: str) -> int | _Bad:
    return int(text) if len(text.lstrip("-")) <= 18 else _Bad("an integer of over 18 digits")


def _float(text: str) -> float | _Bad:
    mantissa = re.split(r"[eE]", text, maxsplit=1)[0]
    if len(text) > 40 or sum(c.isdigit() for c in mantissa) > 18:
        return _Bad("a number of over 18 digits")
    value = float(text)
    return value if math.isfinite(value) else _Bad(f"a number out of range ({text[:20]})")


def _constant(name: str) -> _Bad:
    return _Bad(f"{name}, which is not JSON")


def _problem(body: Any) -> str | None:
    """What in a parsed command cannot be taken: a bad number or text that is not Unicode
    (a lone surrogate such as \\ud800 cannot be stored nor sent back). None when clean."""
    stack: list[tuple[str, Any]] = [("", body)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, _Bad):
            return f"'{where}' is {value.what}"
        if isinstance(value, str):
            if not _unicode(value):
                return f"'{where}' holds text that is not valid Unicode"
        elif isinstance(value, dict):
            for k, v in value.items():
                if not _unicode(k):
                    return f"a key under '{where}' is not valid Unicode"
                stack.append((f"{where}.{k}" if where else k, v))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))
    return None


def _unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_id(payload: bytes) -> str | None:
    """The command id of a payload, if it has a readable one (for replies to a failed batch)."""
    try:
        return parse_body(payload)[0]
    except Unreadable:
        return None


def parse_body(payload: bytes) -> tuple[str, dict[str, Any]]:
    """(id, body) of a command, or Unreadable when no id can be read."""
    if len(payload) > MAX_COMMAND_BYTES:
        raise Unreadable(f"{len(payload)} bytes, over the {MAX_COMMAND_BYTES}-byte limit")
    try:
        body = json.loads(payload.decode("utf-8"), parse_int=_int, parse_float=_float,
                          parse_constant=_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError too
        raise Unreadable(f"not JSON: {str(exc)[:200]}") from exc
    if not isinstance(body, dict):
        raise Unreadable("not a JSON object")
    cmd_id = body.get("id")
    if not isinstance(cmd_id, str) or not CMD_ID_RE.fullmatch(cmd_id):
        shown = cmd_id.encode("utf-8", "backslashreplace").decode() if isinstance(
            cmd_id, str) else type(cmd_id).__name__
        raise Unreadable(f"no readable id: {shown[:80]!r}")
    return cmd_id, body


def parse(role: str, payload: bytes) -> Envelope:
    """Parse one command; raise Unreadable (no id) or Rejected with the id attached."""
    cmd_id, body = parse_body(payload)
    try:
        problem = _problem(body)
        if problem:
            raise Rejected("bad_request", problem)
        v = body.get("v")
        if type(v) is not int or v != VERSION:  # true is not 1
            raise Rejected("bad_request", f"'v' must be the integer {VERSION}")
        ctype = body.get("type")
        parser = PARSERS.get(role, {}).get(ctype) if isinstance(ctype, str) else None
        if parser is None:
            raise Rejected("bad_request", f"unknown command type {str(ctype)[:40]!r} for {role}")
        return Envelope(cmd_id, str(ctype), parser(body))
    except Rejected as exc:
        exc.extra.setdefault("id", cmd_id)
        raise


TYPE_OF: dict[type, str] = {
    WalkIn: "walk_in", CheckIn: "check_in", Next: "next", Recall: "recall", Done: "done",
    NoShow: "no_show", Call: "call", Transfer: "transfer", Refuse: "refuse", Pause: "pause",
    Resume: "resume", SignIn: "sign_in", SignOut: "sign_out", Rate: "rate",
    CloseDay: "close_day",
    BookingAdd: "booking_add", BookingCancel: "booking_cancel", BookingMove: "booking_move",
    Verify: "verify",
}

COMMANDS: dict[str, type] = {name: kind for kind, name in TYPE_OF.items()}  # the other way


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def wire(command: Command) -> tuple[str, dict[str, Any]]:
    """(type, fields) of a command as a device sends it: `parse` reads it back unchanged."""
    fields = {k: _json(v) for k, v in vars(command).items() if v is not None}
    match command:
        case BookingAdd():
            fields = {"booking": fields}
        case BookingCancel() | BookingMove():
            fields["booking"] = fields.pop("id")
    return TYPE_OF[type(command)], fields
