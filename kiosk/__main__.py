"""`python -m kiosk --config office.toml --kiosk k1`: run the kiosk."""

import sys

from kiosk.app import main

sys.exit(main())
