"""``python -m printharvest.testing golden [--root DIR] SAMPLE...``: write golden files.

Each sample's ``SAMPLE.expected.json`` holds what it harvests to, with ``source.path`` made
relative to the root: ``--root`` if given, else the nearest ``sample_jobs`` folder above the
sample (printharvest's own samples), else the sample's own folder (a lab's ``tests/samples``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from printharvest.exceptions import PrintharvestError
from printharvest.testing import write_golden


def _root_of(sample: Path) -> Path:
    found = next((p for p in sample.resolve().parents if p.name == "sample_jobs"), None)
    return found or sample.resolve().parent


def main(argv: list[str] | None = None) -> int:
    """Write the golden file of every sample named; 0 when all were written."""
    parser = argparse.ArgumentParser(prog="python -m printharvest.testing",
                                     description="Write golden files for connector samples.")
    commands = parser.add_subparsers(dest="command", required=True)
    golden = commands.add_parser("golden", help="write SAMPLE.expected.json beside each sample")
    golden.add_argument("--root", type=Path, default=None,
                        help="make source paths relative to this folder")
    golden.add_argument("samples", nargs="+", type=Path, metavar="SAMPLE")
    args = parser.parse_args(argv)
    status = 0
    for sample in args.samples:
        if not sample.is_file():
            print(f"{sample}: no such file", file=sys.stderr)
            status = 1
            continue
        root = args.root or _root_of(sample)
        if not sample.resolve().is_relative_to(root.resolve()):
            print(f"{sample}: not below --root {root}", file=sys.stderr)
            status = 1
            continue
        try:
            print(f"wrote {write_golden(sample, root)}")
        except (AssertionError, PrintharvestError) as exc:
            # AssertionError: the sample harvests with errors, each already naming its file
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            prefix = "" if reason.startswith(f"{sample}: ") else f"{sample}: "
            print(prefix + reason, file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
