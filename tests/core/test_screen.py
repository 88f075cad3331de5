"""motcua.screen: the size a full-screen window is given before Kivy opens it (issue 15)."""

from __future__ import annotations

import pytest

from motcua import screen


class FakeConfig:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def set(self, section: str, key: str, value: str) -> None:
        self.values[(section, key)] = value


def test_the_window_takes_the_screens_size_at_its_corner(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screen, "desktop_size", lambda display=0: (1080, 1920))
    config = FakeConfig()
    assert screen.fullscreen_config(config, (1280, 800)) == (1080, 1920)
    g = {k: v for (s, k), v in config.values.items() if s == "graphics"}
    assert g == {"width": "1080", "height": "1920", "position": "custom", "left": "0",
                 "top": "0", "fullscreen": "auto"}


def test_without_an_answer_from_sdl_the_asked_size_stays(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screen, "desktop_size", lambda display=0: None)
    config = FakeConfig()
    assert screen.fullscreen_config(config, (1280, 800)) == (1280, 800)
    assert config.values[("graphics", "width")] == "1280"


@pytest.mark.parametrize("driver", ["dummy", "offscreen"])
def test_no_real_screen_no_question(monkeypatch: pytest.MonkeyPatch, driver: str) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", driver)
    assert screen.desktop_size() is None
