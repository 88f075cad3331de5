"""Daily statistics against the 15-minute waiting target, read from the dispatcher's database."""
