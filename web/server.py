"""The ASGI app: pages, their WebSockets, the sound files. Starlette on uvicorn (docs/web.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from display.speech import call_text, nfc
from motcua import officers
from motcua.config import OfficeConfig
from motcua.protocol import CMD_ID_RE, MESSAGES, CallEvent, Order
from motcua.ratings import CODES
from motcua.ticket_links import key_ok
from web import views
from web.audio import Sounds
from web.hub import CLOSE, CLOSE_FULL, CLOSE_REPLACED, Hub, Page
from web.staff import COOKIE, SESSION_S, Session, Sessions
from web.views import counter_view

log = logging.getLogger(__name__)
OnText = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]

STATIC = Path(__file__).resolve().parent / "static"
FONTS = Path(__file__).resolve().parent.parent / "printer" / "fonts"  # DejaVu, shipped
MAX_FRAME = 16384  # characters of one frame a page sends (a refusal reason, escaped, < 4000)
MAX_IN_FLIGHT = 8  # presses of one page waiting for their replies; more are refused "busy"
HEARTBEAT_S = 5.0  # a page that hears nothing for 3 of these says "connection lost"
PER_GROUP = 4  # pages of one ticket, one board address, one staff sign-in; a 5th replaces
BOARDS = 200  # board pages at once (anyone on the LAN may open one); [web] phones: tickets
# Pages load nothing from elsewhere; a ticket's key never leaves in a Referer.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; "
                               "media-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY", "Cache-Control": "no-store",
}


def page(name: str) -> Response:
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8", headers=HEADERS)


NOT_FOUND = ("<!doctype html><html lang=vi><meta charset=utf-8>"
             "<meta name=viewport content='width=device-width,initial-scale=1'>"
             "<title>404</title><link rel=stylesheet href=/static/common.css>"
             "<body class=notfound><main><h1>Không tìm thấy</h1><p>Not found</p>"
             "<p>Vui lòng xem số trên phiếu và hỏi cán bộ tại quầy.<br>"
             "Please look at your printed ticket or ask at a counter.</p></main></body></html>")


def not_found() -> Response:
    return HTMLResponse(NOT_FOUND, status_code=404, headers=HEADERS)


# What this server itself refuses (the dispatcher's own codes come in its replies).
WEB_ERRORS: dict[str, tuple[str, str]] = {
    "not_this_counter": ("Trang này chỉ thao tác cho quầy đã đăng nhập.",
                         "This page acts only for the counter it signed in at."),
    "not_allowed": ("Thao tác này không có trên trang quầy.",
                    "This action is not available on the counter page."),
    "signed_out": ("Đã có cán bộ khác đăng nhập tại quầy này. Vui lòng đăng nhập lại.",
                   "Another officer signed in at this counter. Please sign in again."),
    "no_officers": ("Đơn vị chưa khai báo cán bộ ([[officers]] trong office.toml): trang quầy "
                    "cần cán bộ đăng nhập.", "This office lists no officers ([[officers]] in "
                    "office.toml): the counter page needs an officer to sign in."),
    "no_reply": ("Chưa có trả lời — đang gửi lại đúng lệnh này (không gọi trùng)",
                 "No reply yet — resending this same command (never a second call)"),
    "bad_origin": ("Yêu cầu không đến từ trang của đơn vị.",
                   "The request did not come from this office's page."),
    "not_head": ("Chỉ lãnh đạo (vai trò head) mới xem được trang này.",
                 "Only an office head (role head) may open this page."),
    "bad_request": ("Yêu cầu không hợp lệ.", "Invalid request."),
    "busy": ("Trang đang chờ trả lời cho các thao tác trước. Vui lòng thử lại.",
             "This page is still waiting for replies to its earlier actions. Please retry."),
}
# The counter page's actions and the fields each may carry (the counter is the session's).
ACTIONS: dict[str, tuple[str, ...]] = {
    "next": (), "recall": (), "done": (), "no_show": (), "pause": (), "resume": (),
    "call": ("ticket",), "transfer": ("service", "counter"), "refuse": ("reason", "guidance"),
}


def web_error(code: str, status: int = 400, **extra: Any) -> JSONResponse:
    """This server's refusal, or one of the contract's codes (MESSAGES) it says itself."""
    return JSONResponse({"ok": False, "error": error_body(code), **extra}, status_code=status,
                        headers=HEADERS)


def utf8(body: dict[str, Any]) -> bool:
    """Whether the body can go out as UTF-8 JSON (no lone surrogate in any text of it)."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def error_body(code: str) -> dict[str, Any]:
    vi, en = WEB_ERRORS.get(code) or MESSAGES[code]
    return {"code": code, "message": vi, "message_en": en}


