"""`motcua doctor`: is this device ready for the day? One line per check, in Vietnamese and
English, each saying what to do; exit 0 when nothing needs a person.

    motcua doctor --config office.toml [--broker URL] [--device ROLE/ID] [--json] [--strict]

Each check is a small function returning a Check, so each can be tested alone; `run`
puts them together. What touches the broker is one throwaway connection (`observe`): the
broker check, the dispatcher check and the clock check all read what it saw. Warnings
(paper low, a certificate that expires within 30 days, a clock 30 s off, a disk getting
full) exit 0 unless --strict: the hall can open, but someone should act soon.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from motcua import config as office_config
from motcua import topics
from motcua.config import ConfigError, DisplayConfig, OfficeConfig, PrinterConfig
from motcua.errors import UsageError, run_main
from motcua.mqtt import BrokerAddress, BrokerRefused, BrokerTLSError, Seen, peek
from motcua.protocol import BadMessage, Board, DispatcherDetail, Presence, read

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
ROLES = ("kiosk", "counter", "display", "admin", "dispatcher", "rating")

# -- thresholds -------------------------------------------------------------------------
CERT_WARN_DAYS = 30  # a certificate expiring sooner: renew it (re-run `motcua broker setup`)
CLOCK_WARN_S = 30.0  # this far from the dispatcher's clock: on-time/late starts to be wrong
CLOCK_FAIL_S = 120.0
DISK_WARN_BYTES = 1 << 30  # free space by the database: warn under 1 GiB or 10 %
DISK_WARN_FRACTION = 0.10
DISK_FAIL_BYTES = 100 << 20  # under 100 MiB: a busy day may fill it
HEARTBEAT_S = 2.0  # the dispatcher republishes its presence this often (docs/protocol.md)
WAIT_S = 2.5 * HEARTBEAT_S  # how long to wait for a fresh heartbeat
CAMERA_TIMEOUT_S = 5.0
TEST_PHRASE = "Mời khách hàng số A001 đến quầy số 1"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, warn, fail or skip
    message_vi: str
    message_en: str
    detail: str = ""


def ok(name: str, vi: str, en: str, detail: str = "") -> Check:
    return Check(name, OK, vi, en, detail)


def warn(name: str, vi: str, en: str, detail: str = "") -> Check:
    return Check(name, WARN, vi, en, detail)


def fail(name: str, vi: str, en: str, detail: str = "") -> Check:
    return Check(name, FAIL, vi, en, detail)


def skip(name: str, vi: str, en: str, detail: str = "") -> Check:
    return Check(name, SKIP, vi, en, detail)


# -- 1. the office file -----------------------------------------------------------------
def check_office(path: Path) -> tuple[Check, OfficeConfig | None]:
    try:
        office = office_config.load(path)
    except ConfigError as exc:
        return fail("office", f"Tệp cấu hình {path} có lỗi: sửa các dòng dưới đây",
                    f"The office file {path} has mistakes: fix the lines below",
                    "\n".join(exc.problems)), None
    return ok("office", f"Tệp cấu hình đọc được: {office.id} ({office.name})",
              f"The office file loads: {office.id} ({office.name})", str(path)), office


# -- 2, 4, 8: what the broker shows -----------------------------------------------------
@dataclass
class Observation:
    """One look at the broker with this device's account: its error, or what it sent on
    the dispatcher's presence and state/board, with the local time each message came."""

    url: str
    username: str | None
    error: ConnectionError | None = None
    seen: list[tuple[Seen, datetime]] = field(default_factory=list)


def observe(office: OfficeConfig, url: str, wait: float = WAIT_S,
            connect_timeout: float = 5.0) -> Observation:
    """Connect as this device, read the dispatcher's retained presence and board, and wait
    up to `wait` seconds for a heartbeat (a presence published after we subscribed)."""
    obs = Observation(url, office.broker.username)
    presence = topics.presence(office.id, "dispatcher", "+")
    arrived: list[datetime] = []

    def until(seen: list[Seen]) -> bool:
        arrived.append(datetime.now(UTC))
        return bool(heartbeats(list(zip(seen, arrived, strict=False)), office.id))

    try:
        got = peek(office, url, [presence, topics.state_board(office.id)], wait, until=until,
                   connect_timeout=connect_timeout)
    except ConnectionError as exc:
        obs.error = exc
        return obs
    obs.seen = list(zip(got, arrived, strict=False))
    return obs


