"""citevault: archive the sources an article cites and connect every claim to its evidence.

The library API is :class:`Archive`; the CLI (``archive.cli``), the web UI (``archive.web``) and the crawler
(``crawler``) are thin layers on it::

    from archive import Archive, CitevaultError

    archive = Archive.open("citevault-data")
    archive.add(["article.html"])
    archive.crawl()
    for claim in archive.lookup("budget approved"):
        ...

Everything citevault raises on purpose derives from :class:`CitevaultError` (the tree is drawn in
:mod:`archive.errors`). The names below are imported on first use, so ``import archive`` stays cheap (the
CLI's start-up and the worker processes of ``reindex`` import it). README has the commands;
docs/architecture.md the packages and the data flow.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archive.errors import CitevaultError, InputError, NotFoundError, StoreError, UnsupportedSource

if TYPE_CHECKING:
    from archive.api import Archive, CrawlSummary, IssuedReceipt
    from archive.checks.run import CheckStats
    from archive.exports.formats import Exported, ExportFormat
    from archive.exports.wacz import WaczSummary
    from archive.home import DataHome
    from archive.index.detail import CaptureDetail, ClaimDetail, DocumentDetail, Mementos, SourceDetail
    from archive.ingest import Ingested
    from archive.integrity.fixity import VerifyProblem, VerifyReport
    from archive.integrity.reindex import ReindexStats
    from archive.receipts.verify import Check, ReceiptCheck

__version__ = "0.1.0"

#: Where each lazily exported name is defined.
_LAZY = {
    "Archive": "archive.api",
    "CrawlSummary": "archive.api",
    "DataHome": "archive.home",
    "Ingested": "archive.ingest",
    "CheckStats": "archive.checks.run",
    "Exported": "archive.exports.formats",
    "ExportFormat": "archive.exports.formats",
    "WaczSummary": "archive.exports.wacz",
    "DocumentDetail": "archive.index.detail",
    "ClaimDetail": "archive.index.detail",
    "SourceDetail": "archive.index.detail",
    "CaptureDetail": "archive.index.detail",
    "Mementos": "archive.index.detail",
    "ReindexStats": "archive.integrity.reindex",
    "VerifyReport": "archive.integrity.fixity",
    "VerifyProblem": "archive.integrity.fixity",
    "IssuedReceipt": "archive.api",
    "ReceiptCheck": "archive.receipts.verify",
    "Check": "archive.receipts.verify",
}

#: The public surface: Archive, the errors (tree in archive.errors) and what Archive's methods return.
__all__ = [
    "Archive",
    "CaptureDetail",
    "Check",
    "CheckStats",
    "CitevaultError",
    "ClaimDetail",
    "CrawlSummary",
    "DataHome",
    "DocumentDetail",
    "ExportFormat",
    "Exported",
    "Ingested",
    "InputError",
    "IssuedReceipt",
    "Mementos",
    "NotFoundError",
    "ReceiptCheck",
    "ReindexStats",
    "SourceDetail",
    "StoreError",
    "UnsupportedSource",
    "VerifyProblem",
    "VerifyReport",
    "WaczSummary",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:  # AttributeError, so `from archive import ids` falls back to importing the submodule
        raise AttributeError(f"module 'archive' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
