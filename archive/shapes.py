"""The JSON shapes of the library API, as TypedDicts: what ``Archive`` returns, the CLI prints with
``--json`` and the web API serves (DESIGN.md "Claim JSON", docs/checking.md).

One definition per shape: :mod:`archive.web.schemas` hands these same classes to pydantic, which reads
each field's description from the docstring under it. This module imports neither pydantic nor FastAPI
(``citevault lookup`` starts without them).
"""
from __future__ import annotations

from typing import Literal

# typing_extensions' TypedDict, not typing's: pydantic reads the shapes (archive.web.schemas) and needs it
# before Python 3.12.
from typing_extensions import TypedDict

from archive.states import ClaimState

# -- the verification object (archive.checks.shape) ---------------------------------------------------


class TextQuoteSelector(TypedDict):
    """W3C Web Annotation TextQuoteSelector of the passage in the capture's main text."""

    type: Literal["TextQuoteSelector"]
    exact: str
    """the passage as it stands in the main text"""
    prefix: str
    """the text just before it ("" at the start)"""
    suffix: str
    """the text just after it ("" at the end)"""


class TextPositionSelector(TypedDict):
    """W3C Web Annotation TextPositionSelector of the passage in the capture's main text."""

    type: Literal["TextPositionSelector"]
    start: int
    """offset of the passage's first character in the main text"""
    end: int
    """offset just past its last character"""


class Anchor(TypedDict):
    """Where the passage a claim relied on stands in a later capture (re-crawls)."""

    state: str
    """original | present | moved | edited | deleted"""
    baseline_capture_id: str
    """the capture the passage was first found in"""
    diff: list[list[str]] | None
    """word diff of an edited passage, as [op, words] pairs (op "=", "-" or "+"); null otherwise"""


class Terms(TypedDict):
    """The key terms of a claim without a quote, found in the capture or not."""

    found: list[str]
    missing: list[str]


class DifferenceJSON(TypedDict):
    """A word that changes the meaning between a claim's quotation (or wording) and the passage."""

    kind: str
    """number (numbers, amounts, dates) | negation | name | word (an antonym-like swap)"""
    quote: str
    """the words on the claim's side ("" when it has none there)"""
    source: str
    """the words on the source's side ("" when it has none there)"""


class TextSeen(TypedDict):
    """How much of a huge payload a verdict is about (only its beginning is read)."""

    chars: int
    """characters of text extracted from what was read"""
    bytes_read: int
    """bytes of the (content-decoded) payload parsed"""
    payload_bytes: int
    """the payload's whole size"""


class Verification(TypedDict):
    """Quote verification of one capture for one claim: a function of the claim and the payload alone."""

    method: str
    """quote (the claim has a quote) | key_terms (a heuristic over the claim's words)"""
    heuristic: bool
    """true for key_terms: a hint, not a finding"""
    verdict: str
    """quote: found | close | misquoted | not_found | unreadable; key_terms (heuristic): supported | partial |
    contradicted | no_match | unreadable"""
    label: str
    """the verdict in words ("no matching passage (heuristic)")"""
    differences: list[DifferenceJSON] | None
    """misquoted / contradicted: the words that differ, and their kind"""
    score: float | None
    """similarity of the best passage, 0 to 1"""
    span: list[int] | None
    """[start, end] of the passage in the main text"""
    passage: str | None
    """the passage found"""
    selector: list[TextQuoteSelector | TextPositionSelector] | None
    """the passage as W3C selectors: a TextQuoteSelector, then a TextPositionSelector"""
    text_fragment_url: str | None
    """a link that scrolls to the passage (URL text fragment)"""
    anchor: Anchor | None
    """the passage re-anchored on a re-crawl"""
    terms: Terms | None
    """key_terms: which terms were found"""
    reason: str | None
    """why the capture was unreadable, or what else the check has to say"""
    text: str
    """which text the verdict is from: raw (the main text of the bytes the server sent) | rendered (the text a
    browser rendered from the capture: the capture has a rendering, and its verdict was kept)"""
    text_seen: TextSeen | None
    """null when the whole payload was read; else how much of it the verdict is about"""


