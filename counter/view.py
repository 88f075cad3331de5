"""What the terminal shows, computed from the dispatcher's retained state: no Kivy, no MQTT."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from counter.texts import (
    ARRIVAL,
    DISCONNECTED,
    DISPATCHER_DOWN,
    WAITING_STATE,
    check_names,
    duration,
    hhmm,
    nfc,
)
from motcua.protocol import CounterInfo, CounterState, OfficeInfo, Order, Queued, TicketInfo

ACTIONS_NEEDING_TICKET = ("recall", "done", "no_show", "transfer", "refuse")


@dataclass
class DeskState:
    """The latest of everything the terminal has heard; the UI redraws from this alone."""

    counter: str
    config: OfficeInfo
    counter_state: CounterState | None = None
    order: Order | None = None
    connected: bool = False
    dispatcher_online: bool | None = None  # None: no presence heard yet
    busy: str | None = None  # the action whose reply is awaited
    clock_offset: float = 0.0  # dispatcher clock minus local clock, seconds

    @property
    def current(self) -> TicketInfo | None:
        return self.counter_state.current if self.counter_state else None

    @property
    def paused(self) -> bool:
        return self.counter_state is not None and self.counter_state.status == "paused"

    def counter_info(self, cid: str | None = None) -> CounterInfo:
        cid = cid or self.counter
        for c in self.config.counters:
            if c.id == cid:
                return c
        return CounterInfo(id=cid, name=f"Quầy {cid}", services=[], bookings=False)

    def service_name(self, code: str) -> tuple[str, str]:
        for s in self.config.services:
            if s.code == code:
                return nfc(s.name), nfc(s.name_en)
        return nfc(code), ""


def enabled(state: DeskState) -> dict[str, bool]:
    """Which actions apply now: nothing while disconnected, unsure or waiting for a reply."""
    ready = state.connected and state.counter_state is not None and state.busy is None
    serving = ready and state.current is not None
    cur = state.current
    return {
        "next": ready and not state.paused,
        "call": ready and not state.paused,
        "pause_resume": ready,
        **{a: serving for a in ACTIONS_NEEDING_TICKET},
        # Once, for a ticket whose service asks for the chip ID card or the fingerprint.
        "verify": serving and cur is not None and bool(cur.requires) and cur.check is None,
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
    check: str = ""  # what the current ticket's service asks to check, and its result
    check_tone: str = ""  # "" none, "todo" still to check, "ok" verified, "bad" not verified
    overdue: list[str] = field(default_factory=list)  # "A012  23′": past the target wait
    overdue_title: str = ""


def served_seconds(state: DeskState, now: datetime) -> float | None:
    cur = state.current
    stamp = (cur.called_at if cur else None) or (
        state.counter_state.since if state.counter_state else None)
    if not cur or not stamp:
        return None
    since = datetime.fromisoformat(stamp)  # an RFC 3339 time: checked by protocol.read
    return now.timestamp() + state.clock_offset - since.timestamp()


def tiers(state: DeskState) -> dict[str, str]:
    """Ticket number -> its tier in the ordering (booking or general)."""
    return {number: item.tier for number, item in queued(state).items()}


def queued(state: DeskState) -> dict[str, Queued]:
    """Ticket number -> its entry in the ordering (tier, priority, late)."""
    queues = state.order.queues.values() if state.order else []
    return {item.ticket: item for queue in queues for item in queue
            if isinstance(item, Queued)}


def marks(item: Queued | None) -> str:
    """What staff should know of a ticket before calling it (issue 14)."""
    if item is None:
        return ""
    found = ["lịch hẹn (booking)"] if item.tier == "booking" else []
    if item.overdue:
        found.append("QUÁ HẠN (overdue)")
    if item.late:
        found.append("trễ hẹn (late)")
    if item.priority:
        found.append("ưu tiên (priority)")
    return " · ".join(found)


OVERDUE_SHOWN = 6  # lines on the terminal; the count says how many more


def check_line(cur: TicketInfo) -> tuple[str, str]:
    """The current ticket's identity check: what to check, then what was recorded."""
    if not cur.requires:
        return "", ""
    vi, en = check_names(cur.requires)
    if cur.check is None:
        return f"Cần kiểm tra: {vi} — bấm 4\nCheck: {en} (press 4)", "todo"
    if cur.check.verified:
        return f"Đã xác minh: {vi}\nVerified: {en}", "ok"
    why = nfc(cur.check.reason or "")
    return f"Không xác minh được: {why}\nNot verified: {en}", "bad"


