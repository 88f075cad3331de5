"""The ASGI app: pages, their WebSockets, the sound files. Starlette on uvicorn (docs/web.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from display.speech import call_text, nfc
from motcua.config import OfficeConfig
from motcua.protocol import CallEvent
from motcua.ticket_links import key_ok
from web import views
from web.audio import Sounds
from web.hub import Hub, Page

log = logging.getLogger(__name__)
OnText = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]

STATIC = Path(__file__).resolve().parent / "static"
FONTS = Path(__file__).resolve().parent.parent / "printer" / "fonts"  # DejaVu, shipped
HEARTBEAT_S = 5.0  # a page that hears nothing for 3 of these says "connection lost"
# Pages load nothing from elsewhere; a ticket's key never leaves in a Referer.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
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


class Web:
    """The hub, the sounds and the routes of one office."""

    def __init__(self, office: OfficeConfig, hub: Hub, sounds: Sounds):
        self.office, self.hub, self.sounds = office, hub, sounds
        hub.on_call.append(self._call)

    # -- calls ------------------------------------------------------------------------------
    def _call(self, call: CallEvent) -> None:
        key = self.sounds.key_for(call)
        message = {"type": "call", "ticket": call.ticket, "counter": call.counter,
                   "counter_name": nfc(call.counter_name), "kind": call.kind, "at": call.at,
                   "text": call_text(call.ticket, call.counter_name),
                   "audio": f"/audio/{key}.wav" if key else None,
                   "chime": "/audio/chime.wav" if self.sounds.chime else None}
        self.hub.push("board", message)
        self.hub.push("ticket", {**message, "audio": None}, key=call.ticket)

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
        await self.serve(ws, Page(views.board_view, "board"))

    async def ws_ticket(self, ws: WebSocket) -> None:
        p = ws.path_params
        number = p["number"]
        if not self.ticket_ok(p["day"], number, ws.query_params.get("k", "")):
            await ws.accept()  # so that the page reads why (a refused handshake is 1006)
            await ws.close(code=4404)
            return
        await self.serve(ws, Page(lambda hub: views.ticket_view(hub, number), "ticket",
                                  key=number))

    async def serve(self, ws: WebSocket, pg: Page, on_text: OnText | None = None) -> None:
        """Push the page's view and every change until it goes; `on_text` takes what the
        page sends (a counter's presses)."""
        await ws.accept()
        self.hub.add(pg)
        sender = asyncio.create_task(self._send(ws, pg))
        try:
            while True:
                text = await ws.receive_text()
                if on_text is None:
                    continue
                try:
                    body = json.loads(text)
                except ValueError:
                    continue
                if isinstance(body, dict):
                    asyncio.create_task(on_text(body))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self.hub.remove(pg)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    async def _send(self, ws: WebSocket, pg: Page) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                try:
                    text = await asyncio.wait_for(pg.queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    text = '{"type":"ping"}'
                if text == '{"type":"close"}':
                    await ws.close(code=4000)
                    return
                await ws.send_text(text)

    def routes(self) -> list[Any]:
        return [
            Route("/", self.index),
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
            await asyncio.to_thread(web.hub.stop)

    async def missing(request: Request, exc: Exception) -> Response:
        return not_found()

    return Starlette(routes=[*web.routes(), *(extra or [])], lifespan=lifespan,
                     exception_handlers={404: missing})
