"""The board's widgets: labels that size their text to their box, table rows, the board."""

from __future__ import annotations

import os
import weakref
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.stencilview import StencilView
from kivy.uix.widget import Widget

from display import theme
from display.model import BoardModel

KV = Path(__file__).with_name("board.kv")
LINE = 1.2  # a line of Roboto is ~1.17 font sizes tall, marks on capitals included
MEASURE_AT = 100  # text width scales with font size, so one measurement per text will do
_widths: dict[tuple[str, str, bool], float] = {}
_measurers: dict[tuple[str, bool], CoreLabel] = {}
_groups: defaultdict[str, weakref.WeakSet[FitLabel]] = defaultdict(weakref.WeakSet)
_group_events: dict[str, object] = {}


def text_width(text: str, font_name: str, bold: bool) -> float:
    """Width of `text` at MEASURE_AT pixels, cached (a board shows few distinct texts)."""
    key = (text, font_name, bold)
    if key not in _widths:
        if len(_widths) > 4000:
            _widths.clear()
        core = _measurers.get((font_name, bold))
        if core is None:
            core = _measurers[(font_name, bold)] = CoreLabel(font_size=MEASURE_AT,
                                                             font_name=font_name, bold=bold)
        _widths[key] = max(1.0, float(core.get_extents(text)[0]))
    return _widths[key]


class FitLabel(Label):
    """One line of text as large as its box allows: at most `fill` of the box height, and
    never wider than the box. Labels sharing a `group` take the size of the smallest, so a
    column of a table reads as one."""

    fill = NumericProperty(0.7)
    group = StringProperty("")

    def __init__(self, **kwargs: object):
        self._fit_event = Clock.create_trigger(self._fit, -1)
        super().__init__(**kwargs)
        self.fbind("text", self._fit_event)
        self.fbind("size", self._fit_event)
        self.fbind("bold", self._fit_event)
        self.fbind("fill", self._fit_event)
        self.fbind("group", self._joined)
        self._joined()

    def _joined(self, *_: object) -> None:
        if self.group:
            _groups[self.group].add(self)
        self._fit_event()

    def ideal(self) -> float:
        if self.height < 2 or self.width < 2:
            return 1.0
        tall = min(self.height * self.fill, self.height / LINE)
        if not self.text.strip():
            return float(int(tall))
        wide = self.width * 0.96 * MEASURE_AT / text_width(self.text, self.font_name, self.bold)
        # whole pixels: a new ticket of about the same width does not re-render its column
        return float(max(1, int(min(tall, wide))))

    def _fit(self, *_: object) -> None:
        if not self.group:
            self.font_size = self.ideal()
            return
        if self.group not in _group_events:
            _group_events[self.group] = Clock.create_trigger(
                lambda *_a, g=self.group: fit_group(g), -1)
        _group_events[self.group]()  # type: ignore[operator]


def fit_group(name: str) -> None:
    labels = [label for label in _groups[name] if label.get_root_window() is not None
              and label.width >= 2 and label.height >= 2]  # rows not in use have no size
    if labels:
        size = min(label.ideal() for label in labels)
        for label in labels:
            label.font_size = size


