"""Load profiles: who comes on a simulated day, built in or read from a TOML file."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from motcua.errors import MotcuaError


class SimulationError(MotcuaError):
    """Bad input for the simulator (a profile, an option), said in Vietnamese and English."""

    exit_code = 2


@dataclass(frozen=True)
class Profile:
    """Who comes on a day: how many, when, with what, and how long they take."""

    name: str
    visits: float  # citizens on the first day, walk-ins and bookings together
    hourly: dict[int, float]  # clock hour -> relative walk-in arrival rate
    day_factors: tuple[float, ...] = (1.0,)  # visits on later days; the last one repeats
    booking_share: float = 0.3  # Binh Duong's pilot: about 30% of visits were booked
    late_share: float = 0.1  # bookings checked in after slot start + grace
    no_show_share: float = 0.08  # bookings never checked in
    priority_share: float = 0.05
    leave_share: float = 0.05  # walk-ins who give up after 20-60 minutes of waiting
    refuse_share: float = 0.02
    service_minutes: float = 15.0
    service_cv: float = 0.6
    distribution: str = "lognormal"  # lognormal | gamma | exponential | fixed
    services: dict[str, float] = field(default_factory=dict)  # empty: the first weighs most

    def visits_on(self, index: int) -> int:
        return round(self.visits * self.day_factors[min(index, len(self.day_factors) - 1)])


PROFILES = {
    "normal": Profile("normal", 120, {7: 1.0, 8: 1.3, 9: 1.3, 10: 1.1, 11: 0.6, 13: 1.0,
                                      14: 1.0, 15: 0.8, 16: 0.4}),
    # The first working days of a month or quarter: a morning rush of one-time withdrawals.
    "peak": Profile("peak", 200, {7: 1.8, 8: 2.0, 9: 1.6, 10: 1.1, 11: 0.5, 13: 1.0, 14: 0.9,
                                  15: 0.6, 16: 0.3}, day_factors=(1.0, 0.9, 0.8, 0.7, 0.6)),
}
START = {"peak": date(2026, 12, 1), "normal": date(2026, 12, 9)}
DISTRIBUTIONS = ("lognormal", "gamma", "exponential", "fixed")


def load_profile(name: str) -> Profile:
    """A built-in profile by name, or a TOML file whose [profile] table changes a base one."""
    if name in PROFILES:
        return PROFILES[name]
    try:
        data = tomllib.loads(Path(name).read_text(encoding="utf-8")).get("profile")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SimulationError(f"không đọc được hồ sơ tải {name!r} (peak, normal hoặc tệp TOML)",
                              f"cannot read profile {name!r} (peak, normal or a TOML file): "
                              f"{exc}") from exc
    if not isinstance(data, dict):
        raise SimulationError(f"{name}: thiếu bảng [profile]", f"{name}: no [profile] table")
    base = PROFILES.get(str(data.pop("base", "normal")))
    if base is None:
        raise SimulationError(f"{name}: profile.base phải là peak hoặc normal",
                              f"{name}: profile.base must be peak or normal")
    known = {f.name for f in dataclasses.fields(Profile)}
    kw: dict[str, Any] = {"name": Path(name).stem}
    for key, value in data.items():
        hint = _check_field(key, value, known)
        if hint:
            raise SimulationError(f"{name}: profile.{key} {hint[0]}",
                                  f"{name}: profile.{key} {hint[1]}")
        kw[key] = _as_field(key, value)
    return dataclasses.replace(base, **kw)


def _number(v: Any, most: float = math.inf) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= most


def _check_field(key: str, v: Any, known: set[str]) -> tuple[str, str] | None:
    """What is wrong with one profile field (Vietnamese, English), or None."""
    if key not in known:
        return "không phải trường của hồ sơ tải", "is not a profile field"
    if key == "name":
        return None if isinstance(v, str) else ("phải là chuỗi", "must be a string")
    if key == "distribution":
        return None if v in DISTRIBUTIONS else (
            "phải là " + ", ".join(DISTRIBUTIONS), "must be one of " + ", ".join(DISTRIBUTIONS))
    if key.endswith("_share"):
        return None if _number(v, 1) else ("phải là số từ 0 đến 1", "must be a number 0 to 1")
    if key in ("visits", "service_minutes", "service_cv"):
        ok = _number(v) and (v > 0 or key == "service_cv")
        return None if ok else ("phải là số dương", "must be a positive number")
    if key == "day_factors":
        ok = isinstance(v, list) and v and all(_number(x) for x in v)
        return None if ok else ("phải là danh sách số", "must be a list of numbers")
    ok = isinstance(v, dict) and all(_number(x) for x in v.values())  # hourly, services
    if ok and key == "hourly":
        ok = all(str(h).isdigit() and int(h) < 24 for h in v)
    return None if ok else ("phải là bảng khóa = số (giờ 0-23 cho hourly)",
                            "must be a table of key = number (hours 0-23 for hourly)")


def _as_field(key: str, v: Any) -> Any:
    if key == "day_factors":
        return tuple(float(x) for x in v)
    if key in ("hourly", "services"):
        return {int(k) if key == "hourly" else str(k): float(x) for k, x in v.items()}
    return float(v) if _number(v) else v
