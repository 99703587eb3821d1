"""``python -m printharvest``."""

from printharvest.cli import main

main()
