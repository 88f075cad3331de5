"""`python -m simulate ARGS`: the simulator's command line."""

import sys

from simulate.cli import main

if __name__ == "__main__":
    sys.exit(main())
