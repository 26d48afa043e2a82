"""kill -9 in the middle of a crawl: closed WARCs stay valid, the .open file is repaired on the next start,
the index matches the WARCs, and the next crawl captures what is missing and nothing twice.

The crawl is two processes (archive/crawl/recorder_process.py): the crawler and its recorder. Killing both (the
process group), only the crawler, or only the recorder must each leave evidence that the next crawl can
complete.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Callable

import psutil
import pytest

from tests.helpers import CLI, citevault, db, read_records, warc_files
from tests.server import SiteServer

SOURCES = 80


def _response_uris(home: Path) -> Counter[str]:
    return Counter(r["uri"] for f in warc_files(home) for r in read_records(f) if r["type"] == "response")


def _archived(home: Path) -> int:
    conn = db(home)
    try:
        return conn.execute("SELECT COUNT(*) FROM sources WHERE state = 'archived'").fetchone()[0]
    finally:
        conn.close()


def _start_slow_crawl(site_url: str, tmp_path: Path) -> tuple[Path, list[str], subprocess.Popen[bytes]]:
    claims = tmp_path / "slow.jsonl"
    urls = [f"{site_url}/slow?seconds=0.4&n={n}&case={tmp_path.name}" for n in range(SOURCES)]
    claims.write_text("".join(json.dumps({"text": f"Claim {n}.", "sources": [u]}) + "\n" for n, u in enumerate(urls)))
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0
    # Small WARC files so some are closed (renamed) before the kill; flush often so some rows are indexed.
    proc = subprocess.Popen(
        [*CLI, "--home", str(home), "crawl", "-s", "CITEVAULT_WARC_MAX_SIZE=1000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the crawl ended before it could be killed: make it slower"
        # Kill mid-file: some sources indexed, and a WARC file still being written.
        if _archived(home) >= 10 and any(f.name.endswith(".open") for f in warc_files(home)):
            break
        time.sleep(0.05)
    return home, urls, proc


def _recorder_of(proc: subprocess.Popen[bytes]) -> psutil.Process:
    children = [c for c in psutil.Process(proc.pid).children() if "resource_tracker" not in " ".join(c.cmdline())]
    assert len(children) == 1, children
    return children[0]


def _wait_gone(process: psutil.Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"{process} still running")


def _warcio_check(files: list[Path]) -> None:
    """``warcio check`` on every file, in one process (one per file costs ~1 s each on a busy machine)."""
    if files:
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, files)],
                               capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stdout


def _resume_and_check(home: Path, urls: list[str], *, repaired: bool) -> None:
    """The next crawl completes the job: every source archived, each URL fetched exactly once overall."""
    _warcio_check([f for f in warc_files(home) if not f.name.endswith(".open")])
    result = citevault(home, "crawl")
    assert result.code == 0, result
    assert ("repaired" in result.err) is repaired, result
    files = warc_files(home)
    assert files and not any(f.name.endswith(".open") for f in files)
    _warcio_check(files)
    seen = _response_uris(home)
    assert all(seen[u] == 1 for u in urls), {u: seen[u] for u in urls if seen[u] != 1}
    conn = db(home)
    assert [r[0] for r in conn.execute("SELECT DISTINCT state FROM sources")] == ["archived"]
    # The index holds exactly the response records the WARCs hold.
    indexed = Counter(r["url"] for r in conn.execute("SELECT url FROM captures WHERE record_type = 'response'"))
    assert indexed == seen


def _kill(proc: subprocess.Popen[bytes], target: Callable[[], None]) -> str:
    """Kill, wait for the crawler to exit; returns what it wrote on stderr."""
    target()
    assert proc.stderr is not None
    err = proc.stderr.read().decode()  # EOF once every process holding the pipe is gone
    proc.stderr.close()
    proc.wait(timeout=60)
    return err


def test_kill_9_then_resume(site_url: str, tmp_path: Path) -> None:
    """Both processes killed at once: an .open file stays behind and is repaired by the next crawl."""
    home, urls, proc = _start_slow_crawl(site_url, tmp_path)
    _kill(proc, lambda: os.killpg(proc.pid, signal.SIGKILL))
    assert any(f.name.endswith(".open") for f in warc_files(home)), "killed before anything was written"
    assert 0 < _archived(home) < SOURCES
    _resume_and_check(home, urls, repaired=True)


def test_crawler_killed_recorder_finishes(site_url: str, tmp_path: Path) -> None:
    """Only the crawler killed: the recorder writes what it was sent, closes its file, ends the crawl."""
    home, urls, proc = _start_slow_crawl(site_url, tmp_path)
    recorder = _recorder_of(proc)
    _kill(proc, lambda: os.kill(proc.pid, signal.SIGKILL))
    _wait_gone(recorder)
    assert not any(f.name.endswith(".open") for f in warc_files(home)), "the recorder left its file open"
    conn = db(home)
    finished = conn.execute("SELECT COUNT(*) FROM crawls WHERE finished_at IS NULL").fetchone()[0]
    leased = conn.execute("SELECT COUNT(*) FROM sources WHERE lease_owner IS NOT NULL").fetchone()[0]
    conn.close()
    assert (finished, leased) == (0, 0)
    assert 0 < _archived(home) < SOURCES
    _resume_and_check(home, urls, repaired=False)


#: When the crawler is killed, in seconds after its first request for a source: one crawl per delay, each
#: resuming the one before. Pages take 0.25 s, four at a time, so answers arrive in waves 0.25 s apart; a
#: step of 0.09 s puts the kills at every phase of a wave (before, between and after a page's record and
#: its verdict leave the crawler) over the first five waves of a crawl.
KILL_DELAYS = tuple(round(0.2 + 0.09 * k, 2) for k in range(12))
MANY_SOURCES = 180  # the killed crawls fetch ~90, at most 4 a wave for 39 waves: the last crawl has work left


def _requested(server: SiteServer, case: str) -> int:
    return sum(case in r.path for r in list(server.requests))


def test_crawler_killed_at_many_points(site_server: SiteServer, tmp_path: Path) -> None:
    """The crawler killed again and again (its recorder survives each time), each crawl resuming the last.

    A page's records and its source's verdict reach the recorder in separate batches when a flush falls
    between them; the recorder then settles the source itself when its input ends, so no crawl fetches a
    page twice, and the last one completes the job."""
    case = f"case={tmp_path.name}"
    urls = [f"{site_server.base_url}/slow?seconds=0.25&n={n}&{case}" for n in range(MANY_SOURCES)]
    claims = tmp_path / "many.jsonl"
    claims.write_text("".join(json.dumps({"text": f"Claim {n}.", "sources": [u]}) + "\n" for n, u in enumerate(urls)))
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0
    killed = 0
    for delay in KILL_DELAYS:
        before = _requested(site_server, case)
        proc = subprocess.Popen([*CLI, "--home", str(home), "crawl", "--concurrency", "4"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 60
        while proc.poll() is None and _requested(site_server, case) == before:  # timed from its first fetch
            assert time.monotonic() < deadline, "the crawl fetched nothing in 60 s"
            time.sleep(0.01)
        time.sleep(delay)
        if proc.poll() is None:
            killed += 1
            err = _kill(proc, lambda p=proc: os.kill(p.pid, signal.SIGKILL))  # returns once the recorder is gone too
        else:
            err = _kill(proc, lambda: None)
            assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        # The recorder settled what it wrote: the next crawl's start finds nothing left to settle.
        assert "repaired" not in err and "settled" not in err, err
        assert not any(f.name.endswith(".open") for f in warc_files(home)), "the recorder left its file open"
        seen = _response_uris(home)
        assert all(seen[u] <= 1 for u in urls), {u: seen[u] for u in urls if seen[u] > 1}
    assert killed >= len(KILL_DELAYS) - 2, "the crawls ended before their kill: make the job longer"
    assert 0 < _archived(home) < MANY_SOURCES, "the killed crawls fetched nothing, or everything"
    _resume_and_check(home, urls, repaired=False)


def test_recorder_killed_crawl_stops(site_url: str, tmp_path: Path) -> None:
    """Only the recorder killed: the crawl stops with a one-line error and exit 1."""
    home, urls, proc = _start_slow_crawl(site_url, tmp_path)
    err = _kill(proc, lambda: _recorder_of(proc).kill())
    assert proc.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: crawl stopped: ") and "recorder process" in last, err
    assert "Traceback" not in err, err
    assert 0 < _archived(home) < SOURCES
    _resume_and_check(home, urls, repaired=True)


def test_ctrl_c_twice_keeps_what_was_fetched(site_url: str, tmp_path: Path) -> None:
    """A forced stop (SIGINT twice, as a terminal sends it to the group): what was fetched is recorded,
    the file closed, the leases released; exit 1 with one line; the next crawl fetches the rest."""
    home, urls, proc = _start_slow_crawl(site_url, tmp_path)

    def twice() -> None:
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)

    err = _kill(proc, twice)
    assert proc.returncode == 1, err
    assert err.strip().splitlines()[-1].startswith("Error: crawl interrupted: "), err
    assert "Traceback" not in err, err
    assert not any(f.name.endswith(".open") for f in warc_files(home))
    conn = db(home)
    leased = conn.execute("SELECT COUNT(*) FROM sources WHERE lease_owner IS NOT NULL").fetchone()[0]
    conn.close()
    assert leased == 0
    assert 0 < _archived(home) < SOURCES
    _resume_and_check(home, urls, repaired=False)


# -- a recorder whose input ends before the verdicts: in-process, no crawl --------------------------------------
_AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
_LONG = "<html><body>" + "<p>The barrier was finished in 2019 and it held.</p>" * 120 + "</body></html>"
#: name → the final response (status, headers, page) or the failure reason; "home" first takes a redirect hop.
_FETCHES: dict[str, tuple[int, list[tuple[str, str]], str] | str] = {
    "ok": (200, [("Content-Type", "text/html; charset=utf-8")], _LONG),
    "soft": (200, [("Content-Type", "text/html")], "<html><title>Oops</title><h1>Page not found</h1></html>"),
    "gzip-soft": (200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], "<h1>Not found</h1>"),
    "wall": (200, [("Content-Type", "text/html")], "<form><input type=password name=p></form>"),
    "captcha": (403, [("Content-Type", "text/html")], "<h1>Are you a robot?</h1>"),
    "limited": (429, [("Retry-After", "3600")], ""),
    "gone": (404, [("Content-Type", "text/html")], "<h1>Not found</h1>"),
    "broken": (500, [], ""),
    "home": (200, [("Content-Type", "text/html")], _LONG),
    "timeout": "timeout",
}


def _crawl_by_hand(home: Path, *, verdicts: bool) -> None:
    """One crawl of the sources of ``home`` through a Recorder in this process, each answered as
    :data:`_FETCHES` says; ``verdicts``: send each source's verdict as the spider does, else none (the
    crawler died before it could)."""
    import gzip

    from archive import clock
    from archive.api import Archive
    from archive.crawl import frontier
    from archive.crawl.recorder import Recorder
    from archive.ids import capture_id
    from archive.recheck.outcomes import classify_failure, classify_response
    from archive.warc.builder import HttpExchange

    archive = Archive.open(str(home))
    engine = archive.engine()
    recorder = Recorder(archive.home, engine, crawl_id="by-hand")
    for target in frontier.claim_sources(engine, "by-hand", clock.schedule_now()):
        name = target.url.rsplit("/", 1)[1]
        answer = _FETCHES[name]
        done = {"known": target.known, "url": target.url}
        if isinstance(answer, str):
            recorder.record_failure(target.url, answer, record_id=recorder.new_record_id(), source_url=target.url,
                                    document_id=None, moment=_AT)
            if verdicts:
                recorder.source_done(target.source_id, classify_failure(answer), _AT, **done)
            continue
        final_url = target.url
        if name == "home":  # a redirect to the site's home page: a soft 404
            final_url = target.url.rsplit("/", 2)[0] + "/"
            hop = HttpExchange(url=target.url, status=301, reason="Moved", protocol="HTTP/1.1", body=b"",
                               response_headers=[("Location", final_url)], fetched_at=_AT - timedelta(seconds=1))
            recorder.record_exchange(hop, record_id=recorder.new_record_id(), source_url=target.url, document_id=None,
                                     redirect_to=final_url)
        status, headers, page = answer
        body = gzip.compress(page.encode()) if ("Content-Encoding", "gzip") in headers else page.encode()
        record_id = recorder.new_record_id()
        exchange = HttpExchange(url=final_url, status=status, reason="-", protocol="HTTP/1.1", body=body,
                                response_headers=headers, fetched_at=_AT)
        recorder.record_exchange(exchange, record_id=record_id, source_url=target.url, document_id=None, fresh=True)
        if verdicts:  # what crawler/spiders/evidence.py sends: the page as decoded text
            retry = {k.lower(): v for k, v in headers if k == "Retry-After"}
            outcome = classify_response(target.url, final_url, status, retry, page)
            recorder.source_done(target.source_id, outcome, _AT, capture_id(record_id), **done)
    stats = recorder.close()
    archive.close()
    assert stats.errors == [], stats.errors


def _settled(home: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Sources (capture ids as the URL they captured) and their history, comparable across data homes."""
    conn = db(home)
    try:
        sources = [tuple(r) for r in conn.execute(
            "SELECT s.url, s.state, s.failures, s.first_failure, s.reason, s.next_due, s.last_fetched, e.url, l.url, "
            "s.lease_owner FROM sources s LEFT JOIN captures e ON e.id = s.evidence_capture "
            "LEFT JOIN captures l ON l.id = s.latest_good_capture ORDER BY s.url")]
        events = [tuple(r) for r in conn.execute(
            "SELECT s.url, e.at, e.state, e.outcome, c.url, e.crawl_id, e.detail FROM source_events e "
            "JOIN sources s ON s.id = e.source_id LEFT JOIN captures c ON c.id = e.capture_id ORDER BY s.url, e.id")]
    finally:
        conn.close()
    return sources, events


