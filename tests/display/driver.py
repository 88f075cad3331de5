"""The real board app in its own process, steered by a test over stdin/stdout (JSON lines).

Run: python -m tests.display.driver --config F --broker URL [display options]. Each line
on stdin is a request ({"op": "state" | "wait" | "shot" | "quit", ...}); each reply is one
stdout line starting with REPLY. Requests run on Kivy's thread, between frames, and read
what the widgets show, not what the model holds.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.waiting import wait_until

REPLY = "@@driver "
_out_lock = threading.Lock()


def reply(body: dict[str, Any]) -> None:
    with _out_lock:
        sys.stdout.write(REPLY + json.dumps(body, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def on_ui(fn: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Run fn on Kivy's thread and return its result."""
    from kivy.clock import Clock

    done = threading.Event()
    box: list[Any] = []

    def run(_dt: float) -> None:
        try:
            box.append(("ok", fn()))
        except Exception as exc:  # handed back to the test as an error reply
            box.append(("error", repr(exc)))
        done.set()

    Clock.schedule_once(run)
    if not done.wait(timeout):
        raise TimeoutError("the UI thread did not answer")
    status, value = box[0]
    if status == "error":
        raise RuntimeError(value)
    return value


def screen_state() -> dict[str, Any]:
    """What the board's widgets show right now."""
    from kivy.app import App
    from kivy.core.window import Window

    app = App.get_running_app()
    view = app.view
    return {
        "office": view.office_name, "time": view.time_text, "date": view.date_text,
        "banner": list(view.banner), "banner_kind": app.banner_kind(), "dim": view.dim,
        "placeholder": view.placeholder, "notice": view.notice,
        "notice_line": notice_line(view),
        "serving": [[r.ticket, r.counter, r.fresh] for r in view.serving_rows if r.ticket],
        "recent": [[r.ticket, r.counter] for r in view.recent_rows  # the ones drawn
                   if r.ticket and r.parent is not None and view.show_recent],
        "waiting": [[r.service, r.count, r.wait] for r in view.waiting_rows],
        "played": app.announcer.played, "pending": app.announcer.pending(),
        "window": list(Window.size), "system": list(Window.system_size),
        "root": list(view.size), "landscape": view.landscape,
        "unfit": unfit(view),
        "tickets": ticket_boxes(view), "side_font": side_font(view),
    }


def notice_line(view: Any) -> dict[str, Any]:
    """The notice as drawn: its font size, whether it scrolls, how far, and the boxes (x,
    y, width, height in window pixels) of its line and of its text."""
    line = view.ids.notice
    label = line.label
    x, y = line.to_window(line.x, line.y)
    tx, ty = label.to_window(label.x, label.y)
    return {"font": label.font_size, "scrolling": line.scrolling, "offset": line.offset,
            "pass_s": line.pass_s(), "line": [x, y, line.width, line.height],
            "text": [tx, ty, *label.texture_size]}


def ticket_boxes(view: Any) -> list[dict[str, Any]]:
    """Each drawn serving number: its texture's box in window pixels (y from the bottom),
    the font size and whether it is the newest call's, newest first."""
    from display import theme
    from display.widgets import FitLabel

    boxes = []
    for row in view.serving_rows:
        if not row.ticket or row.opacity == 0:
            continue
        label = next(w for w in row.walk(restrict=True)
                     if isinstance(w, FitLabel) and w.text == row.ticket)
        tw, th = label.texture_size  # where the kv rule draws the texture
        x, y = label.to_window(theme.place(label.halign, label.x, label.right, tw),
                               int(label.center_y - th / 2))
        boxes.append({"ticket": row.ticket, "hero": row.hero, "font": label.font_size,
                      "box": [x, y, tw, th]})
    return boxes


def side_font(view: Any) -> list[Any] | None:
    """The smallest font of the texts in the side column and its text (None when the
    column is not shown)."""
    from display.widgets import FitLabel

    if not view.show_side:
        return None
    sizes = [(w.font_size, w.text) for w in view.ids.side.walk(restrict=True)
             if isinstance(w, FitLabel) and w.text.strip() and w.height > 2
             and w.opacity > 0 and w.parent.opacity > 0]
    return list(min(sizes)) if sizes else None


