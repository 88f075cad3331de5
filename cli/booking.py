"""`motcua booking keygen|issue|cancel|move|import`: the office's booking tool, an admin
device that asks the dispatcher (the judge of every rule) and signs the QR tokens."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from motcua import tokens
from motcua.bookings import resolve_service
from motcua.config import OfficeConfig
from motcua.errors import MotcuaError
from motcua.mqtt import Link, NoReply, Requester
from motcua.protocol import BookingAdd, BookingCancel, BookingInfo, BookingMove, Command, Reply


class ToolError(MotcuaError):
    """A mistake the user of the booking tool can fix, said in both languages."""

    def line(self) -> str:
        """Both languages on one line, for a list of refused rows."""
        return f"{self.message} / {self.message_en}"


def keygen(out: Path, kid: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private, public = out / f"{kid}.key.pem", out / f"{kid}.pub.pem"
    if private.exists():
        raise ToolError(f"{private} đã có: chọn --kid khác",
                        f"{private} already exists: choose another --kid")
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def trusted_key(office: OfficeConfig, key: Ed25519PrivateKey, kid: str) -> Ed25519PrivateKey:
    """`key` when the office file lists its public half as `kid`; a ToolError otherwise."""
    listed = office.booking.keys.get(kid)
    if listed is None or tokens.fingerprint(listed) != tokens.fingerprint(key.public_key()):
        known = ", ".join(office.booking.keys) or "none"
        raise ToolError(
            f"Khóa này không có trong [booking.keys] của {office.path} với mã {kid!r} (có: "
            f"{known}): ki-ốt sẽ từ chối mã QR của nó. Thêm khóa công khai vào tệp cấu hình.",
            f"This key is not listed in [booking.keys] of {office.path} as {kid!r} (listed: "
            f"{known}): kiosks would refuse its QR codes. Add its public key to the office "
            f"file first.")
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError) as exc:
        raise ToolError(f"không đọc được khóa {path}: {exc}",
                        f"cannot read the key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ToolError(f"{path}: không phải khóa Ed25519", f"{path}: not an Ed25519 key")
    return key


def parse_time(office: OfficeConfig, text: str) -> datetime:
    """RFC 3339, or 'YYYY-MM-DD HH:MM' in the office's time zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ToolError(f"'{text}' không phải thời gian (2026-11-27T08:00+07:00 hoặc "
                        "2026-11-27 08:00)", f"'{text}' is not a time "
                        "(2026-11-27T08:00+07:00 or 2026-11-27 08:00)") from exc
    return value if value.tzinfo else value.replace(tzinfo=office.tz)


def sign_booking(office: OfficeConfig, booking: BookingInfo, key: Ed25519PrivateKey,
                 kid: str) -> str:
    claims: dict[str, Any] = {"jti": booking.id, "aud": office.id, "svc": booking.service,
                              "start": booking.start, "end": booking.end,
                              "iat": int(time.time())}
    if booking.name:
        claims["name"] = booking.name
    return tokens.sign(claims, key, kid)


def write_qr(token: str, path: Path) -> None:
    import segno

    path.parent.mkdir(parents=True, exist_ok=True)
    segno.make_qr(token, error="m").save(str(path), scale=8, border=4)


class Admin:
    """The booking tool on MQTT, as admin device `device`."""

    def __init__(self, office: OfficeConfig, url: str, device: str = "booking"):
        self.link = Link.for_office(office, url, "admin", device, persistent=False).start()
        self.requester = Requester(self.link)

    def send(self, command: Command | tuple[str, dict[str, Any]],
             cmd_id: str | None = None) -> Reply:
        """A typed command, or (type, fields) of a portal's row passed on as written (the
        dispatcher judges it and names what is wrong)."""
        try:
            if isinstance(command, tuple):
                ctype, fields = command
                return self.requester.request(ctype, timeout=10, cmd_id=cmd_id, **fields)
            return self.requester.send(command, timeout=10, cmd_id=cmd_id)
        except NoReply as exc:
            raise ToolError("bộ điều phối không trả lời",
                            "the dispatcher did not answer") from exc

    def close(self) -> None:
        self.link.stop()


def refusal(reply: Reply) -> ToolError:
    """The dispatcher's error reply as a ToolError, with the free slots when it gave some."""
    vi, en = (reply.error.message, reply.error.message_en) if reply.error else ("?", "?")
    slots = ", ".join(reply.free_slots or [])
    return ToolError(vi + (f"\n  Khung giờ còn chỗ: {slots}" if slots else ""),
                     en + (f"\n  Free slots: {slots}" if slots else ""))


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a portal export: CSV with a header, or JSON (a list, or {"bookings": [...]})."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"không đọc được tệp {path}", f"cannot read {path}",
                        detail=str(exc)) from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ToolError(f"{path}: JSON không hợp lệ", f"{path}: not valid JSON",
                            detail=str(exc)) from exc
        rows = data.get("bookings") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise ToolError(f"{path}: cần một danh sách lịch hẹn",
                            f"{path}: expected a list of bookings")
        return rows
    return list(csv.DictReader(io.StringIO(text)))


