"""Resident memory of a process by what is mapped, shared by the benchmarks."""

from __future__ import annotations

import collections
from pathlib import Path


def rss_by_mapping(pid: int) -> collections.Counter[str]:
    """Resident kB per mapped file (anonymous memory under its own name), from smaps."""
    found: collections.Counter[str] = collections.Counter()
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        parts = line.split()
        if parts and parts[0].endswith(":") and parts[0][:-1].isidentifier():
            if parts[0] == "Rss:":
                found[name] += int(parts[1])
        else:
            name = parts[5] if len(parts) > 5 else "[anon]"
    return found
