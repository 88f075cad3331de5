"""One real counter terminal window, driven by a test over stdin: real X keys, taps, screenshots.

Run by tests/counter/harness.py as `python -m tests.counter.driver ...` under Xvfb. Each stdin
line is a JSON op; each answer is one stdout line starting with "@@ ".
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from counter.app import kivy_settings
from motcua import config

PREFIX = "@@ "


class XKeys:
    """Key presses through the X server (XTest), so SDL and Kivy see real keyboard events."""

    def __init__(self, display: str):
        try:
            self.x11 = ctypes.CDLL("libX11.so.6")
            self.xt = ctypes.CDLL("libXtst.so.6")
        except OSError as exc:
            raise RuntimeError("the keypad tests send keys through XTest: "
                               "apt-get install -y libxtst6") from exc
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XStringToKeysym.restype = ctypes.c_ulong
        self.x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.xt.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                              ctypes.c_ulong]
        self.xt.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                                 ctypes.c_int, ctypes.c_ulong]
        self.d = self.x11.XOpenDisplay(display.encode())
        if not self.d:
            raise RuntimeError(f"cannot open X display {display}")

    def pointer_to(self, x: int, y: int) -> None:
        # No window manager: the keyboard goes to the window under the pointer.
        self.xt.XTestFakeMotionEvent(self.d, -1, x, y, 0)
        self.x11.XFlush(self.d)

    def press(self, keysym: str) -> None:
        code = self.x11.XKeysymToKeycode(self.d, self.x11.XStringToKeysym(keysym.encode()))
        if not code:
            raise ValueError(f"no key for {keysym}")
        # Held and released like a finger would: X11 clients take a release and a press
        # with the same timestamp for the keyboard's auto-repeat.
        self.xt.XTestFakeKeyEvent(self.d, code, 1, 0)
        self.x11.XFlush(self.d)
        time.sleep(0.02)
        self.xt.XTestFakeKeyEvent(self.d, code, 0, 0)
        self.x11.XFlush(self.d)
        time.sleep(0.02)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--counter", required=True)
    p.add_argument("--broker", required=True)
    p.add_argument("--geometry", default="1100x720+0+0")
    args = p.parse_args()
    office = config.load(args.config)
    kivy_settings(args.geometry, False)

    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    from counter.remote import Press
    from counter.ui import CounterApp
    from motcua.protocol import COMMANDS

    app = CounterApp(office, args.counter, args.broker)
    xkeys = XKeys(os.environ["DISPLAY"])
    out_lock = threading.Lock()

    def answer(msg_id: int, ok: bool, result: Any) -> None:
        with out_lock:
            sys.stdout.write(PREFIX + json.dumps({"id": msg_id, "ok": ok, "result": result},
                                                 ensure_ascii=False) + "\n")
            sys.stdout.flush()

    def ui() -> dict[str, Any]:
        s = app.screen
        d = app.dialog
        view: dict[str, Any] = {
            k: getattr(s, k) for k in ("title", "status", "paused", "banner", "number",
                                       "service", "kind", "served", "priority", "message",
                                       "message_tone", "waiting_total", "busy", "check",
                                       "check_tone", "overdue_title", "officer")}
        view.update(next_here=list(s.next_here), waiting=list(s.waiting),
                    overdue=list(s.overdue),
                    enabled=dict(s.enabled), dialog=d.name if d else None,
                    dialog_error=d.error if d else "", keys_seen=len(app.key_log),
                    buttons={k[4:]: not w.disabled for k, w in s.ids.items()
                             if k.startswith("btn_")},
                    sign_out_shown=s.ids.sign_out_button.width > 0
                    and not s.ids.sign_out_button.disabled)
        if d is not None:
            for k in ("digits", "prefix", "preview", "hint", "selected", "custom", "number",
                      "failed", "choices", "step", "dots", "code", "more"):
                if hasattr(d, k):
                    value = getattr(d, k)
                    view[f"dialog_{k}"] = list(value) if k == "choices" else value
            if "choice_list" in d.ids:  # the rows as shown (a hidden one is not)
                view["dialog_rows"] = [r.text for r in sorted(d.ids.choice_list.children,
                                                              key=lambda r: r.index)
                                       if r.opacity]
            if "guidance" in d.ids:
                view["dialog_guidance"] = d.ids.guidance.text
        return view

    def widget(target: str) -> Any:
        where, _, name = target.partition(":")
        root = app.screen if where == "main" else app.dialog
        if root is None:
            raise LookupError(f"no {where} open")
        if name.startswith(("row:", "pad:", "letter:")):
            box, _, label = name.partition(":")
            container = {"row": "choice_list", "pad": "pad", "letter": "letters"}[box]
            for child in root.ids[container].children:
                if box == "row" and child.index == int(label) - 1 or child.text == label:
                    return child
            raise LookupError(target)
        return root.ids[name]

    def run(op: dict[str, Any]) -> None:
        msg_id = op.get("id", 0)
        try:
            kind = op["op"]
            if kind == "ui":
                answer(msg_id, True, ui())
            elif kind == "key":
                before = len(app.key_log)
                want = before + len(op["keys"])
                for keysym in op["keys"]:
                    xkeys.press(keysym)
                deadline = Clock.get_boottime() + 10

                def seen(_: float) -> bool:
                    if len(app.key_log) >= want:
                        answer(msg_id, True, app.key_log[before:])
                        return False
                    if Clock.get_boottime() > deadline:
                        answer(msg_id, False, f"keys not seen: {app.key_log[before:]}")
                        return False
                    return True
                Clock.schedule_interval(seen, 0.02)
            elif kind == "timed_key":
                # Key down to the first frame that shows a change of `field`, for
                # bench/bench_counter_keypress.py; the key goes from another thread so the
                # 20 ms of holding it does not block the frames being measured.
                before = getattr(app.screen, op["field"])
                t0 = time.perf_counter()
                threading.Thread(target=xkeys.press, args=(op["key"],), daemon=True).start()

                def changed(_: float) -> bool:
                    if getattr(app.screen, op["field"]) != before:
                        answer(msg_id, True, time.perf_counter() - t0)
                        return False
                    if time.perf_counter() - t0 > 10:
                        answer(msg_id, False, "no change in 10 s")
                        return False
                    return True
                Clock.schedule_interval(changed, 0)
            elif kind == "tap":
                w = widget(op["target"])
                if w.disabled:
                    answer(msg_id, True, "disabled")
                    return
                touch = UnitTestTouch(*w.to_window(*w.center))
                touch.touch_down()
                touch.touch_up()
                answer(msg_id, True, "tapped")
            elif kind == "text":
                if app.dialog is None:
                    raise LookupError("no dialog open")
                app.dialog.ids[op["field"]].text = op["text"]
                answer(msg_id, True, None)
            elif kind == "force":
                # A stale screen (e.g. a second terminal for this counter changed it): send
                # what the buttons would not allow now, to see the dispatcher's error inline.
                if app.pending is not None:
                    raise RuntimeError(f"{app.pending.action} still waits for its reply")
                app.send(Press(COMMANDS[op["action"]](**op.get("fields", {}))))
                answer(msg_id, True, None)
            elif kind == "shot":
                def shoot(_: float) -> None:  # a frame later, so the last change is drawn
                    target = Path(op["path"])
                    made = Window.screenshot(name=str(target.with_suffix("")) + ".png")
                    shutil.move(made, target)
                    answer(msg_id, True, str(target))
                Clock.schedule_once(shoot, 0.15)
            elif kind == "quit":
                answer(msg_id, True, None)
                app.stop()
            else:
                answer(msg_id, False, f"unknown op {kind}")
        except Exception:
            answer(msg_id, False, traceback.format_exc())

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip():
                op = json.loads(line)
                Clock.schedule_once(lambda _, op=op: run(op))
        Clock.schedule_once(lambda _: app.stop())  # the test went away

    def started(_: float) -> None:
        xkeys.pointer_to(40, 40)
        threading.Thread(target=read_stdin, daemon=True).start()
        answer(0, True, "ready")

    Clock.schedule_once(started, 0.2)
    app.run()


if __name__ == "__main__":
    main()
