"""`python -m broker_config setup|bridge ...`: what `motcua broker setup|bridge` runs."""

from __future__ import annotations

import sys

USAGE = ("usage: python -m broker_config setup --config office.toml [--out DIR] "
         "[--remove DEVICE]\n       python -m broker_config bridge --config office.toml "
         "--central mqtts://host:8883")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("setup", "bridge"):
        print(USAGE, file=sys.stderr)
        return 2
    from motcua.errors import run_main

    if args[0] == "setup":
        from broker_config.setup import main as setup_main
        return run_main(setup_main, "motcua broker setup", args[1:])
    from broker_config.bridge import main as bridge_main
    return run_main(bridge_main, "motcua broker bridge", args[1:])


if __name__ == "__main__":
    raise SystemExit(main())
