"""WACZ 1.1.1 export: the archive (or one document's evidence) as one file ReplayWeb.page opens.

Layout of the package (a ZIP; WARCs stored uncompressed, as the format requires)::

    archive/*.warc.gz          the WARC files, byte for byte
    indexes/index.cdx          CDXJ, sorted, built from the index rows (archive.exports.cdxj)
    pages/pages.jsonl          the entry points: each document's own capture and each cited source's
    citevault/claims.json      the claim JSON of every claim included (docs/json.md)
    datapackage.json           every file above with its sha256 and size, wacz_version 1.1.1
    datapackage-digest.json    the sha256 of datapackage.json, signed (archive.exports.wacz_sign) when a
                               signer is given

For a ``document_id``, the package holds the WARC files that hold its captures: the article's own fetch,
every capture of every source its claims cite, the assets those pages needed (``page_assets``), the
originals of their revisits, and the files holding their browser renderings (screenshot, rendered text and
the browser's own exchanges, ``renderings``). Whole files are
copied, so records of other documents that share a file come along (and are indexed); the claims JSON
holds only that document's claims. Without a ``document_id``, every closed WARC file is included
(a file a running crawl is still writing is not, nor are its records in the index).

The file is written as ``….part`` and renamed when complete. Everything streams: WARCs are copied in
chunks, CDXJ lines come sorted from the database, claims are serialized in batches.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator

from sqlalchemy import Connection, text

from archive import __version__
from archive.clock import iso_seconds, iso_time
from archive.errors import StoreError
from archive.exports.cdxj import write_cdxj
from archive.index import lookup as reads
from archive.index.browse import document as find_document

if TYPE_CHECKING:
    from archive.api import Archive
    from archive.exports.wacz_sign import Signer

WACZ_VERSION = "1.1.1"
CLAIMS_PATH = "citevault/claims.json"
CHUNK = 1 << 20
_BATCH = 500


@dataclass
class WaczSummary:
    """What :func:`write_wacz` wrote."""

    path: Path
    warc_files: list[str]
    index_lines: int
    pages: int
    claims: int
    bytes: int = 0
    resources: list[dict[str, Any]] = field(default_factory=list)
    signed: bool = False  #: datapackage-digest.json has signedData (archive.exports.wacz_sign)
    timestamped: bool = False  #: ... with an RFC 3161 timeSignature

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "warc_files": self.warc_files, "index_lines": self.index_lines,
                "pages": self.pages, "claims": self.claims, "bytes": self.bytes}


class _HashingWriter:
    """Counts and hashes what goes into a ZIP entry (the datapackage lists each file's sha256 and size)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | str) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        self.sha256.update(raw)
        self.size += len(raw)
        self.out.write(raw)


def resource_name(path: str, taken: set[str]) -> str:
    """A Data Package resource name (lower-case ``[-a-z0-9._/]``, unique) for a file in the package.

    >>> taken = set()
    >>> resource_name("archive/citevault-2024-00001-My_Host-42.warc.gz", taken)
    'citevault-2024-00001-my_host-42.warc.gz'
    >>> resource_name("other/Citevault-2024-00001-My_Host-42.warc.gz", taken)
    'citevault-2024-00001-my_host-42.warc.gz-2'
    >>> resource_name("citevault/claims (1).json", taken)
    'claims--1-.json'
    """
    base = re.sub(r"[^-a-z0-9._/]", "-", os.path.basename(path).lower()) or "file"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def _entry(zf: zipfile.ZipFile, arcname: str, stored: bool, fill: Callable[[_HashingWriter], Any],
           large: bool = False) -> tuple[dict[str, Any], Any]:
    info = _info(arcname)
    if stored:
        info.compress_type = zipfile.ZIP_STORED
    with zf.open(info, "w", force_zip64=large) as raw:
        writer = _HashingWriter(raw)
        result = fill(writer)
    return {"path": arcname, "hash": "sha256:" + writer.sha256.hexdigest(), "bytes": writer.size}, result


def _copy(path: Path) -> Callable[[_HashingWriter], None]:
    def fill(out: _HashingWriter) -> None:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                out.write(chunk)
    return fill


def _document_files(conn: Connection, document_id: str) -> list[str]:
    rows = conn.execute(text(
        "WITH picked AS ("
        " SELECT id, warc_file, refers_to FROM captures WHERE document_id = :d"
        " UNION SELECT cap.id, cap.warc_file, cap.refers_to FROM captures cap"
        "  JOIN citations ci ON ci.source_id = cap.source_id JOIN claims c ON c.id = ci.claim_id"
        "  WHERE c.document_id = :d),"
        # the assets each picked page needed (archive.crawl.page_assets), and the originals of their revisits
        " assets AS (SELECT a.id, a.warc_file, a.refers_to FROM picked p JOIN page_assets pa ON pa.page_id = p.id"
        "  JOIN captures a ON a.id = pa.capture_id)"
        " SELECT warc_file FROM picked UNION SELECT warc_file FROM assets"
        " UNION SELECT o.warc_file FROM picked p JOIN captures o ON o.id = p.refers_to"
        " UNION SELECT o.warc_file FROM assets a JOIN captures o ON o.id = a.refers_to"
        # browser renderings of the picked pages (archive.browser): screenshot, text, the browser's exchanges
        " UNION SELECT r.screenshot_warc_file FROM picked p JOIN renderings r ON r.capture_id = p.id"
        " UNION SELECT r.text_warc_file FROM picked p JOIN renderings r ON r.capture_id = p.id"
        " UNION SELECT b.warc_file FROM picked p JOIN renderings r ON r.capture_id = p.id"
        "  JOIN captures b ON b.id = r.browser_capture_id"
    ), {"d": document_id})
    return sorted({r[0] for r in rows if r[0]})


def _closed_files(archive: Archive) -> list[str]:
    return sorted(p.name for p in archive.home.warcs.glob("*.warc.gz") if p.is_file())


def _claim_ids(conn: Connection, document_id: str | None) -> Iterator[str]:
    if document_id is None:
        rows = conn.execute(text("SELECT id FROM claims ORDER BY document_id, position"))
    else:
        rows = conn.execute(text("SELECT id FROM claims WHERE document_id = :d ORDER BY position"),
                            {"d": document_id})
    yield from (r[0] for r in rows.all())


def _write_claims(conn: Connection, document_id: str | None) -> Callable[[_HashingWriter], int]:
    def fill(out: _HashingWriter) -> int:
        ids = list(_claim_ids(conn, document_id))
        out.write("[")
        for start in range(0, len(ids), _BATCH):
            for i, claim in enumerate(reads.claims_json(conn, ids[start:start + _BATCH])):
                out.write(("\n" if start == 0 and i == 0 else ",\n") + json.dumps(claim, ensure_ascii=False))
        out.write("\n]\n")
        return len(ids)
    return fill


def _pages(conn: Connection, document_id: str | None, files: set[str]) -> Iterator[dict[str, Any]]:
    """Entry points: each document's own (latest) capture, then each cited source's latest capture."""
    where_doc = "WHERE d.id = :d" if document_id is not None else ""
    docs = conn.execute(text(
        "SELECT d.id AS did, d.title, cap.id, cap.url, cap.fetched_at, cap.warc_file FROM documents d "
        "JOIN captures cap ON cap.document_id = d.id AND cap.record_type IN ('response', 'revisit') "
        f"AND cap.http_status BETWEEN 200 AND 299 {where_doc} ORDER BY d.id, cap.fetched_at"
    ), {"d": document_id}).mappings().all()
    latest: dict[str, Any] = {}
    for row in docs:
        if row["warc_file"] in files:
            latest[row["did"]] = row
    for row in latest.values():
        yield {"id": row["id"], "url": row["url"], "ts": iso_time(row["fetched_at"]), "title": row["title"]}
    cited = ("AND s.id IN (SELECT ci.source_id FROM citations ci JOIN claims c ON c.id = ci.claim_id "
             "WHERE c.document_id = :d)") if document_id is not None else ""
    rows = conn.execute(text(
        "SELECT s.url AS surl, cap.id, cap.url, cap.fetched_at, cap.warc_file FROM sources s "
        "JOIN captures cap ON cap.source_id = s.id AND cap.url = s.url "
        "WHERE cap.record_type IN ('response', 'revisit') AND cap.http_status IS NOT NULL "
        f"{cited} ORDER BY s.url, cap.fetched_at"
    ), {"d": document_id})
    current: dict[str, Any] | None = None
    for row in rows.mappings():
        if row["warc_file"] not in files:
            continue
        if current is not None and current["surl"] != row["surl"]:
            yield _page(current)
        current = dict(row)
    if current is not None:
        yield _page(current)


def _page(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "url": row["url"], "ts": iso_time(row["fetched_at"])}


def _write_pages(conn: Connection, document_id: str | None, files: set[str]) -> Callable[[_HashingWriter], int]:
    def fill(out: _HashingWriter) -> int:
        out.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}) + "\n")
        count = 0
        for page in _pages(conn, document_id, files):
            out.write(json.dumps({k: v for k, v in page.items() if v is not None}, ensure_ascii=False) + "\n")
            count += 1
        return count
    return fill


