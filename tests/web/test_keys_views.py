"""The pure parts of web/: ticket keys, the [web] table, and the views computed from the
contract's messages (fed to a hub that is never connected)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from motcua import config
from motcua.protocol import encode
from motcua.ticket_links import KEY_CHARS, key_ok, ticket_key, ticket_url
from tests.conftest import write_office
from web import views
from web.hub import Hub

SECRET = "s" * 32


def test_keys_are_per_ticket_day_office_and_secret() -> None:
    k = ticket_key(SECRET, "demo", "2026-11-25", "A012")
    assert len(k) == KEY_CHARS and key_ok(SECRET, "demo", "2026-11-25", "A012", k)
    others = {ticket_key(SECRET, "demo", "2026-11-25", "A013"),
              ticket_key(SECRET, "demo", "2026-11-26", "A012"),
              ticket_key(SECRET, "bd-tdm", "2026-11-25", "A012"),
              ticket_key("t" * 32, "demo", "2026-11-25", "A012")}
    assert k not in others and len(others) == 4
    for day, number, key in (("2026-11-26", "A012", k), ("2026-11-25", "A012", k[:-1]),
                             ("2026-11-25", "a012", k), ("../x", "A012", k),
                             ("2026-11-25", "A012", "é" * KEY_CHARS)):
        assert not key_ok(SECRET, "demo", day, number, key)
    assert ticket_url("https://h:8443/", SECRET, "demo", "2026-11-25", "A012") == \
        f"https://h:8443/t/2026-11-25/A012?k={k}"


def _office(tmp_path: Path, web: str) -> Path:
    (tmp_path / "web.secret").write_text("short\n")
    path = write_office(tmp_path)
    path.write_text(path.read_text() + "\n[web]\n" + web)
    return path


@pytest.mark.parametrize(("web", "says"), [
    ('listen = "nowhere"\n', "web.listen: 'nowhere' must look like 127.0.0.1:8080"),
    ('listen = "0.0.0.0:70000"\n', "must look like"),
    ('public_url = "bhxh.local"\n', "web.public_url: 'bhxh.local' must look like https://"),
    ('public_url = "https://bhxh.local:8443"\n', "public_url needs secret_file"),
    ('secret_file = "web.secret"\n', "the secret must be at least 16 characters"),
    ('secret_file = "missing.secret"\n', "cannot read missing.secret"),
    ('cert_file = "c.pem"\n', "HTTPS needs both cert_file and key_file"),
    ('port = 8080\n', "web.port: unknown key"),
])
def test_the_web_table_names_each_mistake(tmp_path: Path, web: str, says: str) -> None:
    with pytest.raises(config.ConfigError) as err:
        config.load(_office(tmp_path, web))
    assert says in str(err.value) and "office.toml:" in str(err.value)


def test_the_web_table_defaults(office: config.OfficeConfig) -> None:
    assert (office.web.host, office.web.port, office.web.secret) == ("127.0.0.1", 8080, None)


def _feed(hub: Hub, topic: str, message: dict[str, Any] | bytes) -> None:
    payload = message if isinstance(message, bytes) else encode({"v": 1, **message})
    hub._message(f"motcua/demo/{topic}", payload)


def _ticket(number: str, service: str = "A", status: str = "waiting",
            issued: str = "08:00") -> dict[str, object]:
    return {"number": number, "service": service, "kind": "walk_in", "status": status,
            "issued_at": f"2026-11-25T{issued}:00+07:00", "priority": False, "ahead": 0,
            "est_wait_min": 0, "booking": None, "counter": None, "called_at": None}


def test_views_from_the_state(office: config.OfficeConfig) -> None:
    hub = Hub(office, "mqtt://127.0.0.1:1")
    at = "2026-11-25T08:20:00+07:00"
    for n, t in (("A001", "08:00"), ("A002", "08:10"), ("A003", "08:19")):
        _feed(hub, "event/ticket", dict(ticket=_ticket(n, issued=t), change="issued", at=at))
    _feed(hub, "state/board", dict(
        office="demo", at=at, day="2026-11-25", seq=4, closed=False,
        serving=[{"counter": "3", "counter_name": "Quầy 3", "ticket": "B001", "since": at}],
        recent=[{"ticket": "B001", "counter": "3", "counter_name": "Quầy 3", "at": at}],
        waiting={"A": {"count": 3, "est_wait_min": 30}, "B": {"count": 0, "est_wait_min": 0}}))
    _feed(hub, "state/order", dict(at=at, queues={"A": [
        {"ticket": "A001", "tier": "general"}, {"ticket": "A002", "tier": "general"},
        {"ticket": "A003", "tier": "general", "priority": True}]}, counters={}))
    board = views.board_view(hub)
    assert board["newest"]["ticket"] == "B001" and board["serving"][0]["counter_name"] == "Quầy 3"
    assert board["waiting"][0] == {"code": "A", "name": "Nộp hồ sơ",
                                   "name_en": "Submit documents", "count": 3,
                                   "est_wait_min": 30}
    first = views.ticket_view(hub, "A001")
    assert (first["status"], first["ahead"], first["est_wait_min"]) == ("waiting", 0, 10)
    mine = views.ticket_view(hub, "A003")
    assert (mine["status"], mine["ahead"], mine["est_wait_min"]) == ("waiting", 2, 30)
    assert views.ticket_view(hub, "A002")["est_wait_min"] == 20
    called = views.ticket_view(hub, "B001")
    assert called["status"] == "called" and called["text"] == "Mời số B001 đến Quầy 3"
    # nothing of another ticket on a ticket's page
    assert "A001" not in str(mine) and "B001" not in str(mine)
    _feed(hub, "event/ticket", dict(ticket=_ticket("A009", status="done"), change="done",
                                    at=at))
    assert views.ticket_view(hub, "A009")["status"] == "done"
    assert views.ticket_view(hub, "A777")["status"] == "unknown"
    hall = views.hall_view(hub)
    rows = {r["ticket"]: r for r in hall["queues"][0]["tickets"]}
    # 08:00 and 08:10 entries have waited 20 and 10 minutes at 08:20: the first is red
    assert rows["A001"]["overdue"] and not rows["A002"]["overdue"] and rows["A003"]["priority"]
    assert hall["figures"]["issued"] == 3 and hall["figures"]["served"] == 1
    _feed(hub, "state/board", b"not json")  # a bad message is logged, nothing breaks
    assert views.board_view(hub)["newest"]["ticket"] == "B001"


def test_the_web_account_reads_all_and_writes_only_as_each_counter(tmp_path: Path) -> None:
    from broker_config.accounts import Account, office_devices, render_acl

    path = write_office(tmp_path)
    path.write_text(path.read_text() + '\n[web]\ndevice = "web-1"\n')
    accounts = office_devices(path, ["1", "2", "3"])
    assert Account("web", "web-1") in accounts
    acl = render_acl("demo", accounts)
    block = acl[acl.index("user web-web-1\n"):].split("\n\n")[0].splitlines()[1:]
    assert block == ["topic read motcua/demo/state/#", "topic read motcua/demo/event/#",
                     "topic read motcua/demo/presence/#",
                     "topic readwrite motcua/demo/presence/web/web-1",
                     *[line for c in "123" for line in (
                         f"topic write motcua/demo/cmd/counter/{c}",
                         f"topic read motcua/demo/reply/counter/{c}")],
                     # a phone page's rating, as the web service itself
                     "topic write motcua/demo/cmd/web/web-1",
                     "topic read motcua/demo/reply/web/web-1"]
    assert not any(" write " in line and ("+" in line or "#" in line) for line in block)
    assert Account("web", "web") not in office_devices(write_office(tmp_path), ["1"])
