"""Rating screens get broker accounts of their own: one per counter they face, with the
least they need (their counter's state, ticket events, their own commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker_config import accounts
from broker_config.accounts import Account, SetupError
from tests.conftest import write_office


def with_devices(tmp_path: Path, ratings: str) -> Path:
    path = write_office(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[kiosk]", f"[devices]\nratings = {ratings}\n\n[kiosk]", 1),
                    encoding="utf-8")
    return path


def test_a_rating_screen_has_an_account_per_counter(tmp_path: Path) -> None:
    found = accounts.office_devices(with_devices(tmp_path, '["1", "3"]'), ["1", "2", "3"])
    assert Account("rating", "1") in found and Account("rating", "3") in found
    assert Account("rating", "1").username == "rating-1"
    assert accounts.Account.parse("rating-3") == Account("rating", "3")


def test_a_rating_screen_of_a_counter_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SetupError) as found:
        accounts.office_devices(with_devices(tmp_path, '["9"]'), ["1", "2", "3"])
    assert "'9' không phải mã quầy" in str(found.value)
    assert "'9' is not a counter id (known: 1, 2, 3)" in found.value.message_en


def test_a_rating_screen_reads_its_counter_and_writes_only_its_own_commands() -> None:
    given = accounts.grants("demo", Account("rating", "3"))
    writes = sorted(t for access, t in given if "write" in access)
    assert writes == ["motcua/demo/cmd/rating/3", "motcua/demo/presence/rating/3"]
    reads = {t for access, t in given if "read" in access}
    assert "motcua/demo/state/counter/3" in reads and "motcua/demo/event/ticket" in reads
    assert "motcua/demo/state/counter/1" not in reads
    assert not any(t.endswith("#") for t in reads)  # nothing wholesale
