"""How right the printed waits were: each ticket's estimate at issue against its wait to the
first call, per day and service (mean absolute error, bias, share within 5 minutes).

The printed estimate is the one the dispatcher put in the ticket's `issued` (or `checked_in`)
event, the same snapshot as the kiosk's reply: the event log keeps it for every ticket ever
issued, back to 0.1.0's databases, and is never pruned (command replies are). The wait is
from issue to the first call, what the estimate foretells (not the BHXH counted wait).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from motcua.waits import ALL

WITHIN_MIN = 5.0  # "about right" for a citizen deciding whether to step out
COLUMNS = ["day", "service", "n", "mae", "bias", "pct_within_5", "not_called"]


@dataclass(frozen=True)
class Estimate:
    day: date
    number: str
    service: str  # at issue
    issued: datetime
    printed: int
    called: datetime | None  # the first call

    @property
    def wait(self) -> float | None:
        return None if self.called is None else (self.called - self.issued).total_seconds() / 60


def load(db: sqlite3.Connection, first: date, last: date, tz: ZoneInfo) -> list[Estimate]:
    """Every ticket issued between `first` and `last` with the estimate printed on it."""
    span = (first.isoformat(), last.isoformat())
    called: dict[tuple[str, str], datetime] = {}
    for day, number, at in db.execute(
            "SELECT day, ticket, at FROM events WHERE change = 'called' AND day BETWEEN ? AND ? "
            "ORDER BY n", span):
        called.setdefault((day, number), datetime.fromisoformat(at).astimezone(tz))
    out = []
    for day, number, at, body in db.execute(
            "SELECT day, ticket, at, body FROM events WHERE change IN ('issued', 'checked_in') "
            "AND day BETWEEN ? AND ? ORDER BY n", span):
        try:
            ticket = json.loads(body)["ticket"]
            printed, service = int(ticket["est_wait_min"]), str(ticket["service"])
        except (ValueError, KeyError, TypeError):
            continue  # an event this release cannot read says nothing about estimates
        out.append(Estimate(date.fromisoformat(day), number, service,
                            datetime.fromisoformat(at).astimezone(tz), printed,
                            called.get((day, number))))
    return out


def _figures(group: list[Estimate]) -> dict[str, Any]:
    errs = [e.printed - w for e in group if (w := e.wait) is not None]
    n = len(errs)
    return {"n": n, "mae": sum(map(abs, errs)) / n if n else None,
            "bias": sum(errs) / n if n else None,
            "pct_within_5": 100 * sum(abs(x) <= WITHIN_MIN for x in errs) / n if n else None,
            "not_called": sum(e.called is None for e in group)}


def table(estimates: list[Estimate]) -> list[dict[str, Any]]:
    """Per day and service, then per day for every service (*), then the whole span (* *)
    when it holds more than one day."""
    groups: dict[tuple[str, str], list[Estimate]] = defaultdict(list)
    for e in estimates:
        groups[(e.day.isoformat(), e.service)].append(e)
        groups[(e.day.isoformat(), ALL)].append(e)
    days = {e.day for e in estimates}
    rows = [{"day": d, "service": s, **_figures(g)} for (d, s), g in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1] == ALL, kv[0][1]))]
    if len(days) > 1:
        rows.append({"day": ALL, "service": ALL, **_figures(estimates)})
    return rows


def chart(estimates: list[Estimate], path: Path, office: str, span: str) -> Path:
    """Printed against real waits, one dot a ticket, the 5-minute band around the diagonal;
    beside it each service's mean error and bias."""
    from reports.charts import BLUE, GREY, ORANGE, RED, _no_data, _save, _t, plt

    called = [e for e in estimates if e.wait is not None]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 5.6), gridspec_kw={"width_ratios": [3, 2]})
    top = max([30.0, *(e.printed for e in called), *(e.wait or 0 for e in called)]) * 1.05
    ax.fill_between([0, top], [-WITHIN_MIN, top - WITHIN_MIN], [WITHIN_MIN, top + WITHIN_MIN],
                    color=BLUE, alpha=0.12, linewidth=0,
                    label=_t(f"Lệch không quá {WITHIN_MIN:g} phút / within {WITHIN_MIN:g} min"))
    ax.plot([0, top], [0, top], color=GREY, linewidth=1)
    ax.scatter([e.wait for e in called], [e.printed for e in called], s=14, color=BLUE,
               alpha=0.7, label=_t("Một phiếu / one ticket"))
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(_t("Thực tế chờ đến lúc được gọi (phút) / real wait to the call, minutes"))
    ax.set_ylabel(_t("Dự kiến in trên phiếu (phút) / printed estimate, minutes"))
    _no_data(ax, not called)
    ax.legend(loc="upper left", fontsize=9, frameon=False)
    ax.set_title(_t(f"Thời gian chờ dự kiến và thực tế / Printed and real waits\n{office} · "
                    f"{span}"), loc="left")
    rows = [r for r in table(estimates) if r["service"] != ALL and r["n"]]
    by_service: dict[str, list[Estimate]] = defaultdict(list)
    for e in estimates:
        by_service[e.service].append(e)
    names = sorted(by_service)
    figures = [_figures(by_service[s]) for s in names]
    x = list(range(len(names)))
    bx.bar([i - 0.2 for i in x], [f["mae"] or 0 for f in figures], width=0.4, color=ORANGE,
           label=_t("Sai số trung bình / mean abs error"))
    bx.bar([i + 0.2 for i in x], [f["bias"] or 0 for f in figures], width=0.4, color=RED,
           label=_t("Thiên lệch (+: dự kiến dài hơn) / bias (+: printed longer)"))
    bx.axhline(0, color=GREY, linewidth=1)
    high = max([1.0, *(f["mae"] or 0 for f in figures), *(f["bias"] or 0 for f in figures)])
    low = min([0.0, *(f["bias"] or 0 for f in figures)])
    bx.set_ylim(low * 1.15, high * 1.6)  # room for the legend above the bars
    bx.set_xticks(x, [_t(f"{s}\n{f['pct_within_5']:.0f}% ±{WITHIN_MIN:g}′") if f["n"] else s
                      for s, f in zip(names, figures, strict=True)])
    bx.set_ylabel(_t("Phút / minutes"))
    bx.set_xlabel(_t("Dịch vụ, tỉ lệ lệch ≤ 5 phút / service, share within 5 min"))
    _no_data(bx, not rows)
    bx.legend(loc="upper left", fontsize=9, frameon=False)
    bx.set_title(_t("Theo dịch vụ / By service"), loc="left")
    return _save(fig, path)
