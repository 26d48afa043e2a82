"""The web UI: browse documents, claims and captures; replay evidence in a sandbox; JSON API; Memento.

docs/web.md. :func:`archive.web.app.create_app` builds the ASGI app; ``citevault serve``
(:mod:`archive.cli.serve`) runs it. Importing this package imports nothing heavy: FastAPI loads with
:mod:`archive.web.app`, only when the server starts.

Every view is one or two calls on the :class:`~archive.api.Archive` the app serves (:func:`archive_of`),
plus formatting.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request

    from archive.api import Archive


def archive_of(request: Request) -> Archive:
    """The archive :func:`archive.web.app.create_app` was given."""
    archive: Archive = request.app.state.archive
    return archive
