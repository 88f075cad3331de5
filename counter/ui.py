"""The terminal window: the main screen, routing of keys and taps, replies shown inline."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from counter import keymap
from counter.dialogs import (
    CallDialog,
    ConfirmDialog,
    Dialog,
    RefuseDialog,
    TransferDialog,
    VerifyDialog,
)
from counter.remote import SIMPLE, Press, Remote
from counter.texts import (
    ACTIONS,
    NO_REPLY_YET,
    NOBODY,
    NOT_NOW,
    PAUSED_WHY,
    error_text,
    result_text,
)
from counter.view import DeskState, enabled, screenful
from motcua.config import OfficeConfig
from motcua.protocol import Reply
from motcua.views import office_info

HERE = Path(__file__).parent
KV_FILES = ("widgets.kv", "main.kv", "confirm.kv", "transfer.kv", "refuse.kv", "call.kv",
            "verify.kv")
DIALOGS: dict[str, type[Dialog]] = {"no_show": ConfirmDialog, "transfer": TransferDialog,
                                    "refuse": RefuseDialog, "call": CallDialog,
                                    "verify": VerifyDialog}
REPEAT_S = 0.6  # a key down again this soon without a key up is the keyboard's auto-repeat


class DeskButton(ButtonBehavior, BoxLayout):
    action = StringProperty("")
    vi = StringProperty("")
    en = StringProperty("")
    keycap = StringProperty("")
    tone = StringProperty("normal")  # primary | normal | danger


class DeskScreen(BoxLayout):
    title = StringProperty("")
    status = StringProperty("")
    paused = BooleanProperty(False)
    banner = StringProperty("")
    number = StringProperty("—")
    service = StringProperty("")
    kind = StringProperty("")
    served = StringProperty("")
    priority = StringProperty("")
    next_here = ListProperty([])
    waiting = ListProperty([])
    waiting_total = StringProperty("")
    check = StringProperty("")
    check_tone = StringProperty("")  # todo | ok | bad
    overdue = ListProperty([])
    overdue_title = StringProperty("")
    message = StringProperty("")
    message_tone = StringProperty("info")  # info | ok | warn | error
    enabled = DictProperty({})
    busy = BooleanProperty(False)

    @staticmethod
    def can(enabled: dict[str, bool], action: str) -> bool:
        # kv does not re-evaluate `root.enabled.get(...)` when the dict changes; this does.
        return bool(enabled[action]) if action in enabled else False


class CounterApp(App):
    def __init__(self, office: OfficeConfig, counter: str, broker_url: str, **kw: Any):
        super().__init__(**kw)
        self.office, self.counter_id, self.broker_url = office, counter, broker_url
        self.title = f"motcua — {office.counters[counter].name}"
        self.state = DeskState(counter, office_info(office))
        self.dialog: Dialog | None = None
        self.pending: Press | None = None
        self.key_log: list[str] = []  # every key the window saw; the test driver waits on it
        self._held: dict[str, float] = {}
        self._last_key: tuple[str, float] = ("", -1e9)
        self._last_tap: tuple[str, float] = ("", -1e9)

    # -- life cycle ---------------------------------------------------------------------
    def build(self) -> DeskScreen:
        for kv in KV_FILES:
            Builder.load_file(str(HERE / kv))
        self.screen = DeskScreen()
        self._redraw = Clock.create_trigger(self.refresh, 0)  # coalesces bursts of state
        self.remote = Remote(
            self.office, self.counter_id, self.broker_url, on_change=self._redraw,
            on_reply=lambda p, r: Clock.schedule_once(lambda _: self.replied(p, r)),
            on_slow=lambda p: Clock.schedule_once(lambda _: self.slow(p)))
        Window.bind(on_key_down=self._key_down, on_key_up=self._key_up)
        Window.bind(focus=lambda *_: self._held.clear())  # key-ups are lost without focus
        Clock.schedule_interval(self.refresh, 0.5)  # the served timer and the link state
        self.remote.start()
        self.say("Sẵn sàng. Bấm Enter (Gọi tiếp) để gọi khách đầu tiên.",
                 "Ready. Press Enter (Next) to call the first citizen.")
        self.refresh()
        return self.screen

    def on_stop(self) -> None:
        self.remote.stop()

    # -- state in -----------------------------------------------------------------------
    def refresh(self, *_: Any) -> None:
        heard = self.remote.latest()
        st = self.state
        if heard.config is not None:
            st.config = heard.config
        st.counter_state, st.order = heard.counter, heard.order
        st.dispatcher_online, st.clock_offset = heard.dispatcher, heard.offset
        st.connected = self.remote.connected
        st.busy = self.pending.action if self.pending else None
        s = screenful(st, datetime.now().astimezone())
        scr = self.screen
        scr.title, scr.paused, scr.banner = s.title, s.paused, s.banner
        scr.status = f"{s.status_vi} · {s.status_en}" if s.status_vi else ""
        scr.number, scr.service, scr.kind = s.number, s.service, s.kind
        scr.served, scr.priority = s.served, s.priority
        scr.next_here, scr.waiting, scr.waiting_total = s.next_here, s.waiting, s.waiting_total
        scr.check, scr.check_tone = s.check, s.check_tone
        scr.overdue, scr.overdue_title = s.overdue, s.overdue_title
        scr.enabled = enabled(st)
        scr.busy = self.pending is not None

    def say(self, vi: str, en: str, tone: str = "info") -> None:
        self.screen.message = f"{vi}\n{en}"
        self.screen.message_tone = tone

    # -- input --------------------------------------------------------------------------
    def _key_down(self, window: Any, code: int, scancode: int, codepoint: str | None,
                  modifiers: list[str]) -> bool:
        name = keymap.key_name(code)
        self.key_log.append(name or str(code))
        if name is None:
            return False
        if self.dialog is not None and self.dialog.typing() and name not in ("enter", "esc",
                                                                                "tab"):
            return False  # a text field has the keyboard
        now = time.monotonic()
        repeat = now - self._held.get(name, -1e9) < REPEAT_S
        self._held[name] = now
        if repeat:
            return True
        if self.pending is not None:
            return True  # nothing else until the reply: a second press never sends twice
        bounced = self._bounced(f"key:{name}")
        if self.dialog is not None:
            if name == "enter" and bounced:
                return True  # digits are not bounced: "11" is typed quickly
            return self.dialog.key(name)
        action = keymap.MAIN_KEYS.get(name)
        if action is None:
            return False
        if not bounced:
            self.press(action)
        return True

    def _key_up(self, window: Any, code: int, scancode: int) -> bool:
        name = keymap.key_name(code)
        if name is not None:
            self._held.pop(name, None)
        return False

    def _bounced(self, what: str) -> bool:
        """The same key again within DOUBLE_PRESS_S, no other key between, counts once."""
        now = time.monotonic()
        last_what, last_at = self._last_key
        self._last_key = (what, now)
        return what == last_what and now - last_at < keymap.DOUBLE_PRESS_S

    def tap_ok(self, what: str) -> bool:
        """False for a bounce: the same button again, or any button just after a dialog
        closed (the second tap of a double tap lands on whatever was under the dialog)."""
        now = time.monotonic()
        last_what, last_at = self._last_tap
        self._last_tap = (what, now)
        bounce = what == last_what or last_what == "*"
        return not (bounce and now - last_at < keymap.DOUBLE_PRESS_S)

    def tap(self, action: str) -> None:
        if self.pending is None and self.dialog is None and self.tap_ok(f"main:{action}"):
            self.press(action)

    def press(self, action: str) -> None:
        """A main-screen action from a key or a tap: send it, or open its dialog."""
        if action == "pause_resume":
            action = "resume" if self.state.paused else "pause"
        key = "pause_resume" if action in ("pause", "resume") else action
        if not enabled(self.state).get(key, False):
            label = ACTIONS[action]
            vi, en = NOT_NOW
            if self.state.paused and action in ("next", "call"):
                vi, en = PAUSED_WHY  # say why, and what to press
            self.say(f"{label.vi}: {vi}.", f"{label.en}: {en}.", "warn")
            return
        if action in DIALOGS:
            self.open_dialog(DIALOGS[action](self))
        else:
            self.send(Press(SIMPLE[action]()))

    def send(self, press: Press) -> None:
        if self.pending is not None or self.remote.busy:
            return
        self.pending = press
        label = ACTIONS.get(press.action)
        if label is not None:
            self.say(f"Đang gửi: {label.vi}…", f"Sending: {label.en}…")
        self.remote.send(press)
        self.refresh()

    # -- replies ------------------------------------------------------------------------
    def slow(self, press: Press) -> None:
        if self.pending is press:
            self.say(*NO_REPLY_YET, tone="warn")
            if self.dialog is not None and self.dialog.name == press.origin:
                self.dialog.show_error(*NO_REPLY_YET)

    def replied(self, press: Press, reply: Reply) -> None:
        if self.pending is press:
            self.pending = None
        in_dialog = self.dialog is not None and self.dialog.name == press.origin
        if reply.ok:
            vi, en = result_text(press.action, reply, press.note)
            nobody = (vi, en) == NOBODY
            self.say(vi, en, "info" if nobody else "ok")
            if in_dialog:
                self.close_dialog(self.dialog)
        else:
            vi, en = error_text(reply)
            if in_dialog and self.dialog is not None:
                self.dialog.show_error(vi, en)
            else:
                self.say(vi, en, "error")
        self.refresh()

    # -- dialogs ------------------------------------------------------------------------
    def open_dialog(self, dialog: Dialog) -> None:
        self.close_dialog(self.dialog)
        self.dialog = dialog
        dialog.open(animation=False)

    def close_dialog(self, dialog: Dialog | None) -> None:
        if dialog is not None and dialog is self.dialog:
            self.dialog = None
            dialog.dismiss(animation=False)
            self._last_tap = ("*", time.monotonic())