# -- claim JSON (DESIGN.md "Claim JSON") --------------------------------------------------------------


class RenderingJSON(TypedDict):
    """What a browser made of a capture (issue 11, docs/json.md "rendering"): a full-page screenshot and the
    rendered text, each a ``resource`` record in the WARC files (null when the rendering has none)."""

    id: str
    """the rendering's id (the screenshot record's capture id)"""
    rendered_at: str
    """ISO-8601, UTC, ending in Z"""
    browser: str | None
    """the browser and its version, e.g. chromium 131.0.6778.85"""
    width: int | None
    """screenshot width in pixels"""
    height: int | None
    """screenshot height in pixels"""
    screenshot_warc_file: str | None
    """the WARC file of the screenshot (PNG, urn:screenshot:{url}); null without one"""
    screenshot_offset: int | None
    text_warc_file: str | None
    """the WARC file of the rendered text (text/plain, urn:text:{url}); null without one"""
    text_offset: int | None
    text_chars: int | None
    """characters of rendered text"""
    cut: str | None
    """why the rendering stopped early (e.g. "time"); null when the page finished"""


class CaptureJSON(TypedDict):
    """One fetch of a source: a response hop, a revisit, or a failure (http_status null, error set)."""

    id: str
    """capture id, derived from the WARC-Record-ID"""
    url: str
    """the URL fetched"""
    fetched_at: str
    """ISO-8601, UTC, ending in Z"""
    http_status: int | None
    """null for a failed fetch"""
    content_type: str | None
    """the Content-Type header as sent"""
    warc_file: str
    """the WARC file holding the record, under the data home's warcs/"""
    warc_offset: int
    """byte offset of the record's gzip member in warc_file"""
    warc_record_id: str
    payload_sha256: str | None
    """SHA-256 of the entity body as transferred"""
    error: str | None
    """why the fetch failed; http_status is null then"""
    verification: Verification | None
    """quote verification of this capture, when it has been checked"""
    rendering: RenderingJSON | None
    """the capture's newest browser rendering (a revisit's: its original's); null without one"""


class SourceJSON(TypedDict):
    """A URL a claim cites, its state and every capture of it."""

    url: str
    """normalized: no fragment, no default port"""
    state: str
    """the source's state, a value of archive.states.SourceState: pending, archived, failed, changed or gone
    (plain text, as stored)"""
    captures: list[CaptureJSON]
    """oldest first"""


class DocumentRef(TypedDict):
    """The document a claim is from."""

    id: str
    url: str | None
    """null for a document added as a file without a URL"""
    title: str | None


class ClaimJSON(TypedDict):
    """``citevault show CLAIM_ID --json``; ``lookup --json`` is a list of these."""

    id: str
    """``{document id}.{position}``"""
    text: str
    """the sentence"""
    quote: str | None
    """the text the claim puts in quotation marks, if any"""
    document: DocumentRef
    sources: list[SourceJSON]
    """what the claim cites, in the order it cites them"""


# -- listings -------------------------------------------------------------------------------------------


class ClaimRow(TypedDict):
    """A row of ``citevault claims [DOCUMENT_ID] --json``."""

    id: str
    document_id: str
    position: int
    """the claim's place in its document, from 0"""
    text: str
    quote: str | None
    sources: int
    """how many sources it cites"""
    state: ClaimState
    """the claim's evidence state: the most telling state of its sources, or unsourced"""


class Coverage(TypedDict):
    """How much of a document's evidence is archived."""

    claims: int
    """all its claims"""
    sourced: int
    """claims citing at least one source"""
    states: dict[str, int]
    """claims per evidence state"""
    archived_share: float | None
    """archived claims / sourced claims; null without sources"""


