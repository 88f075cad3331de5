"""The kiosk's screens and widgets (behaviour here, layout in one .kv file per screen)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.screenmanager import Screen

from kiosk import style


class Filled(BoxLayout):
    background = ColorProperty(style.PAPER)


class Banner(BoxLayout):
    text = StringProperty("")
    font_u = NumericProperty(3.4)
    background = ColorProperty(style.AMBER)
    foreground = ColorProperty(style.INK)


class Tile(ButtonBehavior, Filled):
    pass


class ServiceButton(ButtonBehavior, Filled):
    code = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    info = StringProperty("")


class CameraView(Image):
    """What the camera sees, mirrored like a looking-glass so a citizen can aim the code."""

    def __init__(self, **kw: object) -> None:
        kw.setdefault("fit_mode", "contain")
        super().__init__(**kw)
        self.show(np.full((9, 16), 70, np.uint8))  # dark until the first frame, not white

    def show(self, gray: np.ndarray) -> None:
        h, w = gray.shape
        tex: Texture | None = getattr(self, "texture", None)
        if tex is None or tex.size != (w, h):
            tex = Texture.create(size=(w, h), colorfmt="luminance")
            tex.flip_vertical()
        tex.blit_buffer(np.ascontiguousarray(gray[:, ::-1]).tobytes(), colorfmt="luminance",
                        bufferfmt="ubyte")
        self.texture = tex
        self.canvas.ask_update()


class TimedScreen(Screen):
    """A screen that goes back home by itself: `countdown` shows the seconds left."""

    countdown = NumericProperty(0)
    _tick = None
    _done: Callable[[], None] | None = None

    def start_countdown(self, seconds: int, done: Callable[[], None]) -> None:
        self.stop_countdown()
        self.countdown, self._done = max(1, int(seconds)), done
        self._tick = Clock.schedule_interval(self._step, 1.0)

    def stop_countdown(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        self.countdown = 0

    def _step(self, dt: float) -> None:
        self.countdown -= 1
        if self.countdown <= 0:
            done = self._done
            self.stop_countdown()
            if done:
                done()

    def on_leave(self, *args: object) -> None:
        self.stop_countdown()


class HomeScreen(Screen):
    help_on = BooleanProperty(False)
    unreadable = BooleanProperty(False)
    _help_off = None
    _unreadable_off = None

    def show_help(self) -> None:
        self.help_on = True
        if self._help_off:
            self._help_off.cancel()
        self._help_off = Clock.schedule_once(lambda dt: setattr(self, "help_on", False), 6)

    def show_unreadable(self, seconds: float = 4.0) -> None:
        self.unreadable = True
        if self._unreadable_off:
            self._unreadable_off.cancel()
        self._unreadable_off = Clock.schedule_once(
            lambda dt: setattr(self, "unreadable", False), seconds)

    def on_leave(self, *args: object) -> None:
        self.unreadable = self.help_on = False


class ServicesScreen(TimedScreen):
    priority_offered = BooleanProperty(True)

    @property
    def priority(self) -> bool:
        return self.priority_offered and self.ids.priority.state == "down"

    def reset(self) -> None:
        self.ids.priority.state = "normal"

    def buttons(self) -> list[ServiceButton]:
        return [b for b in self.ids.grid.children if isinstance(b, ServiceButton)][::-1]

    def fill(self, rows: list[tuple[str, str, str, str]], choose: Callable[[str], None]) -> None:
        """rows: (code, title, subtitle, info). The buttons are updated in place: widgets
        made and dropped on every board update would pile up kv bindings all day."""
        buttons = self.buttons()
        if [b.code for b in buttons] == [r[0] for r in rows]:
            for b, (_, title, subtitle, info) in zip(buttons, rows, strict=True):
                b.title, b.subtitle, b.info = title, subtitle, info
            return
        grid = self.ids.grid
        grid.clear_widgets()
        for code, title, subtitle, info in rows:
            button = ServiceButton(code=code, title=title, subtitle=subtitle, info=info)
            button.bind(on_release=lambda b: choose(b.code))
            grid.add_widget(button)

    def on_touch_down(self, touch: object) -> bool:
        if self._done is not None and self._tick is not None:
            self.start_countdown(self._initial, self._done)  # still choosing: wait on
        return super().on_touch_down(touch)

    def start_countdown(self, seconds: int, done: Callable[[], None]) -> None:
        self._initial = seconds
        super().start_countdown(seconds, done)


class BusyScreen(Screen):
    slow = BooleanProperty(False)
    tick = NumericProperty(0)
    _spin = None

    def on_enter(self, *args: object) -> None:
        self._spin = Clock.schedule_interval(lambda dt: setattr(self, "tick", self.tick + 1),
                                             0.5)

    def on_leave(self, *args: object) -> None:
        if self._spin:
            self._spin.cancel()
        self.slow = False


class ResultScreen(TimedScreen):
    heading = StringProperty("")
    number = StringProperty("")
    badge = StringProperty("")
    service = StringProperty("")
    slot = StringProperty("")
    prepare = StringProperty("")  # what to have ready at the counter: the chip ID card
    wait = StringProperty("")
    status = StringProperty("")
    status_kind = StringProperty("printing")  # printing | ok | fail | screen
    ticket_number = StringProperty("")


class NoticeScreen(TimedScreen):
    code = StringProperty("")
    title = StringProperty("")
    body = StringProperty("")
    todo = StringProperty("")
    action = StringProperty("")  # reprint | retry | walkin | ""
    action_text = StringProperty("")
    big = StringProperty("")  # the one thing to read from afar: a ticket number, a day
    severe = BooleanProperty(False)
