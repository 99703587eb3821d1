"""``serve``: the data manager's web page; ``users hash``: a password line for the config."""

from __future__ import annotations

import click

from printharvest.cli._common import get_app


@click.command()
@click.option("--host", default=None,
              help="Address to listen on (default web.host, 127.0.0.1). Any other address "
                   "than loopback requires a login.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (default web.port, 8765).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the case list and case pages in the browser."""
    import uvicorn

    from printharvest.web import create_app

    app = get_app(ctx)
    # Refuse a missing-schema, empty or damaged store now, in one line, not as 500s later.
    app.store.check_integrity()
    web = app.home.config.web
    host = host or web.host
    port = port or web.port
    asgi = create_app(app, host)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"printharvest: serving {app.home.root} on http://{shown}:{port}/ (Ctrl+C stops)")
    uvicorn.run(asgi, host=host, port=port, log_level="warning", server_header=False)


@click.group()
def users() -> None:
    """Web page users (needed when serving on a non-loopback address)."""


@users.command("hash")
@click.argument("name")
@click.password_option("--password", prompt="Password", confirmation_prompt=True,
                       help="The password (asked for when not given).")
def hash_user(name: str, password: str) -> None:
    """Print the printharvest.yaml line for user NAME (paste it under web: users:)."""
    from printharvest.web.auth import hash_password

    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="password")
    click.echo("# under web: users: in printharvest.yaml")
    click.echo(f'{name}: "{hash_password(password)}"')
