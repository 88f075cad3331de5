"""`python -m counter --config PATH --counter ID [--broker URL]`."""

import sys

from counter.app import main
from motcua.errors import run_main

sys.exit(run_main(main, "motcua counter"))
