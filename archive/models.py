"""The index schema: typed SQLAlchemy 2.0 models.

The WARC files are the source of truth; every row here can be rebuilt from them (``citevault reindex``).
Schema changes go through an Alembic migration in ``archive/migrations/versions`` (see ``archive.db``).

A capture row carries the CDXJ fields (SURT ``urlkey``, 14-digit ``timestamp``, url, mime, status,
payload digest, record length, offset, filename) so the index, reindex and CDXJ export share one row shape.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, DateTime
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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
    status: Mapped[str] = mapped_column(String(16), default="extracted")
    added_at: Mapped[datetime] = mapped_column(DateTime)
    claim_count: Mapped[int] = mapped_column(Integer, default=0)


class Claim(Base):
    """A sentence of a document (or a row of a claim list), in reading order."""

    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)


class Source(Base):
    """A URL cited by at least one claim. ``state`` follows DESIGN.md "Source states"."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_fetched: Mapped[datetime | None] = mapped_column(DateTime)


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

    __table_args__ = (
        Index("ix_captures_source", "source_id", "fetched_at"),
        Index("ix_captures_urlkey", "urlkey", "timestamp"),
        Index("ix_captures_document", "document_id"),
    )
