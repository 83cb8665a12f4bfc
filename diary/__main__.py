"""``python -m diary``: the same program as the ``diary`` command."""

import sys

from .cli import main

sys.exit(main())
