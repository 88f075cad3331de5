import sys

from motcua.errors import run_main
from rating.app import main

sys.exit(run_main(main, "motcua rating"))
