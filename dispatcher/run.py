"""Start a dispatcher on MQTT for one office: store, core, link, worker — and only one.

Two dispatchers on one office would hand out the same numbers. A second one is refused
twice over: the OS lock on the database (same machine), and the broker (any machine): a
dispatcher of this office that is alive republishes its presence every few seconds.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from dispatcher.service import HEARTBEAT_S, Dispatcher, DispatcherService
from dispatcher.store import AlreadyRunning, Store, StoreError
from motcua import tokens, topics
from motcua.clock import Clock, GuardedClock, SystemClock
from motcua.config import OfficeConfig
from motcua.mqtt import Link, Seen, peek
from motcua.protocol import BadMessage, Board, DispatcherDetail, Presence, read

log = logging.getLogger(__name__)


class DatabaseBehind(StoreError):
    """The database holds fewer of today's tickets than the broker saw issued."""


def serve(office: OfficeConfig, broker_url: str, clock: Clock,
          device: str = "main", accept_database: bool = False,
          demo: bool = False) -> DispatcherService:
    warnings = [] if demo else _warnings(office)
    if isinstance(clock, SystemClock):
        clock = GuardedClock(clock, on_jump=lambda expected, wall: log.error(
            "the system clock jumped to %s (expected %s); going on from the expected time "
            "unless the new time holds for 10 minutes", wall, expected))
    store = Store(office.storage)
    try:
        dispatcher = Dispatcher(office, store, clock)
        identity: dict[str, Any] = {
            "instance": secrets.token_hex(8), "pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.now().astimezone().isoformat(timespec="seconds")}
        if warnings:
            identity["warnings"] = warnings
        check_alone(office, broker_url, dispatcher, accept_database)
    except BaseException:
        store.close()
        raise

    def link(**hooks: Any) -> Link:
        return Link.for_office(office, broker_url, "dispatcher", device,
                               clock=clock, **hooks)

    service = DispatcherService(dispatcher, link, identity).start()
    log.info("dispatcher for %s on %s, database %s, day %s", office.id, broker_url,
             office.storage, dispatcher.hall.day)
    return service


def _warnings(office: OfficeConfig) -> list[str]:
    """What is unsafe in this office's set-up, said loudly in the log at every start and
    named in the dispatcher's presence (for `motcua doctor` and the hall view)."""
    found = []
    if kids := tokens.demo_keys(office.booking.keys):
        found.append("demo_key")
        # One line, as every fact of the log: ERROR and the capitals make it loud.
        log.error(
            "DEMO KEY: tệp %s tin khóa cổng đặt lịch DEMO (%s): khóa riêng của nó được công "
            "bố cùng mã nguồn, ai cũng làm giả được lịch hẹn; tạo khóa mới: motcua booking "
            "keygen / the office file %s trusts the DEMO portal key (%s): its private half "
            "is published with the code, so anyone can forge bookings; make a new pair with "
            "motcua booking keygen", office.path, ", ".join(kids), office.path, ", ".join(kids))
    return found


def _online(seen: Seen) -> DispatcherDetail | None:
    """The detail of a dispatcher's presence that says online; None for anything else."""
    try:
        presence = read(Presence, seen.payload)
        if presence.status != "online":
            return None
        return DispatcherDetail.model_validate(presence.detail or {})
    except (BadMessage, ValidationError):
        return None


def _dead_here(detail: DispatcherDetail) -> bool:
    """A dispatcher said online from this machine, but its process is gone (kill -9)."""
    if detail.host != socket.gethostname():
        return False
    try:
        os.kill(detail.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return detail.pid == os.getpid()


def check_alone(office: OfficeConfig, url: str, dispatcher: Dispatcher,
                accept_database: bool = False) -> None:
    """Refuse to start when another dispatcher of this office is alive on the broker, or
    when this database is behind what the broker last saw of today (deleted, replaced)."""
    flt = topics.presence(office.id, "dispatcher", "+")
    try:
        retained = [s for s in peek(office, url, [flt, topics.state_board(office.id)], 0.3)
                    if s.retained and s.payload]
    except ConnectionError as exc:
        log.warning("could not ask the broker whether another dispatcher runs (%s); "
                    "going on: the database lock still keeps a second one out here", exc)
        return
    online = {s.topic: d for s in retained
              if s.topic != topics.state_board(office.id) and (d := _online(s)) is not None}
    suspects = {t: d for t, d in online.items() if not _dead_here(d)}
    if suspects:
        # Alive means it speaks again within a heartbeat or two: a presence other than
        # the one the broker kept (retained messages keep their flag here, so compare).
        kept = {s.topic: s.payload for s in retained}

        def fresh(seen: list[Seen]) -> list[Seen]:
            return [s for s in seen if s.topic in suspects and s.payload != kept[s.topic]
                    and _online(s) is not None]

        live = peek(office, url, [flt], HEARTBEAT_S * 2.5, until=lambda seen: bool(fresh(seen)))
        alive = fresh(live)
        if alive:
            d = _online(alive[-1])
            where = f"pid {d.pid} on {d.host}, since {d.since}" if d else "?"
            raise AlreadyRunning(
                f"Một bộ điều phối khác của đơn vị {office.id} đang chạy ({where}). Mỗi đơn vị "
                f"chỉ chạy một bộ điều phối.", f"Another dispatcher of office {office.id} is "
                f"running ({where}). An office runs one dispatcher only: stop the other one "
                f"first.")
    if accept_database:
        return
    hall = dispatcher.hall
    for s in retained:
        if s.topic != topics.state_board(office.id):
            continue
        try:
            board = read(Board, s.payload)
        except BadMessage:
            continue
        seq = board.seq
        if board.day == hall.day.isoformat() and seq > hall.seq:
            raise DatabaseBehind(
                f"Cơ sở dữ liệu {office.storage} chỉ có {hall.seq} số của hôm nay, nhưng "
                f"máy chủ MQTT đã thấy {seq} số được cấp: cơ sở dữ liệu đã bị xoá, thay thế "
                f"hoặc khôi phục từ bản cũ. Khôi phục bản mới nhất; chỉ khi chắc chắn, chạy "
                f"lại với --accept-database (số thứ tự có thể bị cấp trùng).",
                f"The database {office.storage} holds {hall.seq} of today's tickets, but the "
                f"broker saw {seq} issued: the database was deleted, replaced or restored "
                f"from an older copy. Restore the latest one; only if you are sure, start "
                f"with --accept-database (numbers may then be given twice).")
