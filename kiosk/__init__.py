"""The kiosk: check in a booking by its QR code, or take a walk-in number (Kivy)."""
