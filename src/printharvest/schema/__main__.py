"""``python -m printharvest.schema [--check] [DOCS_PAGE]``: write or check the reference."""

from __future__ import annotations

import sys

from printharvest.schema import main

sys.exit(main(sys.argv[1:]))
