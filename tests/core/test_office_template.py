"""docs/office.toml, the commented template: it loads as it is, and documents every table
and key of the schema with its default (the list comes from the models, so a new key
without documentation fails here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from motcua import config

TEMPLATE = Path(__file__).resolve().parents[2] / "docs" / "office.toml"
TEXT = TEMPLATE.read_text(encoding="utf-8")
DATA = tomllib.loads(TEXT)
SCHEMA = [(table, key) for table, model in config.TABLES.items() for key in model.model_fields]


def test_the_template_loads_as_it_is() -> None:
    office = config.load(TEMPLATE)
    assert office.storage == TEMPLATE.parent / "var" / f"{office.id}.sqlite3"
    assert office.booking.keys == {} and office.booking.feedback_service is None


@pytest.mark.parametrize(("table", "key"), SCHEMA, ids=[f"{t}.{k}" for t, k in SCHEMA])
def test_every_key_is_in_the_template(table: str, key: str) -> None:
    rows = DATA[table] if table in config.ARRAYS else [DATA[table]]
    assert key in rows[0], f"[{table}] {key} is not in {TEMPLATE}"


@pytest.mark.parametrize(("table", "key"), SCHEMA, ids=[f"{t}.{k}" for t, k in SCHEMA])
def test_the_template_says_each_default_and_shows_it(table: str, key: str) -> None:
    f = config.TABLES[table].model_fields[key]
    if f.is_required() or table in config.ARRAYS:
        return  # no default: the template's value is an example
    model = config.TABLES[table].model_validate(DATA[table], context={"base": TEMPLATE.parent})
    assert getattr(model, key) == f.get_default(call_default_factory=True), \
        f"[{table}] {key} in {TEMPLATE} is not the default"


def test_every_key_says_its_default_or_that_it_is_required_in_both_languages() -> None:
    lines = TEXT.splitlines()
    table, seen = "", set()
    for n, line in enumerate(lines):
        if m := re.match(r"^\[\[?([\w.]+)\]\]?$", line):
            table = m.group(1)
            if table not in config.ARRAYS:  # a table says what it is for, above or below
                assert lines[n + 1].startswith("#") or lines[n - 1].startswith("#"), line
            continue
        m = re.match(r"^([\w-]+) = ", line)
        if not m or (table, m.group(1)) in seen or table == "booking.keys":
            continue  # a second row of an array is documented on the first
        key = m.group(1)
        seen.add((table, key))
        i = n - 1
        while re.match(r"^[\w-]+ = ", lines[i]):  # keys documented together: kiosk_burst
            i -= 1
        comment = []
        while lines[i].startswith("#"):
            comment.append(lines[i])
            i -= 1
        comment_text = " ".join(comment)
        where = f"{TEMPLATE}: {table}.{key}"
        if config.TABLES[table].model_fields[key].is_required():
            assert "bắt buộc" in comment_text and "required" in comment_text, where
        else:
            assert "Mặc định" in comment_text and "Default" in comment_text, where
    assert seen == set(SCHEMA) - {("booking", "keys")}
    assert "kid = " in TEXT and "[booking.keys]" in TEXT
