"""Erlang C against published figures, and the wait statistics the reports share."""

from __future__ import annotations

import math

import pytest

from motcua import erlang


@pytest.mark.parametrize(("servers", "load", "published"), [
    # M/M/c closed forms found in every queueing textbook: C(2, 1) = 1/3, C(3, 2) = 4/9.
    (2, 1.0, 1 / 3),
    (3, 2.0, 4 / 9),
    # Erlang C table entries used in a TETRA trunking worked example: 8 channels carry
    # 3.87 erlang at 5% delayed calls, 10 channels carry 4.08 erlang at 1%.
    (8, 3.87, 0.05),
    (10, 4.08, 0.01),
])
def test_erlang_c_matches_published_values(servers: int, load: float, published: float) -> None:
    assert erlang.erlang_c(servers, load) == pytest.approx(published, abs=5e-4)


def test_waiting_beyond_the_holding_time_as_published() -> None:
    # Same example: of the delayed calls, 1.6% wait longer than the mean holding time on 8
    # channels at 3.87 erlang, and 0.22% on 10 channels (same traffic).
    for servers, published in ((8, 0.016), (10, 0.0022)):
        beyond = erlang.wait_over(servers, 3.87, 1.0, 1.0) / erlang.erlang_c(servers, 3.87)
        assert beyond == pytest.approx(published, rel=0.03)


def test_mean_wait_quantile_and_staffing_agree() -> None:
    # 10 erlang on 11 agents, 180 s handling: the classic call-centre figures.
    c = erlang.erlang_c(11, 10.0)
    assert c == pytest.approx(0.6821, abs=1e-4)
    assert erlang.mean_wait(11, 10.0, 180) == pytest.approx(c * 180, rel=1e-9)
    q = erlang.wait_quantile(11, 10.0, 180, 0.8)
    assert erlang.wait_over(11, 10.0, 180, q) == pytest.approx(0.2, rel=1e-9)
    n = erlang.servers_for(10.0, 180, 20, 0.2)
    assert erlang.wait_over(n, 10.0, 180, 20) <= 0.2 < erlang.wait_over(n - 1, 10.0, 180, 20)


def test_no_overflow_for_a_large_centre_and_overload_is_said() -> None:
    assert 0 < erlang.erlang_c(400, 380.0) < 1
    assert erlang.erlang_c(5, 5.0) == 1.0
    assert math.isinf(erlang.mean_wait(5, 6.0, 15))
    with pytest.raises(ValueError):
        erlang.erlang_c(0, 1.0)


def test_percentile_and_stats() -> None:
    assert erlang.percentile([0, 7, 16], 0.9) == pytest.approx(14.2)
    assert erlang.percentile([3.0], 0.95) == 3.0
    st = erlang.Stats.of([0.0, 10.0, 20.0, 30.0])
    assert (st.n, st.mean, st.max, st.over) == (4, 15.0, 30.0, 0.5)
    assert math.isnan(erlang.Stats.of([]).mean)
