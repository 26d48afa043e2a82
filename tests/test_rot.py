"""What a fetch says about a source (archive.recheck.outcomes) and what the state machine makes of it (archive.recheck.transitions)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from archive.recheck.outcomes import classify_failure, classify_response, retry_after_seconds
from archive.recheck.policy import Policy, parse_duration
from archive.recheck.transitions import Known, decide

LONG = "<p>" + "The committee approved the budget after a long debate. " * 80 + "</p>"
# A wall page whose head holds more inline script than the prefixes the classifier reads first.
SCRIPTED_WALL = ("<html><head><script>" + "var tracking = {id: 1, name: 'analytics'};\n" * 600 + "</script></head>"
                 "<body><h1>Subscribe to continue reading</h1><p>Already a subscriber? Sign in.</p></body></html>")


@pytest.mark.parametrize("source, final, status, headers, body, kind", [
    ("http://h/a", "http://h/a", 200, {}, LONG, "ok"),
    ("http://h/a", "http://h/a", 404, {}, "", "gone"),
    ("http://h/a", "http://h/a", 410, {}, "", "gone"),
    ("http://h/a", "http://h/", 200, {}, LONG, "soft-404"),
    ("http://h/a", "http://h/index.html", 200, {}, LONG, "soft-404"),
    ("http://h/", "http://h/", 200, {}, LONG, "ok"),
    ("http://h/a", "http://h/a", 200, {}, "<title>Page not found</title><p>Sorry.</p>", "soft-404"),
    ("http://h/a", "http://h/a", 200, {}, "<h1>Oops</h1><p>This page does not exist.</p>", "soft-404"),
    ("http://h/a", "http://h/a", 200, {}, "<h1>Subscribe to continue reading</h1><p>Already a subscriber?</p>", "paywall"),
    ("http://h/a", "http://h/a", 200, {}, "<form><input type='password'></form><p>Sign in</p>", "login-wall"),
    ("http://h/a", "http://h/a", 200, {}, SCRIPTED_WALL, "paywall"),
    ("http://h/a", "http://h/login?next=/a", 200, {}, LONG, "login-wall"),
    ("http://h/a", "http://h/a", 200, {}, "<p>Please complete the CAPTCHA to continue.</p>", "captcha"),
    ("http://h/a", "http://h/a", 403, {}, "<p>Attention Required! Verify you are human.</p>", "captcha"),
    ("http://h/a", "http://h/a", 403, {}, "", "forbidden"),
    ("http://h/a", "http://h/a", 401, {}, "", "login-wall"),
    ("http://h/a", "http://h/a", 402, {}, "", "paywall"),
    ("http://h/a", "http://h/a", 429, {"retry-after": "120"}, "", "rate-limited"),
    ("http://h/a", "http://h/a", 503, {"retry-after": "60"}, "", "rate-limited"),
    ("http://h/a", "http://h/a", 503, {}, "", "error"),
    ("http://h/a", "http://h/a", 500, {}, "", "error"),
    # a long article that merely mentions "not found" is not a soft-404
    ("http://h/a", "http://h/a", 200, {}, LONG + "<p>The memo was not found in the archive.</p>", "ok"),
])
def test_classify_response(source: str, final: str, status: int, headers: dict, body: str, kind: str) -> None:
    assert classify_response(source, final, status, headers, body).kind == kind


def test_retry_after_forms() -> None:
    now = datetime(2026, 10, 21, 7, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("3600") == 3600.0
    assert retry_after_seconds("Wed, 21 Oct 2026 08:00:00 GMT", now) == 3600.0
    assert retry_after_seconds("soon") is None


def test_failures_that_never_count_toward_gone() -> None:
    assert classify_failure("blocked by robots.txt").counts_toward_gone is False
    assert classify_failure("timeout").counts_toward_gone is True


def test_gone_needs_enough_checks_and_enough_time() -> None:
    policy = Policy(every=timedelta(days=7), gone_checks=3, gone_span=timedelta(days=3))
    t = datetime(2027, 1, 1)
    known = Known("archived", True)
    outcome = classify_response("http://h/a", "http://h/a", 404, {})
    for n, day in enumerate((0, 1, 2), 1):  # three failures, but only two days apart
        decision = decide(known, outcome, changed=None, now=t + timedelta(days=day), policy=policy)
        assert decision.state == "archived" and decision.failures == n
        known = Known(decision.state, True, decision.failures, decision.first_failure)
    decision = decide(known, outcome, changed=None, now=t + timedelta(days=3), policy=policy)
    assert decision.state == "gone"
    back = decide(Known("gone", True, 4, t), classify_response("http://h/a", "http://h/a", 200, {}, LONG),
                  changed=False, now=t + timedelta(days=9), policy=policy)
    assert back.state == "archived" and back.failures == 0


def test_walls_keep_state_and_evidence() -> None:
    policy = Policy()
    t = datetime(2027, 1, 1)
    for body, status in (("<h1>Subscribe to continue reading</h1>", 200), ("", 429), ("", 403)):
        outcome = classify_response("http://h/a", "http://h/a", status, {"retry-after": "60"}, body)
        decision = decide(Known("changed", True, 0, None), outcome, changed=None, now=t, policy=policy)
        assert decision.state == "changed" and not decision.is_evidence and not decision.is_latest_good
        assert decision.failures == 0


def test_first_fetch_failures_retry_at_once_unless_told_to_wait() -> None:
    t = datetime(2027, 1, 1)
    timeout = decide(Known("pending", False), classify_failure("timeout"), changed=None, now=t, policy=Policy())
    assert timeout.state == "failed" and timeout.next_due == t
    limited = decide(Known("pending", False), classify_response("http://h/a", "http://h/a", 429, {"retry-after": "600"}),
                     changed=None, now=t, policy=Policy())
    assert limited.state == "failed" and limited.next_due == t + timedelta(minutes=10)


def test_durations() -> None:
    assert parse_duration("2w") == timedelta(days=14)
    assert parse_duration("90m") == timedelta(minutes=90)
