"""The `motcua` command line: the one room that knows the others."""
