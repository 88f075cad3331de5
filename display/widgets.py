"""The board's widgets: labels that size their text to their box, table rows, the board."""

from __future__ import annotations

import weakref
from collections import defaultdict
from pathlib import Path

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label

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
    labels = [label for label in _groups[name] if label.get_root_window() is not None]
    if labels:
        size = min(label.ideal() for label in labels)
        for label in labels:
            label.font_size = size


class ServingRow(BoxLayout):
    ticket = StringProperty("")
    counter = StringProperty("")
    fresh = BooleanProperty(False)
    index = NumericProperty(0)


class RecentRow(BoxLayout):
    ticket = StringProperty("")
    counter = StringProperty("")
    index = NumericProperty(0)


class WaitingRow(BoxLayout):
    service = StringProperty("")
    count = StringProperty("")
    wait = StringProperty("")
    index = NumericProperty(0)


class BoardView(FloatLayout):
    """The whole board. Landscape puts the side panel right of the table, portrait below."""

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

    def __init__(self, serving_rows: int, recent_rows: int, services: int, **kwargs: object):
        super().__init__(**kwargs)
        self.n_serving, self.n_recent = max(1, serving_rows), max(1, recent_rows)
        self.n_waiting = max(1, services)
        self.serving_rows = [ServingRow(index=i) for i in range(serving_rows)]
        self.recent_rows = [RecentRow(index=i) for i in range(recent_rows)]
        self.waiting_rows = [WaitingRow(index=i) for i in range(services)]
        for row in self.serving_rows:
            self.ids.serving.add_widget(row)
        for row in self.recent_rows:
            self.ids.recent.add_widget(row)
        for row in self.waiting_rows:
            self.ids.waiting.add_widget(row)
        self.fbind("size", self._orient)
        self._orient()

    def _orient(self, *_: object) -> None:
        self.landscape = self.width >= self.height

    def show(self, model: BoardModel, now: float) -> None:
        """Copy what the model says into the widgets; only changed texts re-render."""
        self.office_name = model.title
        serving = model.serving_rows(now)
        for i, row in enumerate(self.serving_rows):
            ticket, counter, fresh = serving[i] if i < len(serving) else ("", "", False)
            row.ticket, row.counter, row.fresh = ticket, counter, fresh
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