def test_recorder_settles_fetches_whose_verdict_never_came(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records written, verdicts never sent (the crawler died between two batches): when its input ends the
    recorder settles each source as the verdict would have, walls, soft 404s and Retry-After included."""
    monkeypatch.setenv("CITEVAULT_NOW", "2026-11-02T10:00:00")  # the schedule clock, the same in both runs
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps({"text": f"Claim {n}.", "sources": [f"http://example.test/a/{name}"]}) + "\n"
                              for n, name in enumerate(_FETCHES)))
    homes = {}
    for verdicts in (True, False):
        homes[verdicts] = home = tmp_path / f"verdicts-{verdicts}"
        assert citevault(home, "add", str(claims)).code == 0
        _crawl_by_hand(home, verdicts=verdicts)
    sent, left = _settled(homes[True]), _settled(homes[False])
    assert {r[1] for r in sent[0]} == {"archived", "failed", "gone"}, sent[0]  # the cases decide differently
    assert left == sent
    # Verdicts not derivable from the status alone were written down, so a rebuild keeps them.
    rebuilt = citevault(homes[False], "reindex", "--force")
    assert rebuilt.code == 0, rebuilt
    assert _settled(homes[False])[0] == sent[0]


def test_crawl_start_settles_fetches_no_recorder_settled(tmp_path: Path) -> None:
    """A fetch in the index whose source was never settled (the recorder died too, or the data home is
    from before recorders settled what their input left): the next crawl's start settles it, by the rules
    of ``reindex``, which give what the verdict gave whenever the status decides it. A source a live crawl
    holds is left to that crawl."""
    from archive.api import Archive
    from archive.integrity.catch_up import recover
    from crawler.session import recovery_lines

    claims = tmp_path / "claims.jsonl"
    names = ("ok", "gone", "broken", "timeout")
    claims.write_text("".join(json.dumps({"text": f"Claim {n}.", "sources": [f"http://example.test/a/{name}"]}) + "\n"
                              for n, name in enumerate(names)))  # their verdicts follow from their status
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0
    _crawl_by_hand(home, verdicts=True)
    settled = _settled(home)
    conn = db(home)
    conn.execute("UPDATE sources SET state = 'pending', failures = 0, first_failure = NULL, reason = NULL, "
                 "next_due = NULL, last_fetched = NULL, evidence_capture = NULL, latest_good_capture = NULL")
    conn.execute("DELETE FROM source_events")
    conn.execute("INSERT INTO crawls (id, started_at, finished_at, requested, archived, failed, pid, host) "
                 "VALUES ('live', '2026-11-02 09:00:00', NULL, 0, 0, 0, ?, ?)",
                 (os.getpid(), socket.gethostname()))
    conn.execute("UPDATE sources SET lease_owner = 'live', lease_until = '2999-01-01 00:00:00' WHERE url LIKE '%/ok'")
    conn.commit()

    def start() -> list[str]:
        archive = Archive.open(str(home))
        try:
            return recovery_lines(recover(archive.home, archive.engine()))
        finally:
            archive.close()

    assert start() == ["citevault: settled 3 sources that a killed crawl fetched but never settled"]
    # The crawl holding it died (no pid: dead), its lease not yet released: the source is settled all the same.
    conn.execute("UPDATE crawls SET pid = NULL WHERE id = 'live'")
    conn.commit()
    assert start() == ["citevault: settled 1 source that a killed crawl fetched but never settled"]
    assert start() == []
    assert _settled(home) == settled
    conn.close()


# -- one Ctrl-C, and a crawl that finds its sources held by another --------------------------------------------
def _slow_home(site_url: str, tmp_path: Path, seconds: float) -> tuple[Path, list[str]]:
    urls = [f"{site_url}/slow?seconds={seconds}&n={n}&case={tmp_path.name}" for n in range(SOURCES)]
    claims = tmp_path / "slow.jsonl"
    claims.write_text("".join(json.dumps({"text": f"Claim {n}.", "sources": [u]}) + "\n" for n, u in enumerate(urls)))
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0
    return home, urls


def test_ctrl_c_once_stops_gracefully(site_url: str, tmp_path: Path) -> None:
    """One SIGINT: a line at once (stopping, requests in flight, Ctrl-C again to stop now); the requests in
    flight finish; the summary names what is left pending and `citevault crawl`; exit 1; the next crawl
    fetches the rest, no URL twice."""
    home, urls = _slow_home(site_url, tmp_path, 0.4)
    # --concurrency 4: the downloader holds 4 requests, so most sources are still unfetched at the signal.
    proc = subprocess.Popen([*CLI, "--home", str(home), "crawl", "--concurrency", "4"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while _archived(home) < 5:
        assert proc.poll() is None and time.monotonic() < deadline, "the crawl ended before the signal"
        time.sleep(0.05)
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            lines.append((time.monotonic(), raw.decode()))

    reader = threading.Thread(target=read)
    reader.start()
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: to the whole group
    proc.wait(timeout=120)
    reader.join(timeout=60)
    assert proc.stderr is not None
    proc.stderr.close()
    err = "".join(line for _, line in lines)
    assert proc.returncode == 1, err
    assert "Traceback" not in err, err
    stopping = [(at, line) for at, line in lines if line.startswith("citevault: stopping: ")]
    assert len(stopping) == 1, err
    assert re.fullmatch(r"citevault: stopping: waiting for \d+ requests? in flight; Ctrl-C again to stop now\n",
                        stopping[0][1]), err
    assert stopping[0][0] - sent < 10, err  # at once, not when the crawl ends (generous: 2 shared cores)
    summary = next(line for _, line in lines if line.startswith("citevault: stopped by Ctrl-C after "))
    pending = SOURCES - _archived(home)
    assert pending > 0, err
    assert f"; {pending} sources left pending: `citevault crawl` fetches them" in summary, err
    assert err.strip().splitlines()[-1].startswith("Error: crawl interrupted: "), err
    assert not any(f.name.endswith(".open") for f in warc_files(home))
    _resume_and_check(home, urls, repaired=False)


def test_second_crawl_names_the_crawl_holding_the_sources(site_url: str, tmp_path: Path) -> None:
    """Every pending source leased by a running crawl: a second crawl says which crawl (pid, host) is
    fetching how many, instead of "nothing to fetch", and exits 0."""
    home, urls = _slow_home(site_url, tmp_path, 1.0)
    first = subprocess.Popen([*CLI, "--home", str(home), "crawl", "--concurrency", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert first.poll() is None and time.monotonic() < deadline, "the first crawl never leased its sources"
            conn = db(home)
            leased = conn.execute("SELECT COUNT(*) FROM sources s JOIN crawls c ON c.id = s.lease_owner "
                                  "WHERE c.pid IS NOT NULL").fetchone()[0]
            conn.close()
            if leased == SOURCES:
                break
            time.sleep(0.05)
        second = citevault(home, "crawl")
        assert first.poll() is None, "the first crawl ended too soon: make the pages slower"
        assert second.code == 0, second
        found = re.search(r"nothing to fetch here: another crawl \(pid (\d+) on (\S+)\) is fetching (\d+) sources",
                          second.err)
        assert found, second
        # The crawls table names the process that registered the crawl: the crawler, or its recorder.
        pids = {first.pid, *(c.pid for c in psutil.Process(first.pid).children())}
        assert int(found[1]) in pids and found[2] == socket.gethostname(), second
        assert 0 < int(found[3]) <= SOURCES, second
        assert "nothing to fetch;" not in second.err, second
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=60)
