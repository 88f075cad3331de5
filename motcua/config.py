"""office.toml: load, validate, and name the file and line of every mistake."""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from motcua.errors import MotcuaError
from motcua.model import Counter, Service

ID_RE = re.compile(r"^[a-z0-9-]{1,32}$")
CODE_RE = re.compile(r"^[A-Za-z0-9]{1,8}$")
PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRINTER_KINDS = ("usb", "network", "serial", "file", "none")


class ConfigError(MotcuaError):
    """One or more mistakes in an office file, each as `file:line: what is wrong`."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        listed = "\n".join(problems)
        super().__init__(f"tệp cấu hình có lỗi:\n{listed}",
                         "the office file has mistakes (listed above).")
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(self.problems)


@dataclass(frozen=True)
class BrokerConfig:
    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None


@dataclass(frozen=True)
class BookingRules:
    ticket_prefix: str = "H"
    grace_minutes: int = 10
    call_ahead_minutes: int = 10
    slot_minutes: int = 30
    lead_working_days: int = 2
    mean_service_minutes: float = 15.0
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    feedback_service: str | None = None  # where "Phản ánh, kiến nghị hoặc khác" goes


@dataclass(frozen=True)
class PrinterConfig:
    kind: str = "file"
    usb: str = ""
    network: str = ""
    serial: str = ""
    file: Path = Path("var/tickets")
    width_px: int = 576
    profile: str = "TM-T88V"


@dataclass(frozen=True)
class DisplayConfig:
    voice: str = "espeak-ng"
    chime: bool = True
    rows: int = 6
    volume: float = 1.0
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class KioskConfig:
    priority_button: bool = True
    languages: tuple[str, ...] = ("vi", "en")
    camera: int | str = 0


@dataclass(frozen=True)
class Limits:
    """How many commands a device may send: a token bucket per device (0: no limit).

    A kiosk serves people, each taking a ticket in ten seconds or more: tens a minute,
    never thousands. The admin tools (booking imports) are not limited."""
    kiosk_per_minute: int = 30
    kiosk_burst: int = 10
    counter_per_minute: int = 120
    counter_burst: int = 20
    queued_per_device: int = 200  # commands held for one device before the oldest are dropped

    def rate(self, role: str) -> tuple[float, int]:
        """(commands per second, burst) for a role; (0, 0) when unlimited."""
        per_minute, burst = {"kiosk": (self.kiosk_per_minute, self.kiosk_burst),
                             "counter": (self.counter_per_minute, self.counter_burst)
                             }.get(role, (0, 0))
        return per_minute / 60.0, burst


@dataclass(frozen=True)
class OfficeConfig:
    path: Path
    id: str
    name: str
    tz: ZoneInfo
    days: frozenset[int]  # weekday(): Monday is 0
    hours: tuple[tuple[time, time], ...]
    closures: frozenset[date]
    broker: BrokerConfig
    storage: Path
    booking: BookingRules
    services: dict[str, Service]
    counters: dict[str, Counter]
    kiosk: KioskConfig
    printer: PrinterConfig
    display: DisplayConfig
    limits: Limits = Limits()
    keep_command_days: int = 30  # replies kept for retries and audits, then pruned

    def booking_counters(self, service: str) -> list[Counter]:
        return [c for c in self.counters.values() if c.bookings and service in c.services]


class _Locator:
    """Finds the line of a key in TOML text, since tomllib does not keep positions."""

    def __init__(self, text: str):
        self.lines: dict[tuple[str, int, str], int] = {}
        self.tables: dict[tuple[str, int], int] = {}
        counts: dict[str, int] = {}
        table, index = "", 0
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if m := re.match(r"^\[\[\s*([\w.-]+)\s*\]\]", line):
                table = m.group(1)
                index = counts.get(table, -1) + 1
                counts[table] = index
                self.tables[(table, index)] = n
            elif m := re.match(r"^\[\s*([\w.-]+)\s*\]", line):
                table, index = m.group(1), 0
                self.tables[(table, 0)] = n
            elif m := re.match(r'^("?)([\w-]+)\1\s*=', line):
                self.lines.setdefault((table, index, m.group(2)), n)

    def line(self, table: str, index: int = 0, key: str | None = None) -> int:
        if key is not None and (table, index, key) in self.lines:
            return self.lines[(table, index, key)]
        return self.tables.get((table, index), 1)


class _Reader:
    def __init__(self, path: Path, text: str):
        self.path = path
        self.loc = _Locator(text)
        self.problems: list[str] = []

    def fail(self, table: str, index: int, key: str | None, what: str) -> None:
        where = f"{table}[{index}]" if table in ("services", "counters") else table
        name = f"{where}.{key}" if key else where
        self.problems.append(f"{self.path}:{self.loc.line(table, index, key)}: {name}: {what}")

    def get(self, tbl: dict[str, Any], table: str, key: str, kind: type | tuple[type, ...],
            default: Any = ..., index: int = 0) -> Any:
        if key not in tbl:
            if default is ...:
                self.fail(table, index, key, "is required")
            return None if default is ... else default
        value = tbl[key]
        if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
            self.fail(table, index, key, f"must be {_kind_name(kind)}, not {value!r}")
            return None if default is ... else default
        if not isinstance(value, kind):
            self.fail(table, index, key, f"must be {_kind_name(kind)}, not {value!r}")
            return None if default is ... else default
        return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _parse_time(text: str) -> time | None:
    m = re.fullmatch(r"(\d{2}):(\d{2})", text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


def load(path: str | Path) -> OfficeConfig:
    """Read and check an office file; raise ConfigError listing every mistake."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}:0: cannot read the file: {exc}"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError([f"{path}:{m.group(1) if m else 0}: not valid TOML: {exc}"]) from exc
    return _build(path, text, data)


