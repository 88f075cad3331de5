"""Print a sample ticket with the office's configured printer: an installer's first check."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from motcua.config import OfficeConfig, load
from motcua.errors import UsageError, run_main
from motcua.protocol import TicketInfo
from printer.layout import render_ticket, ticket_name
from printer.output import FilePrinter, PrintError, open_printer

HEALTH_VI = {"ok": "sẵn sàng", "paper_low": "sắp hết giấy", "paper_out": "hết giấy",
             "offline": "không kết nối"}


def sample_ticket(office: OfficeConfig, service: str, now: datetime) -> TicketInfo:
    """A walk-in ticket as the dispatcher issues it, with believable numbers for the service."""
    prefix = office.services[service].prefix
    ahead = 3
    counters = sum(service in c.services for c in office.counters.values()) or 1
    return TicketInfo(number=f"{prefix}001", service=service, kind="walk_in",
                      status="waiting", issued_at=now.isoformat(timespec="seconds"),
                      priority=False, ahead=ahead,
                      est_wait_min=round(ahead * office.booking.mean_service_minutes / counters),
                      booking=None, counter=None, called_at=None)


def main(config_path: str, service: str) -> int:
    """0: printed. A MotcuaError otherwise: the office file, the service or [printer] is
    wrong (exit code 2), or the printer failed (a PrintError, 1)."""
    office = load(config_path)
    if service not in office.services:
        known = ", ".join(office.services)
        raise UsageError(f"Không có dịch vụ {service!r} (có: {known})",
                         f"no service {service!r} (known: {known})")
    printer = open_printer(office.printer)
    where = getattr(printer, "where", "") or getattr(printer, "directory", "")
    health = printer.health()
    print(f"Máy in / printer: {printer.kind} {where} — {HEALTH_VI.get(health, health)} / {health}")
    ticket = sample_ticket(office, service, datetime.now(office.tz))
    image = render_ticket(ticket, office, printer.width_px, test_print=True)
    try:
        printer.print_ticket(image, ticket_name(ticket, office))
    except PrintError as exc:
        raise PrintError(exc.code, f"Không in được vé thử: {exc.message}",
                         f"Test ticket not printed: {exc.message_en}", exc.detail) from exc
    finally:
        printer.close()
    print(f"Đã in vé thử {ticket.number} / test ticket {ticket.number} printed "
          f"({image.width}x{image.height} px)")
    if isinstance(printer, FilePrinter) and printer.last_files:
        for path in printer.last_files:
            print(f"  {path}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Print a test ticket / In vé thử")
    parser.add_argument("--config", required=True, help="office.toml")
    parser.add_argument("--service", default="A", help="service code, e.g. A")
    args = parser.parse_args()
    sys.exit(run_main(lambda _: main(args.config, args.service), "motcua ticket"))
