"""The command line. Only here are errors turned into messages and exit codes.

Exit codes: 0 ok; 1 some inputs failed (the others were done); 2 usage or configuration
error. No traceback reaches the user unless ``PRINTHARVEST_DEBUG=1``.
"""

from __future__ import annotations

import os
import sqlite3
import sys

import click

from printharvest.cli._common import cli
from printharvest.exceptions import PrintharvestError
from printharvest.harvest.names import shown

# Each command's module is imported only when that command runs (or for --help), so that
# `inspect` does not pay for the web server, the registry client or the spreadsheet writer.
cli.lazy_commands.update({
    "demo": "demo_cmd:demo",
    "init": "init_cmd:init",
    "inspect": "harvest_cmd:inspect",
    "ingest": "harvest_cmd:ingest",
    "watch": "watch_cmd:watch",
    "status": "status_cmd:status",
    "reharvest": "reharvest_cmd:reharvest",
    "poll": "poll_cmd:poll",
    "cases": "cases_cmd:cases",
    "connectors": "connectors_cmd:connectors",
    "doctor": "doctor_cmd:doctor",
    "report": "report_cmd:report",
    "serve": "serve_cmd:serve",
    "users": "serve_cmd:users",
    "export": "export_cmd:export",
    "prints": "prints_cmd:prints",
    "sheet": "export_cmd:sheet",
    "nrdr": "nrdr_cmd:nrdr",
    "submit": "nrdr_cmd:submit",
    "submissions": "nrdr_cmd:submissions",
    "nrdr-emulator": "nrdr_cmd:nrdr_emulator",
    "printers": "registry_cmd:printers",
    "upload-result": "registry_cmd:upload_result",
})

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
        click.echo(f"printharvest: error: {shown(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except sqlite3.DatabaseError as exc:  # damage found past the checks at opening
        click.echo(f"printharvest: error: the store is damaged ({exc}); printharvest left it "
                   "as it is: restore it from a backup", err=True)
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("PRINTHARVEST_DEBUG"):
            raise
        click.echo(f"printharvest: internal error: {type(exc).__name__}: "
                   f"{' '.join(str(exc).split())[:300]} (set PRINTHARVEST_DEBUG=1 for details)",
                   err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