# Every table and key an office file may hold (`[booking.keys]` holds kids of its own).
KNOWN: dict[str, tuple[str, ...]] = {
    "office": ("id", "name", "timezone", "days", "hours", "closures"),
    "broker": ("url", "username", "password_file", "ca_file"),
    "storage": ("path", "keep_command_days"),
    "limits": tuple(f.name for f in dataclasses.fields(Limits)),
    "booking": ("ticket_prefix", "grace_minutes", "call_ahead_minutes", "slot_minutes",
                "lead_working_days", "mean_service_minutes", "feedback_service", "keys"),
    "services": ("code", "prefix", "name", "name_en"),
    "counters": ("id", "name", "services", "bookings"),
    "devices": ("kiosks", "displays", "admins"),
    "kiosk": ("priority_button", "languages", "camera"),
    "printer": ("kind", "usb", "network", "serial", "file", "width_px", "profile"),
    "display": ("voice", "chime", "rows", "volume", "notices"),
}


def _unknown(r: _Reader, data: dict[str, Any]) -> None:
    """A key or table the office file does not know is a mistake (a typo would otherwise
    fall back to a default in silence): named, with the likely intended one."""
    def hint(name: str, known: Any) -> str:
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        return f"; did you mean {close[0]}?" if close else ""

    for table, value in data.items():
        if table not in KNOWN:
            line = r.loc.tables.get((table, 0), 1)
            r.problems.append(f"{r.path}:{line}: [{table}]: unknown table (bảng lạ)"
                              f"{hint(table, KNOWN)}")
            continue
        rows = value if isinstance(value, list) else [value]
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                continue
            for key in row:
                if key not in KNOWN[table]:
                    r.fail(table, i, key, f"unknown key (khóa lạ){hint(key, KNOWN[table])}")


def _table(r: _Reader, data: dict[str, Any], name: str, required: bool = False) -> dict:
    value = data.get(name, {} if not required else None)
    if value is None:
        r.problems.append(f"{r.path}:1: [{name}] is required")
        return {}
    if not isinstance(value, dict):
        r.fail(name, 0, None, "must be a table")
        return {}
    return value


