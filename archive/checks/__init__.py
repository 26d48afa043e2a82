"""Does the evidence say what the claim says? Text of captures, quote checks, anchoring, stored verdicts.

docs/checking.md describes the verdicts. Modules, one job each:

- :mod:`~archive.checks.texts`: payload -> text (HTML main text, PDF, plain text), once per digest;
- :mod:`~archive.checks.normalize`: matching form of a text, with offsets back to the original;
- :mod:`~archive.checks.match`: quote verdicts, and the key-terms heuristic for claims without one;
- :mod:`~archive.checks.meaning`: which word differences change meaning (misquotes, contradictions, and
  meaning changes of cited passages on re-crawls);
- :mod:`~archive.checks.anchor`: W3C selectors, re-anchoring on re-crawls, text-fragment links;
- :mod:`~archive.checks.store` and :mod:`~archive.checks.run`: what to check, and checking it;
- :mod:`~archive.checks.shape`: the ``verification`` object of the claim JSON (light: used by lookup).

The entry point is :func:`verify_document_captures`; nothing heavy is imported until it is called.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.checks.run import CheckStats, verify_document_captures

__all__ = ["CheckStats", "verify_document_captures"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from archive.checks import run

        return getattr(run, name)
    raise AttributeError(f"module 'archive.checks' has no attribute {name!r}")
