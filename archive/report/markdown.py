"""The evidence report as Markdown (``citevault report ID --format md``)."""
from __future__ import annotations

import re
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

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_SPACES = re.compile(r"\s+")


def esc(text: str) -> str:
    r"""Escape Markdown syntax in free text.

    >>> esc("a *bold* [link] | x")
    'a \\*bold\\* \\[link\\] \\| x'
    """
    return _SPECIAL.sub(r"\\\1", _SPACES.sub(" ", text))


def render_markdown(report: dict[str, Any]) -> str:
    doc, totals = report["document"], report["totals"]
    title = doc["title"] or doc["url"] or doc["origin"] or doc["id"]
    out = [f"# Evidence report: {esc(title)}", ""]
    out.append(f"- Document `{doc['id']}`: {doc['url'] or esc(doc['origin'] or '')}")
    if doc.get("fetch_error"):
        out.append(f"- **Not fetched**: the article could not be fetched ({esc(doc['fetch_error'])}); "
                   "`citevault crawl` tries again")
    out.append(f"- Generated {short_time(report['generated_at'])} by {report['generator']}")
    where = (f"{report['replay_base']}/replay/TIMESTAMP/URL" if report["replay_base"]
             else "urn:citevault:capture:CAPTURE_ID")
    out.append(f"- Archived copies: `{where}` (`citevault serve`); live links jump to the passage (`#:~:text=`)")
    out += ["", _table(TOTAL_LABELS, totals), "", _table(QUOTE_LABELS, totals), ""]
    out.append(
        f"Claims without a quote, key terms found in the source (a heuristic, not a judgement): "
        f"{support_note(totals)}"
    )
    changes = report.get("meaning_changes") or []
    if changes:
        out += ["", "## Meaning changes", "",
                ("Cited passages whose numbers, negations or names changed since the first capture "
                 "(cosmetic edits are not listed here):"), ""]
        out += [f"- claim {c['position']} (`{c['claim_id']}`) <{c['url']}>: **"
                + esc("; ".join(change_text(x) for x in c["changes"])) + "**" for c in changes]
    out += ["", "## Claims", ""]
    for claim in report["claims"]:
        out += _claim(claim)
    return "\n".join(out).rstrip() + "\n"


def _table(labels: tuple[tuple[str, str], ...], totals: dict[str, int]) -> str:
    head = "| " + " | ".join(label for _, label in labels) + " |"
    rule = "|" + "---:|" * len(labels)
    row = "| " + " | ".join(str(totals[key]) for key, _ in labels) + " |"
    return "\n".join((head, rule, row))


def _claim(claim: dict[str, Any]) -> list[str]:
    lines = [f"**{claim['position']}.** {esc(claim['text'])}  ", f"`{claim['id']}` · *{claim['state']}*", ""]
    if claim["quote"]:
        lines.append(f"- quote: \u201c{esc(claim['quote'])}\u201d")
    if not claim["sources"]:
        lines.append("- no source cited")
    for source in claim["sources"]:
        lines.append(f"- source <{source['url']}>: {source_status(source)}")
        evidence, v = source["evidence"], source["verification"]
        if evidence is None:
            lines.append("  - nothing archived")
            continue
        links = [f"[archived copy, {short_time(evidence['fetched_at'])}]({evidence['archived_url']})"]
        if v and v.get("text_fragment_url"):
            links.append(f"[live passage]({v['text_fragment_url']})")
        lines.append(f"  - **{verdict_label(v)}** · " + " · ".join(links))
        parts = passage_parts(v)
        if parts:
            before, exact, after = parts
            lines.append(f"  - passage: {esc(before)}**{esc(exact)}**{esc(after)}".rstrip())
        moved = anchor_label(v)
        if moved:
            diff = v["anchor"].get("diff") if v else None
            lines.append(f"  - {moved}" + (f": {_diff(diff)}" if diff else ""))
    receipt = claim.get("receipt")
    if receipt:  # the home's latest receipt of the claim, checked (README "Proving the evidence")
        label = {"verified": "verified", "signed": "signed, no trusted time"}.get(receipt["state"], receipt["state"])
        why = ": " + esc("; ".join(receipt["failed"])) if receipt.get("failed") else ""
        lines.append(f"- receipt of {receipt.get('created') or '?'}: **{label}**{why}")
    lines.append("")
    return lines


def _diff(diff: list[list[str]]) -> str:
    """A word diff with strike-through for removed words and bold for added ones.

    >>> _diff([["=", "held for"], ["-", "ninety"], ["+", "eighty"]])
    'held for ~~ninety~~ **eighty**'
    """
    marks = {"=": "{}", "-": "~~{}~~", "+": "**{}**"}
    return " ".join(marks[op].format(esc(words)) for op, words in diff)
