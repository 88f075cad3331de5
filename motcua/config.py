"""office.toml: load, validate, and name the file and line of every mistake.

The schema is declarative: one pydantic model per table, refusing keys it does not know,
each value checked where it is declared. Rules between keys and tables are the few
functions of `_RULES`. tomllib keeps no positions, so `_Locator` turns the location of
each problem back into a line of the file. The rest of motcua reads the frozen
dataclasses below, built from the validated tables."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import AfterValidator, BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core.core_schema import ValidationInfo

from motcua.errors import MotcuaError
from motcua.model import Counter, Service
from motcua.officers import HASH_RE, Officer
from motcua.waits import TARGET_MIN

ID_RE = re.compile(r"^[a-z0-9-]{1,32}$")
CODE_RE = re.compile(r"^[A-Za-z0-9]{1,8}$")
PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PrinterKind = Literal["usb", "network", "serial", "file", "none"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)
PRINTER_KINDS: tuple[str, ...] = get_args(PrinterKind)
PRINTER_WIDTHS = (384, 512, 576)  # dots: 58 mm paper, an 80 mm TM-T88V head, 80 mm paper


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
    region: str = "north"  # north | central | south: the voice and the number words
    voice_name: str = ""  # an espeak-ng voice; "" is the region's (docs/display.md)
    number_reading: str = "digits"  # digits ("a, không một hai") | whole ("a, mười hai")
    repeat: int = 2  # each call said this many times, 1..3
    second_language: str = ""  # "" | "en": said after the Vietnamese


@dataclass(frozen=True)
class RatingConfig:
    """[rating]: citizens rate a service that ended (motcua.ratings)."""
    window_minutes: int = 5  # a rating is taken this long after the service, then refused


@dataclass(frozen=True)
class WebConfig:
    """[web]: the browser pages' server (web/), and the ticket links printed as QR codes."""
    listen: str = "127.0.0.1:8080"  # host:port the web server binds
    public_url: str = ""  # what a phone opens, e.g. https://bhxh-tdm.local:8443; "": no link
    secret: str | None = None  # the HMAC key of ticket links (secret_file's text)
    cert_file: Path | None = None  # HTTPS: the server's certificate (office CA) and its key
    key_file: Path | None = None
    device: str = "web"  # its MQTT account web-<device> and presence presence/web/<device>
    phones: int = 2000  # ticket pages open at once; one more is told to come back later

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]") or "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


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
                             "counter": (self.counter_per_minute, self.counter_burst),
                             # a citizen's touchscreen: a counter's allowance is plenty
                             "rating": (self.counter_per_minute, self.counter_burst),
                             }.get(role, (0, 0))
        return per_minute / 60.0, burst


@dataclass(frozen=True)
class BackupConfig:
    folder: Path | None = None  # None: backups/ beside the database
    copy_to: Path | None = None  # a second disk or a network share, or none
    keep: int = 30  # the newest copies kept in each folder; older ones are removed


@dataclass(frozen=True)
class RefusalReason:
    reason: str
    guidance: str = ""  # suggested to the citizen; the officer can edit it


# The counter offers these when an office lists none ([refusals] reasons); "Khác" (a reason
# typed at the counter) always comes after them.
DEFAULT_REFUSALS: tuple[RefusalReason, ...] = (
    RefusalReason("Ngoài thẩm quyền giải quyết",
                  "Liên hệ cơ quan có thẩm quyền giải quyết (UBND, Sở LĐ-TB&XH...)."),
    RefusalReason("Hồ sơ chưa đầy đủ", "Bổ sung giấy tờ còn thiếu theo hướng dẫn rồi quay lại."),
    RefusalReason("Sai đơn vị BHXH", "Đến cơ quan BHXH nơi đang tham gia hoặc quản lý hồ sơ."),
)


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
    backups: BackupConfig = BackupConfig()
    web: WebConfig = WebConfig()
    wait_target_min: float = TARGET_MIN  # [waits] target_minutes: past it, a wait is overdue
    refusals: tuple[RefusalReason, ...] = DEFAULT_REFUSALS
    # Who may sign in at a counter (code -> officer); none: counters work without sign-in.
    officers: dict[str, Officer] = field(default_factory=dict)
    rating: RatingConfig = RatingConfig()

    def booking_counters(self, service: str) -> list[Counter]:
        return [c for c in self.counters.values() if c.bookings and service in c.services]


