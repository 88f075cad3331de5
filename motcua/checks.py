"""The identity checks a service may require at the counter (`requires` in office.toml),
and the one wording of them every room uses: the kiosk, the printed ticket, the counter."""

from __future__ import annotations

from collections.abc import Sequence

from motcua.model import CHECKS

# check -> (Vietnamese, English) of the thing checked
NAMES: dict[str, tuple[str, str]] = {"chip_id": ("thẻ CCCD gắn chíp", "chip ID card"),
                                     "fingerprint": ("vân tay", "fingerprint")}
assert set(NAMES) == set(CHECKS)

# What a citizen is told before (kiosk) and on (ticket) their number, per check.
PREPARE: dict[str, tuple[str, str]] = {
    "chip_id": ("Vui lòng chuẩn bị thẻ CCCD gắn chíp",
                "Please have your chip ID card (CCCD) ready"),
    "fingerprint": ("Cán bộ sẽ kiểm tra vân tay tại quầy",
                    "Your fingerprint will be checked at the counter"),
}


def names(requires: Sequence[str], prose: bool = False) -> tuple[str, str]:
    """(Vietnamese, English) of a list of checks: "thẻ CCCD gắn chíp + vân tay" on a
    terminal, "thẻ CCCD gắn chíp và vân tay" in a sentence (`prose`)."""
    found = [NAMES.get(c, (c, c)) for c in requires]
    vi, en = (" và ", " and ") if prose else (" + ", " + ")
    return vi.join(v for v, _ in found), en.join(e for _, e in found)


def prepare(requires: Sequence[str]) -> list[tuple[str, str]]:
    """The lines telling a citizen what to have ready, in the order of CHECKS."""
    return [PREPARE[c] for c in CHECKS if c in requires]
