"""The evidence report as one self-contained HTML file (``citevault report ID --format html``).

Inline CSS, no scripts, no images, fonts or stylesheets from elsewhere: the file can be attached to a
paper or mailed and reads the same offline. Links (to live sources and archived copies) are plain ``<a>``.
"""
from __future__ import annotations

from html import escape
from typing import Any

from archive.report.labels import (
    QUOTE_LABELS,
    TOTAL_LABELS,
    anchor_label,
    change_text,
    passage_parts,
    short_time,
    source_status,
    support_note,
    verdict_label,
)

_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;line-height:1.25;margin-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem}
.meta{color:#5b6470;font-size:.9rem}.meta code{font-size:.85rem}
table{border-collapse:collapse;margin:.8rem 0}th,td{border:1px solid #d5dae0;padding:.25rem .6rem;text-align:right}
th{background:#f3f5f7;font-weight:600}
.claim{border-top:1px solid #e2e6ea;padding:.8rem 0}
.claim p.text{margin:.2rem 0}.claim .num{font-weight:700;margin-right:.3rem}
.id{color:#5b6470;font-size:.8rem;font-family:ui-monospace,monospace}
.quote{font-style:italic;color:#34404c}
ul.sources{margin:.4rem 0 0;padding-left:1.2rem}ul.sources li{margin:.3rem 0}
.url{word-break:break-all}
.badge{display:inline-block;border-radius:.25rem;padding:0 .4rem;font-size:.82rem;font-weight:600;color:#fff;background:#6c757d}
.found,.supported,.archived{background:#1e7a3c}.close,.partial,.changed{background:#a86500}
.not_found,.unsupported,.no_match,.gone,.failed{background:#b3261e}.misquoted,.contradicted{background:#7b1fa2}.unreadable,.pending,.unsourced{background:#6c757d}
.passage{background:#f6f7f9;border-left:3px solid #c9d1d9;padding:.3rem .6rem;margin:.3rem 0;font-size:.95rem}
mark{background:#fff1a8;padding:0 .1rem}del{color:#b3261e}ins{color:#1e7a3c;text-decoration:none;font-weight:600}
.note{color:#5b6470;font-size:.9rem}
.verified,.signed{background:#1e7a3c}.receipt-failed{background:#b3261e}
"""


def render_html(report: dict[str, Any]) -> str:
    doc, totals = report["document"], report["totals"]
    title = doc["title"] or doc["url"] or doc["origin"] or doc["id"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Evidence report: {escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Evidence report: {escape(title)}</h1>",
        '<p class="meta">',
        f"Document <code>{escape(doc['id'])}</code>: {_link(doc['url']) if doc['url'] else escape(doc['origin'] or '')}<br>",
        (f"<strong>Not fetched</strong>: the article could not be fetched ({escape(doc['fetch_error'])}); "
         "<code>citevault crawl</code> tries again<br>" if doc.get("fetch_error") else ""),
        f"Generated {escape(short_time(report['generated_at']))} by {escape(report['generator'])}</p>",
        _table(TOTAL_LABELS, totals),
        _table(QUOTE_LABELS, totals),
        ('<p class="note">Claims without a quote are compared by key terms, a heuristic that shows whether the '
         f"source talks about the same things: {escape(support_note(totals))}</p>"),
    ]
    parts += _meaning_changes(report.get("meaning_changes") or [])
    parts += ["<h2>Claims</h2>"]
    parts += [_claim(claim) for claim in report["claims"]]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _meaning_changes(changes: list[dict[str, Any]]) -> list[str]:
    """Cited passages whose meaning changed since the first capture: listed first, before every claim."""
    if not changes:
        return []
    out = ["<h2>Meaning changes</h2>",
           ('<p class="note">Cited passages whose numbers, negations or names changed since the first capture '
            "(cosmetic edits are not listed here).</p>"), '<ul class="sources">']
    for item in changes:
        what = "; ".join(change_text(c) for c in item["changes"])
        out.append(f'<li><a href="#claim-{escape(item["claim_id"])}">claim {item["position"]}</a> '
                   f'<span class="url">{_link(item["url"])}</span>: <strong>{escape(what)}</strong></li>')
    out.append("</ul>")
    return out


def _link(url: str, label: str | None = None) -> str:
    return f'<a href="{escape(url)}">{escape(label or url)}</a>'


def _badge(kind: str, label: str | None = None) -> str:
    return f'<span class="badge {escape(kind)}">{escape(label or kind.replace("_", " "))}</span>'


def _table(labels: tuple[tuple[str, str], ...], totals: dict[str, int]) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for _, label in labels)
    row = "".join(f"<td>{totals[key]}</td>" for key, _ in labels)
    return f"<table><tr>{head}</tr><tr>{row}</tr></table>"


def _claim(claim: dict[str, Any]) -> str:
    out = [f'<section class="claim" id="claim-{escape(claim["id"])}">',
           f'<p class="text"><span class="num">{claim["position"]}.</span>{escape(claim["text"])} '
           f'{_badge(claim["state"])}</p>',
           f'<div class="id">{escape(claim["id"])}</div>']
    if claim["quote"]:
        out.append(f'<p class="quote">quote: \u201c{escape(claim["quote"])}\u201d</p>')
    if not claim["sources"]:
        out.append('<p class="note">No source cited.</p>')
    else:
        out.append('<ul class="sources">')
        out += [_source(s) for s in claim["sources"]]
        out.append("</ul>")
    if claim.get("receipt"):
        out.append(_receipt(claim["receipt"]))
    out.append("</section>")
    return "\n".join(out)


def _receipt(receipt: dict[str, Any]) -> str:
    """The state of the home's latest receipt of a claim (``citevault receipt``), checked when the report
    was made: verified (signature, signer, timestamps and WARC records hold), signed (the same, without
    trusted time) or failed (with what failed).

    >>> _receipt({"state": "failed", "created": "2026-12-04T10:00:00Z", "failed": ["signature: altered"]})
    '<p class="note">Receipt of 2026-12-04T10:00:00Z: <span class="badge receipt-failed">failed</span> signature: altered</p>'
    """
    state = receipt["state"]
    label = {"verified": "verified", "signed": "signed, no trusted time", "failed": "failed"}.get(state, state)
    kind = "receipt-failed" if state == "failed" else state
    why = (" " + escape("; ".join(receipt["failed"]))) if receipt.get("failed") else ""
    return (f'<p class="note">Receipt of {escape(receipt.get("created") or "?")}: '
            f"{_badge(kind, label)}{why}</p>")


def _source(source: dict[str, Any]) -> str:
    out = [f'<li><span class="url">{_link(source["url"])}</span> {escape(source_status(source))}']
    evidence, v = source["evidence"], source["verification"]
    if evidence is None:
        out.append('<div class="note">Nothing archived.</div></li>')
        return "".join(out)
    verdict = v["verdict"] if v else "unreadable"
    links = [_link(evidence["archived_url"], f"archived copy, {short_time(evidence['fetched_at'])}")]
    if v and v.get("text_fragment_url"):
        links.append(_link(v["text_fragment_url"], "live passage"))
    dot = " \u00b7 "
    out.append(f"<div>{_badge(verdict, verdict_label(v))}{dot}{dot.join(links)}</div>")
    parts = passage_parts(v)
    if parts:
        before, exact, after = parts
        out.append(f'<div class="passage">{escape(before)}<mark>{escape(exact)}</mark>{escape(after)}</div>')
    moved = anchor_label(v)
    if moved:
        diff = (v or {}).get("anchor", {}).get("diff")
        out.append(f'<div class="note">{escape(moved)}{": " + _diff(diff) if diff else ""}</div>')
    out.append("</li>")
    return "".join(out)


def _diff(diff: list[list[str]]) -> str:
    """A word diff with ``<del>`` and ``<ins>``.

    >>> _diff([["=", "held for"], ["-", "ninety"], ["+", "<eighty>"]])
    'held for <del>ninety</del> <ins>&lt;eighty&gt;</ins>'
    """
    marks = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    return " ".join(marks[op].format(escape(words)) for op, words in diff)
