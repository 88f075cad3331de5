"""The terminal's dialogs: confirm a no-show, transfer, refuse, call a number. Keypad first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView

from counter.remote import Press
from counter.texts import check_names, nfc, reasons
from counter.view import call_prefixes, ticket_number, tiers, transfer_targets
from motcua.protocol import MAX_TEXT, Call, Command, NoShow, Refuse, Transfer, Verify

if TYPE_CHECKING:
    from counter.ui import CounterApp

MAX_DIGITS = 4


class ChoiceRow(ButtonBehavior, BoxLayout):
    index = NumericProperty(0)
    keycap = StringProperty("")
    text = StringProperty("")
    selected = BooleanProperty(False)


class PadKey(ButtonBehavior, Label):
    """A key of the on-screen pad of the call dialog, for a mouse or a touch screen."""

    selected = BooleanProperty(False)


class Dialog(ModalView):
    """A dialog over the main screen; the app routes every key to the open one."""

    name = "dialog"
    error = StringProperty("")  # an error reply or a local check, shown inside the dialog
    number = StringProperty("")  # the ticket being served when the dialog opened

    def __init__(self, app: CounterApp, **kw: Any):
        super().__init__(auto_dismiss=False, size_hint=(0.76, 0.94),
                         background="", background_color=(0, 0, 0, 0),
                         overlay_color=(0.06, 0.09, 0.13, 0.72), **kw)
        self.app = app
        cur = app.state.current
        self.number = nfc(cur.number) if cur else ""

    def key(self, name: str) -> bool:
        if name in ("esc", "."):
            self.cancel()
        elif name == "enter":
            self.submit()
        else:
            return self.on_key(name)
        return True

    def typing(self) -> bool:
        """True while a text field has the keyboard: keys then go to the field."""
        return False

    def on_key(self, name: str) -> bool:
        return False

    def submit(self) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        self.app.close_dialog(self)

    def tapped(self, button: str) -> None:
        """The dialog's own buttons, guarded against a double tap like the main ones."""
        if self.app.pending is None and self.app.tap_ok(f"{self.name}:{button}"):
            self.submit() if button == "ok" else self.cancel()

    def send(self, command: Command, note: dict[str, Any] | None = None) -> None:
        self.error = ""
        self.app.send(Press(command, origin=self.name, note=note or {}))

    def show_error(self, vi: str, en: str) -> None:
        self.error = f"{vi}\n{en}"


class ConfirmDialog(Dialog):
    """Asks once before a no-show: the citizen loses their turn."""

    name = "confirm"

    def submit(self) -> None:
        self.send(NoShow())


class ChoiceDialog(Dialog):
    """A numbered list: a digit picks an item, + and − move, Enter confirms."""

    selected = NumericProperty(-1)
    choices = ListProperty([])

    def on_kv_post(self, base_widget: Any) -> None:
        box = self.ids.choice_list
        for i, text in enumerate(self.choices):
            row = ChoiceRow(index=i, keycap=str(i + 1) if i < 9 else "", text=text)
            row.bind(on_release=lambda r: self.choose(r.index))
            box.add_widget(row)
        self.bind(selected=self._mark)

    def _mark(self, *_: Any) -> None:
        for row in self.ids.choice_list.children:
            row.selected = row.index == self.selected

    def choose(self, index: int) -> None:
        if 0 <= index < len(self.choices):
            self.selected = index
            self.error = ""

    def on_key(self, name: str) -> bool:
        if name.isdigit():
            self.choose(int(name) - 1)
        elif name in ("+", "-"):
            step = 1 if name == "+" else -1
            start = self.selected if self.selected >= 0 else (-1 if step > 0 else 0)
            self.choose((start + step) % max(len(self.choices), 1))
        elif name == "backspace":
            self.selected = -1
        else:
            return False
        return True