# --- values: each type says what it accepts, and in what words it refuses the rest ---

def _checked(ok: Callable[[Any], bool], why: Callable[[Any], str]) -> AfterValidator:
    def check(value: Any) -> Any:
        if not ok(value):
            raise ValueError(why(value))
        return value
    return AfterValidator(check)


def _matching(regex: re.Pattern[str], what: str) -> AfterValidator:
    return _checked(lambda v: bool(regex.fullmatch(v)), lambda v: f"{v!r} {what}")


def _at_least(low: float) -> AfterValidator:
    return _checked(lambda v: v >= low, lambda v: f"must be at least {low}")


def _between(low: float, high: float, unit: str = "") -> AfterValidator:
    return _checked(lambda v: low <= v <= high,
                    lambda v: f"must be between {low} and {high}{unit}")


def _parse_time(text: str) -> time | None:
    m = re.fullmatch(r"(\d{2}):(\d{2})", text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


def _span(value: Any) -> tuple[time, time]:
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(s, str) for s in value)):
        raise ValueError(f"{value!r} must be a pair like [\"07:30\", \"11:30\"]")
    start, end = _parse_time(value[0]), _parse_time(value[1])
    if start is None or end is None:
        raise ValueError(f"{value!r}: times are HH:MM, 00:00 to 23:59")
    if start >= end:
        raise ValueError(f"{value!r}: the start must be before the end")
    return start, end


def _opening(spans: list[tuple[time, time]]) -> list[tuple[time, time]]:
    if not spans:
        raise ValueError("an office opens at least once a day, e.g. [[\"07:30\", \"11:30\"]]")
    spans = sorted(spans)
    if any(s2 < e1 for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False)):
        raise ValueError("opening spans overlap")
    return spans


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a date YYYY-MM-DD") from None


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def _beside(info: ValidationInfo, name: str) -> Path:
    """A path of the office file: relative ones are from the file's folder."""
    p = Path(name)
    return p if p.is_absolute() else cast(Path, (info.context or {})["base"]) / p