def _build(path: Path, text: str, data: dict[str, Any]) -> OfficeConfig:
    r = _Reader(path, text)
    base = path.parent
    _unknown(r, data)

    def file_path(value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else base / p

    o = _table(r, data, "office", required=True)
    office_id = r.get(o, "office", "id", str)
    if office_id is not None and not ID_RE.fullmatch(office_id):
        r.fail("office", 0, "id", f"{office_id!r} must match [a-z0-9-]{{1,32}}")
    name = r.get(o, "office", "name", str)
    tz_name = r.get(o, "office", "timezone", str, "Asia/Ho_Chi_Minh")
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        r.fail("office", 0, "timezone", f"unknown time zone {tz_name!r}")
    days_raw = r.get(o, "office", "days", list, ["mon", "tue", "wed", "thu", "fri"])
    days = set()
    for d in days_raw:
        if d not in WEEKDAYS:
            r.fail("office", 0, "days", f"{d!r} is not one of {', '.join(WEEKDAYS)}")
        else:
            days.add(WEEKDAYS.index(d))
    if not days_raw:
        r.fail("office", 0, "days", "an office is open on at least one day")
    hours: list[tuple[time, time]] = []
    for span in r.get(o, "office", "hours", list, [["07:30", "11:30"], ["13:00", "16:30"]]):
        if not (isinstance(span, list) and len(span) == 2
                and all(isinstance(s, str) for s in span)):
            r.fail("office", 0, "hours", f"{span!r} must be a pair like [\"07:30\", \"11:30\"]")
            continue
        start, end = _parse_time(span[0]), _parse_time(span[1])
        if start is None or end is None:
            r.fail("office", 0, "hours", f"{span!r}: times are HH:MM, 00:00 to 23:59")
        elif start >= end:
            r.fail("office", 0, "hours", f"{span!r}: the start must be before the end")
        else:
            hours.append((start, end))
    hours.sort()
    for (_, e1), (s2, _) in zip(hours, hours[1:], strict=False):
        if s2 < e1:
            r.fail("office", 0, "hours", "opening spans overlap")
    closures = set()
    for c in r.get(o, "office", "closures", list, []):
        try:
            closures.add(c if isinstance(c, date) else date.fromisoformat(str(c)))
        except ValueError:
            r.fail("office", 0, "closures", f"{c!r} is not a date YYYY-MM-DD")

    b = _table(r, data, "broker")
    password = None
    if pf := r.get(b, "broker", "password_file", str, ""):
        try:
            password = file_path(pf).read_text(encoding="utf-8").strip()
        except OSError as exc:
            r.fail("broker", 0, "password_file", f"cannot read {pf}: {exc.strerror}")
    url = r.get(b, "broker", "url", str, "mqtt://127.0.0.1:1883")
    if url and not re.match(r"^mqtts?://[^:/]+(:\d+)?/?$", url):
        r.fail("broker", 0, "url", f"{url!r} must look like mqtt://host:1883 or mqtts://host:8883")
    ca = r.get(b, "broker", "ca_file", str, "")
    broker = BrokerConfig(url=url, username=r.get(b, "broker", "username", str, None) or None,
                          password=password, ca_file=file_path(ca) if ca else None)

    s = _table(r, data, "storage")
    storage = file_path(r.get(s, "storage", "path", str, f"var/{office_id or 'office'}.sqlite3"))
    keep_days = r.get(s, "storage", "keep_command_days", int, 30)
    if not 1 <= keep_days <= 3660:
        r.fail("storage", 0, "keep_command_days", "must be between 1 and 3660 days")

    lt = _table(r, data, "limits")
    limit_values = {}
    for f in dataclasses.fields(Limits):
        value = r.get(lt, "limits", f.name, int, f.default)
        if not 0 <= value <= 100_000:
            r.fail("limits", 0, f.name, "must be between 0 and 100000")
        limit_values[f.name] = value
    if limit_values["queued_per_device"] < 1:
        r.fail("limits", 0, "queued_per_device", "must be at least 1")
    limits = Limits(**limit_values)

    services: dict[str, Service] = {}
    raw_services = data.get("services", [])
    if not isinstance(raw_services, list) or not raw_services:
        r.problems.append(f"{path}:1: [[services]]: at least one service is required")
        raw_services = []
    for i, sv in enumerate(raw_services):
        code = r.get(sv, "services", "code", str, index=i)
        prefix = r.get(sv, "services", "prefix", str, index=i)
        sname = r.get(sv, "services", "name", str, index=i)
        sname_en = r.get(sv, "services", "name_en", str, "", index=i)
        if code is None:
            continue
        if not CODE_RE.fullmatch(code):
            r.fail("services", i, "code", f"{code!r} must be 1-8 letters or digits")
        if prefix is not None and not PREFIX_RE.fullmatch(prefix):
            r.fail("services", i, "prefix", f"{prefix!r} must be one or two capital letters")
        if code in services:
            r.fail("services", i, "code", f"duplicate service code {code!r}")
            continue
        services[code] = Service(code, sname or code, sname_en or sname or code, prefix or code)

    bk = _table(r, data, "booking")
    rules_kw: dict[str, Any] = {}
    for key, kind, low in (("grace_minutes", int, 0), ("call_ahead_minutes", int, 0),
                           ("slot_minutes", int, 5), ("lead_working_days", int, 0),
                           ("mean_service_minutes", (int, float), 1)):
        v = r.get(bk, "booking", key, kind, None)
        if v is not None and v < low:
            r.fail("booking", 0, key, f"must be at least {low}")
        elif v is not None:
            rules_kw[key] = float(v) if key == "mean_service_minutes" else v
    tprefix = r.get(bk, "booking", "ticket_prefix", str, "H")
    if not PREFIX_RE.fullmatch(tprefix):
        r.fail("booking", 0, "ticket_prefix", f"{tprefix!r} must be one or two capital letters")
    prefixes = [sv.prefix for sv in services.values()]
    if tprefix in prefixes:
        r.fail("booking", 0, "ticket_prefix", f"{tprefix!r} is also a service prefix")
    for i, sv in enumerate(services.values()):
        if prefixes.count(sv.prefix) > 1 and prefixes.index(sv.prefix) != i:
            r.fail("services", i, "prefix", f"duplicate ticket prefix {sv.prefix!r}")
    feedback = r.get(bk, "booking", "feedback_service", str, None)
    if feedback is not None and feedback not in services:
        r.fail("booking", 0, "feedback_service", f"unknown service {feedback!r}")
    keys: dict[str, Ed25519PublicKey] = {}
    raw_keys = bk.get("keys", {})
    if not isinstance(raw_keys, dict):
        r.fail("booking.keys", 0, None, "must be a table of kid = \"path/to/key.pem\"")
        raw_keys = {}
    for kid, kpath in raw_keys.items():
        if not isinstance(kpath, str):
            r.fail("booking.keys", 0, kid, "must be the path of a PEM public key")
            continue
        try:
            loaded = load_pem_public_key(file_path(kpath).read_bytes())
        except OSError as exc:
            r.fail("booking.keys", 0, kid, f"cannot read {kpath}: {exc.strerror}")
            continue
        except ValueError as exc:
            r.fail("booking.keys", 0, kid, f"{kpath} is not a PEM public key: {exc}")
            continue
        if not isinstance(loaded, Ed25519PublicKey):
            r.fail("booking.keys", 0, kid, f"{kpath} is not an Ed25519 key")
            continue
        keys[kid] = loaded
    rules = BookingRules(ticket_prefix=tprefix, keys=keys, feedback_service=feedback, **rules_kw)

    counters: dict[str, Counter] = {}
    raw_counters = data.get("counters", [])
    if not isinstance(raw_counters, list):
        raw_counters = []
    for i, ct in enumerate(raw_counters):
        cid = r.get(ct, "counters", "id", str, index=i)
        cname = r.get(ct, "counters", "name", str, None, index=i)
        csv = r.get(ct, "counters", "services", list, index=i) or []
        takes = r.get(ct, "counters", "bookings", bool, False, index=i)
        if cid is None:
            continue
        if not ID_RE.fullmatch(cid):
            r.fail("counters", i, "id", f"{cid!r} must match [a-z0-9-]{{1,32}}")
        if cid in counters:
            r.fail("counters", i, "id", f"duplicate counter id {cid!r}")
            continue
        if not csv:
            r.fail("counters", i, "services", "a counter needs at least one service")
        for code in csv:
            if code not in services:
                r.fail("counters", i, "services", f"unknown service {code!r}")
        counters[cid] = Counter(cid, cname or f"Quầy {cid}", tuple(csv), bool(takes))
    n_booking = sum(c.bookings for c in counters.values())
    if n_booking < 2:
        r.problems.append(f"{path}:{r.loc.line('counters', 0)}: counters: at least two counters "
                          f"must take bookings (bookings = true), found {n_booking}")
    for code in services:
        if not any(code in c.services for c in counters.values()):
            r.problems.append(f"{path}:{r.loc.line('services', list(services).index(code))}: "
                              f"services.{code}: no counter serves it")

    k = _table(r, data, "kiosk")
    camera = r.get(k, "kiosk", "camera", (int, str), 0)
    kiosk = KioskConfig(priority_button=r.get(k, "kiosk", "priority_button", bool, True),
                        languages=tuple(r.get(k, "kiosk", "languages", list, ["vi", "en"])),
                        camera=camera)

    p = _table(r, data, "printer")
    kind = r.get(p, "printer", "kind", str, "file")
    if kind not in PRINTER_KINDS:
        r.fail("printer", 0, "kind", f"{kind!r} is not one of {', '.join(PRINTER_KINDS)}")
    width = r.get(p, "printer", "width_px", int, 576)
    if width not in (384, 512, 576):
        r.fail("printer", 0, "width_px", f"{width} must be 576 (80 mm), 512 or 384 (58 mm)")
    printer = PrinterConfig(kind=kind, usb=r.get(p, "printer", "usb", str, ""),
                            network=r.get(p, "printer", "network", str, ""),
                            serial=r.get(p, "printer", "serial", str, ""),
                            file=file_path(r.get(p, "printer", "file", str, "var/tickets")),
                            width_px=width, profile=r.get(p, "printer", "profile", str, "TM-T88V"))

    d = _table(r, data, "display")
    voice = r.get(d, "display", "voice", str, "espeak-ng")
    if voice not in ("espeak-ng", "none"):
        r.fail("display", 0, "voice", f"{voice!r} must be espeak-ng or none")
    volume = r.get(d, "display", "volume", (int, float), 1.0)
    if not 0 <= volume <= 1:
        r.fail("display", 0, "volume", "must be between 0 and 1")
    display = DisplayConfig(voice=voice, chime=r.get(d, "display", "chime", bool, True),
                            rows=r.get(d, "display", "rows", int, 6), volume=float(volume),
                            notices=tuple(r.get(d, "display", "notices", list, [])))

    if r.problems:
        raise ConfigError(r.problems)
    return OfficeConfig(path=path, id=office_id, name=name, tz=tz, days=frozenset(days),
                        hours=tuple(hours), closures=frozenset(closures), broker=broker,
                        storage=storage, booking=rules, services=services, counters=counters,
                        kiosk=kiosk, printer=printer, display=display, limits=limits,
                        keep_command_days=keep_days)
