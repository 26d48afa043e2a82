"""The ``citevault`` command line: a thin click layer over :class:`archive.api.Archive`.

``main`` holds the group and the everyday commands; the topic modules beside it hold the rest, loaded only
when their command runs (so ``citevault lookup`` starts fast).
"""
from archive.cli.main import cli, main

__all__ = ["cli", "main"]
