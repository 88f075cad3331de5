"""Wait for a condition instead of sleeping for a guessed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T | None], timeout: float = 10.0,
               what: str = "the condition", interval: float = 0.02) -> T:
    """Poll `predicate` until it returns something true; return that value.

    On timeout raise AssertionError naming `what` was awaited (and the last value seen), so
    a failure says what never happened instead of failing an assert further down.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what} "
                                 f"(last: {value!r})")
        time.sleep(interval)
