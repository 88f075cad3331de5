"""A ticket whose service requires the chip ID card / fingerprint says so, at both widths,
and prints as drawn through the ESC/POS encoder (decoded back from the printer's bytes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from loopback_printer import decode_raster
from PIL import ImageChops
from pyzbar import pyzbar

from motcua.config import OfficeConfig
from motcua.protocol import TicketInfo
from printer.layout import render_ticket
from printer.output import encode_ticket


@pytest.mark.parametrize("width", [576, 384])
@pytest.mark.parametrize("requires", [["chip_id", "fingerprint"], ["chip_id"]])
def test_a_ticket_asks_for_the_chip_id_card(width: int, requires: list[str],
                                            office: OfficeConfig, walk_in: TicketInfo,
                                            artifacts: Path) -> None:
    plain = render_ticket(walk_in, office, width)
    checked = walk_in.model_copy(update={"requires": requires})
    image = render_ticket(checked, office, width)
    assert image.height > plain.height + 60  # the band and its English line at least
    assert image.height < 1200, "a ticket, not a scroll"
    printed = decode_raster(encode_ticket(image))  # what the printer receives
    assert printed.size == image.size
    assert ImageChops.difference(printed.convert("1"), image.convert("1")).getbbox() is None
    codes = [c.data.decode() for c in pyzbar.decode(printed.convert("L"))]
    assert codes == ["motcua:bd-tdm:2026-11-24:A012"]
    name = "+".join(requires)
    printed.convert("L").save(artifacts / f"ticket-requires-{name}-{width}.png")
    fingerprint = render_ticket(walk_in.model_copy(update={"requires": ["chip_id",
                                                                        "fingerprint"]}),
                                office, width)
    assert fingerprint.height >= image.height  # the fingerprint line adds to it
