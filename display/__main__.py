"""`python -m display --config office.toml --broker mqtt://host:1883`."""

import sys

from display.app import main

sys.exit(main())
