"""`python -m motcua.simulate ARGS`: the simulator's command line."""

import sys

from motcua.simulate.cli import main

if __name__ == "__main__":
    sys.exit(main())
