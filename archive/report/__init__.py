"""Evidence reports and exports: what a document's claims cite, what the archive holds, what it says.

- :func:`~archive.report.build.build_report`: the report as plain data (``--format json``);
- :func:`~archive.report.markdown.render_markdown`, :func:`~archive.report.html.render_html`: renderers;
- :func:`~archive.report.robustlinks.robust_links`: the article with Robust Links attributes;
- :func:`~archive.report.claimreview.claim_reviews`: schema.org ClaimReview JSON-LD.

docs/checking.md shows an excerpt of each.
"""
from __future__ import annotations

import json
from typing import Any

FORMATS = ("md", "html", "json")
#: Where ``citevault serve`` listens by default; pass the public address of your instance instead. (Here, not
#: in :mod:`archive.report.build`, so the CLI's options and :mod:`archive.api` read it without SQLAlchemy.)
DEFAULT_REPLAY_BASE = "http://127.0.0.1:8000"


def render(report: dict[str, Any], fmt: str, previews: dict[str, str] | None = None, left_out: int = 0) -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`); ``previews`` are the screenshot thumbnails the HTML
    report embeds (:func:`archive.report.screenshots.report_previews`), ``left_out`` how many were not."""
    if fmt == "md":
        from archive.report.markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from archive.report.html import render_html

        return render_html(report, previews or {}, left_out)
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")