class TransferDialog(ChoiceDialog):
    name = "transfer"

    def __init__(self, app: CounterApp, **kw: Any):
        self.targets = transfer_targets(app.state)
        super().__init__(app, choices=[t.label for t in self.targets], **kw)

    def submit(self) -> None:
        if self.selected < 0:
            self.show_error("Chọn nơi chuyển đến (bấm số).", "Choose where to (press a digit).")
            return
        t = self.targets[self.selected]
        where = Transfer(service=t.id) if t.kind == "service" else Transfer(counter=t.id)
        self.send(where, note={"counter_name": t.label, "counter_name_en": t.label_en})


class TypingDialog(ChoiceDialog):
    """A numbered list with text fields: Tab goes from field to field, Esc leaves them."""

    def text_fields(self) -> list[Any]:
        raise NotImplementedError

    def typing(self) -> bool:
        return any(f.focus for f in self.text_fields())

    def key(self, name: str) -> bool:
        fields = [f for f in self.text_fields() if not f.disabled]
        if name == "tab" and fields:
            focused = [f.focus for f in fields]
            nxt = fields[(focused.index(True) + 1) % len(fields)] if True in focused else fields[0]
            nxt.focus = True
            return True
        if name == "esc" and self.typing():
            for f in self.text_fields():
                f.focus = False
            return True
        if self.typing() and name not in ("enter", "esc"):
            return False  # the text field takes digits, "." and the rest
        return super().key(name)


class RefuseDialog(TypingDialog):
    name = "refuse"
    asked_guidance = BooleanProperty(False)
    custom = BooleanProperty(False)  # "Khác": the reason itself is typed
    last_key = StringProperty("4")  # the digit of "Khác", for the help line

    def __init__(self, app: CounterApp, **kw: Any):
        self._prefilled = ""
        self.reasons = reasons(app.state.config)  # the office's list, then "Khác"
        super().__init__(app, choices=[r.text for r in self.reasons],
                         last_key=str(len(self.reasons)), **kw)

    def choose(self, index: int) -> None:
        super().choose(index)
        if not 0 <= index < len(self.reasons):
            return
        self.custom = self.reasons[index].typed
        guidance = self.ids.guidance
        if guidance.text.strip() in ("", self._prefilled.strip()):
            # Suggest this reason's guidance unless the staff wrote their own.
            guidance.text = self._prefilled = self.reasons[index].guidance
        self.asked_guidance = False
        # No focus jump to the reason field: a keypad has no Esc to leave a text field.

    def text_fields(self) -> list[Any]:
        return [self.ids.reason, self.ids.guidance]

    def submit(self) -> None:
        n = len(self.reasons)
        if self.selected < 0:
            self.show_error(f"Chọn lý do từ chối (bấm số 1–{n}).",
                            f"Choose a reason (press 1–{n}).")
            return
        reason = nfc(self.ids.reason.text.strip() if self.custom
                     else self.reasons[self.selected].text)
        guidance = nfc(self.ids.guidance.text.strip())
        if not reason:
            self.show_error(f"Gõ lý do vào ô trên (Tab hoặc chạm vào ô), hoặc chọn lý do "
                            f"1–{n - 1}.", f"Type the reason in the box above (Tab or touch "
                            f"it), or pick 1–{n - 1}.")
            return
        if len(reason) > MAX_TEXT or len(guidance) > MAX_TEXT:
            self.show_error(f"Lý do và hướng dẫn tối đa {MAX_TEXT} ký tự.",
                            f"Reason and guidance take at most {MAX_TEXT} characters.")
            return
        if not guidance and not self.asked_guidance:
            # Guidance is optional in the protocol, but a citizen sent away needs it: ask once.
            self.asked_guidance = True
            self.show_error("Chưa có hướng dẫn cho người dân. Bấm Enter lần nữa để từ chối "
                            "không kèm hướng dẫn.",
                            "No guidance for the citizen yet. Press Enter again to refuse "
                            "without it.")
            return
        self.send(Refuse(reason, guidance or None))


