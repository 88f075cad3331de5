"""motcua: queue management for the one-stop reception hall of a public office."""
