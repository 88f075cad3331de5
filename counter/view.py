"""What the terminal shows, computed from the dispatcher's retained state: no Kivy, no MQTT."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from counter.texts import ARRIVAL, DISCONNECTED, DISPATCHER_DOWN, WAITING_STATE, duration, hhmm, nfc

ACTIONS_NEEDING_TICKET = ("recall", "done", "no_show", "transfer", "refuse")


@dataclass
class DeskState:
    """The latest of everything the terminal has heard; the UI redraws from this alone."""

    counter: str
    config: dict[str, Any]
    counter_state: dict[str, Any] | None = None
    order: dict[str, Any] | None = None
    connected: bool = False
    dispatcher_online: bool | None = None  # None: no presence heard yet
    busy: str | None = None  # the action whose reply is awaited
    clock_offset: float = 0.0  # dispatcher clock minus local clock, seconds

    @property
    def current(self) -> dict[str, Any] | None:
        cur = (self.counter_state or {}).get("current")
        return cur if isinstance(cur, dict) else None

    @property
    def paused(self) -> bool:
        return (self.counter_state or {}).get("status") == "paused"

    def counter_cfg(self, cid: str | None = None) -> dict[str, Any]:
        cid = cid or self.counter
        for c in _list(self.config.get("counters")):
            if isinstance(c, dict) and str(c.get("id")) == cid:
                return c
        return {"id": cid, "name": f"Quầy {cid}", "services": [], "bookings": False}

    def services(self) -> list[dict[str, Any]]:
        return [s for s in _list(self.config.get("services")) if isinstance(s, dict)]

    def service_name(self, code: str) -> tuple[str, str]:
        for s in self.services():
            if s.get("code") == code:
                return nfc(s.get("name", code)), nfc(s.get("name_en", ""))
        return nfc(code), ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def enabled(state: DeskState) -> dict[str, bool]:
    """Which actions apply now: nothing while disconnected, unsure or waiting for a reply."""
    ready = state.connected and state.counter_state is not None and state.busy is None
    serving = ready and state.current is not None
    return {
        "next": ready and not state.paused,
        "call": ready and not state.paused,
        "pause_resume": ready,
        **{a: serving for a in ACTIONS_NEEDING_TICKET},
    }


@dataclass
class Screenful:
    title: str = ""
    status_vi: str = ""
    status_en: str = ""
    paused: bool = False
    banner: str = ""  # the plain red line when something is down
    number: str = "—"
    service: str = ""
    kind: str = ""
    served: str = ""
    priority: str = ""
    next_here: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    waiting_total: str = ""


def served_seconds(state: DeskState, now: datetime) -> float | None:
    cur = state.current
    stamp = (cur or {}).get("called_at") or (state.counter_state or {}).get("since")
    if not cur or not stamp:
        return None
    try:
        since = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return now.timestamp() + state.clock_offset - since.timestamp()


def tiers(state: DeskState) -> dict[str, str]:
    found: dict[str, str] = {}
    queues = (state.order or {}).get("queues")
    for queue in (queues.values() if isinstance(queues, dict) else []):
        for item in _list(queue):
            if isinstance(item, dict) and "ticket" in item:
                found[str(item["ticket"])] = str(item.get("tier", ""))
    return found


def next_here(state: DeskState) -> list[str]:
    counters = (state.order or {}).get("counters")
    mine = counters.get(state.counter) if isinstance(counters, dict) else None
    numbers = _list((mine or {}).get("next")) or _list((state.counter_state or {}).get("next"))
    return [nfc(n) for n in numbers if isinstance(n, str)]


def waiting_counts(state: DeskState) -> list[tuple[str, str, int]]:
    """(code, name, waiting) for each service this counter takes, from the ordering."""
    queues = (state.order or {}).get("queues")
    queues = queues if isinstance(queues, dict) else {}
    out = []
    for code in _list(state.counter_cfg().get("services")):
        count = 0
        for item in _list(queues.get(code)):
            if isinstance(item, dict):
                count += int(item["more"]) if isinstance(item.get("more"), int) else 1
        out.append((str(code), state.service_name(str(code))[0], count))
    return out


def screenful(state: DeskState, now: datetime) -> Screenful:
    me = state.counter_cfg()
    name = nfc(state.config.get("name", ""))
    s = Screenful(title=f"{nfc(me.get('name', state.counter))} · {name}" if name
                  else nfc(me.get("name", state.counter)))
    s.paused = state.paused
    if state.paused:
        s.status_vi, s.status_en = "TẠM DỪNG", "paused"
    elif state.counter_state is not None:
        s.status_vi, s.status_en = "ĐANG NHẬN KHÁCH", "open"
    if not state.connected:
        s.banner = "\n".join(DISCONNECTED)
    elif state.dispatcher_online is False:
        s.banner = "\n".join(DISPATCHER_DOWN)
    elif state.counter_state is None:
        s.banner = "\n".join(WAITING_STATE)
    cur = state.current
    if cur:
        s.number = nfc(cur.get("number", "?"))
        code = str(cur.get("service", ""))
        vi, en = state.service_name(code)
        s.service = f"{code} · {vi}" + (f"  ({en})" if en else "")
        booking = cur.get("booking") if isinstance(cur.get("booking"), dict) else None
        if booking:
            arr_vi, arr_en = ARRIVAL.get(str(booking.get("arrival")), ("", ""))
            slot = f"{hhmm(booking.get('start'))}–{hhmm(booking.get('end'))}"
            s.kind = f"Lịch hẹn {slot} · {arr_vi}  (booking, {arr_en})" if arr_vi \
                else f"Lịch hẹn {slot}  (booking)"
        else:
            s.kind = "Khách vãng lai  (walk-in)"
        flags = []
        if cur.get("priority"):
            flags.append("Ưu tiên (priority)")
        if cur.get("transferred"):
            flags.append("Chuyển đến (transferred)")
        s.priority = " · ".join(flags)
        seconds = served_seconds(state, now)
        if seconds is not None:
            s.served = f"Đã phục vụ {duration(seconds)}  (serving for)"
    known = tiers(state)
    s.next_here = [f"{n}   {'lịch hẹn (booking)' if known.get(n) == 'booking' else ''}".rstrip()
                   for n in next_here(state)]
    s.waiting = [f"{code} · {vi}: {count}" for code, vi, count in waiting_counts(state)]
    total = (state.counter_state or {}).get("waiting")
    if isinstance(total, int):
        s.waiting_total = str(total)
    return s


@dataclass(frozen=True)
class Target:
    kind: str  # "service" or "counter"
    id: str
    label: str


def transfer_targets(state: DeskState) -> list[Target]:
    """Every service of the office, then every other counter: where a ticket can go on."""
    out = [Target("service", str(s.get("code")),
                  f"Dịch vụ {s.get('code')} · {nfc(s.get('name', ''))}")
           for s in state.services() if s.get("code")]
    for c in _list(state.config.get("counters")):
        if isinstance(c, dict) and str(c.get("id")) != state.counter:
            out.append(Target("counter", str(c.get("id")), nfc(c.get("name", c.get("id")))))
    return out


def call_prefixes(state: DeskState) -> list[str]:
    """Ticket letters, this counter's services first, then the others, then bookings."""
    mine = [str(c) for c in _list(state.counter_cfg().get("services"))]
    by_code = {str(s.get("code")): str(s.get("prefix", "")) for s in state.services()}
    ordered = [by_code[c] for c in mine if by_code.get(c)]
    ordered += [p for p in by_code.values() if p]
    booking = state.config.get("booking")
    if isinstance(booking, dict) and booking.get("ticket_prefix"):
        ordered.append(str(booking["ticket_prefix"]))
    seen: list[str] = []
    for p in ordered:
        if p not in seen:
            seen.append(p)
    return seen or ["A"]


def ticket_number(prefix: str, digits: str) -> str | None:
    """A012 from ("A", "12"), as the dispatcher numbers tickets; None until a digit is typed."""
    if not digits.isdigit() or int(digits) == 0:
        return None
    return f"{prefix}{int(digits):03d}"