class VerifyDialog(TypingDialog):
    """The chip ID card / fingerprint check of the ticket being served: verified, or not
    verified with the reason typed. Once per ticket: the dispatcher refuses a second."""

    name = "verify"
    failed = BooleanProperty(False)  # "not verified" chosen: the reason is needed
    checks = StringProperty("")

    def __init__(self, app: CounterApp, **kw: Any):
        cur = app.state.current
        vi, en = check_names(cur.requires or [] if cur else [])
        super().__init__(app, choices=["Đã xác minh  ·  verified",
                                       "Không xác minh được  ·  not verified (give the reason)"],
                         checks=f"{vi}  ·  {en}", **kw)

    def choose(self, index: int) -> None:
        super().choose(index)
        self.failed = self.selected == 1

    def text_fields(self) -> list[Any]:
        return [self.ids.reason]

    def submit(self) -> None:
        if self.selected < 0:
            self.show_error("Chọn 1 (đã xác minh) hoặc 2 (không xác minh được).",
                            "Choose 1 (verified) or 2 (not verified).")
            return
        reason = nfc(self.ids.reason.text.strip())
        if self.failed and not reason:
            self.show_error("Gõ lý do không xác minh được vào ô trên (Tab hoặc chạm vào ô).",
                            "Type why it could not be verified in the box above (Tab or "
                            "touch it).")
            return
        if len(reason) > MAX_TEXT:
            self.show_error(f"Lý do tối đa {MAX_TEXT} ký tự.",
                            f"The reason takes at most {MAX_TEXT} characters.")
            return
        self.send(Verify(self.number, not self.failed, reason if self.failed else None))


class CallDialog(Dialog):
    """Call a given number: + and − pick the letter, digits type the number."""

    name = "call"
    prefixes = ListProperty([])
    prefix = StringProperty("A")
    digits = StringProperty("")
    preview = StringProperty("")  # the number as it will be called: A012 for "A" and "12"
    hint = StringProperty("")

    def __init__(self, app: CounterApp, **kw: Any):
        prefixes = call_prefixes(app.state)
        self._waiting = tiers(app.state)
        super().__init__(app, prefixes=prefixes, prefix=prefixes[0], **kw)
        self.bind(prefix=self._hint, digits=self._hint)
        self._hint()

    def on_kv_post(self, base_widget: Any) -> None:
        for p in self.prefixes:
            letter = Factory.LetterKey(text=p, selected=p == self.prefix)
            letter.bind(on_release=lambda k: self.set_prefix(k.text))
            self.ids.letters.add_widget(letter)
        for label in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "Xoá", "0"):
            key = PadKey(text=label)
            key.bind(on_release=lambda k: self.erase() if k.text == "Xoá"
                     else self.type_digit(k.text))
            self.ids.pad.add_widget(key)
        self.bind(prefix=self._mark)

    def _mark(self, *_: Any) -> None:
        for letter in self.ids.letters.children:
            letter.selected = letter.text == self.prefix

    @property
    def ticket(self) -> str | None:
        return ticket_number(self.prefix, self.digits)

    def _hint(self, *_: Any) -> None:
        t = self.ticket
        self.preview = t or f"{self.prefix}___"
        if t is None:
            self.hint = "Gõ số thứ tự  ·  type the number"
        elif t in self._waiting:
            self.hint = f"{t}: đang chờ  ·  waiting"
        else:
            self.hint = f"{t}: không thấy trong hàng chờ  ·  not seen waiting"
        self.error = ""

    def set_prefix(self, prefix: str) -> None:
        if prefix in self.prefixes:
            self.prefix = prefix

    def type_digit(self, d: str) -> None:
        if len(self.digits) < MAX_DIGITS:
            self.digits += d

    def erase(self) -> None:
        self.digits = self.digits[:-1]

    def on_key(self, name: str) -> bool:
        if name.isdigit():
            self.type_digit(name)
        elif name in ("+", "-"):
            i = self.prefixes.index(self.prefix) + (1 if name == "+" else -1)
            self.prefix = self.prefixes[i % len(self.prefixes)]
        elif name == "backspace":
            self.erase()
        else:
            return False
        return True

    def submit(self) -> None:
        ticket = self.ticket
        if ticket is None:
            self.show_error("Gõ số thứ tự cần gọi.", "Type the number to call.")
            return
        self.send(Call(ticket))