class NoticeLine(StencilView):
    """The notice at the foot of the board: at one size whatever its length. A notice too
    long for the line scrolls, instead of shrinking until nobody can read it: it shows its
    start for HOLD_S, moves left at `speed` line heights a second until its end is in
    view, and holds that for HOLD_S. The stencil keeps it inside the line."""

    HOLD_S = 2.0
    FPS = 20  # smooth enough to read; each frame redraws the whole board (software GL)

    text = StringProperty("")
    fill = NumericProperty(0.8)
    # line heights a second: about 7 characters; MOTCUA_NOTICE_SPEED changes it (tests scroll
    # faster to see a whole pass in a few seconds)
    speed = NumericProperty(float(os.environ.get("MOTCUA_NOTICE_SPEED") or 3.0))
    scrolling = BooleanProperty(False)
    offset = NumericProperty(0.0)  # pixels scrolled

    def __init__(self, **kwargs: object):
        self._started = 0.0
        self._event: object | None = None
        super().__init__(**kwargs)
        self.label = Label(size_hint=(None, None), color=theme.MUTED)
        self.add_widget(self.label)
        for name in ("text", "size", "pos", "fill"):
            self.fbind(name, self._layout)
        self.fbind("offset", self._place)

    @property
    def overflow(self) -> float:
        """How far the text is wider than the line, in pixels (0: it fits)."""
        return max(0.0, self.label.texture_size[0] - self.width * 0.96)

    def pass_s(self) -> float:
        """Seconds for one pass of the notice: the board shows the next one after it."""
        if not self.scrolling:
            return 0.0
        return 2 * self.HOLD_S + self.overflow / max(1.0, self.speed * self.height)

    def _layout(self, *_: object) -> None:
        label = self.label
        label.text = self.text
        label.font_size = max(1, int(min(self.height * self.fill, self.height / LINE)))
        label.texture_update()
        label.size = label.texture_size
        self.scrolling = self.overflow > 0
        self.offset = 0.0
        self._started = Clock.get_boottime()
        if self.scrolling and self._event is None:
            self._event = Clock.schedule_interval(self._step, 1 / self.FPS)
        elif not self.scrolling and self._event is not None:
            Clock.unschedule(self._step)
            self._event = None
        self._place()

    def _step(self, _dt: float) -> None:
        t = Clock.get_boottime() - self._started
        moving = max(0.0, t - self.HOLD_S) * self.speed * self.height
        self.offset = float(int(min(self.overflow, moving)))  # whole pixels: crisp text
        if t >= self.pass_s() + 0.5:
            self._started = Clock.get_boottime()  # the same notice again, from its start
            self.offset = 0.0

    def _place(self, *_: object) -> None:
        label, w = self.label, self.label.texture_size[0]
        if self.scrolling:
            x = self.x + self.width * 0.02 - self.offset
        else:
            x = self.x + (self.width - w) / 2
        label.pos = (int(x), int(self.center_y - label.height / 2))


class ServingRow(Widget):
    ticket = StringProperty("")
    counter = StringProperty("")
    fresh = BooleanProperty(False)
    index = NumericProperty(0)
    hero = BooleanProperty(False)  # the newest call: its own size, not its column's
    stacked = BooleanProperty(False)  # the number above the counter, for narrow cells
    closed = BooleanProperty(False)  # "Quầy 2: tạm đóng" across the row, no number

    def __init__(self, **kwargs: object):
        super().__init__(**kwargs)
        for name in ("pos", "size", "stacked", "hero", "closed"):
            self.fbind(name, self.place)
        self.place()

    def place(self, *_: object) -> None:
        x, y, w, h = self.x, self.y, self.width, self.height
        ids = self.ids
        if self.closed:
            ids.ticket.pos, ids.ticket.size = (x, y), (0, 0)
            ids.arrow.pos, ids.arrow.size = (x, y), (0, 0)
            ids.counter.pos, ids.counter.size = (x + w * 0.04, y), (w * 0.92, h)
            return
        if self.stacked:
            pad = h * 0.03
            top = 0.66 if self.hero else 0.78
            inner = h - 2 * pad
            ids.ticket.pos, ids.ticket.size = (x + w * 0.02, y + pad + inner * (1 - top)), \
                (w * 0.96, inner * top)
            ids.arrow.pos, ids.arrow.size = (x, y), (0, 0)
            ids.counter.pos, ids.counter.size = (x + w * 0.02, y + pad), \
                (w * 0.96, inner * (1 - top))
            return
        pad, inner = w * 0.02, w * 0.96
        ids.ticket.pos, ids.ticket.size = (x + pad, y), (inner * 0.48, h)
        ids.arrow.pos, ids.arrow.size = (x + pad + inner * 0.48, y), (inner * 0.08, h)
        ids.counter.pos, ids.counter.size = (x + pad + inner * 0.56, y), (inner * 0.44, h)


class RecentRow(BoxLayout):
    ticket = StringProperty("")
    counter = StringProperty("")  # known, not drawn: the side column has room for numbers
    index = NumericProperty(0)


class WaitingRow(BoxLayout):
    service = StringProperty("")
    count = StringProperty("")
    wait = StringProperty("")  # known, not drawn: at a readable size it does not fit
    index = NumericProperty(0)


