"""The wall display board: calls ticket numbers to counters on screen, with a chime and a voice."""
