"""What the rating screen shows, from its counter's state and the ticket events: no Kivy,
no MQTT, the clock passed in (time.monotonic seconds)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from motcua.protocol import CounterState, Reply, TicketEvent
from motcua.ratings import BY_CODE, LEVELS

ASK_S = 60.0  # a citizen rates as they stand up or not at all: then back to idle
THANKS_S = 5.0  # the thank-you (or why not), then idle


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass
class RatingScreen:
    """One counter's screen: idle (closed, serving, or waiting for the next citizen), asking
    for the service that just ended, sending, thanking, or saying why a rating was refused."""

    counter: str
    counter_name: str
    window_minutes: int
    mode: str = "idle"
    ticket: str = ""  # the ticket being asked about
    until: float = 0.0  # when the current mode gives way to idle
    message: tuple[str, str] = ("", "")  # thanks or refused: (Vietnamese, English)
    status: str = ""  # open | paused | closed: the counter's, from its state
    serving: str = ""  # the ticket served there now
    connected: bool = False
    dispatcher_online: bool | None = None
    asked: set[str] = field(default_factory=set)  # never ask twice about one ticket

    # -- in -----------------------------------------------------------------------------
    def counter_state(self, state: CounterState) -> None:
        self.status = state.status
        self.serving = state.current.number if state.current else ""

    def ticket_event(self, event: TicketEvent, now: float) -> None:
        """A service that ended as done at this counter: ask about it."""
        t = event.ticket
        if (event.change != "done" or t is None or t.counter != self.counter
                or t.number in self.asked or self.mode == "sending"):
            return
        self.asked.add(t.number)
        ask = min(ASK_S, self.window_minutes * 60.0)
        self.mode, self.ticket, self.until = "ask", t.number, now + ask

    def tick(self, now: float) -> None:
        if self.mode in ("ask", "thanks", "refused") and now >= self.until:
            self.mode, self.ticket, self.message = "idle", "", ("", "")

    def tap(self, level: str, now: float) -> tuple[str, str] | None:
        """(ticket, level) to send, or None: a tap outside a question, or a second tap."""
        if self.mode != "ask" or level not in BY_CODE or not self.connected:
            return None
        self.mode = "sending"
        return self.ticket, level

    def replied(self, reply: Reply | None, now: float) -> None:
        """The dispatcher's answer, or None when none came in time (GIVE_UP_S)."""
        if reply is None:
            self.message = ("Chưa gửi được đánh giá. Xin lỗi ông/bà.",
                            "The rating could not be sent. Sorry.")
            self.mode = "refused"
        elif reply.ok:
            self.message = ("Cảm ơn ông/bà đã đánh giá!", "Thank you for your rating!")
            self.mode = "thanks"
        else:
            error = reply.error
            self.message = (nfc(error.message), nfc(error.message_en)) if error else (
                "Không gửi được đánh giá.", "The rating could not be sent.")
            self.mode = "refused"
        self.until = now + THANKS_S

    # -- out ----------------------------------------------------------------------------
    @property
    def banner(self) -> tuple[str, str]:
        if not self.connected:
            return ("Mất kết nối — đang kết nối lại…", "Disconnected — reconnecting…")
        if self.dispatcher_online is False:
            return ("Hệ thống tạm ngừng", "The system is offline")
        return ("", "")

    @property
    def idle_text(self) -> tuple[str, str]:
        """What the screen says between ratings."""
        if self.status == "closed":
            return (f"{self.counter_name} tạm đóng", f"{self.counter_name} is closed")
        if self.serving:
            return (f"Đang phục vụ số {self.serving}", f"Now serving {self.serving}")
        return (f"{self.counter_name} xin kính chào", "Welcome")

    @property
    def question(self) -> tuple[str, str]:
        return (f"Ông/bà có hài lòng với dịch vụ số {self.ticket}?",
                f"How satisfied were you with service {self.ticket}?")

    @staticmethod
    def levels() -> list[tuple[str, str, str]]:
        return [(lv.code, lv.vi, lv.en) for lv in LEVELS]
