"""Peak-day simulator and capacity planner: seeded citizens and staff driving the real core."""

from simulate.arrivals import (
    SIM_KEY,
    SIM_KID,
    Citizen,
    booking_capacity,
    busiest_hour,
    citizens,
    hour_segments,
    open_spans,
    sim_office,
    slot_starts,
    working_days,
)
from simulate.cli import main
from simulate.day import (
    REASONS,
    DayResult,
    DaySim,
    Estimator,
    Step,
    Visit,
)
from simulate.forward import forward_estimate
from simulate.planner import BOOKING_TARGET_MIN, Plan, plan
from simulate.profiles import (
    DISTRIBUTIONS,
    PROFILES,
    START,
    Profile,
    SimulationError,
    load_profile,
)
from simulate.stats import Run, describe, simulate

__all__ = [
    "BOOKING_TARGET_MIN", "DISTRIBUTIONS", "PROFILES", "REASONS", "SIM_KEY", "SIM_KID", "START",
    "Citizen", "DayResult", "DaySim",
    "Estimator", "Plan", "Profile", "Run", "SimulationError", "Step", "Visit",
    "booking_capacity", "busiest_hour", "citizens", "describe",
    "forward_estimate", "hour_segments", "load_profile", "main", "open_spans", "plan",
    "sim_office", "simulate", "slot_starts", "working_days",
]
