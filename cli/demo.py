"""`motcua demo`: a broker, a dispatcher and a simulated crowd of citizens and counter staff,
shown as a live terminal view of the board and the ordering."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from cli.demo_windows import Box, Tiles
from motcua import calendar, logs, tokens, topics
from motcua import config as office_config
from motcua.clock import ShiftedClock
from motcua.config import OfficeConfig
from motcua.mqtt import Link, NoReply, Requester
from motcua.protocol import (
    BadMessage,
    Board,
    CheckIn,
    Command,
    Next,
    NoShow,
    Order,
    Queued,
    Reply,
    SignIn,
    Waiting,
    WalkIn,
    read,
)


def signing_key(office: OfficeConfig) -> tuple[str, Ed25519PrivateKey] | None:
    """A portal key the office accepts, for the demo's booked citizens: the private half
    `KID.key.pem` that `motcua booking keygen` writes beside each public key the office
    file lists. None when the office has none of them (a real office keeps them away)."""
    try:
        listed = tomllib.loads(office.path.read_text("utf-8")).get("booking", {}).get("keys", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    for kid, public in listed.items():
        private = (office.path.parent / str(public)).with_name(f"{kid}.key.pem")
        try:
            key = load_pem_private_key(private.read_bytes(), None)
        except (OSError, ValueError):
            continue
        if isinstance(key, Ed25519PrivateKey):
            return kid, key
    return None


ARRIVALS = {"on_time": "đúng giờ / on time", "late": "trễ / late", "early": "sớm / early"}


class Crowd:
    """Simulated people: citizens at two kiosks, staff at every counter."""

    def __init__(self, office: OfficeConfig, url: str, clock: ShiftedClock, seed: int,
                 stop: threading.Event, staffed: tuple[str, ...] = (),
                 camera: Path | None = None,
                 sign_ins: dict[str, tuple[str, str]] | None = None):
        self.office, self.url, self.clock, self.stop = office, url, clock, stop
        self.staffed = staffed  # counters with a window: real people press there
        self.sign_ins = sign_ins or {}  # counter -> (officer, PIN) of its simulated staff
        self.camera = camera  # a kiosk window scans QR images written here
        self.rng = random.Random(seed)
        self.threads: list[threading.Thread] = []
        self.links: list[Link] = []
        self.log: list[str] = []

    def sleep_minutes(self, minutes: float) -> bool:
        """Sleep simulated minutes; False once the demo stops."""
        return not self.stop.wait(minutes * 60 / self.clock.speed)

    def requester(self, role: str, device: str) -> Requester:
        link = Link(self.url, self.office.id, role, device, clock=self.clock).start()
        self.links.append(link)
        return Requester(link, retry_every=0.5)

    def note(self, text: str) -> None:
        self.log.append(f"{self.clock():%H:%M} {text}")
        del self.log[:-6]

    def send(self, req: Requester, command: Command) -> Reply | None:
        try:
            return req.send(command, timeout=5)
        except NoReply:
            self.note(f"{req.link.device}: no reply to {type(command).__name__}")
            return None

    def start(self) -> None:
        self._spawn(self.walk_ins)
        self._spawn(self.bookings)
        for cid in self.office.counters:
            if cid not in self.staffed:
                self._spawn(self.counter, cid)

    def _spawn(self, target: Any, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)
        t.start()
        self.threads.append(t)

    def close(self) -> None:
        for t in self.threads:
            t.join(2)
        for link in self.links:
            link.stop()

    def walk_ins(self) -> None:
        kiosk = self.requester("kiosk", "kiosk-1")
        services = list(self.office.services)
        while self.sleep_minutes(self.rng.expovariate(1 / 3.5)):
            service = self.rng.choices(services, weights=[6, 3, 1][:len(services)] or None)[0]
            reply = self.send(kiosk, WalkIn(service, priority=self.rng.random() < 0.08))
            if reply and reply.ticket:
                t = reply.ticket
                self.note(f"kiosk-1: walk-in {t.number} ({t.ahead} ahead, "
                          f"~{t.est_wait_min} min)")
            elif reply and reply.error:
                self.note(f"kiosk-1: {reply.error.message_en}")

    def bookings(self) -> None:
        """Citizens with bookings: most on time, some late, some never come."""
        signer = signing_key(self.office)
        if signer is None:
            self.note("no portal key beside the office's keys: walk-ins only "
                      "/ không có khóa cổng đặt lịch: chỉ khách vãng lai")
            return
        kid, key = signer
        service = next(iter(self.office.services))
        kiosk = self.requester("kiosk", "kiosk-2")
        day = self.clock().date()
        slot = timedelta(minutes=self.office.booking.slot_minutes)
        arrivals = []
        n = 0
        for start_t, end_t in self.office.hours:
            start = datetime.combine(day, start_t, self.office.tz)
            while start + slot <= datetime.combine(day, end_t, self.office.tz):
                for _ in range(self.rng.randint(1, 3)):
                    n += 1
                    if self.rng.random() < 0.1:
                        continue  # booked, never came: cancelled at close_day
                    claims = {"jti": f"BK-DEMO-{n:04d}", "aud": self.office.id, "svc": service,
                              "start": start.isoformat(), "end": (start + slot).isoformat(),
                              "iat": int(time.time())}
                    late = self.rng.random() < 0.2
                    offset = self.rng.uniform(12, 40) if late else self.rng.uniform(-25, 8)
                    arrivals.append((start + timedelta(minutes=offset),
                                     tokens.sign(claims, key, kid)))
                start += slot
        for when, token in sorted(arrivals):
            wait = (when - self.clock()).total_seconds() / 60
            if wait > 0 and not self.sleep_minutes(wait):
                return
            if self.camera is not None:
                import segno

                # The citizen shows the QR code to the kiosk window's camera.
                path = self.camera / f"{when:%H%M%S}-{len(token) % 97:02d}.png"
                segno.make(token, error="m").save(str(path), scale=6, border=4)
                self.note(f"kiosk window: booking QR shown ({when:%H:%M})")
                continue
            reply = self.send(kiosk, CheckIn(token))
            if reply and reply.ok and reply.ticket and reply.ticket.booking:
                t, b = reply.ticket, reply.ticket.booking
                came = ARRIVALS.get(b.arrival or "", b.arrival or "")
                self.note(f"kiosk-2: booking {t.number} slot {b.start[11:16]}, {came}")

    def counter(self, cid: str) -> None:
        desk = self.requester("counter", cid)
        mean = self.office.booking.mean_service_minutes
        self.sleep_minutes(self.rng.uniform(0, 3))
        if cid in self.sign_ins:  # an office whose counters sign in: the simulated officer
            code, pin = self.sign_ins[cid]
            while not self.stop.is_set():
                reply = self.send(desk, SignIn(code, pin))
                if reply and reply.ok:
                    self.note(f"Quầy {cid}: {code} signed in / đã đăng nhập")
                    break
                self.note(f"Quầy {cid}: sign-in refused: "
                          f"{reply.error.message_en if reply and reply.error else 'no reply'}")
                self.sleep_minutes(1)
        while not self.stop.is_set():
            reply = self.send(desk, Next())
            ticket = reply.ticket if reply else None
            if ticket is None:
                self.sleep_minutes(1.5)
                continue
            self.note(f"Quầy {cid}: calls {ticket.number}")
            if self.rng.random() < 0.05:
                self.sleep_minutes(2)
                self.send(desk, NoShow())
                continue
            if not self.sleep_minutes(max(2.0, self.rng.gauss(mean * 0.8, mean * 0.3))):
                return


YOURS = "\033[1;32mbạn bấm / yours   \033[0m"  # its window is open: the person presses
BY_ITSELF = "tự gọi / by itself"  # as wide as YOURS on the screen


def who(counter: str, staffed: tuple[str, ...]) -> str:
    """Who presses next at a counter: the person at its window, or the simulated staff."""
    return YOURS if counter in staffed else BY_ITSELF


def legend(office: OfficeConfig, staffed: tuple[str, ...]) -> str:
    """The line saying whose counters are whose, as the demo starts."""
    yours = [office.counters[c].name for c in staffed]
    rest = [c.name for cid, c in office.counters.items() if cid not in staffed]
    if not yours:
        return (f"  {', '.join(rest)}: tự gọi số tiếp theo / press next by themselves "
                "(no screen: no windows)")
    first = (" (đăng nhập trước bằng một cán bộ của tệp văn phòng / sign in first as an "
             "officer of the office file)" if office.officers else "")
    return (f"  {', '.join(yours)}: cửa sổ của bạn, bấm Enter (Gọi tiếp) / your window: press "
            f"Enter (Next) there{first}; {', '.join(rest) or '-'}: tự gọi / press next by "
            "themselves")


class TerminalView:
    """The board and the ordering, redrawn in place."""

    def __init__(self, office: OfficeConfig, url: str, clock: ShiftedClock, crowd: Crowd,
                 tiles: Tiles | None = None):
        self.office, self.clock, self.crowd, self.tiles = office, clock, crowd, tiles
        self.web = ""  # the web server's address, when it runs
        self.board: Board | None = None
        self.order: Order | None = None
        self.link = Link(url, office.id, "display", "terminal", persistent=False, clock=clock)
        self.link.subscribe(topics.state_board(office.id), self._on_board)
        self.link.subscribe(topics.state_order(office.id), self._on_order)
        self.link.start()

    def _on_board(self, topic: str, payload: bytes) -> None:
        with contextlib.suppress(BadMessage):
            self.board = read(Board, payload)

    def _on_order(self, topic: str, payload: bytes) -> None:
        with contextlib.suppress(BadMessage):
            self.order = read(Order, payload)

    def render(self) -> str:
        o = self.office
        width = min(shutil.get_terminal_size((100, 40)).columns, 110)
        board, order = self.board, self.order
        lines = [f"\033[1m{o.name}\033[0m — motcua demo".ljust(width - 20)
                 + f"{self.clock():%a %d/%m %H:%M}", "─" * width]
        if self.web:
            lines.insert(1, f"Trình duyệt / browser: {self.web}/board  {self.web}/hall")
        if not board or not order:
            return "\n".join([*lines, "Đang chờ bộ điều phối… / waiting for the dispatcher…"])
        lines.append("\033[1mĐANG PHỤC VỤ / SERVING\033[0m")
        serving = {s.counter: s.ticket for s in board.serving}
        for cid, c in o.counters.items():
            state = order.counters.get(cid)
            paused = " (tạm dừng)" if state and state.status == "paused" else ""
            following = " ".join(state.next) if state else ""
            lines.append(f"  {c.name:<8} {who(cid, self.crowd.staffed)}  Số "
                         f"\033[1;33m{serving.get(cid, '—'):<5}\033[0m"
                         f"{paused}  tiếp theo / next: {following or '—'}")
        recent = " ".join(f"{r.ticket}→{r.counter}" for r in board.recent[:8])
        lines += ["", f"Vừa gọi / recent: {recent or '—'}", "",
                  "\033[1mHÀNG CHỜ / QUEUES\033[0m  (\033[36mH = lịch hẹn đúng giờ\033[0m)"]
        for code, s in o.services.items():
            w = board.waiting.get(code) or Waiting(count=0, est_wait_min=0)
            queue = [q for q in order.queues.get(code, []) if isinstance(q, Queued)]
            shown = " ".join((f"\033[36m{q.ticket}\033[0m" if q.tier == "booking" else q.ticket)
                             for q in queue[:14])
            more = f" +{w.count - 14}" if w.count > 14 else ""
            wait = f"~{w.est_wait_min:>3} phút" if w.count else "       —"  # nobody waits
            lines.append(f"  {code} {s.name[:22]:<22} {w.count:>3} chờ {wait}  {shown}{more}")
        lines += ["", "\033[1mNHẬT KÝ / LOG\033[0m", *[f"  {x}" for x in self.crowd.log],
                  "", "Ctrl-C: dừng / stop"]
        return "\n".join(lines)

    def close(self) -> None:
        self.link.stop()


def start_web(office: OfficeConfig, url: str, data: Path
              ) -> tuple[subprocess.Popen[bytes], str]:
    """`motcua web` for the demo office on a free port: the board in any browser. Opened
    as a window (Chromium, kiosk autoplay) when there is a screen."""
    from broker_config.dev import free_port

    address = f"http://127.0.0.1:{free_port()}"
    with open(data / "logs" / "web.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "web", "--config", str(office.path.resolve()), "--broker",
             url, "--listen", address.removeprefix("http://"), "--cache",
             str(data / "voice")], stdout=log, stderr=log, cwd=data, process_group=0)
    return proc, address


def page_box(tiles: Tiles) -> Box | None:
    """Where the board page goes: the corner the tiled windows leave free (right of the
    board and kiosk, below the counter), when it is big enough to read."""
    right = tiles.board.left + max(tiles.board.width, tiles.kiosk.width)
    below = max((b.top + b.height for b in tiles.counters.values()), default=0)
    width, height = tiles.screen[0] - right, tiles.screen[1] - below
    return Box(width, height, right, below) if width >= 320 and height >= 240 else None


def open_board_page(address: str, data: Path, tiles: Tiles | None
                    ) -> subprocess.Popen[bytes] | None:
    """The board page in Chromium (kiosk autoplay), where there is a screen and Chromium."""
    browser = shutil.which("chromium")
    if not browser or tiles is None:
        return None
    box = page_box(tiles)
    place = ([f"--window-position={box.left},{box.top}", f"--window-size={box.width},"
              f"{box.height}"] if box else ["--window-size=960,540"])
    if os.geteuid() == 0:  # Chromium refuses to run as root with its sandbox (and would
        place += ["--no-sandbox", "--test-type"]  # say so in a bar over the board)
    with open(data / "logs" / "chromium.log", "ab") as log:
        return subprocess.Popen(
            [browser, f"--app={address}/board", "--autoplay-policy=no-user-gesture-required",
             f"--user-data-dir={data / 'chromium'}", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-features=Translate", "--lang=vi", *place], stdout=log, stderr=log,
            process_group=0)


DEMO_MARK = ".motcua-demo"


def simulated_sign_ins(data: Path) -> dict[str, tuple[str, str]]:
    """counter -> (officer, PIN) of the simulated staff, when the office signs officers in."""
    from cli.demo_windows import STAFF_FILE

    path = data / STAFF_FILE
    if not path.exists():
        return {}
    return {cid: (code, pin) for cid, (code, pin) in json.loads(path.read_text()).items()}


def demo_folder(office: OfficeConfig) -> Path:
    """A folder of the demo's own, emptied at every start (an empty day, an empty broker):
    `$MOTCUA_DEMO_DIR` or the temporary folder. Only a folder the demo made is emptied."""
    base = Path(os.environ.get("MOTCUA_DEMO_DIR") or tempfile.gettempdir())
    data = base / f"motcua-demo-{office.id}"
    if data.exists():
        if not (data / DEMO_MARK).exists():
            raise SystemExit(f"motcua demo: {data} exists and is not a demo folder; "
                             f"set MOTCUA_DEMO_DIR / {data} không phải thư mục demo")
        shutil.rmtree(data)
    data.mkdir(parents=True, mode=0o750)
    (data / DEMO_MARK).write_text("made by motcua demo; emptied at every demo start\n")
    return data


def run_demo(office: OfficeConfig, speed: float, duration: float, seed: int, view: bool) -> int:
    from broker_config.dev import DevBroker
    from cli.demo_windows import demo_office_file, have_screen, open_windows, screen_size, tile
    from dispatcher.run import serve

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    data = demo_folder(office)
    log_file = data / "logs" / "demo.log"
    # The live view owns the terminal: the demo's own log (its dispatcher's too) and each
    # window's go to files in logs/.
    logs.setup(logging.INFO, log_file)  # DEBUG with -v
    broker = DevBroker(data / "broker").start()
    source = office.path
    # The demo's own copy of the office: its database, broker and tickets, never the ones
    # the office file names.
    office = office_config.load(demo_office_file(source, data, broker.url))
    opening = calendar.next_opening(office, datetime.now(office.tz).replace(hour=0, minute=0))
    clock = ShiftedClock(opening, speed)
    tiles = tile(screen_size(), list(office.counters)) if have_screen() else None
    staffed = tuple(tiles.counters) if tiles else ()
    print(f"motcua demo: {source} at {speed:g}x, simulated day {opening:%A %d %B %Y} from "
          f"{opening:%H:%M}\n  broker {broker.url}, database {office.storage}\n"
          f"  logs / nhật ký: {log_file.parent}/\n{legend(office, staffed)}", flush=True)
    if tiles and tiles.overlapping:
        print(f"  the screen ({tiles.screen[0]}x{tiles.screen[1]}) is too small to tile the "
              "windows: some overlap / màn hình nhỏ, các cửa sổ chồng lên nhau", flush=True)
    service = serve(office, broker.url, clock, demo=True)  # the demo key is expected here
    windows = (open_windows(office.path, broker.url, clock, data, tiles)
               if tiles else None)
    web, address = start_web(office, broker.url, data)
    print(f"motcua web: {address}/board (bảng gọi số trong trình duyệt / the board in a "
          f"browser), {address}/hall, {address}/counter", flush=True)
    page = open_board_page(address, data, tiles)
    crowd = Crowd(office, broker.url, clock, seed, stop, staffed,
                  data / "camera" if windows else None, simulated_sign_ins(data))
    crowd.start()
    screen = TerminalView(office, broker.url, clock, crowd, tiles)
    screen.web = address
    started = time.monotonic()
    try:
        while not stop.wait(0.5):
            for name, code in windows.exited() if windows else ():
                crowd.note(f"cửa sổ {name} đã đóng / the {name} window closed (exit {code}): "
                           f"logs/{name}.log")
            if view:
                sys.stdout.write("\033[H\033[2J" + screen.render() + "\n")
                sys.stdout.flush()
            if duration and time.monotonic() - started >= duration:
                break
    finally:
        stop.set()
        final = screen.render()
        crowd.close()
        screen.close()
        web.terminate()
        if page is not None:
            page.terminate()
        if windows:
            windows.close()
        for proc in (web, page):
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
                if proc.poll() is None:
                    proc.kill()
        service.stop()
        broker.stop()
    print("\n" + final if not view else "", flush=True)
    print(f"motcua demo stopped / đã dừng. Logs / nhật ký: {log_file.parent}/", flush=True)
    return 0
