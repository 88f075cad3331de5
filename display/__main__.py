"""`python -m display --config office.toml --broker mqtt://host:1883`."""

import sys

from display.app import main
from motcua.errors import run_main

sys.exit(run_main(main, "motcua display"))
