"""The forward wait estimate, now in the core (motcua.estimate): kept under its simulator
name for the benches and tests that compare estimators."""

from __future__ import annotations

from motcua.estimate import forward_minutes as forward_estimate

__all__ = ["forward_estimate"]
