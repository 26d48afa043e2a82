"""``citevault export --claimreview``: schema.org ClaimReview JSON-LD, one review per claim.

The rating says how well the *archived evidence* backs the claim's wording, not whether the claim is
true: 5 quote found, 4 quote close, 3 key terms found (heuristic), 2 some key terms found, 1 quote not
found, misquoted (a number, negation, name or word differs: the rating text names the words), contradicted
(heuristic) or no matching passage (heuristic). Claims without a source, or whose sources hold nothing readable, get a
rating with only a name (``alternateName``) and no value.

Each cited source is a ``citation`` of the reviewed ``Claim`` with ``archivedAt`` pointing to our captures
of it (newest first), and the article the claim appears in is its ``appearance``, ``archivedAt`` our copy.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

_RATINGS = {
    ("quote", "found"): (5, "Quote found in the archived source"),
    ("quote", "close"): (4, "Quote close to the archived source"),
    ("quote", "misquoted"): (1, "Misquoted: the archived source says otherwise"),
    ("key_terms", "supported"): (3, "Key terms found in the archived source (heuristic)"),
    ("key_terms", "partial"): (2, "Some key terms found in the archived source (heuristic)"),
    ("quote", "not_found"): (1, "Quote not found in the archived source"),
    ("key_terms", "contradicted"): (1, "Contradicted by the archived source (heuristic)"),
    ("key_terms", "no_match"): (1, "No matching passage in the archived source (heuristic)"),
}
SOFTWARE = {"@type": "SoftwareApplication", "name": "citevault", "url": "https://github.com/citevault/citevault"}


def claim_reviews(report: dict[str, Any], article_url: str | None = None) -> dict[str, Any]:
    """JSON-LD (``@graph`` of ClaimReview) for the claims of a report from :func:`build_report`.

    ``article_url`` is the archived copy of the article itself, when there is one.
    """
    doc = report["document"]
    appearance: dict[str, Any] = {"@type": "CreativeWork", "url": doc["url"] or f"urn:citevault:document:{doc['id']}"}
    if doc["title"]:
        appearance["headline"] = doc["title"]
    if article_url:
        appearance["archivedAt"] = article_url
    date = report["generated_at"][:10]
    return {"@context": "https://schema.org", "@graph": [_review(c, appearance, date) for c in report["claims"]]}


def document_claim_reviews(conn: Connection, document_id: str, *, replay_base: str | None) -> dict[str, Any]:
    """:func:`claim_reviews` of ``document_id``'s report; the article's ``archivedAt`` is left out when the
    archive holds no copy of it (a document added by URL and not crawled yet). NotFoundError when unknown."""
    from archive.errors import InputError
    from archive.report.build import archived_url, build_report
    from archive.report.robustlinks import article_capture

    built = build_report(conn, document_id, replay_base=replay_base)
    try:
        article = archived_url(article_capture(conn, document_id), replay_base)
    except InputError:
        article = None
    return claim_reviews(built, article)


def _review(claim: dict[str, Any], appearance: dict[str, Any], date: str) -> dict[str, Any]:
    citations = []
    for source in claim["sources"]:
        work: dict[str, Any] = {"@type": "CreativeWork", "url": source["url"]}
        archived = [c["archived_url"] for c in (source["evidence"], source["first_capture"]) if c]
        if archived:
            work["archivedAt"] = list(dict.fromkeys(archived)) if len(set(archived)) > 1 else archived[0]
        citations.append(work)
    item: dict[str, Any] = {"@type": "Claim", "text": claim["text"], "appearance": appearance}
    if citations:
        item["citation"] = citations
    return {
        "@type": "ClaimReview",
        "@id": f"urn:citevault:claim:{claim['id']}",
        "claimReviewed": claim["text"],
        "datePublished": date,
        "author": SOFTWARE,
        "itemReviewed": item,
        "reviewRating": _rating(claim),
    }


def _rating(claim: dict[str, Any]) -> dict[str, Any]:
    """The rating of a claim from its best verdict.

    >>> _rating({"sources": [], "verdict": None})
    {'@type': 'Rating', 'alternateName': 'Unsourced: the claim cites nothing'}
    >>> _rating({"sources": [{}], "verdict": {"method": "quote", "verdict": "close", "score": 0.93}})["ratingValue"]
    4
    >>> _rating({"sources": [{}], "verdict": {"method": "quote", "verdict": "misquoted", "score": 0.9,
    ...     "differences": [{"kind": "name", "quote": "Snow", "source": "Sopel"}]}})["ratingExplanation"]
    'similarity score 0.90; name "Snow" in the quote, "Sopel" in the source'
    """
    if not claim["sources"]:
        return {"@type": "Rating", "alternateName": "Unsourced: the claim cites nothing"}
    verdict = claim["verdict"]
    if verdict is None or (verdict["method"], verdict["verdict"]) not in _RATINGS:
        reason = "unreadable" if verdict else "not archived or not checked"
        return {"@type": "Rating", "alternateName": f"No evidence to compare: source {reason}"}
    from archive.checks.shape import differences_text

    value, name = _RATINGS[(verdict["method"], verdict["verdict"])]
    rating: dict[str, Any] = {"@type": "Rating", "ratingValue": value, "bestRating": 5, "worstRating": 1,
                              "alternateName": name}
    if verdict["score"] is not None:
        rating["ratingExplanation"] = f"similarity score {verdict['score']:.2f}" if verdict["method"] == "quote" \
            else f"{verdict['score']:.2f} of the claim's key terms found in the source"
    if verdict.get("differences"):
        changed = differences_text(verdict["differences"], "quote" if verdict["method"] == "quote" else "claim")
        rating["ratingExplanation"] = f"{rating['ratingExplanation']}; {changed}" if "ratingExplanation" in rating \
            else changed
    return rating