def check_row(office: OfficeConfig, row: Any) -> dict[str, Any]:
    """One export row as a booking_add body, or ToolError saying what is wrong."""
    if not isinstance(row, dict):
        raise ToolError("không phải một bản ghi", "not a record")
    row = {k.strip().lower(): (v.strip() if isinstance(v, str) else v)
           for k, v in row.items() if isinstance(k, str)}
    missing = [f for f in ("id", "service", "start", "made_on") if not row.get(f)]
    if missing:
        raise ToolError(f"thiếu: {', '.join(missing)}", f"missing: {', '.join(missing)}")
    service = resolve_service(office, str(row["service"]))
    if service is None:
        raise ToolError(f"service: không có dịch vụ {row['service']!r}",
                        f"service: unknown service {row['service']!r}")
    body: dict[str, Any] = {"id": str(row["id"]), "service": service,
                            "start": parse_time(office, str(row["start"])).isoformat()}
    if row.get("end"):
        body["end"] = parse_time(office, str(row["end"])).isoformat()
    if row.get("name"):
        body["name"] = str(row["name"])[:100]
    try:
        body["made_on"] = date.fromisoformat(str(row["made_on"])[:10]).isoformat()
    except ValueError as exc:
        raise ToolError(f"made_on: '{row['made_on']}' không phải ngày",
                        f"made_on: '{row['made_on']}' is not a date") from exc
    return body


def import_file(office: OfficeConfig, admin: Admin, path: Path) -> tuple[int, list[str]]:
    """Send every good row; return how many were accepted and one line per refused row."""
    rows = read_rows(path)
    accepted, problems = 0, []
    first = 1 if path.suffix.lower() == ".json" else 2  # CSV: the header is line 1
    for n, row in enumerate(rows, start=first):
        try:
            body = check_row(office, row)
        except ToolError as exc:
            problems.append(f"{path}:{n}: {exc.line()}")
            continue
        # The same row always carries the same command id: importing twice adds nothing.
        cmd_id = "imp-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:40]
        reply = admin.send(("booking_add", {"booking": body}), cmd_id=cmd_id)
        if reply.ok:
            accepted += 1
        else:
            problems.append(f"{path}:{n}: {body['id']}: {refusal(reply).line()}")
    return accepted, problems


def run(args: argparse.Namespace, office: OfficeConfig | None, url: str | None) -> int:
    if args.action == "keygen":
        kid = args.kid or f"portal-{date.today().year}"
        private, public = keygen(Path(args.out), kid)
        # The full path: right wherever the office file is (a relative one was not).
        print(f"kid: {kid}\nprivate key (keep it on the portal only): {private.resolve()}\n"
              f"public key: {public.resolve()}\nAdd to office.toml under [booking.keys]:\n"
              f'{kid} = "{public.resolve()}"')
        return 0
    assert office is not None and url is not None
    admin = Admin(office, url)
    try:
        if args.action == "import":
            accepted, problems = import_file(office, admin, Path(args.file))
            for line in problems:
                print(line, file=sys.stderr)
            print(f"{accepted} lịch hẹn đã nhập / bookings imported, "
                  f"{len(problems)} bị từ chối / refused")
            return 0 if not problems else 1
        if args.action == "cancel":
            reply = admin.send(BookingCancel(args.id))
            if not reply.ok:
                raise refusal(reply)
            print(f"Đã hủy / cancelled: {args.id}")
            return 0
        key = None
        if args.action in ("issue", "move") and args.key:
            # Before anything is booked: a QR signed with a key the office does not list
            # would be refused at the kiosk as "wrong or altered" (issue 14).
            key = trusted_key(office, load_private_key(Path(args.key)), args.kid)
        if args.action == "issue":
            reply = admin.send(BookingAdd(service=args.service,
                                          start=parse_time(office, args.start),
                                          id=args.id or None, name=args.name or None))
        else:  # move
            reply = admin.send(BookingMove(args.id, parse_time(office, args.start)))
        if not reply.ok or reply.booking is None:
            raise refusal(reply)
        booking = reply.booking
        print(f"{booking.id}: {booking.service} {booking.start} – {booking.end}")
        if key is not None:
            token = sign_booking(office, booking, key, args.kid)
            out = Path(args.out) / f"{booking.id}.png"
            write_qr(token, out)
            print(f"QR: {out}\n{token}")
        return 0
    finally:
        admin.close()


def add_arguments(b: argparse.ArgumentParser) -> None:
    """The actions of `motcua booking` and their options, on the parser `b`."""
    acts = b.add_subparsers(dest="action", required=True)
    k = acts.add_parser("keygen", help="an Ed25519 key pair for signing booking QR codes")
    k.add_argument("--out", default="var/keys",
                   help="folder for the key pair (default var/keys, which git ignores)")
    k.add_argument("--kid", help="key id (default portal-YEAR)")
    for name in ("issue", "move"):
        p = acts.add_parser(name, help=f"{name} a booking and sign its QR code")
        p.add_argument("--config", required=True)
        p.add_argument("--broker")
        p.add_argument("--start", required=True, help="slot start, e.g. '2026-11-27 08:00'")
        p.add_argument("--key", help="the portal's private key (PEM) to sign the QR code")
        p.add_argument("--kid", default="demo-portal", help="the key's id in [booking.keys]")
        p.add_argument("--out", default="var/bookings", help="folder for the QR PNG")
        if name == "issue":
            p.add_argument("--service", required=True,
                           help="service code, or 'feedback' (Phản ánh, kiến nghị hoặc khác)")
            p.add_argument("--name")
            p.add_argument("--id", help="booking id (default BK-YEAR-NNNNNN)")
        else:
            p.add_argument("--id", required=True)
    c = acts.add_parser("cancel", help="cancel a booking (until the day before)")
    c.add_argument("--config", required=True)
    c.add_argument("--broker")
    c.add_argument("--id", required=True)
    i = acts.add_parser("import", help="import the portal's export (CSV or JSON)")
    i.add_argument("file")
    i.add_argument("--config", required=True)
    i.add_argument("--broker")
