"""espeak-ng and sox for real: the WAVs exist, are speech-long and not silent, and are cached."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from display.speech import call_phrase
from display.voice import CHIME, Voice, VoiceError, chime_file, duration, make_chime
from tests.display.support import sox_stats

pytestmark = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                reason="needs espeak-ng and sox (make test installs them)")


@pytest.mark.process
def test_a_call_is_spoken_into_a_wav(tmp_path: Path) -> None:
    voice = Voice.find(tmp_path)
    assert voice is not None
    wav = voice.wav(call_phrase("A012", "3", "Quầy 3"))
    assert wav.exists() and wav.parent == tmp_path
    stats = sox_stats(wav)
    assert 2.0 < stats["Length (seconds)"] < 8.0  # a sentence, not a click
    assert stats["RMS amplitude"] > 0.02 and stats["Maximum amplitude"] > 0.2


@pytest.mark.process
def test_phrases_are_cached(tmp_path: Path) -> None:
    voice = Voice.find(tmp_path)
    assert voice is not None
    first = voice.wav(call_phrase("B001", "1", "Quầy 1"))
    again = voice.wav(call_phrase("B001", "1", "Quầy 1"))
    other = voice.wav(call_phrase("B002", "1", "Quầy 1"))
    assert first == again != other
    assert voice.made == 2


@pytest.mark.process
def test_the_cache_keeps_its_limit(tmp_path: Path) -> None:
    voice = Voice.find(tmp_path)
    assert voice is not None
    voice.limit = 3
    for i in range(5):
        voice.wav(f"số {i}")
    voice.prune()
    assert len(list(tmp_path.glob("*.wav"))) == 3


@pytest.mark.process
def test_a_broken_voice_says_so(tmp_path: Path) -> None:
    voice = Voice("/bin/false", tmp_path)
    with pytest.raises(VoiceError):
        voice.wav("Mời khách hàng")
    assert not list(tmp_path.glob("*.wav"))  # no half-written file left behind


@pytest.mark.process
def test_the_chime(tmp_path: Path) -> None:
    assert chime_file() == CHIME and CHIME.exists()  # shipped with the package
    made = make_chime(tmp_path / "chime.wav")
    for wav in (CHIME, made):
        stats = sox_stats(wav)
        assert 1.0 < duration(wav) < 3.0
        assert stats["RMS amplitude"] > 0.05


def test_no_espeak_no_voice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without espeak-ng
    assert Voice.find(tmp_path / "cache") is None
