"""``python -m printharvest``."""

from .cli import main

main()
