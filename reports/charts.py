"""PNG charts of a report for an office head's monthly report: waits, their spread, the load."""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # no screen on a server; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from motcua.waits import TARGET_MIN  # noqa: E402

if TYPE_CHECKING:
    from reports.report import Report

# DejaVu Sans (matplotlib's own) has every Vietnamese glyph; text goes in NFC so that marks
# do not stack as separate characters.
plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 11, "axes.titlesize": 13,
                     "axes.spines.top": False, "axes.spines.right": False,
                     "figure.dpi": 100, "savefig.dpi": 120})
BLUE, ORANGE, RED, GREY = "#1f5fa8", "#e8912d", "#c62828", "#9e9e9e"


def _t(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _title(ax: plt.Axes, title: str, office: str, span: str) -> None:
    ax.set_title(_t(f"{title}\n{office} · {span}"), loc="left")


def _target(ax: plt.Axes, horizontal: bool = True) -> None:
    label = _t(f"Mục tiêu {TARGET_MIN:g} phút / {TARGET_MIN:g}-minute target")
    if horizontal:
        ax.axhline(TARGET_MIN, color=RED, linestyle="--", linewidth=1.5, label=label)
    else:
        ax.axvline(TARGET_MIN, color=RED, linestyle="--", linewidth=1.5, label=label)


def _no_data(ax: plt.Axes, empty: bool) -> None:
    if empty:
        ax.text(0.5, 0.5, _t("Không có dữ liệu / no data"), transform=ax.transAxes,
                ha="center", va="center", fontsize=14, color=GREY)


def waits_by_hour(r: Report, path: Path, office: str, span: str) -> Path:
    hours = r.tables["hours"]  # every opening hour; an hour nobody waited in shows a gap
    fig, ax = plt.subplots(figsize=(10, 5.2))
    x = list(range(len(hours)))
    ax.bar(x, [h["mean_wait"] or 0 for h in hours], width=0.6, color=BLUE,
           label=_t("Chờ trung bình / mean wait"))
    ax.plot(x, [math.nan if h["p90_wait"] is None else h["p90_wait"] for h in hours], "o-",
            color=ORANGE, linewidth=2, label=_t("9/10 khách chờ không quá / 90th percentile"))
    _target(ax)
    ax.set_ylim(0, max([TARGET_MIN * 1.4] + [(h["p90_wait"] or 0) * 1.15 for h in hours]))
    # Who waited too long goes under each hour, where no line or bar can cover it.
    ax.set_xticks(x, [f"{h['hour']}\n{h['over_15']}/{h['seen']}" if h["seen"] else h["hour"]
                      for h in hours])
    for label, h in zip(ax.get_xticklabels(), hours, strict=True):
        if h["over_15"]:
            label.set_color(RED)
    ax.set_xlabel(_t("Giờ lấy số, số khách chờ quá 15 phút / số khách — hour of issue, "
                     "waited over 15 min / seen"))
    ax.set_ylabel(_t("Phút chờ / minutes waited"))
    _no_data(ax, not any(h["seen"] for h in hours))
    _title(ax, "Thời gian chờ theo giờ / Waiting time by hour", office, span)
    ax.legend(loc="upper right", fontsize=9, frameon=False)
    return _save(fig, path)


def wait_distribution(r: Report, path: Path, office: str, span: str) -> Path:
    waits = [t.wait for t in r.rows if t.wait is not None]
    fig, ax = plt.subplots(figsize=(10, 5.2))
    top = max([30.0, *waits])
    bins = [5 * i for i in range(int(top // 5) + 2)]
    if waits:
        _, _, patches = ax.hist(waits, bins=bins, color=BLUE, edgecolor="white")
        for patch, left in zip(list(patches), bins, strict=False):  # type: ignore[arg-type]
            if left >= TARGET_MIN:
                patch.set_facecolor(ORANGE)
    _target(ax, horizontal=False)
    ax.set_xlim(0, bins[-1])
    over = sum(w > TARGET_MIN for w in waits)
    share = f"{over / len(waits):.0%}" if waits else "-"
    ax.text(0.98, 0.80, _t(f"{over} / {len(waits)} khách chờ quá {TARGET_MIN:g} phút ({share})\n"
                           f"{over} of {len(waits)} waited over {TARGET_MIN:g} min"),
            transform=ax.transAxes, ha="right", va="top", fontsize=10)
    ax.set_xlabel(_t("Phút chờ / minutes waited (lịch hẹn đúng giờ: từ giờ hẹn / on-time "
                     "bookings: from slot start)"))
    ax.set_ylabel(_t("Số khách / citizens"))
    _no_data(ax, not waits)
    _title(ax, "Phân bố thời gian chờ / Distribution of waits", office, span)
    ax.legend(loc="upper right", fontsize=9, frameon=False)
    return _save(fig, path)


def load_by_hour(r: Report, path: Path, office: str, span: str) -> Path:
    hours = r.tables["hours"]
    fig, ax = plt.subplots(figsize=(10, 5.2))
    x = list(range(len(hours)))
    walk = [h["walk_in"] for h in hours]
    ax.bar(x, walk, width=0.6, color=BLUE, label=_t("Vãng lai / walk-ins"))
    ax.bar(x, [h["booking"] for h in hours], width=0.6, bottom=walk, color=ORANGE,
           label=_t("Lịch hẹn / bookings"))
    ax.plot(x, [h["called_in_hour"] for h in hours], "s--", color=GREY, linewidth=1.5,
            label=_t("Được gọi trong giờ / called in that hour"))
    ax.set_xticks(x, [h["hour"] for h in hours])
    ax.set_xlabel(_t("Giờ / hour"))
    ax.set_ylabel(_t("Số phiếu / tickets"))
    top = max([1, *(h["issued"] for h in hours), *(h["called_in_hour"] for h in hours)])
    ax.set_ylim(0, top * 1.25)
    _no_data(ax, not any(h["issued"] for h in hours))
    _title(ax, "Lượng khách theo giờ / Load by hour", office, span)
    ax.legend(loc="upper right", fontsize=9, frameon=False)
    return _save(fig, path)


def by_day(r: Report, path: Path, office: str, span: str) -> Path:
    days = r.tables["days"]
    fig, ax = plt.subplots(figsize=(10, 5.2))
    x = list(range(len(days)))
    ax.bar(x, [d["tickets"] for d in days], width=0.6, color=BLUE,
           label=_t("Số phiếu / tickets"))
    ax.set_ylabel(_t("Số phiếu / tickets"))
    ax.set_ylim(0, max(1, *(d["tickets"] for d in days)) * 1.3)  # room for the legend
    ax.set_xticks(x, [d["day"][5:] for d in days], rotation=45 if len(days) > 12 else 0)
    ax2 = ax.twinx()
    share = [100 * d["over_15"] / max(1, d["seen"]) for d in days]
    ax2.plot(x, share, "o-", color=RED, label=_t("% chờ quá 15 phút / % over 15 min"))
    ax2.set_ylabel(_t("% chờ quá 15 phút / % waited over 15 min"))
    ax2.set_ylim(0, max(20.0, *share) * 1.2)
    ax2.spines["right"].set_visible(True)
    _title(ax, "Theo ngày / By day", office, span)
    lines = ax.get_legend_handles_labels(), ax2.get_legend_handles_labels()
    ax.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], loc="upper right",
              fontsize=9, frameon=False)
    return _save(fig, path)


def overdue_by_hour(r: Report, path: Path, office: str, span: str) -> Path:
    """How many waits passed the target in each hour, and how long they went on past it."""
    hours = r.tables["overdue"]
    fig, ax = plt.subplots(figsize=(10, 5.2))
    x = list(range(len(hours)))
    bars = ax.bar(x, [h["overdue"] for h in hours], width=0.6, color=RED,
                  label=_t(f"Số người chờ quá {r.target_min:g} phút / waits past "
                           f"{r.target_min:g} min"))
    ax.bar_label(bars, [str(h["overdue"]) if h["overdue"] else "" for h in hours],
                 color=RED, fontweight="bold")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(_t("Số người / citizens"))
    ax.set_ylim(0, max([1, *(h["overdue"] for h in hours)]) * 1.3)
    ax.set_xticks(x, [h["hour"] for h in hours])
    ax.set_xlabel(_t("Giờ quá hạn / hour the wait passed the target"))
    ax2 = ax.twinx()
    mean = [math.nan if h["mean_over_min"] is None else h["mean_over_min"] for h in hours]
    top = [math.nan if h["max_over_min"] is None else h["max_over_min"] for h in hours]
    ax2.plot(x, mean, "o-", color=BLUE, linewidth=2,
             label=_t("Quá hạn trung bình (phút) / mean minutes past it"))
    ax2.plot(x, top, "^--", color=ORANGE, linewidth=1.5,
             label=_t("Lâu nhất (phút) / longest, minutes"))
    ax2.set_ylabel(_t("Phút quá hạn / minutes past the target"))
    ax2.set_ylim(0, max([10.0, *(v for v in top if not math.isnan(v))]) * 1.25)
    ax2.spines["right"].set_visible(True)
    _no_data(ax, not any(h["overdue"] for h in hours))
    _title(ax, "Chờ quá mục tiêu / Waits past the target", office, span)
    lines = ax.get_legend_handles_labels(), ax2.get_legend_handles_labels()
    ax.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], loc="upper right",
              fontsize=9, frameon=False)
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, facecolor="white")
    plt.close(fig)
    return path


def draw_all(r: Report, out: Path, office: str) -> list[Path]:
    """Every chart of the report as PNG files in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    span = r.first.isoformat() if r.first == r.last else f"{r.first} – {r.last}"
    office = _t(office)
    paths = [waits_by_hour(r, out / "waits_by_hour.png", office, span),
             wait_distribution(r, out / "wait_distribution.png", office, span),
             load_by_hour(r, out / "load_by_hour.png", office, span),
             overdue_by_hour(r, out / "overdue_by_hour.png", office, span)]
    if len(r.tables["days"]) > 1:
        paths.append(by_day(r, out / "days.png", office, span))
    return paths
