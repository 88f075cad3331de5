"""The report's figures by officer, and the citizens' ratings (đánh giá mức độ hài lòng).

Read from the same read-only database as the rest of the report. A database made before
officers (schema 3) or ratings (schema 4) has no such columns or table: its report has
these tables empty, as has an office without officers or a day nobody rated."""

from __future__ import annotations

import sqlite3
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from motcua.ratings import BY_CODE, CODES

if TYPE_CHECKING:
    from reports.report import Row

NOBODY = "-"  # a ticket served where nobody signs in
GROUPS = ("counter", "officer", "service", "day")  # rating shares by each of these
GROUP_NAMES = {"counter": "quầy / counter", "officer": "cán bộ / officer",
               "service": "dịch vụ / service", "day": "ngày / day"}


@dataclass(frozen=True)
class Rating:
    day: date
    ticket: str
    counter: str
    officer: str | None
    service: str
    level: str


def has_column(db: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in db.execute(f"PRAGMA table_info({table})"))


def load_officers(db: sqlite3.Connection, first: date, last: date) -> dict[tuple[str, str], str]:
    """(day, ticket number) -> the officer who called it last, where one was recorded."""
    if not has_column(db, "tickets", "officer"):
        return {}
    return {(day, number): officer for day, number, officer in db.execute(
        "SELECT day, number, officer FROM tickets WHERE officer IS NOT NULL "
        "AND day BETWEEN ? AND ?", (first.isoformat(), last.isoformat()))}


def load_ratings(db: sqlite3.Connection, first: date, last: date) -> list[Rating]:
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='ratings'"
                      ).fetchone():
        return []
    return [Rating(date.fromisoformat(day), ticket, counter, officer, service, level)
            for day, ticket, counter, officer, service, level in db.execute(
                "SELECT day, ticket, counter, officer, service, level FROM ratings "
                "WHERE day BETWEEN ? AND ? ORDER BY day, at",
                (first.isoformat(), last.isoformat()))
            if level in BY_CODE]  # a level a newer release added is not counted here


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def by_officer(rows: list[Row], ratings: list[Rating], names: dict[str, str]
               ) -> list[dict[str, Any]]:
    """What each officer did: served (done), mean service time, refusals, no-shows, and how
    their citizens rated them. Only officers who called someone or were rated."""
    mine: dict[str, list[Row]] = defaultdict(list)
    for t in rows:
        if t.officer:
            mine[t.officer].append(t)
    rated: dict[str, list[Rating]] = defaultdict(list)
    for r in ratings:
        if r.officer:
            rated[r.officer].append(r)
    out = []
    for code in sorted(set(mine) | set(rated)):
        ts = mine.get(code, [])
        minutes = [(t.closed - t.last_called).total_seconds() / 60 for t in ts
                   if t.status == "done" and t.closed and t.last_called]
        levels = Tally(r.level for r in rated.get(code, []))
        n = sum(levels.values())
        out.append({"officer": code, "name": names.get(code, code),
                    "served": sum(t.status == "done" for t in ts),
                    "mean_service": _mean(minutes),
                    "refused": sum(t.status == "refused" for t in ts),
                    "no_show": sum(t.status == "no_show" for t in ts),
                    "ratings": n, **{lv: levels[lv] for lv in CODES},
                    "satisfied_share": _satisfied(levels, n),
                    "mean_score": _score(levels, n)})
    return out


def officer_refusals(rows: list[Row]) -> list[dict[str, Any]]:
    found = Tally((t.officer, t.reason or "-") for t in rows
                  if t.officer and t.status == "refused")
    return [{"officer": o, "reason": reason, "count": n}
            for (o, reason), n in sorted(found.items(), key=lambda kv: (kv[0][0], -kv[1]))]


def _satisfied(levels: Tally[str], n: int) -> float | None:
    return (levels["very_satisfied"] + levels["satisfied"]) / n if n else None


def _score(levels: Tally[str], n: int) -> float | None:
    return sum(BY_CODE[lv].score * k for lv, k in levels.items()) / n if n else None


def _key(r: Rating, group: str) -> str:
    return {"counter": r.counter, "officer": r.officer or NOBODY, "service": r.service,
            "day": r.day.isoformat()}[group]


def shares(ratings: Iterable[Rating], served: dict[tuple[str, str], int]
           ) -> list[dict[str, Any]]:
    """Rating counts and shares per counter, officer, service and day. `served`: (group,
    key) -> services done there, so that how many citizens rated at all is seen too."""
    tallies: dict[tuple[str, str], Tally[str]] = defaultdict(Tally)
    for r in ratings:
        for g in GROUPS:
            tallies[(g, _key(r, g))][r.level] += 1
    out = []
    for (g, key) in sorted(set(tallies) | set(served),
                           key=lambda gk: (GROUPS.index(gk[0]), _natural(gk[1]))):
        levels = tallies.get((g, key), Tally())
        n = sum(levels.values())
        done = served.get((g, key), 0)
        out.append({"group": g, "key": key, "done": done, "ratings": n,
                    "rated_share": n / done if done else None,
                    **{lv: levels[lv] for lv in CODES},
                    **{f"{lv}_share": (levels[lv] / n if n else None) for lv in CODES},
                    "mean_score": _score(levels, n)})
    return out


def served_by_group(rows: list[Row]) -> dict[tuple[str, str], int]:
    """Services done, by counter, officer (where there are officers), service and day."""
    out: Tally[tuple[str, str]] = Tally()
    for t in rows:
        if t.status != "done" or not t.counter:
            continue
        out[("counter", t.counter)] += 1
        out[("service", t.service)] += 1
        out[("day", t.day.isoformat())] += 1
        if t.officer:
            out[("officer", t.officer)] += 1
    return dict(out)


def totals(ratings: list[Rating], rows: list[Row]) -> dict[str, Any]:
    levels = Tally(r.level for r in ratings)
    n = sum(levels.values())
    done = sum(t.status == "done" for t in rows)
    return {"ratings": n, "rated_share": n / done if done else None,
            "satisfied_share": _satisfied(levels, n), "rating_mean_score": _score(levels, n)}


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 30, text)


OFFICER_COLUMNS = ["officer", "name", "served", "mean_service", "refused", "no_show", "ratings",
                   *CODES, "satisfied_share", "mean_score"]
REFUSAL_COLUMNS = ["officer", "reason", "count"]
RATING_COLUMNS = ["group", "key", "done", "ratings", "rated_share", *CODES,
                  *(f"{lv}_share" for lv in CODES), "mean_score"]
