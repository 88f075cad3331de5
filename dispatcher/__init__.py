"""The office's dispatcher: the only writer of the queue."""
