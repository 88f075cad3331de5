"""Tickets on paper: Vietnamese ticket images (layout) and ESC/POS printers (output)."""

from printer.layout import render_ticket, ticket_name
from printer.output import PrintError, TicketPrinter, open_printer
from printer.status import OFFLINE, OK, PAPER_LOW, PAPER_OUT

__all__ = ["OFFLINE", "OK", "PAPER_LOW", "PAPER_OUT", "PrintError", "TicketPrinter",
           "open_printer", "render_ticket", "ticket_name"]
