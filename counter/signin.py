"""Signing in and out at the counter (offices with [[officers]]): officer code and PIN on
the numeric keypad, the PIN never shown, errors said inside the dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.properties import ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from counter.dialogs import ChoiceRow, Dialog, PadKey
from counter.texts import nfc
from motcua.officers import PIN_RE
from motcua.protocol import SignIn, SignOut

if TYPE_CHECKING:
    from counter.ui import CounterApp

MAX_CODE, MAX_PIN = 32, 8
ROWS = 4  # officers listed at once (what fits a 720 px window); + − and typing move the list


class SignOutButton(ButtonBehavior, BoxLayout):
    """The header's small sign-out button (key 0): one line, not a main action."""


def counter_officers(app: CounterApp) -> list[tuple[str, str]]:
    """(code, name) of those who may sign in at a counter, as the office file lists them."""
    return [(o.code, nfc(o.name)) for o in app.office.officers.values() if "counter" in o.roles]


class SignInDialog(Dialog):
    """Step one, the officer code: digits type it, + and − go through the office's officers,
    a touch picks one (a keyboard can type letters in the field). Step two, the PIN: digits,
    shown as dots. Enter goes on; Del/Esc goes back a step. It cannot be dismissed: a
    counter nobody signed in to takes no calls."""

    name = "sign_in"
    step = StringProperty("code")  # code | pin
    pin = StringProperty("")
    dots = StringProperty("")
    choices = ListProperty([])  # (code, name)
    more = StringProperty("")  # "7–12 / 15 · + − more" when not all are listed

    def __init__(self, app: CounterApp, **kw: Any):
        super().__init__(app, choices=counter_officers(app), **kw)
        self.bind(pin=lambda *_: setattr(self, "dots", "●" * len(self.pin)))

    def on_kv_post(self, base_widget: Any) -> None:
        for i in range(min(ROWS, len(self.choices))):
            row = ChoiceRow(index=i, keycap="")
            row.code = ""
            cap = row.children[-1]  # the key cap: these rows are picked by + −, not a digit
            cap.opacity, cap.width = 0, 0
            row.bind(on_release=self._picked)
            self.ids.choice_list.add_widget(row)
        self._show()
        for label in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "Xoá", "0"):
            key = PadKey(text=label)
            key.bind(on_release=lambda k: self.erase() if k.text == "Xoá"
                     else self.type_digit(k.text))
            self.ids.pad.add_widget(key)
        self.ids.code.bind(text=lambda *_: self._mark())

    @property
    def code(self) -> str:
        return str(self.ids.code.text).strip().lower()

    def _picked(self, row: Any) -> None:
        if row.code:
            self.pick(row.code)

    def listed(self) -> tuple[list[tuple[str, str]], int, int]:
        """What the rows show: the officers whose code starts with what is being typed
        (all of them once a whole code is there, or when none does), ROWS of them around
        the one chosen; where that window starts among them, and how many they are."""
        typed = self.code
        codes = [c for c, _ in self.choices]
        pool = ([c for c in self.choices if c[0].startswith(typed)]
                if typed and typed not in codes else [])
        pool = pool or list(self.choices)
        codes = [c for c, _ in pool]
        at = codes.index(typed) if typed in codes else 0
        start = min(max(0, at - ROWS // 2), max(0, len(pool) - ROWS))
        return pool[start:start + ROWS], start, len(pool)

    def _show(self) -> None:
        shown, start, total = self.listed()
        rows = sorted(self.ids.choice_list.children, key=lambda r: r.index)
        for i, row in enumerate(rows):
            code, name = shown[i] if i < len(shown) else ("", "")
            row.code, row.text = code, f"{code}  ·  {name}" if code else ""
            row.opacity, row.disabled = (1, False) if code else (0, True)
            row.selected = bool(code) and code == self.code
        self.more = (f"{start + 1}–{start + len(shown)} / {total}  ·  + − xem thêm / more"
                     if total > ROWS else "")

    def _mark(self) -> None:
        self._show()
        self.error = ""

    def pick(self, code: str) -> None:
        self.ids.code.text = code
        self.ids.code.focus = False
        self.step, self.pin = "pin", ""

    def typing(self) -> bool:
        return bool(self.ids.code.focus)

    def type_digit(self, d: str) -> None:
        if self.step == "code" and len(self.code) < MAX_CODE:
            self.ids.code.text = self.code + d
        elif self.step == "pin" and len(self.pin) < MAX_PIN:
            self.pin += d
        self.error = ""

    def erase(self) -> None:
        if self.step == "pin":
            self.pin = self.pin[:-1]
        else:
            self.ids.code.text = self.code[:-1]

    def on_key(self, name: str) -> bool:
        if name.isdigit():
            self.type_digit(name)
        elif name == "backspace":
            self.erase()
        elif name in ("+", "-") and self.step == "code" and self.choices:
            codes = [c for c, _ in self.choices]
            at = codes.index(self.code) if self.code in codes else (-1 if name == "+" else 0)
            self.ids.code.text = codes[(at + (1 if name == "+" else -1)) % len(codes)]
        elif name == "tab":
            self.step = "pin" if self.step == "code" else "code"
        else:
            return False
        return True

    def key(self, name: str) -> bool:
        if name == "tab":
            self.ids.code.focus = False
        if name == "enter" and self.typing():
            self.ids.code.focus = False
        return super().key(name)

    def cancel(self) -> None:
        """Del/Esc: back a step, or clear; never closes (there is nothing behind it)."""
        self.ids.code.focus = False
        if self.step == "pin" and self.pin:
            self.pin = ""
        elif self.step == "pin":
            self.step = "code"
        else:
            self.ids.code.text = ""
        self.error = ""

    def submit(self) -> None:
        if not self.code:
            self.show_error("Nhập mã cán bộ (hoặc bấm + − để chọn).",
                            "Enter your officer code (or press + − to choose).")
            return
        if self.step == "code":
            self.step = "pin"
            return
        if not PIN_RE.fullmatch(self.pin):
            self.show_error("Mã PIN gồm 4 đến 8 chữ số.", "A PIN is 4 to 8 digits.")
            return
        pin, self.pin = self.pin, ""  # never kept on screen after it is sent
        self.send(SignIn(self.code, pin))


class SignOutDialog(Dialog):
    """Asks once: a sign-out closes the counter until someone signs in again."""

    name = "sign_out"
    officer = StringProperty("")

    def __init__(self, app: CounterApp, **kw: Any):
        me = app.state.officer
        super().__init__(app, officer=nfc(me.name) if me else "", **kw)

    def submit(self) -> None:
        self.send(SignOut())