def unfit(view: Any) -> list[str]:
    """Texts drawn larger than their box, which is how text overlaps or gets cut."""
    from display.widgets import FitLabel

    bad = []
    for w in view.walk():
        if isinstance(w, FitLabel) and w.text.strip() and w.opacity > 0:
            drawn_w, drawn_h = w.texture_size  # the text as rendered
            if drawn_w > w.width + 1 or drawn_h > w.height + 1:
                bad.append(f"{w.text!r} {drawn_w:.0f}x{drawn_h:.0f} in "
                           f"{w.width:.0f}x{w.height:.0f}")
    return bad


def matches(state: dict[str, Any], until: dict[str, Any]) -> bool:
    for key, want in until.items():
        if key == "serving":  # {ticket: counter name}, a subset of the table
            shown = {t: c for t, c, _ in state["serving"]}
            if any(shown.get(t) != c for t, c in want.items()):
                return False
        elif key == "serving_count":
            if len(state["serving"]) != want:
                return False
        elif key == "fresh":
            if [t for t, _, f in state["serving"] if f] != ([want] if want else []):
                return False
        elif key == "recent_first":
            if not state["recent"] or state["recent"][0][0] != want:
                return False
        elif key == "waiting":  # {service name: count text}
            shown = {s: n for s, n, _ in state["waiting"]}
            if any(shown.get(s) != n for s, n in want.items()):
                return False
        elif key == "played_at_least":
            if state["played"] < want:
                return False
        elif state.get(key) != want:
            return False
    return True


def shoot(path: Path, size: list[int] | None) -> dict[str, Any]:
    """Resize the window if asked, let the layout settle, save the next frame as a PNG."""
    from kivy.core.window import Window

    if size and list(Window.size) != size:
        on_ui(lambda: setattr(Window, "size", tuple(size)))
        wait_until(lambda: list(on_ui(lambda: Window.size)) == size, timeout=5,
                   what=f"the window resized to {size}", interval=0.05)
    time.sleep(0.5)  # fitting runs a frame after layout; a few frames make it still
    done = threading.Event()
    result: dict[str, Any] = {}

    def grab(*_: Any) -> None:
        from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels
        from PIL import Image

        Window.unbind(on_flip=grab)  # before the swap: the back buffer holds this frame
        w, h = (int(v) for v in Window.size)
        data = glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE)
        image = Image.frombytes("RGB", (w, h), bytes(data))
        image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)  # GL rows go bottom up
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        result.update(path=str(path), size=[w, h])
        done.set()

    def ask() -> None:
        Window.bind(on_flip=grab)
        Window.canvas.ask_update()

    on_ui(ask)
    if not done.wait(10):
        raise TimeoutError("no frame was drawn")
    result["state"] = on_ui(screen_state)
    return result


def handle(request: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "state":
        return {"ok": True, "state": on_ui(screen_state)}
    if op == "wait":
        last: list[dict[str, Any]] = []

        def matching() -> bool:
            last[:] = [on_ui(screen_state)]
            return matches(last[0], request["until"])
        try:
            wait_until(matching, timeout=float(request.get("wait_s", 15)),
                       what=f"the board to show {request['until']}", interval=0.05)
            return {"ok": True, "state": last[0]}
        except AssertionError:
            return {"ok": False, "state": last[0], "error": f"timeout: {request['until']}"}
    if op == "shot":
        return {"ok": True, **shoot(Path(request["path"]), request.get("size"))}
    if op == "quit":
        from kivy.app import App

        on_ui(lambda: App.get_running_app().stop())
        return {"ok": True}
    return {"ok": False, "error": f"unknown op {op!r}"}


def control() -> None:
    # Kivy may be imported only after display.app has set it up, on the main thread.
    while "display.board_app" not in sys.modules:
        time.sleep(0.05)
    from kivy.app import App

    while (app := App.get_running_app()) is None or getattr(app, "view", None) is None:
        time.sleep(0.05)
    reply({"ok": True, "ready": True})
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply(handle(json.loads(line)))
        except Exception as exc:  # the test reads the error; the board keeps running
            reply({"ok": False, "error": repr(exc)})


if __name__ == "__main__":
    from display.app import main

    threading.Thread(target=control, daemon=True).start()
    sys.exit(main(sys.argv[1:]))
