"""What the command modules share: the ``--json`` option, the archive of the global ``--home``/``--db``
options, and JSON output. Light on purpose: nothing here imports SQLAlchemy, Scrapy or FastAPI."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

import click

if TYPE_CHECKING:
    from archive.api import Archive


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(func)


def open_archive(ctx: click.Context) -> Archive:
    """The :class:`~archive.api.Archive` of the group's ``--home`` and ``--db`` (opening reads nothing)."""
    from archive.api import Archive

    return Archive.open(ctx.obj["home"], ctx.obj["db"])


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def binary_stdout() -> BinaryIO:
    """stdout for bytes (``cat``, reports, exports): the buffer under the text stream. (Click 8.5
    deprecates ``click.get_binary_stream``.)"""
    out: BinaryIO = sys.stdout.buffer
    return out