class DocumentJSON(TypedDict):
    """A document with its evidence coverage (``GET /api/documents``)."""

    id: str
    url: str | None
    """the article's URL, if it has one"""
    title: str | None
    kind: str
    """the reader it was read with (html, markdown, text, json, jsonl, csv), or url until fetched"""
    status: str
    """extracted, or pending: a document added by URL until the crawl fetches it"""
    claim_count: int
    added_at: str | None
    """ISO-8601, UTC, ending in Z"""
    coverage: Coverage
    fetch_error: str | None
    """why a document added by URL is not fetched yet (e.g. "http 404", "connection refused"), from its
    latest capture; null once fetched, or before any crawl tried it"""


class DocumentOverview(DocumentJSON):
    """:class:`DocumentJSON` plus the file name the document was added from (the web UI's list)."""

    origin: str | None


class CaptureRecord(TypedDict):
    """A capture's index row: the claim JSON's capture fields plus the CDXJ fields and the revisit link."""

    id: str
    url: str
    record_type: str
    """response, revisit, resource (an added file) or metadata (a failed fetch)"""
    urlkey: str
    """the URL's SURT key"""
    timestamp: str
    """14-digit WARC-Date"""
    fetched_at: str | None
    """ISO-8601, UTC, ending in Z"""
    http_status: int | None
    mime: str | None
    """content_type without its parameters"""
    content_type: str | None
    payload_digest: str | None
    """WARC-Payload-Digest (sha1, base32)"""
    payload_sha256: str | None
    """SHA-256 of the entity body as transferred"""
    warc_file: str
    warc_offset: int
    warc_length: int
    warc_record_id: str
    refers_to: str | None
    """a revisit's original capture"""
    redirect_to: str | None
    """a redirect's Location"""
    error: str | None
    """why the fetch failed"""
    source_id: str | None
    """the source the fetch was for"""
    document_id: str | None
    """the document it was fetched for (added by URL), or the added file's document"""


class CaptureRow(CaptureRecord):
    """Every column of a capture row (``Archive.capture``): :class:`CaptureRecord` plus the crawl's own."""

    crawl_id: str | None
    payload_length: int | None
    role: str | None
    """None for a page, a source's fetch or an article; "asset" for a page's asset"""


class SourceDetailJSON(TypedDict):
    """A URL: its source state, every capture of it and the claims citing it (``GET /api/sources``)."""

    url: str
    state: str | None
    """the source's state (a value of archive.states.SourceState); null when no claim cites this URL"""
    captures: list[CaptureRecord]
    claims: list[str]
    """ids of the claims citing this URL"""


# -- freshness: citevault status and diff --------------------------------------------------------------


class StatusDocument(TypedDict):
    id: str
    url: str | None
    title: str | None
    origin: str | None
    fetch_error: str | None
    """why a document added by URL is not fetched yet (e.g. "http 404"); null once fetched"""


class MeaningChange(TypedDict):
    """A change of meaning in a cited passage between the first capture and the latest one."""

    claim: str
    """the claim relying on the passage"""
    kind: str
    """number | negation | name | word | deleted (the passage is gone)"""
    before: str
    """the words in the first capture"""
    after: str
    """the words in the latest capture"""


class StatusProblem(TypedDict):
    """A changed, gone or failed source (or an archived one whose re-checks fail), and the claims it backs."""

    url: str
    state: str
    reason: str | None
    since: str | None
    last_checked: str | None
    next_check: str | None
    failed_checks: int
    claims: list[str]
    change: str | None
    """changed sources: "meaning" when a passage a claim relies on changed a number, negation, name or
    word (or was deleted), else "cosmetic"; null for other states"""
    meaning_changes: list[MeaningChange]
    """the words that changed, per claim (empty unless change is "meaning")"""


class StatusEntry(TypedDict):
    """``citevault status --json``: one document's sources by state, and its problems."""

    document: StatusDocument
    sources: int
    states: dict[str, int]
    problems: list[StatusProblem]


