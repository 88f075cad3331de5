"""`python -m kiosk --config office.toml --kiosk k1`: run the kiosk."""

import sys

from kiosk.app import main
from motcua.errors import run_main

sys.exit(run_main(main, "motcua kiosk"))
