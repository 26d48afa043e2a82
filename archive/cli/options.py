"""What the command modules share: the ``--json`` option, the archive of the global ``--home``/``--db``
options, and JSON output. Light on purpose: nothing here imports SQLAlchemy, Scrapy or FastAPI."""
from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

import click

if TYPE_CHECKING:
    from archive.api import Archive


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(func)


def open_archive(ctx: click.Context, *, bounded: bool = False, home: str | None = None) -> Archive:
    """The :class:`~archive.api.Archive` of the group's ``--home`` (or ``home``) and ``--db`` (opening reads
    nothing). Every command opens its archive here: it is also where the collector comes back on.

    The cyclic garbage collector is off for the start-up (:func:`archive.cli.main.main`); here it is turned
    back on, with what exists so far frozen (it lives as long as the process). ``bounded``: the command
    reads a bounded amount (``lookup``, ``show``: at most ``--limit`` claims; ``status``: counts and the
    problem sources) and exits, so the collector
    stays off for its imports of SQLAlchemy and the driver too, until the process ends; and on PostgreSQL
    it reads through the driver alone (:meth:`archive.api.Archive.open`)."""
    from archive.api import Archive

    archive = Archive.open(home or ctx.obj["home"], ctx.obj["db"], bounded=bounded)
    if not gc.isenabled() and not bounded:
        gc.freeze()
        gc.enable()
    return archive


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def binary_stdout() -> BinaryIO:
    """stdout for bytes (``cat``, reports, exports): the buffer under the text stream. (Click 8.5
    deprecates ``click.get_binary_stream``.)"""
    out: BinaryIO = sys.stdout.buffer
    return out
