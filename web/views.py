"""What each page shows, computed here from the contract's state: the pages only draw it.

No queue logic in the browser: positions, expected waits and overdue marks are computed on
the server from state/board, state/order, state/counter/* and the events it saw."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from display.speech import call_text, nfc
from motcua.protocol import More, Queued, TicketInfo

if TYPE_CHECKING:
    from web.hub import Hub

OVERDUE_MIN = 15  # a ticket waiting longer is red in the hall view
CLOSED = {"done", "no_show", "refused", "unserved"}


def _counter_key(counter: str) -> tuple[int, str]:
    m = re.match(r"\d+", counter)
    return (int(m.group()) if m else 10**9, counter)


def _hhmm(stamp: str | None, hub: Hub) -> str:
    if not stamp:
        return ""
    return datetime.fromisoformat(stamp).astimezone(hub.office.tz).strftime("%H:%M")


def _common(hub: Hub, kind: str) -> dict[str, Any]:
    return {"type": kind, "online": hub.online, "broker": hub.broker_up,
            "office": nfc(hub.config.name), "day": hub.day}


def service_names(hub: Hub) -> dict[str, tuple[str, str]]:
    return {s.code: (nfc(s.name), nfc(s.name_en or s.name)) for s in hub.config.services}


def board_view(hub: Hub) -> dict[str, Any]:
    view = _common(hub, "board")
    names = service_names(hub)
    b = hub.board
    view["notices"] = [nfc(n) for n in hub.config.display.notices]
    now = hub.now()
    offset = now.utcoffset()
    # whole 10 s: the view stays the same between changes (a page is sent what changed)
    view["clock_offset_s"] = round((now.timestamp() - time.time()) / 10) * 10
    view["utc_offset_min"] = int(offset.total_seconds() // 60) if offset else 0
    view["closed"] = bool(b and b.closed)
    if b is None:
        view.update(serving=[], recent=[], waiting=[], newest=None, ready=False)
        return view
    view["ready"] = True
    view["serving"] = [{"counter": s.counter, "counter_name": nfc(s.counter_name),
                        "ticket": s.ticket}
                       for s in sorted(b.serving, key=lambda s: _counter_key(s.counter))]
    view["recent"] = [{"ticket": r.ticket, "counter": r.counter,
                       "counter_name": nfc(r.counter_name), "at": _hhmm(r.at, hub)}
                      for r in b.recent]
    newest = b.recent[0] if b.recent else None
    view["newest"] = newest and {"ticket": newest.ticket, "counter_name": nfc(newest.counter_name),
                                 "text": call_text(newest.ticket, newest.counter_name),
                                 "at": newest.at}
    view["waiting"] = [{"code": code, "name": names.get(code, (code, code))[0],
                        "name_en": names.get(code, (code, code))[1], "count": w.count,
                        "est_wait_min": w.est_wait_min} for code, w in b.waiting.items()]
    return view


def positions(hub: Hub) -> dict[str, tuple[str, int, int]]:
    """ticket -> (service, how many are ahead in its queue, how many wait in it), from
    state/order (which lists the first 50 of each queue)."""
    cached = hub.positions_cache
    if cached is not None and cached[0] is hub.order:
        return cached[1]
    found: dict[str, tuple[str, int, int]] = {}
    if hub.order is not None:
        for service, queue in hub.order.queues.items():
            listed = [q for q in queue if isinstance(q, Queued)]
            more = sum(q.more for q in queue if isinstance(q, More))
            for i, q in enumerate(listed):
                found.setdefault(q.ticket, (service, i, len(listed) + more))
    hub.positions_cache = (hub.order, found)
    return found


def _estimate(hub: Hub, service: str, ahead: int, count: int) -> int:
    """The expected wait of the one with `ahead` people before them: the board's estimate
    for the service's queue, in proportion to the place in it."""
    w = hub.board.waiting.get(service) if hub.board else None
    if w is None or count <= 0:
        return 0
    return max(1 if ahead else 0, round(w.est_wait_min * (ahead + 1) / count))


def ticket_view(hub: Hub, number: str) -> dict[str, Any]:
    """What the citizen's phone shows: nothing of any other ticket."""
    view = _common(hub, "ticket")
    view["number"] = number
    known: TicketInfo | None = hub.tickets.get(number)
    service = known.service if known else None
    serving = next((s for s in hub.board.serving if s.ticket == number), None) \
        if hub.board else None
    place = positions(hub).get(number)
    if place:
        service = place[0]
    names = service_names(hub)
    if service is None:
        service = next((s.code for s in hub.config.services
                        if number.startswith(s.prefix) and number[len(s.prefix):].isdigit()),
                       None)
    view["service"] = names.get(service or "", ("", ""))
    if serving is not None:
        view.update(status="called", counter=serving.counter,
                    counter_name=nfc(serving.counter_name),
                    text=nfc(f"Mời số {number} đến {serving.counter_name}"),
                    text_en=f"Number {number}, please go to {serving.counter_name}"
                            .replace("Quầy", "counter"))
    elif known is not None and known.status in CLOSED:
        view["status"] = known.status
    elif place is not None:
        _, ahead, count = place
        view.update(status="waiting", ahead=ahead,
                    est_wait_min=_estimate(hub, place[0], ahead, count))
    elif known is not None and known.status == "waiting":
        view.update(status="waiting", ahead=known.ahead, est_wait_min=known.est_wait_min)
    elif known is not None and known.status == "serving":
        view["status"] = "served_elsewhere" if not serving else "called"
    else:
        view["status"] = "unknown"
    return view