def _later(seen: list[tuple[Seen, datetime]]) -> list[tuple[Seen, datetime]]:
    """Messages that came after the first one on their topic: the broker sends what it kept
    once, at subscribing; whatever follows on that topic was published since (live)."""
    first: set[str] = set()
    live = []
    for s, at in seen:
        if s.topic in first:
            live.append((s, at))
        first.add(s.topic)
    return live


def _presence(s: Seen) -> Presence | None:
    try:
        return read(Presence, s.payload) if s.payload else None
    except BadMessage:
        return None


def heartbeats(seen: list[tuple[Seen, datetime]], office: str) -> list[tuple[Presence, datetime]]:
    """Live `online` presences of a dispatcher, with the local time each arrived."""
    prefix = topics.presence(office, "dispatcher", "")
    out = []
    for s, at in _later(seen):
        if s.topic.startswith(prefix) and (p := _presence(s)) and p.status == "online":
            out.append((p, at))
    return out


def _refused_plainly(exc: BrokerRefused) -> bool:
    return exc.code in (134, 135, 4, 5)  # bad user name or password / not authorized (v5, v3)


def check_broker(obs: Observation) -> Check:
    try:
        address = BrokerAddress.parse(obs.url)
        where = f"{address.host}:{address.port}"
    except ValueError:
        where = obs.url
    account = obs.username or "(anonymous)"
    exc = obs.error
    if exc is None:
        return ok("broker", f"Kết nối được máy chủ MQTT {where} với tài khoản {account}",
                  f"The broker at {where} accepts this device's account {account}", obs.url)
    if isinstance(exc, BrokerRefused) and _refused_plainly(exc):
        return fail("broker", f"Máy chủ MQTT {where} từ chối tài khoản {account} (not "
                    f"authorized): sai mật khẩu hoặc chưa có tài khoản — kiểm tra [broker] "
                    f"username và password_file, chép lại thư mục thiết bị do `motcua broker "
                    f"setup` tạo",
                    f"Not authorized: the broker at {where} refused the account {account} — "
                    f"wrong password or no such account. Check [broker] username and "
                    f"password_file; copy this device's folder from `motcua broker setup` "
                    f"again", str(exc))
    if isinstance(exc, BrokerRefused):
        return fail("broker", f"Máy chủ MQTT {where} từ chối kết nối: {exc.reason}",
                    f"The broker at {where} refused the connection: {exc.reason}", str(exc))
    if isinstance(exc, BrokerTLSError):
        return fail("broker", f"Lỗi TLS với máy chủ MQTT {where}: kiểm tra [broker] ca_file "
                    f"và chứng chỉ của máy chủ (xem dòng chứng chỉ)",
                    f"TLS with the broker at {where} failed: check [broker] ca_file and the "
                    f"server certificate (see the certificates line)", str(exc))
    return fail("broker", f"Không có máy chủ MQTT ở {where}: Mosquitto trên máy chủ có chạy "
                f"không (systemctl status mosquitto)? Địa chỉ [broker] url có đúng không?",
                f"No broker at {where}: is Mosquitto running on the server (systemctl "
                f"status mosquitto)? Is [broker] url right?", str(exc))


def _needs_broker(name: str) -> Check:
    return skip(name, "Bỏ qua: chưa kết nối được máy chủ MQTT",
                "Skipped: the broker could not be reached")