class Web:
    """The hub, the sounds and the routes of one office."""

    def __init__(self, office: OfficeConfig, hub: Hub, sounds: Sounds):
        self.office, self.hub, self.sounds = office, hub, sounds
        self.sessions = Sessions()
        self.hall_failures: dict[str, list[datetime]] = {}
        self.rating: set[str] = set()  # tickets whose rating is being sent
        self.groups: dict[tuple[str, str], list[Page]] = {}  # open pages by group, oldest first
        self.open: dict[str, int] = {}  # open pages by kind
        hub.on_call.append(self._call)
        hub.on_order.append(self._order)

    # -- calls ------------------------------------------------------------------------------
    def _call(self, call: CallEvent) -> None:
        keys = self.sounds.keys_for(call)
        message = {"type": "call", "ticket": call.ticket, "counter": call.counter,
                   "counter_name": nfc(call.counter_name), "kind": call.kind, "at": call.at,
                   "text": call_text(call.ticket, call.counter_name),
                   "audio": [f"/audio/{k}.wav" for k in keys], "repeat": self.sounds.repeat,
                   "chime": "/audio/chime.wav" if self.sounds.chime else None}
        self.hub.push("board", message)
        self.hub.push("ticket", {**message, "audio": [], "repeat": 1}, key=call.ticket)

    def _order(self, order: Order) -> None:
        names = {c.id: c.name for c in self.hub.config.counters}
        self.sounds.ahead([(c.next[0], cid, names.get(cid, cid))
                           for cid, c in order.counters.items()
                           if c.next and c.status == "open"])

    # -- pages ------------------------------------------------------------------------------
    async def board(self, request: Request) -> Response:
        return page("board.html")

    def ticket_ok(self, day: str, number: str, key: str) -> bool:
        """A real ticket of today: the same 404 for a wrong key, another day or a guess."""
        secret = self.office.web.secret
        return (secret is not None and key_ok(secret, self.office.id, day, number, key)
                and day == self.hub.day)

    async def ticket(self, request: Request) -> Response:
        p = request.path_params
        if not self.ticket_ok(p["day"], p["number"], request.query_params.get("k", "")):
            return not_found()
        return page("ticket.html")

    async def wav(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name == "chime" and self.sounds.chime:
            return FileResponse(self.sounds.chime, media_type="audio/wav",
                                headers={"Cache-Control": "max-age=86400"})
        path = await self.sounds.wav(name)
        if path is None:
            return not_found()
        return FileResponse(path, media_type="audio/wav",
                            headers={"Cache-Control": "max-age=86400"})

    async def index(self, request: Request) -> Response:
        return page("index.html")

    async def health(self, request: Request) -> Response:
        return JSONResponse({"online": self.hub.online, "broker": self.hub.broker_up,
                             "pages": len(self.hub.pages)})

    # -- websockets -----------------------------------------------------------------------
    async def ws_board(self, ws: WebSocket) -> None:
        await self.serve(ws, Page(views.board_view, "board",
                                  group=("board", ws.client.host if ws.client else "")))

    async def ws_ticket(self, ws: WebSocket) -> None:
        p = ws.path_params
        number = p["number"]
        if not self.ticket_ok(p["day"], number, ws.query_params.get("k", "")):
            await ws.accept()  # so that the page reads why (a refused handshake is 1006)
            await ws.close(code=4404)
            return
        pg = Page(lambda hub: views.ticket_view(hub, number), "ticket", key=number,
                  group=("ticket", number))

        async def rate(body: dict[str, Any]) -> None:
            await self._rate(pg, number, body)
        await self.serve(ws, pg, rate)

    async def _rate(self, pg: Page, number: str, body: dict[str, Any]) -> None:
        """The citizen's rating from their phone: the one thing a ticket page may send."""
        level = body.get("level")
        if body.get("type") != "rate" or not isinstance(level, str) or level not in CODES:
            pg.offer(json.dumps({"type": "rated", "ok": False,
                                 "error": error_body("bad_request")}))
            return
        if number in self.rating:  # one in flight per ticket: a flood of taps sends one
            return
        self.rating.add(number)
        try:
            reply = await self.hub.rate(number, level)
        finally:
            self.rating.discard(number)
        if reply is None:
            answer: dict[str, Any] = {"type": "rated", "ok": False,
                                      "error": error_body("no_reply")}
        elif reply.ok:
            answer = {"type": "rated", "ok": True, "level": level}
        else:
            assert reply.error is not None
            answer = {"type": "rated", "ok": False, "error": {
                "code": reply.error.code, "message": reply.error.message,
                "message_en": reply.error.message_en}}
        pg.offer(json.dumps(answer, ensure_ascii=False))

    async def serve(self, ws: WebSocket, pg: Page, on_text: OnText | None = None) -> None:
        """Push the page's view and every change until it goes; `on_text` takes what the
        page sends (a counter's presses)."""
        await ws.accept()
        refused = self.seat(pg)
        if refused is not None:
            await ws.close(code=refused)
            return
        self.hub.add(pg)
        busy: set[asyncio.Task[None]] = set()
        sender = asyncio.create_task(self._send(ws, pg))
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None or len(text) > MAX_FRAME:  # a page sends short JSON text only
                    await ws.close(code=1003 if text is None else 1009)
                    break
                if on_text is None:
                    continue
                try:
                    body = json.loads(text)
                except ValueError:  # not JSON, a 5,000-digit number, 1e999999 as a value
                    body = None
                if not isinstance(body, dict):
                    pg.offer(json.dumps({"type": "reply", "id": None, "ok": False,
                                         "error": error_body("bad_request")}))
                elif len(busy) >= MAX_IN_FLIGHT:
                    cmd_id = body.get("id")
                    pg.offer(json.dumps({"type": "reply", "ok": False,
                                         "id": cmd_id if isinstance(cmd_id, str)
                                         and CMD_ID_RE.fullmatch(cmd_id) else None,
                                         "error": error_body("busy")}))
                else:
                    task = asyncio.create_task(on_text(body))
                    busy.add(task)
                    task.add_done_callback(busy.discard)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self.unseat(pg)
            self.hub.remove(pg)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    def seat(self, pg: Page) -> int | None:
        """Room for a new page, or the close code that refuses it. The same ticket, board
        address or staff sign-in opened a 5th time replaces its oldest page (so a reload or
        a second phone never waits for a dead socket to time out, and one ticket link
        cannot fill the server); past `[web] phones` ticket pages, or BOARDS boards, a new
        one is told to come back later. Staff pages are few: only their sign-ins bound
        them."""
        same = self.groups.setdefault(pg.group, [])
        if len(same) >= PER_GROUP:
            oldest = same.pop(0)
            oldest.close(CLOSE_REPLACED)
            self._gone(oldest)
        else:
            cap = {"ticket": self.office.web.phones, "board": BOARDS}.get(pg.kind)
            if cap is not None and self.open.get(pg.kind, 0) >= cap:
                if not same:
                    del self.groups[pg.group]
                log.warning("a %s page refused: %d open already (trang đã đầy)", pg.kind, cap)
                return CLOSE_FULL
        same.append(pg)
        self.open[pg.kind] = self.open.get(pg.kind, 0) + 1
        return None

    def unseat(self, pg: Page) -> None:
        same = self.groups.get(pg.group, [])
        if pg in same:
            same.remove(pg)
            self._gone(pg)
        if not same:
            self.groups.pop(pg.group, None)

    def _gone(self, pg: Page) -> None:
        self.open[pg.kind] -= 1

    async def _send(self, ws: WebSocket, pg: Page) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                try:
                    text = await asyncio.wait_for(pg.queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    text = '{"type":"ping"}'
                if text.startswith(CLOSE):
                    await ws.close(code=int(text[len(CLOSE):]))
                    return
                await ws.send_text(text)

    # -- staff: the counter page ---------------------------------------------------------
    def same_origin(self, request: Request | WebSocket) -> bool:
        """A page of this server (a cross-site form or socket is refused)."""
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        scheme = "https" if self.office.web.cert_file is not None else "http"
        return bool(host) and origin == f"{scheme}://{host}"

    def _cookie(self, response: Response, session: Session | None) -> Response:
        secure = self.office.web.cert_file is not None
        response.headers.update(HEADERS)  # a session's answer is never stored on the way
        if session is None:
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                                   secure=secure)
        else:
            response.set_cookie(COOKIE, session.id, max_age=SESSION_S, path="/", httponly=True,
                                samesite="strict", secure=secure)
        return response

    async def _form(self, request: Request) -> dict[str, str] | None:
        try:
            body = await request.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or not all(isinstance(v, str) and len(v) <= 64
                                                 for v in body.values()) \
                or not utf8(body):
            return None
        return body

    async def _sign_in_form(self, request: Request) -> dict[str, str] | Response:
        """The form of a staff sign-in (counter or hall), or the refusal to answer with."""
        if not self.same_origin(request):
            return web_error("bad_origin", 403)
        if not self.office.officers:
            return web_error("no_officers", 400)
        body = await self._form(request)
        return web_error("bad_request") if body is None else body

    async def counter_page(self, request: Request) -> Response:
        return page("counter.html")

    async def counter_list(self, request: Request) -> Response:
        """What the sign-in form offers: the office's counters, and whether it has officers."""
        return JSONResponse({"office": nfc(self.hub.config.name),
                             "officers": bool(self.office.officers),
                             "counters": [{"id": c.id, "name": nfc(c.name)}
                                          for c in self.hub.config.counters]}, headers=HEADERS)

    async def counter_sign_in(self, request: Request) -> Response:
        body = await self._sign_in_form(request)
        if isinstance(body, Response):
            return body
        counter = body.get("counter", "")
        if counter not in self.office.counters:
            return web_error("unknown_counter")
        reply = await self.hub.command(counter, "sign_in", officer=body.get("officer", ""),
                                       pin=body.get("pin", ""))
        if reply is None:
            return web_error("no_reply", 503)
        if not reply.ok or reply.officer is None:
            return JSONResponse(reply.model_dump(mode="json"), status_code=401, headers=HEADERS)
        self.sessions.end_counter(counter)
        session = self.sessions.new("counter", reply.officer.code, reply.officer.name, counter)
        self.hub.changed()
        return self._cookie(JSONResponse({"ok": True, "counter": counter,
                                          "officer": reply.officer.model_dump()}), session)

    async def counter_sign_out(self, request: Request) -> Response:
        if not self.same_origin(request):
            return web_error("bad_origin", 403)
        session = self.sessions.get(request.cookies.get(COOKIE), "counter")
        if session is None:
            return self._cookie(JSONResponse({"ok": True}), None)
        reply = await self.hub.command(session.counter, "sign_out")
        if reply is None:
            return web_error("no_reply", 503)
        if not reply.ok:
            return JSONResponse(reply.model_dump(mode="json"), status_code=409, headers=HEADERS)
        self.sessions.end(session.id)
        return self._cookie(JSONResponse({"ok": True}), None)

    async def ws_counter(self, ws: WebSocket) -> None:
        session = self.sessions.get(ws.cookies.get(COOKIE), "counter")
        if session is None or not self.same_origin(ws):
            await ws.accept()
            await ws.close(code=4401)
            return
        pg = Page(lambda hub: counter_view(hub, session.counter, session.officer), "counter",
                  key=session.counter, group=("counter", session.id))

        async def press(body: dict[str, Any]) -> None:
            await self._press(session, pg, body)

        await self.serve(ws, pg, press)

    async def _press(self, session: Session, pg: Page, body: dict[str, Any]) -> None:
        """One press of the counter page: checked here, then sent as this session's counter
        with the page's own command id (the page resends that id until it is answered)."""
        cmd_id = body.get("id")
        ctype = body.get("type")
        fields = {k: v for k, v in body.items() if k not in ("id", "type")}

        def answer(message: dict[str, Any]) -> None:
            # ASCII escapes: a lone surrogate the page sent cannot break the socket's UTF-8
            pg.offer(json.dumps({"type": "reply", "id": cmd_id, **message}))

        if not isinstance(cmd_id, str) or not CMD_ID_RE.fullmatch(cmd_id):
            cmd_id = None
            return answer({"ok": False, "error": error_body("bad_request")})

        if self.sessions.get(session.id, "counter") is None:
            return answer({"ok": False, "error": error_body("signed_out")})
        if "counter" in fields and ctype != "transfer":
            return answer({"ok": False, "error": error_body("not_this_counter")})
        if not isinstance(ctype, str) or ctype not in ACTIONS or \
                set(fields) - set(ACTIONS[ctype]):
            return answer({"ok": False, "error": error_body("not_allowed")})
        if not utf8(fields):  # a lone surrogate cannot go out as UTF-8 JSON
            return answer({"ok": False, "error": error_body("bad_request")})
        st = self.hub.counters.get(session.counter)
        if st is not None and st.officer is not None and st.officer.code != session.officer:
            self.sessions.end(session.id)
            return answer({"ok": False, "error": error_body("signed_out")})
        reply = await self.hub.command(session.counter, ctype, cmd_id, **fields)
        if reply is None:
            return answer({"ok": False, "pending": True, "error": error_body("no_reply")})
        answer(reply.model_dump(mode="json"))

    # -- staff: the hall view -----------------------------------------------------------
    async def hall_page(self, request: Request) -> Response:
        return page("hall.html")

    async def hall_sign_in(self, request: Request) -> Response:
        """An office head's code and PIN, checked here (motcua.officers.verify); wrong tries
        lock that code for 5 minutes, as the counters do."""
        body = await self._sign_in_form(request)
        if isinstance(body, Response):
            return body
        code = body.get("officer", "")
        now = datetime.now().astimezone()
        if len(self.hall_failures) > 1000:  # guessed codes: keep only those still locking
            self.hall_failures = {c: t for c, t in self.hall_failures.items()
                                  if t and now - t[-1] < officers.LOCK_WINDOW}
        tries = self.hall_failures.setdefault(code[:32], [])
        if (until := officers.locked(tries, now)) is not None:
            return web_error("locked", 429, retry_after=(until - now).total_seconds())
        officer = await asyncio.to_thread(officers.verify, self.office, code,
                                          body.get("pin", ""))
        if officer is None:
            tries.append(now)
            del tries[:-officers.MAX_TRIES]
            return web_error("bad_pin", 401)
        if "head" not in officer.roles:
            return web_error("not_head", 403)
        tries.clear()
        session = self.sessions.new("hall", officer.code, officer.name)
        return self._cookie(JSONResponse({"ok": True, "officer": {
            "code": officer.code, "name": officer.name}}), session)

    async def hall_sign_out(self, request: Request) -> Response:
        if not self.same_origin(request):
            return web_error("bad_origin", 403)
        self.sessions.end(request.cookies.get(COOKIE))
        return self._cookie(JSONResponse({"ok": True}), None)

    async def ws_hall(self, ws: WebSocket) -> None:
        session = self.sessions.get(ws.cookies.get(COOKIE), "hall")
        if session is None or not self.same_origin(ws):
            await ws.accept()
            await ws.close(code=4401)
            return
        name = session.name
        await self.serve(ws, Page(lambda hub: {**views.hall_view(hub), "me": name}, "hall",
                                  group=("hall", session.id)))

    def routes(self) -> list[Any]:
        return [
            Route("/", self.index),
            Route("/hall", self.hall_page),
            Route("/hall/sign-in", self.hall_sign_in, methods=["POST"]),
            Route("/hall/sign-out", self.hall_sign_out, methods=["POST"]),
            WebSocketRoute("/ws/hall", self.ws_hall),
            Route("/counter", self.counter_page),
            Route("/counter/counters", self.counter_list),
            Route("/counter/sign-in", self.counter_sign_in, methods=["POST"]),
            Route("/counter/sign-out", self.counter_sign_out, methods=["POST"]),
            WebSocketRoute("/ws/counter", self.ws_counter),
            Route("/board", self.board),
            Route("/t/{day}/{number}", self.ticket),
            Route("/audio/{name}.wav", self.wav),
            Route("/health", self.health),
            WebSocketRoute("/ws/board", self.ws_board),
            WebSocketRoute("/ws/t/{day}/{number}", self.ws_ticket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            Mount("/fonts", StaticFiles(directory=FONTS), name="fonts"),
        ]


def build_app(web: Web, extra: list[Any] | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        web.hub.start(asyncio.get_running_loop())
        try:
            yield
        finally:
            await web.hub.stop()

    async def missing(request: Request, exc: Exception) -> Response:
        return not_found()

    return Starlette(routes=[*web.routes(), *(extra or [])], lifespan=lifespan,
                     exception_handlers={404: missing})
