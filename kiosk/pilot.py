"""Drive a running kiosk from a script thread: real touches, waits, screenshots (tests, bench)."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.widget import Widget
from PIL import Image

from kiosk.ui import KioskApp


class PilotError(AssertionError):
    pass


class Pilot:
    """Runs `script(pilot)` on its own thread once the app has started, then stops the app.

    Everything that touches widgets goes through do(), which runs on Kivy's thread.
    """

    def __init__(self, app: KioskApp):
        self.app = app
        self.error: BaseException | None = None
        self.trace = ""

    def run(self, script: Callable[[Pilot], None]) -> None:
        def go(*args: Any) -> None:
            threading.Thread(target=self._script, args=(script,), daemon=True).start()

        def started(*args: Any) -> None:  # returning True would stop App.on_start
            Clock.schedule_once(go, 0.5)

        self.app.bind(on_start=started)
        self.app.run()
        if self.error is not None:
            raise PilotError(f"kiosk script failed:\n{self.trace}") from self.error

    def _script(self, script: Callable[[Pilot], None]) -> None:
        try:
            script(self)
        except BaseException as exc:  # reported by run(), on the main thread
            self.error, self.trace = exc, traceback.format_exc()
        finally:
            Clock.schedule_once(lambda dt: self.app.stop())

    # -- on Kivy's thread ----------------------------------------------------------------
    def do(self, fn: Callable[..., Any], *args: Any, timeout: float = 10.0) -> Any:
        done = threading.Event()
        box: list[Any] = []

        def call(dt: float) -> None:
            try:
                box.append((True, fn(*args)))
            except BaseException as exc:
                box.append((False, exc))
            done.set()

        Clock.schedule_once(call)
        if not done.wait(timeout):
            raise PilotError(f"the UI thread did not run {fn!r} in {timeout} s")
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0,
                 what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.do(predicate)
            if value:
                return value
            if time.monotonic() > deadline:
                raise PilotError(f"timed out after {timeout} s waiting for "
                                 f"{what or predicate!r}; screen {self.screen()!r}")
            time.sleep(0.03)

    def screen(self) -> str:
        return self.do(lambda: self.app.root.current)

    def wait_screen(self, name: str, timeout: float = 10.0) -> None:
        self.wait_for(lambda: self.app.root.current == name
                      and self.app.root.transition.is_active is False, timeout, f"screen {name}")

    def widget(self, screen: str, wid: str) -> Widget:
        return self.app.root.get_screen(screen).ids[wid]

    def tap(self, target: Callable[[], Widget] | tuple[str, str], times: int = 1) -> None:
        """Touch a widget's centre, down and up, through Kivy's input path."""
        from kivy.tests.common import UnitTestTouch

        def touch() -> None:
            w = target() if callable(target) else self.widget(*target)
            if w.disabled or w.opacity == 0 or w.get_root_window() is None:
                raise PilotError(f"{w!r} is not there to touch")
            x, y = w.to_window(*w.center)
            for _ in range(times):
                t = UnitTestTouch(x, y)
                t.touch_down()
                t.touch_up()

        self.do(touch)

    def screenshot(self, path: Path) -> Path:
        """The window as it is now, as PNG (drawn afresh, so no frame is missed)."""
        def grab() -> tuple[int, int, bytes]:
            from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels

            Window.dispatch("on_draw")
            w, h = Window.size
            return w, h, glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE)

        time.sleep(0.15)  # let labels lay out their new text (one or two frames)
        w, h, data = self.do(grab)
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.frombytes("RGBA", (w, h), data).convert("RGB")
        image.transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(path)
        return path