def check_dispatcher(obs: Observation, office: str, wait: float = WAIT_S) -> Check:
    if obs.error is not None:
        return _needs_broker("dispatcher")
    prefix = topics.presence(office, "dispatcher", "")
    live = heartbeats(obs.seen, office)
    if live:
        p, _ = live[-1]
        try:
            d = DispatcherDetail.model_validate(p.detail or {})
        except ValueError as exc:
            return fail("dispatcher", "Bộ điều phối đang chạy nhưng trạng thái không đọc được",
                        "The dispatcher runs but its presence cannot be read", str(exc))
        who = f"pid {d.pid} @ {d.host}, since {d.since}"
        if d.storage != "ok":
            return fail("dispatcher", f"Bộ điều phối đang chạy nhưng không ghi được dữ liệu "
                        f"({d.problem or d.storage}): kiểm tra ổ đĩa và cơ sở dữ liệu trên "
                        f"máy chủ", f"The dispatcher runs but cannot record anything "
                        f"({d.problem or d.storage}): check the server's disk and database",
                        who)
        if "demo_key" in (d.warnings or []):
            return warn("dispatcher", "Bộ điều phối đang chạy, nhưng tệp cấu hình tin khóa "
                        "cổng đặt lịch DEMO (khóa riêng được công bố): ai cũng làm giả được "
                        "lịch hẹn — tạo khóa mới bằng motcua booking keygen",
                        "The dispatcher runs, but the office file trusts the DEMO portal key "
                        "(its private half is published): anyone can forge bookings — make a "
                        "new pair with motcua booking keygen", who)
        return ok("dispatcher", f"Bộ điều phối đang chạy, lưu trữ tốt (ngày {d.day}, "
                  f"{d.seq} số)", f"The dispatcher is online, storage ok (day {d.day}, "
                  f"{d.seq} tickets)", who)
    kept = [k for s, _ in obs.seen if s.topic.startswith(prefix) and (k := _presence(s))]
    if not kept:
        return fail("dispatcher", "Không thấy bộ điều phối: chưa từng chạy trên máy chủ MQTT "
                    "này — khởi động nó trên máy chủ (motcua dispatcher)",
                    "No dispatcher: none ever ran on this broker — start it on the server "
                    "(motcua dispatcher)")
    if all(p.status != "online" for p in kept):
        return fail("dispatcher", "Bộ điều phối đã dừng: khởi động lại nó trên máy chủ "
                    "(systemctl restart motcua-dispatcher hoặc motcua dispatcher)",
                    "The dispatcher is offline: start it again on the server "
                    "(systemctl restart motcua-dispatcher, or motcua dispatcher)",
                    f"last seen {kept[-1].at}" if kept[-1].at else "")
    return fail("dispatcher", f"Bộ điều phối không phản hồi: không có nhịp tim trong {wait:g} "
                f"giây (tiến trình treo hoặc vừa chết) — khởi động lại nó trên máy chủ",
                f"The dispatcher does not answer: no heartbeat in {wait:g} s (hung, or just "
                f"died) — restart it on the server", f"last presence {kept[-1].at or '?'}")


def check_clock(obs: Observation, office: str) -> Check:
    if obs.error is not None:
        return _needs_broker("clock")
    stamps: list[tuple[str, datetime]] = [(p.at, at) for p, at in heartbeats(obs.seen, office)
                                          if p.at]
    board = topics.state_board(office)
    for s, at in _later(obs.seen):  # a board published while we looked: fresh as well
        if s.topic == board:
            with contextlib.suppress(BadMessage):
                stamps.append((read(Board, s.payload).at, at))
    if not stamps:
        return skip("clock", "Bỏ qua: không có giờ mới của bộ điều phối để so",
                    "Skipped: no fresh time from the dispatcher to compare with")
    theirs, mine = stamps[-1]
    return clock_offset(datetime.fromisoformat(theirs), mine)


def clock_offset(theirs: datetime, mine: datetime) -> Check:
    """This machine's clock (`mine`, when the dispatcher's time `theirs` arrived) against
    the dispatcher's; `theirs` is whole seconds, so up to 1 s of it is rounding."""
    off = (mine - theirs).total_seconds()
    size = abs(off) if abs(off) > 1.0 else 0.0
    ahead = "nhanh" if off > 0 else "chậm"
    ahead_en = "ahead of" if off > 0 else "behind"
    said = f"{size:.0f} s"
    detail = f"here {mine.isoformat(timespec='seconds')}, dispatcher {theirs.isoformat()}"
    vi = (f"Đồng hồ máy này {ahead} hơn bộ điều phối {said}: giờ sai làm sai đúng giờ/trễ "
          f"của lịch hẹn — bật đồng bộ giờ (timedatectl set-ntp true) trên cả hai máy")
    en = (f"This machine's clock is {said} {ahead_en} the dispatcher's: wrong clocks wreck "
          f"on-time/late — turn on time sync (timedatectl set-ntp true) on both machines")
    if size > CLOCK_FAIL_S:
        return fail("clock", vi, en, detail)
    if size > CLOCK_WARN_S:
        return warn("clock", vi, en, detail)
    return ok("clock", f"Đồng hồ khớp với bộ điều phối (lệch {said})",
              f"The clock agrees with the dispatcher's ({said} apart)", detail)


