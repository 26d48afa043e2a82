"""Benchmark: ``citevault reindex`` against ``cdxj-indexer`` on the same WARC files.

1. Builds a data home whose WARCs look like a real archive, written with the crawl's own writer
   (``archive.warc.store.WarcStore`` + ``archive.warc.builder.RecordFactory``, the claims records with
   ``archive.ingest.write_document_record``): per document an article ``resource`` record and a claims
   record, and per cited source a fetch — ~85% ``200 text/html`` of ``--size-kb`` (a sixth of them sent
   ``Content-Encoding: gzip``), ~4% a 302 hop then a 200, ~4% ``404``, ~3% a failed fetch (``metadata``),
   ~4% ``application/pdf``, ~2% a paywall page (with the verdict record the crawl writes for it) — each
   response with its ``request`` record, plus one ``robots.txt`` per host. Records carry the fields the crawl
   writes (``Citevault-Source-ID``, ``-Source-URL``, ``-Crawl-ID``; claims with source ids, documents with
   ``check_every``). Files roll over at ``--file-mb``.
2. Times whole processes on the same files (wall clock; CPU time and peak RSS of the largest process of the
   tree from ``wait4``), ``--runs`` times each, interleaved, best run kept: ``cdxj-indexer FILES -o
   /dev/null``, and ``citevault --home COPY reindex --json`` on a copy of the data home with no database
   (the copy is made before the clock starts).
3. Prints records/s for both (all records in the files, for both tools: the same numerator), the ratio
   (target >= 2) and the peak RSS, and checks the rebuilt index's counts against what was written.

Usage::

    python bench/reindex.py                       # ~10,000 records, ~20 KB bodies
    python bench/reindex.py --records 2000 --runs 1   # smoke run
    python bench/reindex.py --records 200000 --keep DIR   # bigger set, kept for profiling
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from crawl_vs_wget import _vocabulary, make_page  # noqa: E402  (the page generator the crawl bench uses)

TARGET_RATIO = 2.0
PAYWALL = (b"<html><head><title>Subscribe</title></head><body><h1>Subscribe to continue reading</h1>"
           b"<p>This article is for subscribers.</p></body></html>")
START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


# -- building the WARC set -----------------------------------------------------------------------------
@dataclass
class Built:
    records: int
    files: int
    bytes: int
    documents: int
    claims: int
    sources: int
    captures: int
    states: dict[str, int]  # what the rebuilt index must say about the sources


def _exchange(url: str, status: int, headers: list[tuple[str, str]], body: bytes, moment: datetime):  # type: ignore[no-untyped-def]
    from archive.warc.builder import HttpExchange

    return HttpExchange(
        url=url, status=status, reason={200: "OK", 302: "Found", 404: "Not Found"}.get(status, ""),
        protocol="HTTP/1.1", response_headers=[*headers, ("Content-Length", str(len(body)))], body=body,
        request_headers=[("User-Agent", "citevault/0.1.0 (+bench)"), ("Accept-Encoding", "gzip, deflate")],
        ip_address="127.0.0.1", fetched_at=moment,
    )


def build(home: Path, records: int, size_kb: float, file_mb: float, seed: int = 11) -> Built:
    """Write a data home of about ``records`` WARC records under ``home/warcs``."""
    from archive import ids
    from archive.ingest import ARTICLE_URN, write_document_record
    from archive.warc.builder import RecordFactory, citevault_fields
    from archive.warc.store import WarcStore

    rng = random.Random(seed)
    vocab = _vocabulary(random.Random(seed))
    clock = [START]

    def tick() -> datetime:
        clock[0] += timedelta(microseconds=rng.randint(200, 5000))
        return clock[0]

    factory = RecordFactory()
    store = WarcStore(home / "warcs", max_size=int(file_mb * 1_000_000), factory=factory, clock=lambda: clock[0])
    hosts = [f"http://127.0.1.{h}:8080" for h in range(1, 9)]
    fetches = max(10, int((records - 40) / (0.9 * 2.02)))  # 2 records a fetch, 90% of claims cite one
    documents = max(1, fetches // 800)
    per_doc = fetches // documents
    crawl_id = "bench" + "0" * 27
    counts = {"records": 0, "claims": 0, "captures": 0}
    states: dict[str, int] = {}
    cited: list[str] = []  # every tenth claim is unsourced
    pages = [make_page(i, 1000, int(size_kb * 1024), vocab, seed) for i in range(64)]

    def write(built_records: list[object]) -> None:
        store.write_group(built_records)
        counts["records"] += len(built_records)

    for d in range(documents):
        # the claim list: one claim per source, a few unsourced
        doc_urls = [f"{hosts[(d * per_doc + i) % len(hosts)]}/doc{d}/page{i}.html" for i in range(per_doc)]
        cited.extend(u for i, u in enumerate(doc_urls, 1) if i % 10)
        article = f"# Document {d}\n\n" + "\n".join(f"Claim {i} says so [{i}]({u})." for i, u in enumerate(doc_urls))
        data = article.encode()
        sha = hashlib.sha256(data).hexdigest()
        doc_id = ids.document_id_for_bytes_digest(sha)
        now = tick()
        from archive.warc.builder import sha1_b32

        art = factory.resource(ARTICLE_URN + doc_id, io.BytesIO(data), len(data), "text/markdown", now,
                               extra={"WARC-Citevault-Filename": f"doc{d}.md"}, sha1=sha1_b32(data))
        write([art.record])
        spool = tempfile.TemporaryFile()
        for i, url in enumerate(doc_urls, 1):
            text = " ".join(rng.choices(vocab, k=rng.randint(8, 20))).capitalize() + "."
            refs = [{"url": url, "id": ids.source_id(url), "anchor": str(i)}] if i % 10 else []
            spool.write(json.dumps({"id": ids.claim_id(doc_id, i), "position": i, "text": text, "quote": None,
                                    "sources": refs}).encode() + b"\n")
        counts["claims"] += len(doc_urls)
        doc = {"id": doc_id, "url": None, "title": f"Document {d}", "kind": "markdown", "origin": f"doc{d}.md",
               "sha256": sha, "status": "extracted", "added_at": now.replace(tzinfo=None), "claim_count": len(doc_urls),
               "check_every": 7 * 86400 if d % 2 else None}
        write_document_record(store, doc, spool, tick())
        counts["records"] += 1
        spool.close()

    for host in hosts:  # robots.txt, fetched once per host, no source
        body = b"User-agent: *\nDisallow: /private/\n"
        response, request = factory.exchange(_exchange(f"{host}/robots.txt", 200, [("Content-Type", "text/plain")], body, tick()),
                                             extra=citevault_fields(None, None, crawl_id))
        write([response.record, request.record])
        counts["captures"] += 1

    for n, url in enumerate(cited):
        sid = ids.source_id(url)
        fields = citevault_fields(url, None, crawl_id, sid)
        r = rng.random()
        if r < 0.03:
            failure = factory.failure(url, "connection refused", {"detail": "ConnectionRefusedError"}, tick(),
                                      extra=fields)
            write([failure.record])
            counts["captures"] += 1
            states["failed"] = states.get("failed", 0) + 1
            continue
        if r < 0.07:
            hop = _exchange(url, 302, [("Location", url + "?moved=1"), ("Content-Type", "text/html")], b"", tick())
            response, request = factory.exchange(hop, extra=fields)
            write([response.record, request.record])
            counts["captures"] += 1
            url = url + "?moved=1"
        verdict = None
        if r > 0.96:
            headers, body, status = [("Content-Type", "application/pdf")], b"%PDF-1.4\n" + pages[n % 64] * 2, 200
        elif r > 0.94:  # a paywall: a 200 the crawl does not take as evidence, so it writes its verdict down
            headers, body, status = [("Content-Type", "text/html")], PAYWALL, 200
            verdict = {"source_id": sid, "url": url, "state": "failed", "outcome": "paywall",
                       "detail": "a subscription wall instead of the page", "failures": 1}
        elif r > 0.92:
            headers, body, status = [("Content-Type", "text/html")], b"<html><p>Not found</p></html>", 404
        else:
            headers, body, status = [("Content-Type", "text/html; charset=utf-8")], pages[n % 64], 200
            if n % 6 == 0:
                headers.append(("Content-Encoding", "gzip"))
                body = gzip.compress(body, mtime=0)
        response, request = factory.exchange(_exchange(url, status, headers, body, tick()), extra=fields)
        write([response.record, request.record])
        counts["captures"] += 1
        state = "failed" if verdict is not None else ("gone" if status == 404 else "archived")
        states[state] = states.get(state, 0) + 1
        if verdict is not None:
            at = clock[0].replace(tzinfo=None)
            verdict.update(reason=verdict["detail"], first_failure=at.isoformat(), next_due=at.isoformat(),
                           last_fetched=at.isoformat(), evidence_capture=None, latest_good_capture=None,
                           at=at.isoformat())
            write([factory.state(url, verdict, tick(), extra=fields).record])
    store.close()
    files = sorted((home / "warcs").glob("*.warc.gz"))
    counts["records"] += len(files)  # warcinfo
    return Built(counts["records"], len(files), sum(f.stat().st_size for f in files), documents, counts["claims"],
                 len(set(cited)), counts["captures"] + documents, states)


# -- timing ------------------------------------------------------------------------------------------
@dataclass
class Timed:
    seconds: float
    cpu: float  # user + system seconds of the process and the children it waited for
    peak_rss: int
    returncode: int
    output: str


def run_timed(cmd: list[str], cwd: Path | None = None) -> Timed:
    """Run ``cmd``; wall clock, CPU time, and peak RSS of the largest process of its tree (``wait4``)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("CITEVAULT_HOME", None)
    env.pop("CITEVAULT_DB", None)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, cwd=cwd)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime  # wait4 counts the worker processes the CLI waited for too
    return Timed(elapsed, cpu, usage.ru_maxrss * 1024, proc.returncode, output.decode("utf-8", "replace"))


