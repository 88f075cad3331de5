"""The rating screen's window: idle, the four faces, thank-you; touch only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from motcua.config import OfficeConfig
from motcua.protocol import CounterState, Presence, Reply, TicketEvent
from rating.model import RatingScreen, nfc
from rating.remote import Remote

HERE = Path(__file__).parent
# Very satisfied .. not satisfied: green to red, as the report's chart draws them.
COLOURS = {"very_satisfied": (0.18, 0.49, 0.20, 1), "satisfied": (0.45, 0.66, 0.22, 1),
           "neutral": (0.55, 0.57, 0.60, 1), "unsatisfied": (0.78, 0.16, 0.16, 1)}
MOUTH = {"very_satisfied": 0.55, "satisfied": 0.3, "neutral": 0.0, "unsatisfied": -0.35}


class Face(Widget):
    """A face drawn with lines (Roboto has no emoji): the mouth curves with the level."""

    level = StringProperty("neutral")

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.fbind("pos", self.draw)
        self.fbind("size", self.draw)
        self.fbind("level", self.draw)

    def draw(self, *_: Any) -> None:
        r = min(self.width, self.height) / 2 * 0.92
        cx, cy = self.center
        w = max(2.0, r * 0.09)
        curve = MOUTH.get(self.level, 0.0)
        mouth = []
        for i in range(21):
            u = -1 + i / 10  # -1 .. 1 across the mouth
            # a smile's middle is lower than its corners, a frown's higher
            mouth += [cx + u * r * 0.5, cy - r * 0.4 - curve * r * 0.45 * (1 - u * u)
                      + curve * r * 0.2]
        self.canvas.clear()
        with self.canvas:
            Color(1, 1, 1, 1)
            Line(circle=(cx, cy, r), width=w)
            for ex in (cx - r * 0.35, cx + r * 0.35):
                Ellipse(pos=(ex - r * 0.1, cy + r * 0.15), size=(r * 0.2, r * 0.24))
            Line(points=mouth, width=w, cap="round", joint="round")


class LevelButton(ButtonBehavior, BoxLayout):
    level = StringProperty("")
    vi = StringProperty("")
    en = StringProperty("")
    colour = ListProperty([0.5, 0.5, 0.5, 1])


class RatingView(BoxLayout):
    mode = StringProperty("idle")
    title = StringProperty("")
    banner = ListProperty(["", ""])
    big = ListProperty(["", ""])  # idle text, or the thanks / the refusal
    question = ListProperty(["", ""])
    sending = BooleanProperty(False)


class RatingApp(App):
    def __init__(self, office: OfficeConfig, counter: str, broker_url: str, **kw: Any):
        super().__init__(**kw)
        name = office.counters[counter].name
        self.title = f"motcua — đánh giá / rating — {name}"
        self.model = RatingScreen(counter, nfc(name), office.rating.window_minutes)
        self.office, self.counter_id, self.broker_url = office, counter, broker_url

    def build(self) -> RatingView:
        # Not rating.kv: Kivy would load a file named after the app a second time itself.
        Builder.load_file(str(HERE / "screen.kv"))
        self.view = RatingView(title=f"{self.model.counter_name} · {nfc(self.office.name)}")
        for code, vi, en in RatingScreen.levels():
            button = LevelButton(level=code, vi=vi, en=en, colour=COLOURS[code])
            button.bind(on_release=lambda b: self.tapped(b.level))
            self.view.ids.levels.add_widget(button)
        self.remote = Remote(
            self.office, self.counter_id, self.broker_url,
            on_message=lambda m: Clock.schedule_once(lambda _: self.heard(m)),
            on_reply=lambda r: Clock.schedule_once(lambda _: self.replied(r)))
        Clock.schedule_interval(self.refresh, 0.25)  # timeouts and the link state
        self.remote.start()
        self.refresh()
        return self.view

    def on_stop(self) -> None:
        self.remote.stop()

    def heard(self, message: Any) -> None:
        m = self.model
        if isinstance(message, CounterState) and message.counter == self.counter_id:
            m.counter_state(message)
        elif isinstance(message, TicketEvent):
            m.ticket_event(message, time.monotonic())
        elif isinstance(message, Presence):
            m.dispatcher_online = message.status == "online"
        self.refresh()

    def tapped(self, level: str) -> None:
        send = self.model.tap(level, time.monotonic())
        if send is not None:
            self.remote.rate(*send)
        self.refresh()

    def replied(self, reply: Reply | None) -> None:
        self.model.replied(reply, time.monotonic())
        self.refresh()

    def refresh(self, *_: Any) -> None:
        m, v = self.model, self.view
        m.connected = self.remote.connected
        m.tick(time.monotonic())
        v.mode, v.sending = m.mode, m.mode == "sending"
        v.banner = list(m.banner)
        v.question = list(m.question) if m.mode in ("ask", "sending") else ["", ""]
        v.big = list(m.message) if m.mode in ("thanks", "refused") else list(m.idle_text)