# -- 3. certificates --------------------------------------------------------------------
class Certificate(NamedTuple):
    what: str  # "CA ca.crt", "server localhost:8883"
    expires: datetime
    subject: str


def _cert_of(what: str, der_or_pem: bytes) -> Certificate:
    from cryptography import x509

    cert = (x509.load_pem_x509_certificate(der_or_pem) if der_or_pem.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(der_or_pem))
    return Certificate(what, cert.not_valid_after_utc, cert.subject.rfc4514_string())


def server_certificate(host: str, port: int, timeout: float = 5.0) -> bytes:
    """The certificate the server shows (DER), not verified: an expired one is read too."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return der


def certificates(office: OfficeConfig, url: str,
                 fetch: Callable[[str, int], bytes] = server_certificate
                 ) -> tuple[list[Certificate], list[str]]:
    """The CA the office file names and the server's certificate (mqtts only); and what
    could not be read."""
    found, problems = [], []
    ca = office.broker.ca_file
    if ca is not None:
        try:
            found.append(_cert_of(f"CA {ca}", ca.read_bytes()))
        except (OSError, ValueError) as exc:
            problems.append(f"CA {ca}: {exc}")
    try:
        address = BrokerAddress.parse(url)
    except ValueError:
        return found, problems
    if address.tls:
        where = f"{address.host}:{address.port}"
        try:
            found.append(_cert_of(f"server {where}", fetch(address.host, address.port)))
        except (OSError, ValueError) as exc:
            problems.append(f"server {where}: {exc}")
    return found, problems


def check_certificates(found: list[Certificate], problems: list[str],
                       now: datetime | None = None) -> Check:
    now = now or datetime.now(UTC)
    if not found and not problems:
        return skip("certificates", "Bỏ qua: tệp cấu hình không dùng TLS (mqtt://, không có "
                    "ca_file)", "Skipped: the office file uses no TLS (mqtt://, no ca_file)")
    lines = [f"{c.what}: {c.subject}, expires {c.expires.date()}" for c in found] + problems
    detail = "\n".join(lines)
    if problems:
        return fail("certificates", "Không đọc được chứng chỉ: " + "; ".join(problems),
                    "A certificate cannot be read: " + "; ".join(problems), detail)
    first = min(found, key=lambda c: c.expires)
    days = (first.expires - now).total_seconds() / 86400
    renew_vi = "chạy lại `motcua broker setup` rồi chép ca.crt mới cho các thiết bị"
    renew_en = "re-run `motcua broker setup` and copy the new ca.crt to the devices"
    if days <= 0:
        return fail("certificates", f"Chứng chỉ {first.what} đã hết hạn ngày "
                    f"{first.expires.date()}: {renew_vi}", f"The certificate {first.what} "
                    f"expired on {first.expires.date()}: {renew_en}", detail)
    if days < CERT_WARN_DAYS:
        return warn("certificates", f"Chứng chỉ {first.what} hết hạn sau {days:.0f} ngày "
                    f"({first.expires.date()}): {renew_vi}", f"The certificate {first.what} "
                    f"expires in {days:.0f} days ({first.expires.date()}): {renew_en}", detail)
    return ok("certificates", f"Chứng chỉ còn hạn (sớm nhất: {first.expires.date()})",
              f"Certificates valid (first to expire: {first.expires.date()})", detail)


# -- 5. the database and its disk -------------------------------------------------------
def check_database(path: Path) -> Check:
    try:
        db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return fail("database", f"Không mở được cơ sở dữ liệu {path}",
                    f"Cannot open the database {path}", str(exc))
    try:
        answer = [row[0] for row in db.execute("PRAGMA quick_check")]
        db.execute("SELECT 1 FROM tickets LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        answer = [str(exc)]
    finally:
        db.close()
    if answer != ["ok"]:
        return fail("database", f"Cơ sở dữ liệu {path} bị hỏng: dừng bộ điều phối và khôi "
                    f"phục bản sao lưu gần nhất", f"The database {path} is damaged: stop "
                    f"the dispatcher and restore the last backup", "; ".join(answer)[:500])
    return ok("database", f"Cơ sở dữ liệu {path} đọc được, kiểm tra quick_check tốt",
              f"The database {path} opens read-only and passes quick_check")


class Usage(NamedTuple):
    total: int
    used: int
    free: int


DiskUsage = Callable[[Path], tuple[int, int, int]]  # shutil.disk_usage: total, used, free


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit in ("B", "KiB") else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def check_disk(folder: Path, disk_usage: DiskUsage = shutil.disk_usage) -> Check:
    try:
        total, _, free = disk_usage(folder)
    except OSError as exc:
        return fail("disk", f"Không đọc được dung lượng đĩa của {folder}",
                    f"Cannot read the free space of {folder}", str(exc))
    share = free / total if total else 0.0
    said = f"{_size(free)} ({share:.0%})"
    detail = f"{folder}: {_size(free)} free of {_size(total)}"
    if free < DISK_FAIL_BYTES:
        return fail("disk", f"Đĩa chứa cơ sở dữ liệu gần đầy: còn {said} — xoá bớt tệp (nhật "
                    f"ký, bản sao lưu cũ) ngay", f"The database's disk is nearly full: "
                    f"{said} free — free space now (logs, old backups)", detail)
    if free < DISK_WARN_BYTES or share < DISK_WARN_FRACTION:
        return warn("disk", f"Đĩa chứa cơ sở dữ liệu còn ít chỗ: {said} — dọn bớt sớm",
                    f"The database's disk is getting full: {said} free — free some space "
                    f"soon", detail)
    return ok("disk", f"Đĩa còn trống {said}", f"Free disk space {said}", detail)


# -- 6. the printer ---------------------------------------------------------------------
def check_printer(cfg: PrinterConfig, timeout: float = 2.0) -> Check:
    if cfg.kind == "none":
        return skip("printer", "Bỏ qua: không dùng máy in (printer.kind = none)",
                    "Skipped: no printer (printer.kind = none)")
    if cfg.kind == "file":
        return skip("printer", f"Bỏ qua: vé được ghi ra tệp trong {cfg.file} (printer.kind = "
                    f"file)", f"Skipped: tickets are written to files in {cfg.file} "
                    f"(printer.kind = file)")
    from printer.output import PrintError, open_printer
    from printer.status import OK as PRINTER_OK
    from printer.status import PAPER_LOW, PAPER_OUT

    try:
        p = open_printer(cfg, timeout=timeout, status_timeout=min(timeout, 1.0))
    except PrintError as exc:
        return fail("printer", exc.message, exc.message_en, exc.detail)
    where = getattr(p, "where", cfg.kind)
    try:
        state = p.health()
    finally:
        p.close()
    if state == PRINTER_OK:
        return ok("printer", f"Máy in {where} sẵn sàng, còn giấy",
                  f"The printer {where} is ready, paper ok")
    if state == PAPER_LOW:
        return warn("printer", f"Máy in {where} sắp hết giấy: chuẩn bị cuộn giấy mới",
                    f"The printer {where} is low on paper: have a new roll ready")
    if state == PAPER_OUT:
        return fail("printer", f"Máy in {where} hết giấy: thay cuộn giấy",
                    f"The printer {where} is out of paper: load a new roll")
    return fail("printer", f"Máy in {where} không sẵn sàng hoặc không kết nối được: kiểm tra "
                f"nguồn, cáp, nắp máy", f"The printer {where} is offline or unreachable: "
                f"check its power, cable and cover", state)


# -- 7. the camera ----------------------------------------------------------------------
def camera_present(source: int | str) -> bool:
    """Whether a camera may be here: a numbered one needs its /dev/videoN (Linux)."""
    return not isinstance(source, int) or Path(f"/dev/video{source}").exists()


def check_camera(source: int | str, timeout: float = CAMERA_TIMEOUT_S) -> Check:
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    result: list[tuple[bool, Any]] = []

    def grab() -> None:
        cap = cv2.VideoCapture(source)
        try:
            result.append((cap.isOpened(), cap.read() if cap.isOpened() else (False, None)))
        finally:
            cap.release()

    t = threading.Thread(target=grab, name="doctor-camera", daemon=True)
    t.start()
    t.join(timeout)
    what = f"camera {source}"
    if not result:
        return fail("camera", f"Máy ảnh {source} không trả lời sau {timeout:g} giây: rút ra "
                    f"cắm lại", f"The {what} does not answer within {timeout:g} s: unplug it "
                    f"and plug it in again")
    opened, (got, frame) = result[0]
    if not opened:
        return fail("camera", f"Không mở được máy ảnh {source}: kiểm tra cáp và [kiosk] camera",
                    f"Cannot open the {what}: check its cable and [kiosk] camera")
    if not got or frame is None:
        return fail("camera", f"Máy ảnh {source} mở được nhưng không cho hình",
                    f"The {what} opens but gives no frame")
    h, w = frame.shape[:2]
    return ok("camera", f"Máy ảnh {source} cho hình {w}x{h}",
              f"The {what} gives frames ({w}x{h})")


# -- 9. the voice -----------------------------------------------------------------------
def check_voice(cfg: DisplayConfig, which: Callable[[str], str | None] = shutil.which,
                phrase: str = TEST_PHRASE) -> Check:
    if cfg.voice != "espeak-ng":
        return skip("voice", f"Bỏ qua: bảng không đọc số (display.voice = {cfg.voice})",
                    f"Skipped: the board does not speak (display.voice = {cfg.voice})")
    espeak = which("espeak-ng")
    if espeak is None:
        return fail("voice", "Chưa cài espeak-ng: bảng sẽ không đọc số — apt-get install -y "
                    "espeak-ng", "espeak-ng is not installed: the board will not speak — "
                    "apt-get install -y espeak-ng")
    from display.voice import REGION_VOICES, Voice, VoiceError, duration

    # The office's own voice: [display] voice_name, else its region's (vi-vn-x-south...).
    variant = cfg.voice_name or REGION_VOICES[cfg.region]
    with tempfile.TemporaryDirectory(prefix="motcua-doctor-") as tmp:
        try:
            voice = Voice(espeak, Path(tmp), variant)
            voice.check()
            seconds = duration(voice.wav(phrase))
        except (VoiceError, OSError, EOFError) as exc:
            return fail("voice", f"espeak-ng không đọc được câu thử: {exc}",
                        f"espeak-ng cannot render the test phrase: {exc}",
                        getattr(exc, "detail", ""))
    if which("sox") is None:
        return warn("voice", "Giọng đọc tốt, nhưng chưa cài sox (tạo tiếng chuông khi thiếu) "
                    "— apt-get install -y sox", "The voice works, but sox is missing (it "
                    "makes the chime when the shipped one is gone) — apt-get install -y sox",
                    f"test phrase {seconds:.1f} s")
    return ok("voice", f"espeak-ng đọc được câu thử bằng giọng {variant} ({seconds:.1f} giây), "
              "có sox", f"espeak-ng renders the test phrase in voice {variant} "
              f"({seconds:.1f} s); sox present")


# -- the checklist ----------------------------------------------------------------------
@dataclass
class Machine:
    """What the checks ask of this machine; tests replace parts."""

    disk_usage: DiskUsage = shutil.disk_usage
    which: Callable[[str], str | None] = shutil.which
    fetch_certificate: Callable[[str, int], bytes] = server_certificate
    camera_present: Callable[[int | str], bool] = camera_present


def _applies(role: str | None, *roles: str) -> bool:
    return role is None or role in roles


def _not_here(name: str, role: str) -> Check:
    return skip(name, f"Bỏ qua: không phải việc của thiết bị {role}",
                f"Skipped: not this {role} device's job")


def storage_checks(office: OfficeConfig, role: str | None, machine: Machine) -> list[Check]:
    path = office.storage
    if not _applies(role, "dispatcher"):
        return [_not_here("database", role or ""), _not_here("disk", role or "")]
    if not path.exists():
        if role == "dispatcher":
            folder = next((p for p in path.parents if p.exists()), Path("/"))
            return [warn("database", f"Chưa có cơ sở dữ liệu {path}: bộ điều phối tạo nó khi "
                         f"chạy lần đầu; nếu đã từng chạy, khôi phục bản sao lưu",
                         f"No database at {path} yet: the dispatcher makes it at its first "
                         f"start; if it ran before, restore the last backup"),
                    check_disk(folder, machine.disk_usage)]
        note_vi = f"Bỏ qua: không phải máy chủ (không có {path})"
        note_en = f"Skipped: not the server (no {path} here)"
        return [skip("database", note_vi, note_en), skip("disk", note_vi, note_en)]
    return [check_database(path), check_disk(path.parent, machine.disk_usage)]


def device_checks(office: OfficeConfig, role: str | None, machine: Machine) -> list[Check]:
    out = [check_printer(office.printer) if _applies(role, "kiosk")
           else _not_here("printer", role or "")]
    source = office.kiosk.camera
    if not _applies(role, "kiosk"):
        out.append(_not_here("camera", role or ""))
    elif role is None and not machine.camera_present(source):
        out.append(skip("camera", f"Bỏ qua: máy này không có máy ảnh {source}",
                        f"Skipped: no camera {source} on this machine"))
    else:
        out.append(check_camera(source))
    return out


def run(path: Path, broker: str | None = None, role: str | None = None,
        wait: float = WAIT_S, machine: Machine | None = None) -> list[Check]:
    """Every check, in the order the checklist shows them."""
    machine = machine or Machine()
    first, office = check_office(path)
    if office is None:
        later = ("broker", "certificates", "dispatcher", "database", "disk", "printer",
                 "camera", "clock", "voice")
        return [first, *(skip(n, "Bỏ qua: tệp cấu hình chưa đọc được",
                              "Skipped: the office file does not load") for n in later)]
    url = broker or office.broker.url
    obs = observe(office, url, wait)
    found, problems = certificates(office, url, machine.fetch_certificate)
    voice = (check_voice(office.display, machine.which) if _applies(role, "display")
             else _not_here("voice", role or ""))
    return [first, check_broker(obs), check_certificates(found, problems),
            check_dispatcher(obs, office.id, wait), *storage_checks(office, role, machine),
            *device_checks(office, role, machine), check_clock(obs, office.id), voice]


def exit_code(checks: Iterable[Check], strict: bool = False) -> int:
    """0 when nothing needs a person; 1 when something failed (or warned, with --strict)."""
    bad = {FAIL, WARN} if strict else {FAIL}
    return 1 if any(c.status in bad for c in checks) else 0


MARKS = {OK: "[ ok ]", WARN: "[WARN]", FAIL: "[FAIL]", SKIP: "[ -- ]"}


def render(checks: list[Check], verbose: bool = False) -> str:
    width = max(len(c.name) for c in checks)
    pad = " " * (len(MARKS[OK]) + width + 2)
    lines = []
    for c in checks:
        lines.append(f"{MARKS[c.status]} {c.name.ljust(width)} {c.message_vi}")
        lines.append(f"{pad}{c.message_en}")
        if c.detail and (verbose or c.status in (FAIL, WARN)):
            lines += [f"{pad}  {line}" for line in c.detail.splitlines()]
    n = {s: sum(c.status == s for c in checks) for s in MARKS}
    lines.append(f"Kết quả: {n[FAIL]} lỗi, {n[WARN]} cảnh báo, {n[OK]} tốt, {n[SKIP]} bỏ qua / "
                 f"Result: {n[FAIL]} failed, {n[WARN]} warnings, {n[OK]} ok, {n[SKIP]} skipped")
    return "\n".join(lines)


def _role(text: str | None) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    role, _, device = text.partition("/")
    if role not in ROLES or not topics.ID_RE.fullmatch(device or "main"):
        raise UsageError(f"--device {text!r}: phải có dạng VAI/MÃ, ví dụ kiosk/k1 "
                         f"(vai: {', '.join(ROLES)})", f"--device {text!r} must look like "
                         f"ROLE/ID, e.g. kiosk/k1 (roles: {', '.join(ROLES)})")
    return role, device or None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="motcua doctor", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--broker", help="broker URL; overrides [broker].url")
    p.add_argument("--device", help="this device, ROLE/ID (kiosk/k1, display/hall, "
                   "dispatcher/main...): only its checks run; default every check")
    p.add_argument("--json", action="store_true", help="the checks as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    p.add_argument("--wait", type=float, default=WAIT_S,
                   help=f"seconds to wait for the dispatcher's heartbeat (default {WAIT_S:g})")
    p.add_argument("-v", "--verbose", action="store_true", help="show every check's detail")
    args = p.parse_args(argv)
    role, device = _role(args.device)
    checks = run(Path(args.config), args.broker, role, args.wait)
    code = exit_code(checks, args.strict)
    if args.json:
        print(json.dumps({"device": args.device, "exit": code,
                          "checks": [asdict(c) for c in checks]}, ensure_ascii=False, indent=1))
    else:
        print(render(checks, args.verbose))
    return code


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(run_main(main, "motcua doctor"))
