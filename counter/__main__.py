"""`python -m counter --config PATH --counter ID [--broker URL]`."""

import sys

from counter.app import main

sys.exit(main())
