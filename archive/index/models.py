"""The index schema: typed SQLAlchemy 2.0 models.

The WARC files are the source of truth; every row here can be rebuilt from them (``citevault reindex``).
Schema changes go through an Alembic migration in ``archive/index/migrations/versions`` (see ``archive.index.db``).

A capture row carries the CDXJ fields (SURT ``urlkey``, 14-digit ``timestamp``, url, mime, status,
payload digest, record length, offset, filename) so the index, reindex and CDXJ export share one row shape.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from archive.states import DocumentStatus, SourceState


class Base(DeclarativeBase):
    pass


class Document(Base):
    """An article or claim list that was added. ``status`` is ``pending`` until its claims are extracted
    (a document added by URL is extracted when the crawl fetches it)."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str | None] = mapped_column(Text, index=True)
    title: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str | None] = mapped_column(Text)  # file name or URL as the user gave it
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.EXTRACTED)
    added_at: Mapped[datetime] = mapped_column(DateTime)
    claim_count: Mapped[int] = mapped_column(Integer, default=0)
    check_every: Mapped[int | None] = mapped_column(Integer)  # seconds; None: the global default


class Claim(Base):
    """A sentence of a document (or a row of a claim list), in reading order."""

    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_claims_document_position", "document_id", "position"),)


class Source(Base):
    """A URL cited by at least one claim. ``state`` follows docs/architecture.md "Source states"."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    state: Mapped[str] = mapped_column(String(16), default=SourceState.PENDING, index=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_fetched: Mapped[datetime | None] = mapped_column(DateTime)
    # Re-checks (archive.recheck.transitions): when it is due, how many failed checks in a row since when, why.
    next_due: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_failure: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    # The capture the claims relied on (first good fetch) and the newest good one; never a block page.
    evidence_capture: Mapped[str | None] = mapped_column(String(40))
    latest_good_capture: Mapped[str | None] = mapped_column(String(40))
    # Claimed by a running crawl (claim-by-update: two crawls never fetch the same source at once).
    lease_owner: Mapped[str | None] = mapped_column(String(40), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)


class Citation(Base):
    """Claim ↔ source, with the anchor text the article used for the link."""

    __tablename__ = "citations"

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id"), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    anchor: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_citations_source", "source_id"),)


class Crawl(Base):
    __tablename__ = "crawls"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    requested: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(Text)  # the worker's node name (archive.crawl.pids.node_name)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)  # renewed while the worker lives


class Capture(Base):
    """One WARC record of a fetch: a response hop, a revisit, a failure, or an added article's bytes.

    ``source_id`` is the source the fetch was for (redirect hops share it); ``document_id`` is set when the
    fetch was a document added by URL. Failed fetches have ``http_status`` None and ``error`` set, and point
    to the ``metadata`` record that describes the failure.
    """

    __tablename__ = "captures"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"))
    document_id: Mapped[str | None] = mapped_column(String(32))
    crawl_id: Mapped[str | None] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    urlkey: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[str] = mapped_column(String(14))
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    mime: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    payload_digest: Mapped[str | None] = mapped_column(Text)  # WARC-Payload-Digest (sha1, base32)
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    payload_length: Mapped[int | None] = mapped_column(Integer)
    redirect_to: Mapped[str | None] = mapped_column(Text)
    warc_file: Mapped[str] = mapped_column(Text)
    warc_offset: Mapped[int] = mapped_column(Integer)
    warc_length: Mapped[int] = mapped_column(Integer)
    warc_record_id: Mapped[str] = mapped_column(Text)
    refers_to: Mapped[str | None] = mapped_column(String(40))  # revisit → original capture id
    error: Mapped[str | None] = mapped_column(Text)
    # None for a page, a source's fetch or an article; "asset" for a page's asset (Citevault-Role: asset).
    role: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_captures_source", "source_id", "fetched_at"),
        Index("ix_captures_urlkey", "urlkey", "timestamp"),
        Index("ix_captures_document", "document_id"),
    )


class PageAsset(Base):
    """Page capture → an asset it needed (issue 11): one row per asset URL the page (its stylesheets, its
    iframes) loads, in discovery order, from the page's ``page-assets`` metadata record
    (:mod:`archive.crawl.page_assets`), so ``reindex`` restores them. ``capture_id`` is the asset's capture
    in the same crawl (a response, a revisit or a failure; shared by every page that needed the URL); None
    with ``cut`` set (``count`` or ``bytes``) when the page's limit left it unfetched.
    """

    __tablename__ = "page_assets"

    page_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    capture_id: Mapped[str | None] = mapped_column(String(40))
    cut: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_page_assets_capture", "capture_id"),)



class Rendering(Base):
    """A raw capture rendered in a browser (issue 11, :mod:`archive.browser`): where its full-page screenshot
    (``resource`` record ``urn:screenshot:{url}``, PNG) and its rendered text (``urn:text:{url}``,
    ``document.body.innerText``) are, both with WARC-Refers-To the raw capture's response record and
    WARC-Concurrent-To the browser's own response record for the page (``browser_capture_id``; None when the
    browser got no response recorded). ``id`` is the screenshot record's capture id (the text record's when
    there is no screenshot). ``cut`` says why the rendering stopped early (``time``), None when it finished.
    """

    __tablename__ = "renderings"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    capture_id: Mapped[str] = mapped_column(String(40))
    browser_capture_id: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    crawl_id: Mapped[str | None] = mapped_column(String(40))
    screenshot_warc_file: Mapped[str | None] = mapped_column(Text)
    screenshot_offset: Mapped[int | None] = mapped_column(Integer)
    screenshot_length: Mapped[int | None] = mapped_column(Integer)
    text_warc_file: Mapped[str | None] = mapped_column(Text)
    text_offset: Mapped[int | None] = mapped_column(Integer)
    text_length: Mapped[int | None] = mapped_column(Integer)
    text_chars: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    browser: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime] = mapped_column(DateTime)
    cut: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_renderings_capture", "capture_id", "rendered_at"),)

# -- evidence checks (issue 5: archive.checks) -----------------------------------------------------
# Derived data: rebuilt by `citevault check` from the WARC files and the rows above, never written to WARCs.
from sqlalchemy import Float  # noqa: E402 - kept with the models that use it


class CaptureText(Base):
    """The text of one payload (HTML main text, PDF text, plain text), stored once per payload digest.

    ``key`` is ``sha256:{payload_sha256}`` (``capture:{id}`` when the digest is unknown); ``status`` is
    ``ok`` or ``unreadable`` (then ``error`` says why and ``text`` is empty).
    """

    __tablename__ = "capture_texts"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    charset: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text, default="")
    chars: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    extractor: Mapped[str] = mapped_column(String(32))
    extracted_at: Mapped[datetime] = mapped_column(DateTime)


class Verification(Base):
    """Does capture ``capture_id`` hold what claim ``claim_id`` says? One row per claim and 2xx capture.

    ``method`` is ``quote`` (verdict ``found``/``close``/``misquoted``/``not_found``/``unreadable``) or
    ``key_terms`` (a heuristic: ``supported``/``partial``/``contradicted``/``no_match``/``unreadable``; rows
    of check version 1 say ``unsupported`` for ``no_match``, read as such by :mod:`archive.checks.shape`). ``span_*``, ``exact``,
    ``prefix``, ``suffix`` anchor the passage in the capture's text (W3C TextPositionSelector and
    TextQuoteSelector); ``anchor_state`` says where that passage is relative to the claim's first anchored
    capture (``baseline_capture_id``): ``original``/``present``/``moved``/``edited``/``deleted``, with a
    word diff (JSON) for ``edited``. ``detail`` is JSON (key terms found and missing, the words a misquote
    or contradiction differs in, or the reason).
    No foreign keys: these rows are derived, and must never stand in the way of rewriting the rows they
    point to (a re-extracted document, a rebuilt index); ``citevault check --force`` recomputes them.
    """

    __tablename__ = "verifications"

    claim_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    capture_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(32))
    text_key: Mapped[str | None] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    exact: Mapped[str | None] = mapped_column(Text)
    prefix: Mapped[str | None] = mapped_column(Text)
    suffix: Mapped[str | None] = mapped_column(Text)
    fragment_url: Mapped[str | None] = mapped_column(Text)
    anchor_state: Mapped[str | None] = mapped_column(String(16))
    baseline_capture_id: Mapped[str | None] = mapped_column(String(40))
    diff: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    checked_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_verifications_capture", "capture_id"),)


class SourceEvent(Base):
    """History of a source: one row per check, with the outcome and the state it led to."""

    __tablename__ = "source_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    capture_id: Mapped[str | None] = mapped_column(String(40))
    crawl_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_source_events_source", "source_id", "at"),)