class WorkerJSON(TypedDict):
    """``citevault status --workers --json``: one running crawl worker (archive.crawl.workers)."""

    crawl_id: str
    node: str | None
    """the worker's node name (``--node``, ``CITEVAULT_NODE``, else its host name)"""
    pid: int | None
    started_at: str
    heartbeat_at: str | None
    seconds_since_heartbeat: float | None
    alive: bool
    """false once it missed three heartbeats: its leases expire at ``leases_until``"""
    leases: int
    """sources it holds"""
    leases_until: str | None
    """when the first of its leases ends unless it beats again"""


class _DiffEntry(TypedDict):
    url: str
    state: str
    evidence: str | None
    """the capture a claim relied on"""
    latest: str | None
    """the latest good capture"""
    diff: str
    """unified diff of the main text; "" when there is none"""


class DiffEntry(_DiffEntry, total=False):
    """``citevault diff TARGET --json``: one source's main-text diff."""

    note: str
    """why there is no diff, or that the text is unchanged"""


# -- receipts (archive.receipts, docs/receipts.md) ------------------------------------------------------


class ReceiptRecord(TypedDict):
    """A WARC record as a receipt states it: where it is and its digests, read from the record itself."""

    warc_file: str
    warc_offset: int
    warc_length: int
    """length of the record's gzip member"""
    warc_record_id: str | None
    warc_date: str | None
    record_type: str
    warc_block_digest: str | None
    """the WARC-Block-Digest header, as written"""
    warc_payload_digest: str | None
    """the WARC-Payload-Digest header, as written"""
    block_sha256: str
    """SHA-256 of the record block (HTTP head + body as transferred), hex"""
    payload_sha256: str
    """SHA-256 of the payload as transferred, hex"""


class ReceiptVerification(TypedDict):
    """The verdict of the capture a receipt names (see :class:`Verification`)."""

    method: str
    verdict: str
    score: float | None
    heuristic: bool
    selector: TextQuoteSelector | None


class ReceiptCapture(TypedDict):
    capture_id: str
    url: str
    fetched_at: str
    http_status: int | None
    error: str | None
    record: ReceiptRecord
    original_record: ReceiptRecord | None
    """a revisit's original, which holds the payload"""
    verification: ReceiptVerification | None


class ReceiptSource(TypedDict):
    url: str
    state: str
    capture: ReceiptCapture | None
    """the capture the evidence rests on; null for a source never fetched"""


class ReceiptStamp(TypedDict):
    """An RFC 3161 stamp over the receipt's signature bytes."""

    tsa: str
    time: str
    """the TSA's genTime, ISO-8601 UTC"""
    token: str
    """base64 DER TimeStampResp, as the TSA sent it"""
    certificates: list[str]
    """PEM certificates the TSA sent, signer first"""


class Receipt(TypedDict, total=False):
    """``citevault receipt CLAIM_ID``: written as RFC 8785 canonical JSON."""

    format: str
    """citevault-receipt/1"""
    body: dict[str, object]
    """the signed part: format, created, software, signer, claim, document, quotation, sources
    (:class:`ReceiptSource`)"""
    signature: str
    """base64 Ed25519 signature of the body's RFC 8785 bytes"""
    timestamps: list[ReceiptStamp]
    trusted_time: bool
    """false when no TSA stamped it: then ``time_note`` says so"""
    time_note: str


class ReceiptCheckLine(TypedDict):
    """One check of ``citevault receipt --verify`` (one line of its text output)."""

    check: str
    """signature, signer, timestamp [N], record FILE@OFFSET, files, datapackage, created"""
    status: Literal["ok", "skip", "FAIL"]
    detail: str


class ReceiptCheckJSON(TypedDict):
    """``citevault receipt --verify FILE --json`` for a receipt."""

    claim_id: str | None
    state: Literal["verified", "signed", "failed"]
    """verified: every check held, with trusted time; signed: the same without a stamp; failed"""
    created: str | None
    checks: list[ReceiptCheckLine]
