"""Offline Vietnamese voice: espeak-ng phrases to WAV files, cached; the chime made with sox."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from motcua.errors import MotcuaError

log = logging.getLogger(__name__)

SOUNDS = Path(__file__).resolve().parent / "sounds"
CHIME = SOUNDS / "chime.wav"
RATE = 22050  # espeak-ng's own rate: the chime matches it so both play alike everywhere
CACHE_LIMIT = 400  # phrases kept; a busy day calls about that many distinct numbers
SPEED_WPM = 140  # a little slower than espeak-ng's 175, for a noisy hall


class VoiceError(MotcuaError):
    """espeak-ng or sox failed; the board goes on with text only."""


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "motcua" / "voice"


class Voice:
    """espeak-ng speaking Vietnamese into WAV files, one file per phrase, kept in a cache."""

    def __init__(self, binary: str, cache: Path, variant: str = "vi", speed: int = SPEED_WPM,
                 limit: int = CACHE_LIMIT):
        self.binary, self.variant, self.speed, self.limit = binary, variant, speed, limit
        self.cache = cache
        self.cache.mkdir(parents=True, exist_ok=True)
        self.made = 0  # phrases synthesised (not taken from the cache)

    @classmethod
    def find(cls, cache: Path | None = None, variant: str = "vi") -> Voice | None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            return None
        return cls(binary, cache or default_cache(), variant)

    def path_for(self, phrase: str) -> Path:
        key = hashlib.sha1(f"{self.variant}|{self.speed}|{phrase}".encode()).hexdigest()[:20]
        return self.cache / f"{key}.wav"

    def wav(self, phrase: str) -> Path:
        """The WAV of a phrase, synthesised once; raises VoiceError."""
        path = self.path_for(phrase)
        if path.exists():
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used: the pruning keeps it
            return path
        fd, tmp = tempfile.mkstemp(suffix=".wav", dir=self.cache)
        os.close(fd)
        try:
            done = subprocess.run([self.binary, "-v", self.variant, "-s", str(self.speed),
                                   "-w", tmp, "--", phrase], capture_output=True, timeout=20)
            if done.returncode != 0 or Path(tmp).stat().st_size <= 44:
                raise VoiceError(f"espeak-ng không đọc được câu ({done.returncode})",
                                 f"espeak-ng failed ({done.returncode})",
                                 detail=done.stderr.decode(errors="replace").strip()[:200])
            os.replace(tmp, path)  # whole files only: a concurrent reader never sees half a WAV
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VoiceError(f"espeak-ng không chạy được: {exc}",
                             f"espeak-ng failed: {exc}") from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self.made += 1
        if self.made % 50 == 0:
            self.prune()
        return path

    def prune(self) -> None:
        """Keep the cache to `limit` files, the least recently used go first."""
        files = sorted(self.cache.glob("*.wav"), key=lambda p: p.stat().st_mtime)
        for old in files[:max(0, len(files) - self.limit)]:
            with contextlib.suppress(OSError):
                old.unlink()


def make_chime(path: Path) -> Path:
    """A two-note bell (E5 then C5) with sox, at espeak-ng's rate so they sit together."""
    sox = shutil.which("sox")
    if sox is None:
        raise VoiceError("chưa cài sox: apt-get install -y sox",
                         "sox is not installed: apt-get install -y sox")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        notes = []
        for i, (freq, length) in enumerate(((659.26, 0.55), (523.25, 0.95))):
            note = Path(tmp) / f"{i}.wav"
            # a sine with its octave and a fast attack and long decay sounds like a bell
            subprocess.run([sox, "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(note),
                            "synth", str(length), "sine", str(freq), "sine", str(freq * 2),
                            "remix", "-", "fade", "p", "0.01", str(length), str(length * 0.9),
                            "gain", "-n", "-3"], check=True, capture_output=True)
            notes.append(str(note))
        subprocess.run([sox, *notes, str(path), "pad", "0", "0.25"], check=True,
                       capture_output=True)
    return path


def chime_file(cache: Path | None = None) -> Path | None:
    """The shipped chime, or one made now with sox; None when neither is possible."""
    if CHIME.exists():
        return CHIME
    target = (cache or default_cache()) / "chime.wav"
    if target.exists():
        return target
    try:
        return make_chime(target)
    except (VoiceError, subprocess.CalledProcessError, OSError) as exc:
        log.warning("no chime (không có chuông): %s", exc)
        return None


def duration(path: Path) -> float:
    """Seconds of a PCM WAV file."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())
