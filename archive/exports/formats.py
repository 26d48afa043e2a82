"""The export formats of :meth:`archive.api.Archive.export` (``citevault export``) and what an export returns.

Light on purpose (no SQLAlchemy): the CLI imports it to map its flags to a format.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.exports.wacz import WaczSummary


class ExportFormat(StrEnum):
    ROBUST_LINKS = "robust-links"  #: the article's HTML, every cited link with Robust Links attributes
    CLAIMREVIEW = "claimreview"  #: schema.org ClaimReview JSON-LD for the document's claims
    WACZ = "wacz"  #: a WACZ package of the archive, or of one document's evidence, written to a file

    @property
    def needs_document(self) -> bool:
        """Whether the format is of one document (a WACZ package can hold the whole archive).

        >>> [f.needs_document for f in ExportFormat]
        [True, True, False]
        """
        return self is not ExportFormat.WACZ


@dataclass(frozen=True)
class Exported:
    """What :meth:`archive.api.Archive.export` produced: ``data`` to write out (Robust Links, ClaimReview),
    or, for a WACZ package, the file it wrote."""

    format: ExportFormat
    data: bytes = b""
    links: int | None = None  #: Robust Links: how many cited links were decorated
    wacz: WaczSummary | None = None  #: WACZ: what was written, and where
