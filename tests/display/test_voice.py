"""espeak-ng and sox for real: the WAVs exist, are speech-long and not silent, and are cached."""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from display.speech import call_phrase, call_phrase_en, read_number
from display.voice import (
    CHIME,
    PEAK_DB,
    REGION_VOICES,
    TARGET_RMS_DB,
    Voice,
    VoiceError,
    chime_file,
    duration,
    find_voice,
    level,
    levels,
    make_chime,
)
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


def phonemes(variant: str, text: str) -> str:
    done = subprocess.run(["espeak-ng", "-q", "-x", "-v", variant, "--", text],
                          capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())


@pytest.mark.process
def test_the_board_gives_espeak_words_where_its_own_reading_of_digits_is_not_the_regions(
) -> None:
    # espeak-ng reads "105" with "linh" in every region, and "1000" as "ngàn không trăm"
    # even in the North; the words the board gives it are the region's
    for variant in REGION_VOICES.values():
        assert "l,i1n^" in phonemes(variant, "105")
    south = phonemes("vi-vn-x-south", read_number(105, "south"))
    assert "l'E4" in south and "l'@1n^" not in south  # lẻ, not linh
    north = phonemes("vi", read_number(105, "north"))
    assert "l'i1n^" in north
    own_1000 = phonemes("vi", "1000")
    assert "N'a:2n" in own_1000 and "x,o1N" in own_1000  # ngàn không (trăm)
    ours = phonemes("vi", read_number(1000, "north"))
    assert "N'i2n" in ours and "x" not in ours  # nghìn, nothing after it
    assert "b'o3n" in phonemes("vi", "24") and "t['y" in phonemes("vi", read_number(24))


@pytest.mark.process
def test_each_region_has_its_voice_and_an_unknown_one_says_so(tmp_path: Path) -> None:
    for variant in (*REGION_VOICES.values(), "en"):
        voice = Voice.find(tmp_path, variant)
        assert voice is not None
        voice.check()
    with pytest.raises(VoiceError) as err:
        Voice.find(tmp_path, "vi-vn-x-west").check()  # type: ignore[union-attr]
    assert "không có giọng 'vi-vn-x-west'" in err.value.message
    assert "has no voice 'vi-vn-x-west'" in err.value.message_en


def sox_levels(path: Path) -> dict[str, float]:
    """`sox FILE -n stats`: 'RMS lev dB', 'Pk lev dB', 'Flat factor', ..."""
    done = subprocess.run(["sox", str(path), "-n", "stats"], capture_output=True, text=True,
                          check=True)
    out = {}
    for line in done.stderr.splitlines():
        key, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            out[key.strip()] = float(value)
    return out


@pytest.mark.process
def test_chime_and_voices_are_levelled(tmp_path: Path) -> None:
    """Every sound at the same RMS (±1 dB), its peaks under -1 dBFS, nothing clipped: the
    shipped chime, one made now, and real phrases in each regional voice and in English."""
    wavs = {"chime": CHIME, "chime-made": make_chime(tmp_path / "chime.wav")}
    for region, variant in REGION_VOICES.items():
        voice = Voice.find(tmp_path / "cache", variant)
        assert voice is not None
        for ticket, reading in (("A012", "digits"), ("H105", "whole"), ("B999", "whole")):
            wavs[f"{region}-{ticket}"] = voice.wav(call_phrase(ticket, "3", "Quầy 3", reading,
                                                               region))
    english = Voice.find(tmp_path / "cache", "en")
    assert english is not None
    wavs["en"] = english.wav(call_phrase_en("A012", "3"))
    stats = {name: sox_levels(wav) for name, wav in wavs.items()}
    for name, s in stats.items():
        print(name, s["RMS lev dB"], s["Pk lev dB"], s["Flat factor"])
        assert abs(s["RMS lev dB"] - TARGET_RMS_DB) <= 1.0, (name, s)
        assert s["Pk lev dB"] <= PEAK_DB, (name, s)
        assert s["Flat factor"] == 0, (name, s)  # runs of full-scale samples: clipping
    chime, speech = stats["chime"]["RMS lev dB"], stats["north-A012"]["RMS lev dB"]
    assert abs(chime - speech) <= 1.0


@pytest.mark.process
def test_without_sox_the_voice_is_espeaks_own(tmp_path: Path) -> None:
    raw = Voice(shutil.which("espeak-ng") or "", tmp_path, sox="")
    wav = raw.wav(call_phrase("A012", "3", "Quầy 3"))
    assert sox_levels(wav)["Pk lev dB"] > -0.5  # espeak-ng peaks at full scale
    levelled = Voice(shutil.which("espeak-ng") or "", tmp_path)
    assert levelled.path_for("x") != raw.path_for("x")  # never one taken for the other


@pytest.mark.process
def test_levelling_a_silent_or_broken_file(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(bytes(44100))
    level(silent, tmp_path / "still.wav")  # no gain from nothing: still silence, no error
    assert levels(tmp_path / "still.wav")[0] < -150
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not a wav")
    with pytest.raises(VoiceError) as err:
        level(broken, tmp_path / "out.wav")
    assert "sox không đo được" in err.value.message and "could not measure" in err.value.message_en


@pytest.mark.process
def test_an_unknown_voice_name_falls_back_to_the_regions(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    caplog.set_level(logging.ERROR, logger="display.voice")
    voice = find_voice(tmp_path, "vi-vn-x-west", REGION_VOICES["south"])
    assert voice is not None and voice.variant == "vi-vn-x-south"
    said = caplog.text
    assert "không có giọng 'vi-vn-x-west'" in said and "has no voice 'vi-vn-x-west'" in said
    assert "using 'vi-vn-x-south'" in said
    named = find_voice(tmp_path, "vi-vn-x-central", REGION_VOICES["north"])
    assert named is not None and named.variant == "vi-vn-x-central"
    assert find_voice(tmp_path, "", "vi") is not None
    assert find_voice(tmp_path, "xx-none", "") is None  # no second language to fall to


def test_no_espeak_no_voice_to_find(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_voice(tmp_path, "vi-vn-x-south", "vi") is None
