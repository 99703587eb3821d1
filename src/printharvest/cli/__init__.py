"""The command line. Only here are errors turned into messages and exit codes.

Exit codes: 0 ok; 1 some inputs failed (the others were done); 2 usage or configuration
error. No traceback reaches the user unless ``PRINTHARVEST_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys

import click

from ..exceptions import PrintharvestError
from ._common import cli
from .cases_cmd import cases
from .connectors_cmd import connectors
from .demo_cmd import demo
from .doctor_cmd import doctor
from .export_cmd import export, sheet
from .harvest_cmd import ingest, inspect
from .init_cmd import init
from .nrdr_cmd import nrdr, nrdr_emulator, submissions, submit
from .poll_cmd import poll
from .report_cmd import report
from .serve_cmd import serve, users
from .status_cmd import status
from .watch_cmd import watch

for command in (demo, init, inspect, ingest, watch, status, poll, cases, connectors, doctor,
                report, serve, users, export, sheet, nrdr, submit, submissions, nrdr_emulator):
    cli.add_command(command)

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``printharvest`` console script."""
    try:
        code = cli.main(args=argv, prog_name="printharvest", standalone_mode=False)
    except click.UsageError as exc:
        exc.show()
        sys.exit(2)
    except click.Abort:
        click.echo("printharvest: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PrintharvestError as exc:
        click.echo(f"printharvest: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("PRINTHARVEST_DEBUG"):
            raise
        click.echo(f"printharvest: internal error: {type(exc).__name__}: "
                   f"{' '.join(str(exc).split())[:300]} (set PRINTHARVEST_DEBUG=1 for details)",
                   err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