def citevault_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "citevault"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "archive.cli"]


def cdxj_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "cdxj-indexer"
    return [str(exe)] if exe.exists() else [shutil.which("cdxj-indexer") or "cdxj-indexer"]


def best(runs: list[Timed]) -> Timed:
    return min(runs, key=lambda t: t.seconds)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--records", type=int, default=10_000, help="about this many WARC records")
    p.add_argument("--size-kb", type=float, default=20, help="size of a typical HTML body")
    p.add_argument("--file-mb", type=float, default=50, help="WARC rollover size")
    p.add_argument("--runs", type=int, default=3, help="timed runs of each tool (the fastest is kept)")
    p.add_argument("--keep", metavar="DIR", help="build into DIR and keep it (reused if it has warcs/)")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="citevault-bench-reindex-"))
    try:
        source = Path(args.keep) if args.keep else tmp / "home"
        started = time.perf_counter()
        if args.keep and (source / "warcs").is_dir():
            built = None
            print(f"bench: reusing {source}")
        else:
            built = build(source, args.records, args.size_kb, args.file_mb)
            print(f"bench: wrote {built.records} records ({built.captures} captures, {built.documents} documents, "
                  f"{built.claims} claims, {built.sources} sources) in {built.files} files, "
                  f"{built.bytes / 1e6:.1f} MB, in {time.perf_counter() - started:.1f}s under {source}", flush=True)
        files = [str(f) for f in sorted((source / "warcs").glob("*.warc.gz"))]

        # Interleaved (cdxj-indexer, citevault, cdxj-indexer, ...): on a shared machine whose speed drifts,
        # both tools see the same conditions.
        cdxj_runs, ours = [], []
        for i in range(args.runs):
            cdxj_runs.append(run_timed([*cdxj_cmd(), *files, "-o", os.devnull]))
            if cdxj_runs[-1].returncode != 0:
                print(cdxj_runs[-1].output)
                return 1
            copy = tmp / f"copy{i}"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(source / "warcs", copy / "warcs")
            ours.append(run_timed([*citevault_cmd(), "--home", str(copy), "reindex", "--json"]))
            if ours[-1].returncode != 0:
                print(ours[-1].output)
                return 1
            keep_copy = copy
            print(f"bench: run {i + 1}: cdxj-indexer {cdxj_runs[-1].seconds:.2f}s, citevault {ours[-1].seconds:.2f}s "
                  f"({cdxj_runs[-1].seconds / ours[-1].seconds:.2f}x)", flush=True)
        stats = json.loads(ours[-1].output[ours[-1].output.index("{"):])
        records = stats["records"]
        c, o = best(cdxj_runs), best(ours)
        print(f"bench: {len(files)} files, {records} records, "
              f"{sum(os.path.getsize(f) for f in files) / 1e6:.1f} MB; best of {args.runs} runs, whole processes")
        print(f"{'tool':<16}{'seconds':>9}{'records/s':>12}{'CPU s':>8}{'peak RSS MB':>13}")
        for label, t in (("cdxj-indexer", c), ("citevault", o)):
            print(f"{label:<16}{t.seconds:>9.2f}{records / t.seconds:>12.0f}{t.cpu:>8.2f}{t.peak_rss / 1e6:>13.1f}")
        ratio = c.seconds / o.seconds
        print(f"ratio citevault/cdxj-indexer (records/s, wall clock): {ratio:.2f}x (target >= {TARGET_RATIO:.0f}x) "
              f"{'OK' if ratio >= TARGET_RATIO else 'BELOW TARGET'}; CPU time ratio {c.cpu / o.cpu:.2f}x; "
              f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        print(f"citevault's own figures (inside the process): {stats.get('seconds', 0):.2f}s, "
              f"{stats.get('records_per_second', 0):.0f} records/s; counts {json.dumps(stats.get('counts', {}))}")
        if built is not None:
            counts = stats.get("counts", {})
            expect = {"documents": built.documents, "claims": built.claims, "sources": built.sources,
                      "captures": built.captures}
            wrong = {k: (counts.get(k), v) for k, v in expect.items() if counts.get(k) != v}
            print("counts check: " + ("OK" if not wrong else f"MISMATCH (got, expected) {wrong}"))
            db = keep_copy / "citevault.sqlite"
            import sqlite3

            conn = sqlite3.connect(db)
            rebuilt = dict(conn.execute("SELECT state, COUNT(*) FROM sources GROUP BY state").fetchall())
            conn.close()
            print("states check: " + ("OK" if rebuilt == built.states else
                                      f"MISMATCH (got, expected) {rebuilt} {built.states}"))
            print(f"index size: {db.stat().st_size / 1e6:.1f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