def _public_key(value: Any, info: ValidationInfo) -> Ed25519PublicKey:
    if not isinstance(value, str):
        raise ValueError("must be the path of a PEM public key")
    try:
        loaded = load_pem_public_key(_beside(info, value).read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read {value}: {exc.strerror}") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"{value} is not a PEM public key: {exc}") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValueError(f"{value} is not an Ed25519 key")
    return loaded


def _secret(value: Any, info: ValidationInfo) -> str | None:
    """The text of a secret file ("" is none), read while its line is known."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {value!r}")
    try:
        return _beside(info, value).read_text(encoding="utf-8").strip() if value else None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {value}: {getattr(exc, 'strerror', None) or exc}") from None


def _camera(value: Any) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"must be an integer or a string, not {value!r}")
    return value


def _some(what: str) -> AfterValidator:
    return _checked(bool, lambda _: what)


def _once(values: list[str]) -> list[str]:
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise ValueError(f"{', '.join(map(repr, twice))} given twice")
    return values


Id = Annotated[str, _matching(ID_RE, "must match [a-z0-9-]{1,32}")]
Code = Annotated[str, _matching(CODE_RE, "must be 1-8 letters or digits")]
Prefix = Annotated[str, _matching(PREFIX_RE, "must be one or two capital letters")]
Text = Annotated[str, _some("must not be empty")]
Span = Annotated[tuple[time, time], PlainValidator(_span)]
Day = Annotated[date, PlainValidator(_date)]
Url = Annotated[str, _checked(lambda v: not v or re.match(r"^mqtts?://[^:/]+(:\d+)?/?$", v),
                              lambda v: f"{v!r} must look like mqtt://host:1883 "
                                        "or mqtts://host:8883")]
PublicKey = Annotated[Ed25519PublicKey, PlainValidator(_public_key)]
Limit = Annotated[int, _between(0, 100_000)]
Width = Annotated[int, _checked(lambda v: v in PRINTER_WIDTHS,
                                lambda v: f"{v} must be 576 (80 mm), 512 or 384 (58 mm)")]


# --- tables: one model each; a key not declared here is a mistake ---

class _Table(BaseModel):
    # strict: TOML has real types, so "10" for 10 or true for 1 is a mistake, not a guess.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class OfficeTable(_Table):
    id: Id
    name: Text
    timezone: Annotated[str, AfterValidator(_zone)] = "Asia/Ho_Chi_Minh"
    days: Annotated[list[Weekday], _some("an office is open on at least one day")] = \
        ["mon", "tue", "wed", "thu", "fri"]
    hours: Annotated[list[Span], AfterValidator(_opening)] = \
        [(time(7, 30), time(11, 30)), (time(13, 0), time(16, 30))]
    closures: list[Day] = []


class BrokerTable(_Table):
    url: Url = BrokerConfig.url
    username: str = ""
    password_file: Annotated[str | None, PlainValidator(_secret)] = None
    ca_file: str = ""


class StorageTable(_Table):
    path: str = ""  # "": var/<office id>.sqlite3
    keep_command_days: Annotated[int, _between(1, 3660, " days")] = OfficeConfig.keep_command_days
    backup_dir: str = ""  # "": backups/ beside the database
    backup_copy_dir: str = ""  # "": none; else a second disk or a network share
    keep_backups: Annotated[int, _between(1, 3650, " copies")] = BackupConfig.keep


class LimitsTable(_Table):
    kiosk_per_minute: Limit = Limits.kiosk_per_minute
    kiosk_burst: Limit = Limits.kiosk_burst
    counter_per_minute: Limit = Limits.counter_per_minute
    counter_burst: Limit = Limits.counter_burst
    queued_per_device: Annotated[int, _at_least(1), _between(0, 100_000)] = \
        Limits.queued_per_device


class BookingTable(_Table):
    ticket_prefix: Prefix = BookingRules.ticket_prefix
    grace_minutes: Annotated[int, _at_least(0)] = BookingRules.grace_minutes
    call_ahead_minutes: Annotated[int, _at_least(0)] = BookingRules.call_ahead_minutes
    slot_minutes: Annotated[int, _at_least(5)] = BookingRules.slot_minutes
    lead_working_days: Annotated[int, _at_least(0)] = BookingRules.lead_working_days
    mean_service_minutes: Annotated[float, _at_least(1)] = BookingRules.mean_service_minutes
    feedback_service: str = ""  # "": none
    keys: dict[str, PublicKey] = {}


Check = Literal["chip_id", "fingerprint"]


class ServiceTable(_Table):
    code: Code
    prefix: Prefix
    name: str
    name_en: str = ""
    requires: Annotated[list[Check], AfterValidator(_once)] = []


class CounterTable(_Table):
    id: Id
    name: str = ""  # "": Quầy <id>
    services: Annotated[list[str], _some("a counter needs at least one service"),
                        AfterValidator(_once)]
    bookings: bool = False


PinHash = Annotated[str, _checked(lambda v: bool(HASH_RE.fullmatch(v)),
                                  lambda v: "must be a PIN hash made by `motcua officer pin` "
                                            "(pbkdf2-sha256$...), never the PIN itself")]


class OfficerTable(_Table):
    code: Id
    name: Text
    pin: PinHash
    roles: Annotated[list[Literal["counter", "head"]], _some("give at least one role"),
                     AfterValidator(_once)] = ["counter"]


class DevicesTable(_Table):
    """Known here, checked by `motcua broker setup` (broker_config.accounts), in its words."""
    kiosks: Any = []
    displays: Any = []
    admins: Any = ["cli"]  # broker_config.accounts.DEFAULT_ADMINS
    ratings: Any = []  # rating screens, each by the id of the counter it faces


class KioskTable(_Table):
    priority_button: bool = KioskConfig.priority_button
    languages: Annotated[list[str], _some("a kiosk speaks at least one language")] = \
        list(KioskConfig.languages)
    camera: Annotated[int | str, PlainValidator(_camera)] = KioskConfig.camera


class PrinterTable(_Table):
    kind: PrinterKind = "file"
    usb: str = PrinterConfig.usb
    network: str = PrinterConfig.network
    serial: str = PrinterConfig.serial
    file: str = str(PrinterConfig.file)
    width_px: Width = PrinterConfig.width_px
    profile: str = PrinterConfig.profile


VOICE_NAME_RE = re.compile(r"^[A-Za-z0-9_()-]{1,40}(\+[A-Za-z0-9_-]{1,20})?$")


class DisplayTable(_Table):
    voice: Literal["espeak-ng", "none"] = "espeak-ng"
    chime: bool = DisplayConfig.chime
    rows: Annotated[int, _at_least(1)] = DisplayConfig.rows
    volume: Annotated[float, _between(0, 1)] = DisplayConfig.volume
    notices: list[str] = []
    region: Literal["north", "central", "south"] = "north"
    voice_name: Annotated[str, _checked(lambda v: not v or VOICE_NAME_RE.fullmatch(v),
                                        lambda v: f"{v!r} is not an espeak-ng voice name, "
                                                  "e.g. \"vi-vn-x-south\"")] = ""
    number_reading: Literal["digits", "whole"] = "digits"
    repeat: Annotated[int, _between(1, 3, " times")] = DisplayConfig.repeat
    second_language: Literal["", "en"] = ""


class WaitsTable(_Table):
    target_minutes: Annotated[float, _between(1, 240, " minutes")] = TARGET_MIN


class RefusalRow(_Table):
    reason: Annotated[str, _some("must not be empty"),
                      _checked(lambda v: len(v) <= 500, lambda _: "is over 500 characters")]
    guidance: Annotated[str, _checked(lambda v: len(v) <= 500,
                                      lambda _: "is over 500 characters")] = ""


def _reasons_once(rows: list[RefusalRow]) -> list[RefusalRow]:
    _once([r.reason for r in rows])
    if len(rows) > 8:  # picked with one digit at the counter, "Khác" the ninth
        raise ValueError("at most 8 reasons (the counter picks them with keys 1-8)")
    return rows


class RefusalsTable(_Table):
    reasons: Annotated[list[RefusalRow], _some("list at least one reason, or leave the key out"),
                       AfterValidator(_reasons_once)] = [
        RefusalRow(reason=r.reason, guidance=r.guidance) for r in DEFAULT_REFUSALS]


class RatingTable(_Table):
    window_minutes: Annotated[int, _between(1, 24 * 60)] = \
        RatingConfig.window_minutes


Listen = Annotated[str, _checked(
    lambda v: re.match(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$", v)
    and 0 < int(v.rpartition(":")[2]) < 65536,
    lambda v: f"{v!r} must look like 127.0.0.1:8080 or 0.0.0.0:8443")]
PublicUrl = Annotated[str, _checked(lambda v: not v or re.match(r"^https?://[^/\s?#]+/?$", v),
                                    lambda v: f"{v!r} must look like https://host:8443")]


class WebTable(_Table):
    listen: Listen = WebConfig.listen
    public_url: PublicUrl = ""
    secret_file: Annotated[str | None, PlainValidator(_secret)] = None
    cert_file: str = ""
    key_file: str = ""
    device: Id = WebConfig.device
    phones: Annotated[int, _between(1, 100_000)] = WebConfig.phones


class OfficeFile(_Table):
    """Every table an office file may hold; `[[services]]` and `[[counters]]` are arrays."""
    office: OfficeTable
    broker: BrokerTable = BrokerTable()
    storage: StorageTable = StorageTable()
    limits: LimitsTable = LimitsTable()
    booking: BookingTable = BookingTable()
    services: list[ServiceTable]
    counters: list[CounterTable] = []
    devices: DevicesTable = DevicesTable()
    kiosk: KioskTable = KioskTable()
    printer: PrinterTable = PrinterTable()
    display: DisplayTable = DisplayTable()
    web: WebTable = WebTable()
    waits: WaitsTable = WaitsTable()
    refusals: RefusalsTable = RefusalsTable()
    officers: list[OfficerTable] = []
    rating: RatingTable = RatingTable()


def table_model(f: FieldInfo) -> type[_Table]:
    """The model of one table (of each item, for an array of tables)."""
    kind = f.annotation
    return cast(type[_Table], getattr(kind, "__args__", (kind,))[0])


TABLES = {name: table_model(f) for name, f in OfficeFile.model_fields.items()}
ARRAYS = {name for name, f in OfficeFile.model_fields.items()
          if getattr(f.annotation, "__origin__", None) is list}


# --- where: a problem's location (table, [index], key, ...) as a line of the file ---

Loc = tuple[str | int, ...]
T = TypeVar("T")


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

    def line(self, loc: Loc) -> int:
        table, rest = str(loc[0]), list(loc[1:])
        index = rest.pop(0) if rest and isinstance(rest[0], int) else 0
        assert isinstance(index, int)
        while rest and (f"{table}.{rest[0]}", index) in self.tables:  # [booking.keys]
            table = f"{table}.{rest.pop(0)}"
        key = next((str(k) for k in rest if isinstance(k, str)), None)
        if key is not None and (table, index, key) in self.lines:
            return self.lines[(table, index, key)]
        if (table, index) in self.tables:
            return self.tables[(table, index)]
        if len(loc) == 1 and ("", 0, table) in self.lines:  # a key above every table
            return self.lines[("", 0, table)]
        return next((n for (t, _), n in self.tables.items() if t.startswith(f"{table}.")), 1)


def _name(loc: Loc) -> str:
    """office.hours, services[2].code, booking.keys.demo-portal; [office] for a table."""
    table, rest = str(loc[0]), list(loc[1:])
    if not rest:
        return f"[[{table}]]" if table in ARRAYS else f"[{table}]"
    if table in ARRAYS and isinstance(rest[0], int):
        table = f"{table}[{rest.pop(0)}]"
    return ".".join([table, *(k for k in rest if isinstance(k, str))])


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


KINDS = {"int": "an integer", "float": "a number", "string": "a string", "bool": "true or false",
         "list": "a list", "dict": "a table", "model": "a table", "date": "a date"}


def _what(model: type[_Table], err: Any) -> str:
    """pydantic's error in the words of this file."""
    kind, ctx = err["type"], err.get("ctx", {})
    if kind == "extra_forbidden":
        return f"unknown key (khóa lạ){_hint(str(err['loc'][-1]), model.model_fields)}"
    if kind == "missing":
        return "is required"
    if kind == "value_error":
        return str(ctx["error"])
    if kind.endswith("_type") and kind[:-5] in KINDS:
        return f"must be {KINDS[kind[:-5]]}, not {err['input']!r}"
    if kind == "literal_error":
        options = ctx["expected"].replace("'", "").replace(" or ", ", ")
        return f"{err['input']!r} is not one of {options}"
    return str(err["msg"])


# --- rules between keys and tables, on what each table gave ---

Problem = tuple[Loc, str] | tuple[Loc, str, str]  # where, what is wrong[, the name to show]


@dataclass
class _Parts:
    """The tables that validated, and the raw rows of the arrays (for rules across them,
    so that one bad row does not make every other rule complain as well)."""
    tables: dict[str, Any]
    rows: dict[str, dict[int, Any]]  # services/counters: index -> validated row
    raw: dict[str, list[dict[str, Any]]]


def _rule_booking_times(p: _Parts) -> Iterator[Problem]:
    if (b := p.tables.get("booking")) is not None:
        for key in ("grace_minutes", "call_ahead_minutes"):
            if getattr(b, key) > b.slot_minutes:
                yield (("booking", key), f"must not be longer than a slot "
                                         f"(slot_minutes = {b.slot_minutes})")


def _rule_printer_address(p: _Parts) -> Iterator[Problem]:
    examples = {"usb": "0x04b8:0x0e15", "network": "192.168.1.50:9100", "serial": "/dev/ttyUSB0",
                "file": "var/tickets"}
    if (pr := p.tables.get("printer")) is not None and not getattr(pr, pr.kind, True):
        yield (("printer", pr.kind), f"kind = {pr.kind} needs it, e.g. {examples[pr.kind]!r}")


def _codes(p: _Parts) -> list[Any]:
    return [row.get("code") for row in p.raw["services"]]


def _rule_services(p: _Parts) -> Iterator[Problem]:
    codes, prefixes = set(), set()
    for i, sv in p.rows["services"].items():
        if sv.code in codes:
            yield (("services", i, "code"), f"duplicate service code {sv.code!r}")
            continue
        codes.add(sv.code)
        if sv.prefix in prefixes:
            yield (("services", i, "prefix"), f"duplicate ticket prefix {sv.prefix!r}")
        prefixes.add(sv.prefix)
    if (b := p.tables.get("booking")) is not None:
        if b.ticket_prefix in prefixes:
            yield (("booking", "ticket_prefix"), f"{b.ticket_prefix!r} is also a service prefix")
        if b.feedback_service and b.feedback_service not in _codes(p):
            yield (("booking", "feedback_service"), f"unknown service {b.feedback_service!r}")


def _rule_counters(p: _Parts) -> Iterator[Problem]:
    ids: set[str] = set()
    codes = _codes(p)
    for i, ct in p.rows["counters"].items():
        if ct.id in ids:
            yield (("counters", i, "id"), f"duplicate counter id {ct.id!r}")
            continue
        ids.add(ct.id)
        for code in ct.services:
            if code not in codes:
                yield (("counters", i, "services"), f"unknown service {code!r}")
    seen: set[str] = set()
    n = 0
    for row in p.raw["counters"]:
        cid = row.get("id")
        key = cid if isinstance(cid, str) else repr(cid)  # any TOML value, hashable or not
        n += row.get("bookings") is True and key not in seen
        seen.add(key)
    if n < 2:
        yield (("counters",), f"at least two counters must take bookings (bookings = true), "
                              f"found {n}", "counters")


def _rule_served(p: _Parts) -> Iterator[Problem]:
    served = {code for row in p.raw["counters"] for code in row.get("services", [])
              if isinstance(row.get("services"), list) and isinstance(code, str)}
    for i, sv in p.rows["services"].items():
        if sv.code not in served:
            yield (("services", i), "no counter serves it", f"services.{sv.code}")


def _rule_web(p: _Parts) -> Iterator[Problem]:
    if (w := p.tables.get("web")) is not None:
        if bool(w.cert_file) != bool(w.key_file):
            yield (("web", "key_file" if w.cert_file else "cert_file"),
                   "HTTPS needs both cert_file and key_file")
        if w.public_url and not w.secret_file:
            yield (("web", "secret_file"), "public_url needs secret_file (the ticket links' key)")
        if w.secret_file is not None and len(w.secret_file) < 16:
            yield (("web", "secret_file"), "the secret must be at least 16 characters")


def _rule_officers(p: _Parts) -> Iterator[Problem]:
    codes: set[str] = set()
    for i, row in enumerate(p.raw["officers"]):  # a row wrong elsewhere still takes its code
        code = row.get("code")
        if isinstance(code, str) and code in codes:
            yield (("officers", i, "code"), f"duplicate officer code {code!r}")
        if isinstance(code, str):
            codes.add(code)


_RULES = (_rule_web, _rule_booking_times, _rule_printer_address, _rule_services, _rule_counters,
          _rule_served, _rule_officers)


# --- load ---

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
    parts, found = _validate(data, {"base": path.parent})
    if found:
        loc = _Locator(text)
        raise ConfigError([f"{path}:{loc.line(p[0])}: {_name(p[0]) if len(p) < 3 else p[2]}: {p[1]}"
                           for p in found])
    return _build(path, parts)


def _validate(data: dict[str, Any], context: dict[str, Any]) -> tuple[_Parts, list[Problem]]:
    """Each table on its own, each row of an array on its own: every mistake is found in
    one pass, not only the first table's. Then the rules across them."""
    missing = [t for t, f in OfficeFile.model_fields.items() if f.is_required() and t not in data]
    found: list[Problem] = [  # a required table that is missing is the likelier meaning
        ((name,), f"unknown table (bảng lạ){_hint(name, missing) or _hint(name, TABLES)}")
        for name in data if name not in TABLES]
    parts = _Parts({}, {name: {} for name in ARRAYS}, {name: [] for name in ARRAYS})
    for name, model in TABLES.items():
        value = data.get(name)
        if name in ARRAYS:
            if name == "services" and not value:
                found.append(((name,), "at least one service is required"))
                continue
            if not isinstance(value, list | None):
                found.append(((name,), f"must be an array of tables ([[{name}]])"))
                continue
            parts.raw[name] = [row if isinstance(row, dict) else {} for row in value or []]
            for i, row in enumerate(value or []):
                try:
                    parts.rows[name][i] = model.model_validate(row, context=context)
                except ValidationError as exc:
                    found += [((name, i, *e["loc"]), _what(model, e)) for e in exc.errors()]
        elif value is None and OfficeFile.model_fields[name].is_required():
            found.append(((name,), "is required"))
        else:
            try:
                parts.tables[name] = (model.model_validate(value, context=context)
                                      if value is not None else model())
            except ValidationError as exc:
                found += [((name, *e["loc"]), _what(model, e)) for e in exc.errors()]
    for rule in _RULES:
        found += rule(parts)
    return parts, found


def _as(cls: type[T], table: _Table, **given: Any) -> T:
    """A dataclass from the table of the same keys (lists become tuples)."""
    keys = type(table).model_fields
    same = {f.name: getattr(table, f.name) for f in fields(cls) if f.name in keys}  # type: ignore[arg-type]
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in same.items()} | given)


