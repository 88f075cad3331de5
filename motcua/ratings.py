"""Satisfaction ratings (đánh giá mức độ hài lòng): the four levels and what each is called.

A citizen rates a service once it has ended as done: at the counter's rating screen, or
later through a relay for the ticket's holder. The dispatcher keeps one rating per ticket."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    code: str  # on the wire and in the database
    vi: str
    en: str
    score: int  # 4 best .. 1 worst, for a mean in reports


LEVELS: tuple[Level, ...] = (
    Level("very_satisfied", "Rất hài lòng", "Very satisfied", 4),
    Level("satisfied", "Hài lòng", "Satisfied", 3),
    Level("neutral", "Bình thường", "Neutral", 2),
    Level("unsatisfied", "Không hài lòng", "Not satisfied", 1),
)
BY_CODE: dict[str, Level] = {lv.code: lv for lv in LEVELS}
CODES: tuple[str, ...] = tuple(BY_CODE)
WINDOW_MINUTES = 5  # [rating] window_minutes: how long after the service a rating is taken