def _waited(hub: Hub, t: TicketInfo | None) -> int | None:
    if t is None:
        return None
    return int((hub.now() - datetime.fromisoformat(t.issued_at)).total_seconds() // 60)


def hall_view(hub: Hub) -> dict[str, Any]:
    """The office head's view: queues, counters, devices, today's figures."""
    view = _common(hub, "hall")
    names = service_names(hub)
    queues = []
    order = hub.order
    target = hub.config.wait_target_min or OVERDUE_MIN
    late_ones = {o.ticket: o.waited_min for o in hub.board.overdue} if hub.board else {}
    for s in hub.config.services:
        queue = order.queues.get(s.code, []) if order else []
        rows: list[dict[str, Any]] = []
        for q in queue:
            if isinstance(q, More):
                rows.append({"more": q.more})
                continue
            said = late_ones.get(q.ticket)
            waited = said if said is not None else _waited(hub, hub.tickets.get(q.ticket))
            # The contract's mark (state/order `overdue`, state/board `overdue`), or, from a
            # dispatcher that sends none yet, the entry time against the target.
            rows.append({"ticket": q.ticket, "tier": q.tier, "priority": bool(q.priority),
                         "late": bool(q.late), "waited_min": waited,
                         "overdue": bool(q.overdue) or said is not None
                         or (waited is not None and waited >= target)})
        w = hub.board.waiting.get(s.code) if hub.board else None
        queues.append({"code": s.code, "name": names[s.code][0], "name_en": names[s.code][1],
                       "count": w.count if w else 0, "est_wait_min": w.est_wait_min if w else 0,
                       "tickets": rows})
    view["queues"] = queues
    counters = []
    pages = {p.key for p in hub.pages if p.kind == "counter"}
    for c in hub.config.counters:
        st = hub.counters.get(c.id)
        p = hub.presence.get(("counter", c.id))
        current = st.current if st else None
        counters.append({
            "id": c.id, "name": nfc(c.name), "status": st.status if st else "unknown",
            "current": current.number if current else None,
            "since": _hhmm(st.since, hub) if st else "", "waiting": st.waiting if st else 0,
            "served_min": _waited_since(hub, st.since) if st and current else None,
            # its Kivy terminal's presence, or a signed-in counter page open on this server
            "terminal": "online" if c.id in pages else (p.status if p else "unknown"),
            "officer": {"code": st.officer.code, "name": nfc(st.officer.name)}
            if st and st.officer else None})
    view["counters"] = counters
    view["devices"] = [{"role": role, "device": device, "status": p.status,
                        "printer": (p.detail or {}).get("printer"), "at": _hhmm(p.at, hub)}
                       for (role, device), p in sorted(hub.presence.items())]
    f = hub.figures
    b = hub.board
    figures: dict[str, int] = {
        "issued": f.get("issued", 0) + f.get("checked_in", 0),
        "served": f.get("done", 0), "no_show": f.get("no_show", 0),
        "refused": f.get("refused", 0), "transferred": f.get("transferred", 0),
        "waiting": sum(w.count for w in b.waiting.values()) if b else 0,
        "serving": len(b.serving) if b else 0, "seq": b.seq if b else 0}
    view["figures"] = figures
    return view


def _waited_since(hub: Hub, stamp: str | None) -> int | None:
    if not stamp:
        return None
    return int((hub.now() - datetime.fromisoformat(stamp)).total_seconds() // 60)


def _ticket_brief(hub: Hub, t: TicketInfo) -> dict[str, Any]:
    names = service_names(hub)
    b = t.booking
    return {"number": t.number, "service": names.get(t.service, (t.service, t.service)),
            "priority": t.priority, "transferred": bool(t.transferred), "kind": t.kind,
            "called_at": _hhmm(t.called_at, hub), "issued_at": _hhmm(t.issued_at, hub),
            "booking": {"start": _hhmm(b.start, hub), "end": _hhmm(b.end, hub),
                        "arrival": b.arrival} if b else None}


def counter_view(hub: Hub, counter: str, officer: str) -> dict[str, Any]:
    """The counter page of `counter`, signed in as `officer`: its state, and what its
    dialogs offer (services and counters to transfer to, refusal reasons)."""
    from counter.texts import reasons

    view = _common(hub, "counter")
    info = next((c for c in hub.config.counters if c.id == counter), None)
    st = hub.counters.get(counter)
    view["counter"] = counter
    view["counter_name"] = nfc(info.name) if info else counter
    view["ready"] = st is not None
    view["status"] = st.status if st else "unknown"
    view["officer"] = {"code": st.officer.code, "name": nfc(st.officer.name)} \
        if st and st.officer else None
    view["mine"] = bool(st and st.officer and st.officer.code == officer)
    view["current"] = _ticket_brief(hub, st.current) if st and st.current else None
    view["since"] = st.since if st and st.current else None
    view["waiting"] = st.waiting if st else 0
    view["next"] = list(st.next) if st else []
    names = service_names(hub)
    served = set(info.services) if info else set()
    view["services"] = [{"code": s.code, "name": names[s.code][0], "name_en": names[s.code][1]}
                        for s in hub.config.services]
    view["counters"] = [{"id": c.id, "name": nfc(c.name)} for c in hub.config.counters
                        if c.id != counter and set(c.services) & (served or set(c.services))]
    view["reasons"] = [{"text": r.text, "guidance": r.guidance, "typed": r.typed}
                       for r in reasons(hub.config)]  # the office's list, then "Khác"
    return view