def _build(path: Path, p: _Parts) -> OfficeConfig:
    """The dataclasses the rest of motcua reads, from tables that all validated."""
    t = p.tables
    o, b, s, bk, pr = t["office"], t["broker"], t["storage"], t["booking"], t["printer"]

    def beside(name: str) -> Path:
        q = Path(name)
        return q if q.is_absolute() else path.parent / q

    storage = beside(s.path or f"var/{o.id}.sqlite3")
    services = {sv.code: Service(sv.code, sv.name or sv.code, sv.name_en or sv.name or sv.code,
                                 sv.prefix, tuple(sv.requires))
                for sv in p.rows["services"].values()}
    counters = {c.id: Counter(c.id, c.name or f"Quầy {c.id}", tuple(c.services), c.bookings)
                for c in p.rows["counters"].values()}
    return OfficeConfig(
        path=path, id=o.id, name=o.name, tz=ZoneInfo(o.timezone),
        days=frozenset(WEEKDAYS.index(day) for day in o.days), hours=tuple(o.hours),
        closures=frozenset(o.closures),
        broker=BrokerConfig(url=b.url, username=b.username or None, password=b.password_file,
                            ca_file=beside(b.ca_file) if b.ca_file else None),
        storage=storage,
        booking=_as(BookingRules, bk, keys=dict(bk.keys),
                    feedback_service=bk.feedback_service or None),
        services=services, counters=counters, kiosk=_as(KioskConfig, t["kiosk"]),
        printer=_as(PrinterConfig, pr, file=beside(pr.file)),
        display=_as(DisplayConfig, t["display"]),
        limits=_as(Limits, t["limits"]), keep_command_days=s.keep_command_days,
        backups=BackupConfig(
            folder=beside(s.backup_dir) if s.backup_dir else storage.parent / "backups",
            copy_to=beside(s.backup_copy_dir) if s.backup_copy_dir else None,
            keep=s.keep_backups),
        wait_target_min=t["waits"].target_minutes,
        refusals=tuple(RefusalReason(r.reason, r.guidance) for r in t["refusals"].reasons),
        officers={x.code: Officer(x.code, x.name, x.pin, tuple(x.roles))
                  for x in p.rows["officers"].values()},
        rating=_as(RatingConfig, t["rating"]),
        web=_web(t["web"], beside))


def _web(w: WebTable, beside: Callable[[str], Path]) -> WebConfig:
    return WebConfig(listen=w.listen, public_url=w.public_url.rstrip("/"), secret=w.secret_file,
                     cert_file=beside(w.cert_file) if w.cert_file else None,
                     key_file=beside(w.key_file) if w.key_file else None, device=w.device,
                     phones=w.phones)
