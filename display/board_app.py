"""The board as a Kivy app: feed -> model -> widgets on the UI thread, calls -> announcer."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window

from display import theme
from display.announcer import Announcement, Announcer, FileSpeaker, Saying, Speaker
from display.feed import Feed, Inbox
from display.model import BoardModel, clock_texts, initial_office
from display.voice import REGION_VOICES, chime_file, find_voice
from display.widgets import KV, BoardView
from motcua.config import OfficeConfig
from motcua.protocol import CallEvent

log = logging.getLogger(__name__)

# each notice stays this long, then the next one; MOTCUA_NOTICE_S changes it (tests)
NOTICE_S = float(os.environ.get("MOTCUA_NOTICE_S") or 12.0)
COALESCE_S = 0.1  # state changes (not calls) wait this long for the rest of their burst
RSS_EVERY_S = 5.0
BANNERS = {
    "lost": ("Mất kết nối — đang kết nối lại", "Connection lost — reconnecting"),
    "connecting": ("Đang kết nối…", "Connecting to the office server…"),
    "dispatcher": ("Hệ thống gọi số tạm ngưng — thông tin có thể chưa cập nhật",
                   "The queue system is offline; this board may be out of date"),
    "closed": ("Đã kết thúc ngày làm việc", "The office has closed for today"),
}


@dataclass
class Options:
    device: str = "board-1"
    clock: Callable[[], datetime] = lambda: datetime.now().astimezone()
    sound: str = "kivy"  # kivy | file | none
    audio_out: Path | None = None
    audio_pace: float = 1.0
    cache: Path | None = None
    metrics: Path | None = None
    recent_rows: int = 6


def rss_mb() -> float:
    """Resident memory of this process, from /proc (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class BoardApp(App):
    title = "motcua — Bảng gọi số"
    kv_file = str(KV)  # App would find board.kv by its own name too; say which, once

    def __init__(self, office: OfficeConfig, url: str, options: Options, **kwargs: Any):
        super().__init__(**kwargs)
        self.office, self.url, self.options = office, url, options
        self.model = BoardModel(initial_office(office), rows=office.display.rows)
        self.announcer = self._announcer()
        self.feed = Feed(url, office, options.device, on_change=self._poke,
                         on_call=self._announce, presence_detail=self._presence)
        self._take_now = Clock.create_trigger(self._take, 0)
        self._take_soon = Clock.create_trigger(self._take, COALESCE_S)
        self._ever_connected = False
        self._notice_at, self._notice_index = 0.0, 0
        self._undrawn: list[float] = []
        self._metrics: IO[str] | None = None
        self._metrics_lock = threading.Lock()
        self._rss_at = 0.0
        self._draw_started = 0.0
        self._frames = 0
        self.view: BoardView | None = None

    # -- wiring -------------------------------------------------------------------------
    def _announcer(self) -> Announcer:
        d, o = self.office.display, self.options
        saying = Saying(reading=d.number_reading, region=d.region, repeat=d.repeat)
        if o.sound == "none":
            return Announcer(None, None, None, on_played=self._played, saying=saying)
        voice = second = None
        if d.voice == "espeak-ng":  # None: said once, by the announcer
            voice = find_voice(o.cache, d.voice_name, REGION_VOICES[d.region])
            if voice is not None and d.second_language:
                second = find_voice(o.cache, d.second_language, "")
        chime = chime_file(o.cache) if d.chime else None
        speaker: Speaker | None = None
        if (voice or chime) and o.sound == "file" and o.audio_out:
            speaker = FileSpeaker(o.audio_out, o.audio_pace)
        elif (voice or chime) and o.sound == "kivy":
            from display.sound import KivySpeaker
            speaker = KivySpeaker()
            if chime:
                speaker.prepare(chime)
        return Announcer(speaker, voice, chime, d.volume, on_played=self._played,
                         saying=saying, second=second, on_audio=self._heard)

    def _presence(self) -> dict[str, Any]:
        a = self.announcer
        return {"voice": "on" if a.voice and a.speaker else "off",
                "chime": bool(a.chime and a.speaker),
                "sound": self.options.sound if a.speaker else "none",
                "window": "x".join(str(int(v)) for v in Window.size)}

    def build(self) -> BoardView:
        Window.clearcolor = theme.BG
        self.view = BoardView(serving_rows=self.office.display.rows,
                              recent_rows=self.options.recent_rows,
                              services=len(self.model.office.services))
        if self.options.metrics:
            self._metrics = open(self.options.metrics, "a", encoding="utf-8")  # noqa: SIM115
            Window.bind(on_draw=self._drawing)
            swap = Window.flip

            def flip_and_measure() -> None:  # after the buffer swap: the frame is on screen
                swap()
                self._flipped()

            Window.flip = flip_and_measure
        self._tick(0)
        Clock.schedule_interval(self._tick, 0.25)
        self.announcer.start()
        self.feed.start()
        return self.view

    def on_stop(self) -> None:
        self.feed.stop()
        self.announcer.stop(timeout=1.0)
        with self._metrics_lock:
            if self._metrics:
                self._metrics.close()
                self._metrics = None

    # -- paho's thread: hand over only --------------------------------------------------
    def _poke(self, urgent: bool) -> None:
        # thread-safe. A call is drawn on the next frame; state waits a little, so a burst
        # makes one redraw and a frame being drawn for a waiting count never delays a call
        (self._take_now if urgent else self._take_soon)()

    def _announce(self, call: CallEvent, received: float) -> None:
        self.announcer.announce(Announcement(call.ticket, call.counter, call.counter_name,
                                             call.kind, received))

    def _played(self, call: Announcement) -> None:
        self._metric({"played": call.ticket, "kind": call.kind})

    def _heard(self, call: Announcement, seconds: float) -> None:
        self._metric({"audio_ms": round(seconds * 1000, 2), "ticket": call.ticket})

    # -- the UI thread --------------------------------------------------------------------
    def _take(self, _dt: float) -> None:
        inbox: Inbox = self.feed.take()
        now = time.monotonic()
        if inbox.config is not None:
            self.model.office = inbox.config  # the dispatcher's view of the office wins
        if inbox.board is not None:
            self.model.apply_board(inbox.board, now)
        for heard in inbox.calls:
            self.model.apply_call(heard.call, now)
            if self._metrics:
                self._undrawn.append(heard.received)
                self._metric({"taken_ms": round((time.perf_counter() - heard.received) * 1000,
                                                2)})
        if inbox.dispatcher_online is not None:
            self.model.dispatcher_online = inbox.dispatcher_online
        self._show(now)

    def _tick(self, _dt: float) -> None:
        now = time.monotonic()
        if self.feed.connected:
            self._ever_connected = True
            self.model.connection = "online"
        else:
            self.model.connection = "lost" if self._ever_connected else "connecting"
        notices = self.model.notices
        shown_for = max(NOTICE_S, self.view.ids.notice.pass_s() if self.view else 0.0)
        if notices and now - self._notice_at >= shown_for:  # a long one scrolls to its end
            self._notice_at = now
            self._notice_index = (self._notice_index + 1) % len(notices)
        self._show(now)
        if self._metrics and now - self._rss_at >= RSS_EVERY_S:
            self._rss_at = now
            self._metric({"rss_mb": round(rss_mb(), 1), "frames": self._frames,
                          "pending": self.announcer.pending()})

    def _show(self, now: float) -> None:
        view, model = self.view, self.model
        if view is None:
            return
        view.time_text, view.date_text = clock_texts(self.options.clock())
        notices = model.notices
        view.notice = notices[self._notice_index % len(notices)] if notices else ""
        kind = self.banner_kind()
        view.banner = list(BANNERS[kind]) if kind else ["", ""]
        view.banner_kind = kind
        view.dim = kind == "lost"  # the last known state, plainly marked as not live
        view.show(model, now)

    def banner_kind(self) -> str:
        m = self.model
        if m.connection != "online":
            return m.connection
        if m.dispatcher_online is False:
            return "dispatcher"
        if m.board is not None and m.board.closed:
            return "closed"
        return ""

    # -- measurements (bench/bench_display.py) ----------------------------------------
    def _drawing(self, *_: Any) -> None:
        self._draw_started = time.perf_counter()

    def _flipped(self) -> None:
        self._frames += 1
        if self._undrawn:
            now = time.perf_counter()
            for received in self._undrawn:
                self._metric({"drawn_ms": round((now - received) * 1000, 2),
                              "draw_ms": round((now - self._draw_started) * 1000, 2)})
            self._undrawn.clear()

    def _metric(self, record: dict[str, Any]) -> None:
        with self._metrics_lock:  # the announcer's thread writes here too
            if self._metrics:
                self._metrics.write(json.dumps(record) + "\n")
                self._metrics.flush()
