"""What the command modules share: the ``--json`` option, the archive of the global ``--home``/``--db``
options, and JSON output. Light on purpose: nothing here imports SQLAlchemy, Scrapy or FastAPI."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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
