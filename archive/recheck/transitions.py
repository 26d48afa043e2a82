"""The source state machine for re-crawls (docs/architecture.md "Source states", README "Keeping evidence fresh").

Pure: given what the index knows about a source and the outcome of one fetch, decide its next state. The
capture a claim relied on (its *evidence*) only ever comes from a good fetch; blocks and errors never
replace it, and an archived source becomes ``gone`` only after failures confirmed by repeated checks.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from archive.recheck.outcomes import OK, RATE_LIMITED, Outcome, state_of
from archive.recheck.policy import Policy
from archive.states import SourceState


@dataclass(frozen=True)
class Known:
    """What the index holds about the source before this fetch."""

    state: SourceState
    has_evidence: bool
    failures: int = 0
    first_failure: datetime | None = None


@dataclass(frozen=True)
class Decision:
    state: SourceState
    failures: int
    first_failure: datetime | None
    is_evidence: bool  # this fetch becomes the evidence (first good capture)
    is_latest_good: bool
    reason: str | None
    next_due: datetime


def decide(known: Known, outcome: Outcome, *, changed: bool | None, now: datetime, policy: Policy,
           every: timedelta | None = None) -> Decision:
    """``changed``: for a good fetch of a source with evidence, whether its main text differs from the
    evidence's (None when not compared). ``every``: the source's re-check interval.

    >>> p = Policy()
    >>> t = datetime(2026, 1, 1)
    >>> k = Known(SourceState.ARCHIVED, True)
    >>> d = decide(k, Outcome("gone", "http 404"), changed=None, now=t, policy=p)
    >>> str(d.state), d.failures, d.reason
    ('archived', 1, 'suspect: http 404 (1 of 3 failed checks)')
    >>> k3 = Known(SourceState.ARCHIVED, True, failures=2, first_failure=t)
    >>> decide(k3, Outcome("gone"), changed=None, now=t + timedelta(days=3), policy=p).state
    <SourceState.GONE: 'gone'>
    >>> decide(k3, Outcome("gone"), changed=None, now=t + timedelta(days=1), policy=p).state
    <SourceState.ARCHIVED: 'archived'>
    """
    every = every or policy.every
    due = now + every
    if outcome.kind == OK:
        if not known.has_evidence:
            return Decision(SourceState.ARCHIVED, 0, None, True, True, None, due)
        state = SourceState.CHANGED if changed else (SourceState.ARCHIVED if changed is False else known.state)
        if state == SourceState.GONE:  # came back
            state = SourceState.CHANGED if changed else SourceState.ARCHIVED
        return Decision(state, 0, None, False, True, None, due)

    if outcome.kind == RATE_LIMITED and outcome.retry_after is not None:
        due = now + max(timedelta(seconds=outcome.retry_after), timedelta(minutes=1))

    if not known.has_evidence:
        # Never archived: nothing to protect. A plain crawl retries failures at once (or after
        # Retry-After); a gone source is looked at again on the normal schedule, in case it returns.
        state = state_of(outcome)
        retry = due if outcome.kind == RATE_LIMITED else (now + every if state == SourceState.GONE else now)
        return Decision(state, known.failures + 1, known.first_failure or now, False, False,
                        outcome.detail or outcome.kind, retry)

    if not outcome.counts_toward_gone:
        # A wall, a rate limit or robots.txt says nothing about the source itself: keep state and evidence.
        return Decision(known.state, known.failures, known.first_failure, False, False,
                        f"{outcome.kind}: {outcome.detail}".rstrip(": "), due)

    failures = known.failures + 1
    first = known.first_failure or now
    confirmed = failures >= policy.gone_checks and now - first >= policy.gone_span
    if confirmed:
        return Decision(SourceState.GONE, failures, first, False, False,
                        f"gone: {outcome.detail or outcome.kind} in {failures} checks since {first:%Y-%m-%d}", due)
    # Check again sooner than usual, so a real loss is confirmed within about the span.
    sooner = policy.gone_span / max(1, policy.gone_checks - 1)
    return Decision(known.state, failures, first, False, False,
                    f"suspect: {outcome.detail or outcome.kind} ({failures} of {policy.gone_checks} failed checks)",
                    now + min(every, sooner))
