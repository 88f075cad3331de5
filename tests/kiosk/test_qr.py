"""QR decoding: each decoder on camera-like frames, unreadable codes, the fallback, bad names."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.qr import DECODERS, DecoderError, FallbackDecoder, Sighting, make_decoder, to_gray
from tests.kiosk.frames import qr_frame

TOKEN = "eyJhbGciOiJFZERTQSJ9." + "x" * 300 + ".sig"


@pytest.mark.parametrize("name", ["zxing", "pyzbar", "zxing+pyzbar"])
def test_reads_a_token_sized_code(name: str) -> None:
    seen = make_decoder(name).decode(qr_frame(TOKEN))
    assert [s.text for s in seen if s.text] == [TOKEN]


def test_zxing_reads_light_on_dark_codes_too() -> None:
    dark_mode = 255 - qr_frame(TOKEN)  # a phone in dark mode
    assert any(s.text == TOKEN for s in make_decoder("zxing").decode(dark_mode))


def test_a_code_seen_but_not_readable_is_reported_as_such() -> None:
    seen = make_decoder("zxing").decode(qr_frame("y" * 300, damaged=True))
    assert seen and all(s.text is None for s in seen)


def test_an_empty_view_has_nothing() -> None:
    empty = np.full((720, 1280), 128, np.uint8)
    for name in DECODERS:
        assert make_decoder(name).decode(empty) == []


class Recording:
    def __init__(self, name: str, answer: list[Sighting]):
        self.name, self.answer, self.calls = name, answer, 0

    def decode(self, gray: np.ndarray) -> list[Sighting]:
        self.calls += 1
        return self.answer


def test_the_fallback_runs_only_where_the_first_decoder_saw_an_unreadable_code() -> None:
    frame = np.zeros((4, 4), np.uint8)
    for first_answer, second_called in (([], 0), ([Sighting("a")], 0), ([Sighting(None)], 1)):
        first, second = Recording("a", first_answer), Recording("b", [Sighting("b")])
        FallbackDecoder(first, second).decode(frame)
        assert second.calls == second_called


def test_an_unknown_decoder_is_named_in_both_languages() -> None:
    with pytest.raises(DecoderError) as err:
        make_decoder("quagga")
    assert "quagga" in err.value.message and "choose one of" in err.value.message_en


def test_frames_of_any_colour_layout_become_one_grey_channel() -> None:
    grey = np.full((10, 20), 7, np.uint8)
    for frame in (grey, np.dstack([grey] * 3), np.dstack([grey] * 4)):
        out = to_gray(frame)
        assert out.shape == (10, 20) and out.dtype == np.uint8 and out.flags.c_contiguous
