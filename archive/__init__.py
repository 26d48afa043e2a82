"""citevault: archive the sources an article cites and connect every claim to its evidence.

The library API lives here; the CLI (``archive.cli.main``) and the crawler (``crawler``) are thin layers on it.
See README.md for the commands and DESIGN in the shared docs for the data flow.
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
