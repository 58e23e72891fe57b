"""``python -m sim``: the command-line tool (:mod:`sim.cli`)."""

import sys

from .cli import main

sys.exit(main())
