"""``citevault serve``: the web UI over the data home (docs/web.md).

A thin click layer: it opens the archive, binds the socket (so a busy port is a one-line error and
``--port 0`` prints the port it got), and runs :func:`archive.web.app.create_app` under uvicorn. FastAPI
and uvicorn are imported here, only when the command runs.
"""
from __future__ import annotations

import ipaddress
import socket

import click

from archive.cli.options import open_archive


def _is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine.

    >>> [_is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "192.168.1.5")]
    [True, True, True, False, False]
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                                   "(choose another with --port)") from None
    sock.listen(128)
    return sock


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address exposes the archive to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port, printed at start).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Browse the archive in a web browser: documents, claims, replayed evidence, JSON API, Memento.

    Read-only. Archived pages are replayed in a sandbox: their scripts cannot reach this site or the
    live web. Stop with Ctrl-C.

    \b
    citevault serve                   # then open http://127.0.0.1:8000/
    citevault --home evidence serve --port 8080
    """
    archive = open_archive(ctx)
    archive.engine()  # no archive there: one line, exit 1, before anything listens

    import uvicorn

    from archive.web.app import LOOPBACK_HOSTS, create_app

    loopback = _is_loopback(host)
    allowed = [*LOOPBACK_HOSTS, host.lower()] if loopback else None
    app = create_app(archive, allowed_hosts=allowed)
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"citevault: serving {archive.home.root} at http://{shown}:{bound}/ (Ctrl-C to stop)", err=True)
    if not loopback:
        click.echo("citevault: warning: listening beyond this machine; anyone who can reach it can read the "
                   "archive", err=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down cleanly, then re-raised the Ctrl-C it caught: done
        click.echo("citevault: stopped", err=True)
    finally:
        sock.close()
        archive.close()
