"""One real rating screen, driven by a test over stdin: taps on its widgets, screenshots.

Run by tests/rating/test_screen.py as `python -m tests.rating.driver ...` under Xvfb. Each
stdin line is a JSON op; each answer is one stdout line starting with "@@ "."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from motcua import config
from motcua.screen import GEOMETRY_RE
from rating.app import kivy_settings

PREFIX = "@@ "


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--counter", required=True)
    p.add_argument("--broker", required=True)
    p.add_argument("--geometry", default="1024x600+0+0")
    args = p.parse_args()
    office = config.load(args.config)
    m = GEOMETRY_RE.match(args.geometry)
    assert m is not None
    kivy_settings(m, False)

    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    from rating.ui import RatingApp

    app = RatingApp(office, args.counter, args.broker)
    lock = threading.Lock()

    def answer(msg_id: int, ok: bool, result: Any) -> None:
        with lock:
            sys.stdout.write(PREFIX + json.dumps({"id": msg_id, "ok": ok, "result": result},
                                                 ensure_ascii=False) + "\n")
            sys.stdout.flush()

    def ui() -> dict[str, Any]:
        v = app.view
        return {"mode": v.mode, "banner": list(v.banner), "big": list(v.big),
                "question": list(v.question), "title": v.title,
                "levels": [b.vi for b in reversed(v.ids.levels.children)]}

    def run(op: dict[str, Any]) -> None:
        msg_id = op.get("id", 0)
        try:
            if op["op"] == "ui":
                answer(msg_id, True, ui())
            elif op["op"] == "tap":
                button = next(b for b in app.view.ids.levels.children if b.level == op["level"])
                if button.disabled or app.view.mode != "ask":
                    answer(msg_id, True, "disabled")
                    return
                touch = UnitTestTouch(*button.to_window(*button.center))
                touch.touch_down()
                touch.touch_up()
                answer(msg_id, True, "tapped")
            elif op["op"] == "shot":
                def shoot(_: float) -> None:
                    target = Path(op["path"])
                    made = Window.screenshot(name=str(target.with_suffix("")) + ".png")
                    shutil.move(made, target)
                    answer(msg_id, True, str(target))
                Clock.schedule_once(shoot, 0.2)
            elif op["op"] == "quit":
                answer(msg_id, True, None)
                app.stop()
            else:
                answer(msg_id, False, f"unknown op {op['op']}")
        except Exception:
            answer(msg_id, False, traceback.format_exc())

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip():
                op = json.loads(line)
                Clock.schedule_once(lambda _, op=op: run(op))
        Clock.schedule_once(lambda _: app.stop())

    def started(_: float) -> None:
        threading.Thread(target=read_stdin, daemon=True).start()
        answer(0, True, "ready")

    Clock.schedule_once(started, 0.2)
    app.run()


if __name__ == "__main__":
    main()
