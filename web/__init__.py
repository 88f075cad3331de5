"""motcua in any browser: the board, the counter, the citizen's ticket and the hall view,
served by one small ASGI service that holds the office's MQTT connection (docs/web.md)."""