def write_wacz(archive: Archive, path: str | os.PathLike[str], document_id: str | None = None,
               sign: Signer | None = None) -> WaczSummary:
    """Write a WACZ 1.1.1 package of the whole archive, or of ``document_id``'s evidence, to ``path``;
    ``sign`` (:func:`archive.exports.wacz_sign.signer`) adds the ``signedData`` of the WACZ auth spec.

    Raises :class:`~archive.errors.NotFoundError` for an unknown document and
    :class:`~archive.errors.StoreError` when a WARC file it needs is missing or still being written.
    """
    target = Path(path)
    part = target.with_name(target.name + ".part")
    with archive.reading() as conn:
        meta: dict[str, Any] = {}
        if document_id is not None:
            doc = find_document(conn, document_id)
            files = _document_files(conn, document_id)
            meta["title"] = f"citevault: {doc['title'] or doc['url'] or doc['id']}"
            meta["description"] = f"Evidence for the claims of document {doc['id']}, archived by citevault."
            main = conn.execute(text(
                "SELECT url, fetched_at FROM captures WHERE document_id = :d AND http_status BETWEEN 200 AND 299 "
                "ORDER BY fetched_at DESC LIMIT 1"), {"d": document_id}).first()
            if main is not None:
                meta["mainPageURL"] = main[0]
                meta["mainPageDate"] = iso_seconds(main[1])
        else:
            files = _closed_files(archive)
            meta["title"] = "citevault archive"
            meta["description"] = "Documents, their claims and the archived evidence they cite, by citevault."
        for name in files:
            where = archive.home.warc_path(name)  # the .open file while a crawl still writes it
            if where.name != name:
                raise StoreError(f"{name} is still being written by a crawl: export when it ends")
            if not where.is_file():
                raise StoreError(f"{where} is missing (run `citevault verify`)")
        taken: set[str] = set()
        resources: list[dict[str, Any]] = []
        try:
            with zipfile.ZipFile(part, "w", allowZip64=True) as zf:
                for name in files:
                    where = archive.home.warc_path(name)
                    res, _ = _entry(zf, f"archive/{name}", True, _copy(where),
                                    large=where.stat().st_size >= zipfile.ZIP64_LIMIT)
                    resources.append(res)
                res, lines = _entry(zf, "indexes/index.cdx", False, lambda out: write_cdxj(conn, out, files))
                resources.append(res)
                res, pages = _entry(zf, "pages/pages.jsonl", False, _write_pages(conn, document_id, set(files)))
                resources.append(res)
                res, claims = _entry(zf, CLAIMS_PATH, False, _write_claims(conn, document_id))
                resources.append(res)
                for res in resources:
                    res["name"] = resource_name(res["path"], taken)
                package = {
                    "profile": "data-package",
                    "resources": [{k: r[k] for k in ("name", "path", "hash", "bytes")} for r in resources],
                    **meta,
                    "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "wacz_version": WACZ_VERSION,
                    "software": f"citevault {__version__}",
                }
                package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
                zf.writestr(_info("datapackage.json"), package_bytes)
                digest: dict[str, Any] = {"path": "datapackage.json",
                                          "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
                if sign is not None:  # the spec wants signedData.created == datapackage.json's created
                    digest["signedData"] = sign(digest["hash"], package["created"])
                zf.writestr(_info("datapackage-digest.json"), json.dumps(digest, indent=2).encode("utf-8"))
            os.replace(part, target)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    signed = digest.get("signedData") or {}
    return WaczSummary(target, list(files), lines, pages, claims, target.stat().st_size, resources,
                       signed=bool(signed), timestamped=bool(signed.get("timeSignature")))


def _info(name: str) -> zipfile.ZipInfo:
    """A ZIP entry stamped now, deflated, readable by all."""
    info = zipfile.ZipInfo(name, date_time=datetime.now(timezone.utc).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info
