"""Offline voice: espeak-ng phrases to WAV files, levelled with sox and cached; the chime."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
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
# Every sound the board plays has the same loudness: RMS TARGET_RMS_DB, peaks at most
# PEAK_DB (no clipping on a cheap amplifier). espeak-ng's speech comes out at about -18 dB
# RMS with peaks at -0.01 dBFS, and the bell had been 7.5 dB louder than it. A speech crest
# factor is 17-19 dB, so -20 dB RMS leaves the peaks under -1 dBFS; a limiter catches the
# rare phrase that would go over.
TARGET_RMS_DB = -20.0
PEAK_DB = -1.0
MARGIN_DB = 0.1  # the limiter aims this far under the ceiling: rounding never lands above it
MAX_GAIN_DB = 20.0  # a nearly silent file is not blown up into noise
LEVEL_VERSION = 1  # in the cache key: a change of levelling makes every phrase again
REGION_VOICES = {"north": "vi", "central": "vi-vn-x-central", "south": "vi-vn-x-south"}


@functools.cache
def idle_prefix() -> list[str]:
    """The prefix of a Voice whose sounds are background work (the web service, on the office
    server beside the dispatcher): they run only on CPU time nobody else wants, so making one
    never delays a command or a call being drawn; an idle machine makes them at full speed.
    chrt's SCHED_IDLE, else nice 19, else none: tried once, as a unit's sandbox may refuse."""
    for prefix in (["chrt", "--idle", "0"], ["nice", "-n", "19"]):
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            if shutil.which(prefix[0]) and subprocess.run(
                    [*prefix, "true"], capture_output=True, timeout=5).returncode == 0:
                return prefix
    return []


STATS_RE = re.compile(r"^(Pk lev dB|RMS lev dB)\s+(-?[\d.]+|-inf)", re.MULTILINE)


class VoiceError(MotcuaError):
    """espeak-ng or sox failed; the board goes on with text only."""


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "motcua" / "voice"


class Voice:
    """espeak-ng speaking Vietnamese into WAV files, one file per phrase, kept in a cache."""

    def __init__(self, binary: str, cache: Path, variant: str = "vi", speed: int = SPEED_WPM,
                 limit: int = CACHE_LIMIT, sox: str | None = None):
        self.binary, self.variant, self.speed, self.limit = binary, variant, speed, limit
        self.sox = sox if sox is not None else shutil.which("sox")  # "" or None: not levelled
        self.cache = cache
        self.cache.mkdir(parents=True, exist_ok=True)
        self.made = 0  # phrases synthesised (not taken from the cache)
        self.prefix: list[str] = []  # idle_prefix(): made in the background (web/audio.py)

    @classmethod
    def find(cls, cache: Path | None = None, variant: str = "vi") -> Voice | None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            return None
        return cls(binary, cache or default_cache(), variant)

    def path_for(self, phrase: str) -> Path:
        level = f"L{LEVEL_VERSION}" if self.sox else "raw"
        key = hashlib.sha1(f"{self.variant}|{self.speed}|{level}|{phrase}".encode()
                           ).hexdigest()[:20]
        return self.cache / f"{key}.wav"

    def voices(self) -> set[str]:
        """The voice names espeak-ng has here (`espeak-ng --voices`), lower case."""
        try:
            done = subprocess.run([self.binary, "--voices"], capture_output=True, text=True,
                                  timeout=10)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VoiceError(f"espeak-ng không chạy được: {exc}",
                             f"espeak-ng failed: {exc}") from exc
        names = set()
        for line in done.stdout.splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 4:
                names |= {cols[1].lower(), cols[3].lower(), Path(cols[4]).name.lower()
                          if len(cols) > 4 else cols[1].lower()}
        return names

    def check(self) -> None:
        """Raise VoiceError (in both languages) when espeak-ng has no voice of this name."""
        if self.variant.split("+")[0].lower() not in self.voices():
            raise VoiceError(f"espeak-ng không có giọng {self.variant!r} (xem: espeak-ng "
                             "--voices=vi)", f"espeak-ng has no voice {self.variant!r} "
                             "(see: espeak-ng --voices=vi)")

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
            done = subprocess.run([*self.prefix, self.binary, "-v", self.variant, "-s",
                                   str(self.speed), "-w", tmp, "--", phrase],
                                  capture_output=True, timeout=20)
            if done.returncode != 0 or Path(tmp).stat().st_size <= 44:
                raise VoiceError(f"espeak-ng không đọc được câu ({done.returncode})",
                                 f"espeak-ng failed ({done.returncode})",
                                 detail=done.stderr.decode(errors="replace").strip()[:200])
            if self.sox:
                level(Path(tmp), Path(tmp), self.sox, prefix=self.prefix)
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


def find_voice(cache: Path | None, name: str, fallback: str) -> Voice | None:
    """espeak-ng's voice `name`, or `fallback` when it has no such voice (said in the log,
    in both languages); None without espeak-ng or any of the two."""
    for variant in (name, fallback):
        if not variant:
            continue
        voice = Voice.find(cache, variant)
        if voice is None:
            return None
        try:
            voice.check()
            return voice
        except VoiceError as exc:
            log.error("%s / %s%s", exc.message, exc.message_en,
                      f"; using {fallback!r} (dùng giọng {fallback!r})"
                      if variant == name and fallback else "")
    return None


def levels(path: Path, sox: str = "sox", prefix: list[str] | None = None
           ) -> tuple[float, float]:
    """(RMS, peak) of a WAV in dBFS, from `sox FILE -n stats`."""
    done = subprocess.run([*(prefix or []), sox, str(path), "-n", "stats"],
                          capture_output=True, text=True, timeout=20)
    found = dict(STATS_RE.findall(done.stderr))
    if done.returncode != 0 or len(found) < 2:
        raise VoiceError(f"sox không đo được {path.name}", f"sox could not measure {path.name}",
                         detail=done.stderr.strip()[:200])
    return (float(found["RMS lev dB"].replace("-inf", "-200")),
            float(found["Pk lev dB"].replace("-inf", "-200")))


def level(src: Path, dst: Path, sox: str = "sox", target: float = TARGET_RMS_DB,
          ceiling: float = PEAK_DB, prefix: list[str] | None = None) -> None:
    """Bring a WAV to `target` dB RMS with its peaks at most `ceiling` dBFS (src may be dst).

    The gain goes through sox's limiter at 0 dBFS, 1 dB hotter than wanted, then 1 dB comes
    off: a peak the gain would push over the ceiling is limited instead of clipped."""
    rms, peak = levels(src, sox, prefix)
    if rms < -150:  # digital silence: nothing to bring up (sox's dither would add a hiss)
        if src != dst:
            shutil.copyfile(src, dst)
        return
    gain = min(MAX_GAIN_DB, target - rms)
    fd, tmp = tempfile.mkstemp(suffix=".wav", dir=dst.parent)
    os.close(fd)
    try:
        under = ceiling - MARGIN_DB
        args = ["gain", "-l", f"{gain - under:.2f}", "gain", f"{under:.2f}"] \
            if peak + gain > ceiling else ["gain", f"{gain:.2f}"]
        done = subprocess.run([*(prefix or []), sox, str(src), "-b", "16", tmp, *args],
                              capture_output=True, text=True, timeout=20)
        if done.returncode != 0:
            raise VoiceError("sox không chỉnh được âm lượng", "sox could not level the sound",
                             detail=done.stderr.strip()[:200])
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def make_chime(path: Path) -> Path:
    """A two-note bell (E5 then C5) with sox, at espeak-ng's rate so they sit together, at
    the loudness of the voice (`level`)."""
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
    level(path, path, sox)
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
