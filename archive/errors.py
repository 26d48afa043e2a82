"""Errors a user can act on.

Every exception citevault raises on purpose derives from :class:`CitevaultError`; the CLI catches that one
base class and prints its message as one line (exit 1), so the message must say what to do next.

    CitevaultError
    ├── InputError          a file or URL given to ``add`` cannot be read as an article or claim list
    │   └── UnsupportedSource   a scheme or file type citevault does not archive (ftp:, file:, .docx)
    ├── NotFoundError       an id (document, claim, capture) that the index does not hold
    └── StoreError          the data home, database or a WARC file is unusable (permissions, corruption)

Evidence problems found while crawling (timeouts, 404s, robots.txt) are *not* raised: they are recorded
as failed captures with a reason, and the crawl goes on.
"""
from __future__ import annotations


class CitevaultError(Exception):
    """Base class: a problem the user can act on, with a one-line message."""


class InputError(CitevaultError):
    """An input file or URL cannot be read as an article or a claim list."""


class UnsupportedSource(InputError):
    """A scheme or file type that citevault does not archive."""


class NotFoundError(CitevaultError):
    """An id that the index does not hold."""


class StoreError(CitevaultError):
    """The data home, the database or a WARC file cannot be used."""