def overdue_lines(state: DeskState) -> tuple[list[str], str]:
    """Waits past the target for this counter's services, the longest first, and a title
    with the target and how many."""
    listed = state.counter_state.overdue if state.counter_state else []
    if not listed:
        return [], ""
    target = state.config.wait_target_min or 15
    lines = [f"{nfc(o.ticket)}   {o.waited_min}′" for o in listed[:OVERDUE_SHOWN]]
    if len(listed) > OVERDUE_SHOWN:
        lines.append(f"+{len(listed) - OVERDUE_SHOWN} …")
    return lines, f"CHỜ QUÁ {target:g} PHÚT · WAITING OVER {target:g} MIN ({len(listed)})"


def next_here(state: DeskState) -> list[str]:
    mine = state.order.counters.get(state.counter) if state.order else None
    numbers = (mine.next if mine else []) or (
        state.counter_state.next if state.counter_state else [])
    return [nfc(n) for n in numbers]


def waiting_counts(state: DeskState) -> list[tuple[str, str, int]]:
    """(code, name, waiting) for each service this counter takes, from the ordering."""
    queues = state.order.queues if state.order else {}
    out = []
    for code in state.counter_info().services:
        count = sum(1 if isinstance(item, Queued) else item.more
                    for item in queues.get(code, []))
        out.append((code, state.service_name(code)[0], count))
    return out


def screenful(state: DeskState, now: datetime) -> Screenful:
    me = state.counter_info()
    name = nfc(state.config.name)
    s = Screenful(title=f"{nfc(me.name)} · {name}" if name else nfc(me.name))
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
        s.number = nfc(cur.number)
        code = cur.service
        vi, en = state.service_name(code)
        s.service = f"{code} · {vi}" + (f"  ({en})" if en else "")
        booking = cur.booking
        if booking:
            arr_vi, arr_en = ARRIVAL.get(str(booking.arrival), ("", ""))
            slot = f"{hhmm(booking.start)}–{hhmm(booking.end)}"
            s.kind = f"Lịch hẹn {slot} · {arr_vi}  (booking, {arr_en})" if arr_vi \
                else f"Lịch hẹn {slot}  (booking)"
        else:
            s.kind = "Khách vãng lai  (walk-in)"
        flags = []
        if cur.priority:
            flags.append("Ưu tiên (priority)")
        if cur.transferred:
            flags.append("Chuyển đến (transferred)")
        s.priority = " · ".join(flags)
        s.check, s.check_tone = check_line(cur)
        seconds = served_seconds(state, now)
        if seconds is not None:
            s.served = f"Đã phục vụ {duration(seconds)}  (serving for)"
    known = queued(state)
    s.next_here = [f"{n}   {marks(known.get(n))}".rstrip() for n in next_here(state)]
    s.waiting = [f"{code} · {vi}: {count}" for code, vi, count in waiting_counts(state)]
    s.overdue, s.overdue_title = overdue_lines(state)
    if state.counter_state is not None:
        s.waiting_total = str(state.counter_state.waiting)
    return s


@dataclass(frozen=True)
class Target:
    kind: str  # "service" or "counter"
    id: str
    label: str
    label_en: str = ""  # for the English line of the result (the label is Vietnamese)


def transfer_targets(state: DeskState) -> list[Target]:
    """Every service of the office, then every other counter: where a ticket can go on."""
    out = [Target("service", s.code, f"Dịch vụ {s.code} · {nfc(s.name)}",
                  f"service {s.code} · {nfc(s.name_en or s.name)}")
           for s in state.config.services]
    out += [Target("counter", c.id, nfc(c.name), f"counter {c.id}")
            for c in state.config.counters if c.id != state.counter]
    return out


def call_prefixes(state: DeskState) -> list[str]:
    """Ticket letters, this counter's services first, then the others, then bookings."""
    by_code = {s.code: s.prefix for s in state.config.services}
    ordered = [by_code[c] for c in state.counter_info().services if by_code.get(c)]
    ordered += [p for p in by_code.values() if p]
    if state.config.booking.ticket_prefix:
        ordered.append(state.config.booking.ticket_prefix)
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