Rect = tuple[float, float, float, float]  # x, y, width, height; y from the bottom


@dataclass(frozen=True)
class Plan:
    """Where the board's parts go inside the body, for `n` serving rows in use."""

    hero: Rect
    others: list[Rect]
    stacked: bool  # the other rows show the number above the counter
    side: Rect | None  # waiting counts (and recent calls when show_recent); None: dropped
    show_recent: bool
    main: Rect  # where the "no calls yet" line goes (clear of the side part)


def plan(width: float, height: float, n: int) -> Plan:
    """Sizes from the body's size and the rows actually in use, so three counters fill the
    panel and a 1280x720 board keeps the proportions of a 1920x1080 one.

    Landscape, up to 3 rows: the newest call in a band across the whole width, the others
    below it on the left, waiting counts and recent numbers on the right. Landscape, 4 rows
    and more: the newest call in a column on the left with the waiting counts under it, the
    others in a grid on the right (recent calls dropped: the grid shows who is served).
    Portrait: the newest call on top, the others below it, the side part at the bottom.
    """
    w, h = max(width, 1.0), max(height, 1.0)
    g = min(w, h) * 0.015
    others_n = max(0, n - 1)
    if w < h:  # portrait
        hh = h * 0.3
        side_h = h * 0.26
        rest = h - hh - side_h - 2 * g
        others = _column(0, side_h + g, w, rest, others_n, g, cap=hh * 0.6)
        return Plan((0, h - hh, w, hh), others, False, (0, 0, w, side_h), True,
                    (0, side_h + g, w, h - side_h - g))
    if n <= 3:
        hh = h * 0.37
        rest = h - hh - g
        left = w * 0.56
        others = _column(0, 0, left, rest, others_n, g, cap=hh * 0.72)
        return Plan((0, h - hh, w, hh), others, False,
                    (left + g, 0, w - left - g, rest), True, (0, h - hh, w, hh))
    col = w * 0.42
    hh = h * 0.58
    right, rw = col + g, w - col - g
    rows = min(3, others_n)
    cols = -(-others_n // rows)
    cw, ch = (rw - (cols - 1) * g) / cols, (h - (rows - 1) * g) / rows
    others = [(right + (i // rows) * (cw + g), h - (i % rows + 1) * ch - (i % rows) * g, cw, ch)
              for i in range(others_n)]
    return Plan((0, h - hh, col, hh), others, cols > 1,
                (0, 0, col, h - hh - g), False, (0, 0, w, h))


def _column(x: float, y: float, w: float, h: float, n: int, g: float,
            cap: float) -> list[Rect]:
    """n rows from the top of the box, as tall as the box allows up to `cap`."""
    if n <= 0:
        return []
    rh = min(cap, (h - (n - 1) * g) / n)
    return [(x, y + h - (i + 1) * rh - i * g, w, rh) for i in range(n)]


RECENT_SHOWN = 3  # recent numbers side by side: as many as fit at a readable size


class BoardView(FloatLayout):
    """The whole board: header, the newest call, the other counters, waiting counts."""

    office_name = StringProperty("")
    time_text = StringProperty("")
    date_text = StringProperty("")
    banner = ListProperty(["", ""])  # Vietnamese, English; empty when all is well
    banner_kind = StringProperty("")  # lost | connecting | dispatcher | closed
    notice = StringProperty("")
    dim = BooleanProperty(False)
    placeholder = StringProperty("Đang tải… / Loading…")
    landscape = BooleanProperty(True)
    n_serving = NumericProperty(1)
    n_recent = NumericProperty(1)
    n_waiting = NumericProperty(1)
    n_used = NumericProperty(0)  # serving rows in use now: what the layout is planned for
    show_recent = BooleanProperty(True)
    show_side = BooleanProperty(True)
    hero_empty = BooleanProperty(False)  # nobody served, closed counters listed below

    def __init__(self, serving_rows: int, recent_rows: int, services: int, **kwargs: object):
        super().__init__(**kwargs)
        serving_rows = max(1, serving_rows)
        self.n_serving, self.n_recent = serving_rows, max(1, recent_rows)
        self.n_waiting = max(1, services)
        self.serving_rows = [ServingRow(index=i, hero=i == 0) for i in range(serving_rows)]
        self.recent_rows = [RecentRow(index=i) for i in range(recent_rows)]
        self.waiting_rows = [WaitingRow(index=i) for i in range(services)]
        for row in self.serving_rows:
            self.ids.body.add_widget(row)
        for row in self.recent_rows[:RECENT_SHOWN]:
            self.ids.recent.add_widget(row)
        for row in self.waiting_rows:
            self.ids.waiting.add_widget(row)
        self._arrange_event = Clock.create_trigger(self._arrange, -1)
        self.fbind("size", self._orient)
        self.ids.body.fbind("size", self._arrange_event)
        self.ids.body.fbind("pos", self._arrange_event)
        self.fbind("n_used", self._arrange_event)
        self.fbind("hero_empty", self._arrange_event)
        self._orient()

    def _orient(self, *_: object) -> None:
        self.landscape = self.width >= self.height
        self._arrange_event()

    def _arrange(self, *_: object) -> None:
        body = self.ids.body
        margin = min(self.width, self.height) * 0.015
        bx, by = body.x + margin, body.y + margin
        p = plan(body.width - 2 * margin, body.height - 2 * margin, int(self.n_used))
        spots = [p.hero, *p.others]
        for i, row in enumerate(self.serving_rows):
            x, y, w, h = spots[i] if i < len(spots) else (0, 0, 0, 0)
            row.pos, row.size = (bx + x, by + y), (w, h)
            row.stacked = (not self.landscape or int(self.n_used) > 3) if i == 0 else p.stacked
            row.opacity = 1 if i < len(spots) else 0
        side = self.ids.side
        self.show_side, self.show_recent = p.side is not None, p.show_recent
        recent = self.ids.recent
        for rrow in self.recent_rows[:RECENT_SHOWN]:  # not drawn at all when left out
            if p.show_recent and rrow.parent is None:
                recent.add_widget(rrow)
            elif not p.show_recent and rrow.parent is not None:
                recent.remove_widget(rrow)
        x, y, w, h = p.side or (0, 0, 0, 0)
        side.pos, side.size = (bx + x, by + y), (w, h)
        x, y, w, h = p.hero if self.hero_empty else p.main
        self.ids.placeholder.pos, self.ids.placeholder.size = (bx + x, by + y), (w, h)

    def show(self, model: BoardModel, now: float) -> None:
        """Copy what the model says into the widgets; only changed texts re-render."""
        self.office_name = model.title
        serving = model.board_rows(now)
        closed = model.closed_rows()
        # Closed counters after the served ones, never in the newest call's place: with
        # nobody served, that place stays empty (and says "no calls yet").
        rows = [(t, c, f, False) for t, c, f in serving] or ([("", "", False, False)]
                                                            if closed else [])
        rows += [("", text, False, True) for text in closed]
        self.hero_empty = not serving and bool(closed)
        self.n_used = min(len(rows), len(self.serving_rows))
        for i, row in enumerate(self.serving_rows):
            ticket, counter, fresh, shut = rows[i] if i < len(rows) else ("", "", False, False)
            row.ticket, row.counter, row.fresh, row.closed = ticket, counter, fresh, shut
        if model.board is None:
            self.placeholder = "Đang tải… / Loading…"
        elif not serving:
            self.placeholder = "Chưa gọi số nào / No calls yet"
        else:
            self.placeholder = ""
        recent = model.recent_rows(len(self.recent_rows))
        for i, rrow in enumerate(self.recent_rows):
            rrow.ticket, rrow.counter = recent[i] if i < len(recent) else ("", "")
        waiting = model.waiting_rows()
        while len(self.waiting_rows) < len(waiting):  # state/config brought more services
            self.waiting_rows.append(WaitingRow(index=len(self.waiting_rows)))
            self.ids.waiting.add_widget(self.waiting_rows[-1])
            self.n_waiting = len(self.waiting_rows)
        for i, wrow in enumerate(self.waiting_rows):
            wrow.service, wrow.count, wrow.wait = waiting[i] if i < len(waiting) else ("", "", "")
