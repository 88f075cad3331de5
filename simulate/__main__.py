"""`python -m simulate ARGS`: the simulator's command line."""

import sys

from motcua.errors import run_main
from simulate.cli import main

if __name__ == "__main__":
    sys.exit(run_main(main, "motcua simulate"))
