"""Benchmark: ``citevault lookup`` start-up and query time on a large index.

1. Builds (or reuses) a data home of N synthetic claims (default 1,000,000) citing M sources (default
   200,000) through the library's bulk path, ``Archive.open(home).add([claims.jsonl])``, in a child
   process, and prints build time, claims/s, peak RSS of that process and the DB size. Nothing is crawled:
   the cited URLs (``http://127.0.0.1:9/src/{n}.html``) are never fetched.
2. Times whole processes (wall clock, ``--runs`` runs after ``--warmup`` warm-ups, median and p90):
   ``citevault --home H lookup "WORDS" --json``, ``citevault --home H lookup URL --json`` and the floor
   ``python -c "import sqlalchemy.orm, click"``, and prints lookup/floor ratios (target <= 1.3).

3. Times ``citevault status --json`` as a whole process, the web UI's document page (in-process, through
   the app) and, in process, a lookup of the most common word ("the"): targets 300 ms, 300 ms, and no
   seconds (the ranking is bounded, archive.index.search.RANK_BOUND).

``--db URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/bench``, an empty database) puts the index
in that database instead of the home's SQLite file; every step is the same.

Usage::

    python bench/lookup.py                      # build in a temp dir (deleted afterwards) and time
    python bench/lookup.py --db postgresql+psycopg://…/bench --keep DIR     # the same on PostgreSQL
    python bench/lookup.py --keep DIR           # build into DIR (kept) and time
    python bench/lookup.py --reuse DIR          # time an index built earlier with --keep
    python bench/lookup.py --claims 20000 --sources 4000 --runs 5   # quick smoke run
    python bench/lookup.py --profile-build build.prof ...           # cProfile the add (child process)

The console script timed (and held to the target) is the one pip installed next to ``sys.executable``;
``citevault`` on PATH, when it is another file, and any ``--script FILE`` (e.g. a pyenv shim) are timed
too and shown for information.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any, Sequence

TARGET_RATIO = 1.3
FLOOR_CODE = "import sqlalchemy.orm, click"
URL_TEMPLATE = "http://127.0.0.1:9/src/{n}.html"
DB_FILENAME = "citevault.sqlite"

# -- synthetic claims ---------------------------------------------------------------------------------
# Sentences are assembled from slots; each slot has its own word list, so a query of two or three content
# words matches a few hundred to a few thousand claims out of a million (FTS has real selectivity).
_SUBJECTS = """ministry council agency regulator court parliament committee commission senate mayor governor
police university hospital company union board tribunal authority inspectorate ombudsman treasury bank
observatory institute charity coalition cabinet assembly prosecutor auditor watchdog""".split()
_VERBS = """approved rejected announced reported confirmed denied estimated published reviewed postponed
cancelled doubled halved raised cut delayed audited investigated funded blocked endorsed criticised
extended suspended restored""".split()
_OBJECTS = """budget contract tariff subsidy pension salary loan grant tax levy fine settlement reform
programme pipeline bridge railway airport harbour reservoir dam school clinic vaccine drug licence permit
merger strike census survey forecast inquiry election referendum ceasefire treaty embargo quota""".split()
_TOPICS = """housing drought flooding wildfire heatwave inflation unemployment migration tourism fisheries
mining forestry energy broadband transport healthcare education pollution recycling agriculture
shipping aviation cybersecurity biodiversity""".split()
_PLACES = """northern southern eastern western coastal rural urban metropolitan provincial regional
municipal federal national""".split()
_QUALIFIERS = """record unprecedented modest significant controversial temporary permanent emergency
annual quarterly preliminary revised final disputed""".split()
_UNITS = """million billion percent tonnes hectares kilometres households patients students workers
""".split()
_TEMPLATES = (
    "The {place} {subject} {verb} a {qual} {obj} for {topic} worth {num} {unit} in {year}.",
    "In {year}, the {subject} {verb} the {obj} after {topic} costs rose by {num} {unit}.",
    "According to the {subject}, {topic} spending on the {place} {obj} was {verb} by {num} {unit}.",
    "{Subject} officials said the {qual} {obj} affecting {num} {unit} of {topic} was {verb} in {year}.",
    "A {qual} report by the {place} {subject} found that {topic} {obj} figures were {verb} in {year}.",
)


def _sentence(rng: random.Random) -> str:
    subject = rng.choice(_SUBJECTS)
    return rng.choice(_TEMPLATES).format(
        place=rng.choice(_PLACES), subject=subject, Subject=subject.capitalize(), verb=rng.choice(_VERBS),
        qual=rng.choice(_QUALIFIERS), obj=rng.choice(_OBJECTS), topic=rng.choice(_TOPICS),
        num=rng.choice((rng.randint(2, 99), round(rng.uniform(1, 20), 1))), unit=rng.choice(_UNITS),
        year=rng.randint(1990, 2026),
    )


def write_claims(path: Path, n_claims: int, n_sources: int, seed: int) -> int:
    """Write ``n_claims`` JSONL rows citing 1–3 of ``n_sources`` URLs each (every source cited at least
    once when n_claims >= n_sources); returns the byte size. Streams: nothing is held in memory."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n_claims):
            k = rng.choice((1, 1, 2, 2, 2, 3))
            first = i % n_sources  # covers every source
            picks = [first] + [rng.randrange(n_sources) for _ in range(k - 1)]
            urls = [URL_TEMPLATE.format(n=n) for n in dict.fromkeys(picks)]
            out.write(json.dumps({"text": _sentence(rng), "sources": urls}) + "\n")
    return path.stat().st_size


# -- build --------------------------------------------------------------------------------------------
_BUILD_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    home, path, prof, db = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] or None
    t0 = time.perf_counter()
    from archive.api import Archive
    def run():
        archive = Archive.open(home, db)
        try:
            return archive.add([path])
        finally:
            archive.close()
    if prof:
        import cProfile
        profiler = cProfile.Profile()
        results = profiler.runcall(run)
        profiler.dump_stats(prof)
    else:
        results = run()
    seconds = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "maxrss_kb": rss_kb, "added": [r.as_json() for r in results]}))
    """
)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def build(home: Path, n_claims: int, n_sources: int, seed: int, profile: str | None, db: str | None = None) -> None:
    work = home.parent / f"{home.name}-input"
    work.mkdir(parents=True, exist_ok=True)
    claims = work / "claims.jsonl"
    t0 = time.perf_counter()
    size = write_claims(claims, n_claims, n_sources, seed)
    print(f"generated {n_claims:,} claims citing {n_sources:,} sources: {claims} ({_mb(size)}) "
          f"in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _BUILD_CHILD, str(home), str(claims), profile or "", db or ""],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"build failed (exit {proc.returncode}):\n{proc.stderr}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"build: {report['seconds']:.1f}s in add() ({wall:.1f}s process), "
          f"{n_claims / report['seconds']:,.0f} claims/s, peak RSS {report['maxrss_kb'] / 1024:,.0f} MiB")
    if db:
        print(f"       DB {db}, WARCs {_mb(_du(home / 'warcs'))}; added {report['added']}")
    else:
        db_size = sum(p.stat().st_size for p in home.glob(DB_FILENAME + "*"))
        print(f"       DB {home / DB_FILENAME} {_mb(db_size)} (with -wal/-shm), WARCs {_mb(_du(home / 'warcs'))}; "
              f"added {report['added']}")
    if profile:
        print(f"       cProfile of the add written to {profile}")
    claims.unlink()
    work.rmdir()


# -- queries ------------------------------------------------------------------------------------------
def pick_queries(db: Path, seed: int) -> tuple[str, int, str, int]:
    """Words matching some claims (tens to a few thousand) and a URL cited by a few (2–6) claims."""
    rng = random.Random(seed)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        max_rowid = con.execute("SELECT MAX(rowid) FROM claims").fetchone()[0]
        words, n_words = "", 0
        for _ in range(200):
            text = con.execute("SELECT text FROM claims WHERE rowid >= ? LIMIT 1",
                               (rng.randint(1, max_rowid),)).fetchone()[0]
            content = [w.strip(".,").lower() for w in text.split()]
            content = [w for w in content if w.isalpha() and len(w) > 3 and w not in ("according", "officials")]
            candidate = " ".join(rng.sample(content, 3 if rng.random() < 0.5 else 2))
            fts = " ".join(f'"{w}"' for w in candidate.split())
            n = con.execute("SELECT COUNT(*) FROM claims_fts WHERE claims_fts MATCH ?", (fts,)).fetchone()[0]
            if 20 <= n <= 5000:
                words, n_words = candidate, n
                break
        max_src = con.execute("SELECT MAX(rowid) FROM sources").fetchone()[0]
        url, n_url = "", 0
        for _ in range(200):
            sid, candidate = con.execute("SELECT id, url FROM sources WHERE rowid >= ? LIMIT 1",
                                         (rng.randint(1, max_src),)).fetchone()
            n = con.execute("SELECT COUNT(*) FROM citations WHERE source_id = ?", (sid,)).fetchone()[0]
            if 2 <= n <= 6:
                url, n_url = candidate, n
                break
    finally:
        con.close()
    if not words or not url:
        sys.exit("could not find benchmark queries in the index (too small?); pass --words and --url")
    return words, n_words, url, n_url


def pick_queries_pg(db: str, seed: int) -> tuple[str, int, str, int]:
    """:func:`pick_queries` on a PostgreSQL index (matches counted through its GIN index)."""
    from sqlalchemy import text

    from archive.index.db import make_engine
    from archive.index.search import parse, tsquery

    rng = random.Random(seed)
    engine = make_engine(db)
    with engine.connect() as con:
        n_claims = con.execute(text("SELECT COUNT(*) FROM claims")).scalar() or 0
        texts = [r[0] for r in con.execute(text("SELECT text FROM claims OFFSET :o LIMIT 200"),
                                           {"o": rng.randint(0, max(0, n_claims - 200))})]
        words, n_words = "", 0
        for claim in texts:
            content = [w.strip(".,").lower() for w in claim.split()]
            content = [w for w in content if w.isalpha() and len(w) > 3 and w not in ("according", "officials")]
            candidate = " ".join(rng.sample(content, 3 if rng.random() < 0.5 else 2))
            n = con.execute(text("SELECT COUNT(*) FROM claims WHERE citevault_claim_words(text, quote) @@ "
                                 "to_tsquery('simple', :q)"), {"q": tsquery(parse(candidate))}).scalar() or 0
            if 20 <= n <= 5000:
                words, n_words = candidate, n
                break
        n_sources = con.execute(text("SELECT COUNT(*) FROM sources")).scalar() or 0
        url, n_url = "", 0
        for _ in range(200):
            sid, candidate = con.execute(text("SELECT id, url FROM sources OFFSET :o LIMIT 1"),
                                         {"o": rng.randrange(max(1, n_sources))}).one()
            n = con.execute(text("SELECT COUNT(*) FROM citations WHERE source_id = :s"), {"s": sid}).scalar() or 0
            if 2 <= n <= 6:
                url, n_url = candidate, n
                break
    engine.dispose()
    if not words or not url:
        sys.exit("could not find benchmark queries in the index (too small?); pass --words and --url")
    return words, n_words, url, n_url


def query_plans_pg(db: str, words: str) -> None:
    """EXPLAIN ANALYZE of the full-text statement as archive.index.search issues it on PostgreSQL."""
    from sqlalchemy import text

    from archive.index.db import make_engine
    from archive.index.search import _POSTGRES, RANK_BOUND, parse, tsquery

    engine = make_engine(db)
    with engine.connect() as con:
        for label, query in (("words", words), ("the", "the")):
            plan = con.execute(text("EXPLAIN ANALYZE " + _POSTGRES),
                               {"q": tsquery(parse(query)), "bound": RANK_BOUND, "n": 20}).all()
            print(f"plan ({label}):\n" + "\n".join("   " + r[0] for r in plan))
    engine.dispose()


def operations(home: Path, db: str | None, runs: int, env: dict[str, str]) -> None:
    """``citevault status --json`` as whole processes (informational: the import floor alone is most of
    it) and in process, the web UI's document page in process, and a lookup of "the" in process: medians
    against the 300 ms target (status and the page, in process)."""
    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import create_app

    argv = [str(Path(sys.executable).parent / "citevault"), "--home", str(home), *(["--db", db] if db else []),
            "status", "--json"]
    status = [_run(argv, env)[0] for _ in range(runs)]
    archive = Archive.open(str(home), db)
    try:
        doc = archive.documents()[0]["id"]
        with TestClient(create_app(archive)) as client:
            page = []
            for _ in range(runs + 1):
                t0 = time.perf_counter()
                response = client.get(f"/documents/{doc}")
                page.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.status_code
        status_in = []
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            archive.status()
            status_in.append(time.perf_counter() - t0)
        common = []
        for _ in range(runs):
            t0 = time.perf_counter()
            archive.lookup("the")
            common.append(time.perf_counter() - t0)
    finally:
        archive.close()
    for label, values in (("citevault status --json (process)", status),
                          ("Archive.status() (in process)", status_in[1:]),
                          ("web UI document page (in process)", page[1:]),
                          ('lookup "the" (in process)', common)):
        med = statistics.median(values)
        target = "" if "process)" in label and "in process" not in label or label.startswith("lookup") else \
            f"  target 300 ms: {'met' if med <= 0.3 else 'MISSED'}"
        print(f"  {label:<40} median {med * 1000:7.1f} ms  p90 {p90(values) * 1000:7.1f} ms{target}")


def query_plans(db: Path, words: str, url: str) -> None:
    """EXPLAIN QUERY PLAN of the two lookup statements (as archive.index.lookup issues them)."""
    from archive.index.search import RANK_BOUND, fts5_query, parse

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    statements = {
        "words": ("SELECT c.id FROM (SELECT rowid, rank FROM claims_fts WHERE claims_fts MATCH ? LIMIT ?) f "
                  "JOIN claims c ON c.rowid = f.rowid ORDER BY f.rank, c.id LIMIT 20",
                  (fts5_query(parse(words)), RANK_BOUND)),
        "url": ("SELECT ci.claim_id FROM sources s JOIN citations ci ON ci.source_id = s.id "
                "JOIN claims c ON c.id = ci.claim_id WHERE s.url = ? "
                "ORDER BY c.document_id, c.position LIMIT 20", (url,)),
    }
    try:
        for name, (sql, params) in statements.items():
            plan = [row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql, params)]
            print(f"  plan[{name}]: " + " | ".join(plan))
    finally:
        con.close()


# -- timing -------------------------------------------------------------------------------------------
def p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process and its children, stdout)."""
    cpu0 = _cpu_children()
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{argv} failed (exit {proc.returncode}):\n{proc.stderr}")
    return elapsed, _cpu_children() - cpu0, proc.stdout


def time_commands(
    commands: dict[str, list[str]], runs: int, warmup: int, env: dict[str, str]
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, str]]:
    """Wall-clock and CPU seconds of each command, ``runs`` times after ``warmup`` warm-ups. Runs are
    interleaved (round robin) so that load from other processes on the machine hits every command alike."""
    outputs = {}
    for _ in range(warmup):
        for name, argv in commands.items():
            outputs[name] = _run(argv, env)[2]
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            elapsed, used, outputs[name] = _run(argv, env)
            times[name].append(elapsed)
            cpu[name].append(used)
    return times, cpu, outputs


def in_process(home: Path, queries: dict[str, str], runs: int, db: str | None = None) -> dict[str, float]:
    """Median seconds of ``Archive.lookup`` alone (engine already open): what the SQL costs."""
    from archive.api import Archive

    archive = Archive.open(str(home), db)
    try:
        result = {}
        for name, query in queries.items():
            archive.lookup(query)
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                archive.lookup(query)
                times.append(time.perf_counter() - t0)
            result[name] = statistics.median(times)
        return result
    finally:
        archive.close()


def entry_points(extra: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(label, path) of the console scripts to time: pip's script next to sys.executable, PATH's when it
    differs, and any ``--script`` given (e.g. a pyenv shim: ``--script ~/.pyenv/shims/citevault``)."""
    found = []
    local = Path(sys.executable).parent / "citevault"
    if local.exists():
        found.append(("citevault", str(local)))
    on_path = shutil.which("citevault")
    if on_path and (not found or Path(on_path).resolve() != local.resolve()):
        found.append(("citevault (PATH: " + on_path + ")", on_path))
    found += [(f"citevault (--script {path})", path) for path in extra]
    if not found:
        sys.exit("no citevault console script found (pip install -e . first)")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--reuse", metavar="DIR", help="time an existing data home; build nothing")
    where.add_argument("--keep", metavar="DIR", help="build into DIR (must not hold an index) and keep it")
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--words", help="words to look up (default: picked from the index)")
    parser.add_argument("--url", help="URL to look up (default: one cited by a few claims)")
    parser.add_argument("--script", action="append", default=[], metavar="FILE",
                        help="also time this citevault executable (informational, e.g. a pyenv shim)")
    parser.add_argument("--profile-build", metavar="FILE", help="cProfile the add into FILE")
    parser.add_argument("--db", metavar="URL", help="the index in this database (e.g. PostgreSQL) instead of SQLite")
    args = parser.parse_args(argv)

    temp = None
    pg = args.db
    if args.reuse:
        home = Path(args.reuse).absolute()
        if not pg and not (home / DB_FILENAME).exists():
            sys.exit(f"--reuse {home}: no {DB_FILENAME} there")
    else:
        if args.keep:
            home = Path(args.keep).absolute()
            if not pg and (home / DB_FILENAME).exists():
                sys.exit(f"--keep {home}: already holds an index; use --reuse {home}")
        else:
            temp = tempfile.mkdtemp(prefix="citevault-bench-")
            home = Path(temp) / "home"
        build(home, args.claims, args.sources, args.seed,
              str(Path(args.profile_build).absolute()) if args.profile_build else None, pg)
    try:
        db = home / DB_FILENAME
        count_sql = ("SELECT (SELECT COUNT(*) FROM claims), (SELECT COUNT(*) FROM sources), "
                     "(SELECT COUNT(*) FROM citations)")
        if pg:
            from sqlalchemy import text

            from archive.index.db import make_engine

            engine = make_engine(pg)
            with engine.connect() as con:
                counts = tuple(con.execute(text(count_sql)).one())
            engine.dispose()
        else:
            counts = sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute(count_sql).fetchone()
        print(f"index {pg or home}: {counts[0]:,} claims, {counts[1]:,} sources, {counts[2]:,} citations")
        words, n_words, url, n_url = pick_queries_pg(pg, args.seed) if pg else pick_queries(db, args.seed)
        if args.words:
            words, n_words = args.words, -1
        if args.url:
            url, n_url = args.url, -1
        print(f"queries: words {words!r} (matches {n_words} claims), url {url} (cited by {n_url} claims)")
        if pg:
            query_plans_pg(pg, words)
        else:
            query_plans(db, words, url)
        inproc = in_process(home, {"words": words, "url": url}, args.runs, pg)
        print("in-process Archive.lookup (SQL + JSON building only): "
              + ", ".join(f"{k} {v * 1000:.2f} ms" for k, v in inproc.items()))

        env = {k: v for k, v in os.environ.items() if k not in ("CITEVAULT_HOME", "CITEVAULT_DB")}
        floor_label = "floor: python -c " + repr(FLOOR_CODE)
        commands = {floor_label: [sys.executable, "-c", FLOOR_CODE]}
        driver_label = "floor + driver: python -c " + repr(FLOOR_CODE + ", psycopg")
        if pg:  # informational: the PostgreSQL driver's own import, which SQLite's stdlib driver does not cost,
            # and what a lookup on PostgreSQL imports besides citevault (no SQLAlchemy: archive.index.statements)
            commands[driver_label] = [sys.executable, "-c", FLOOR_CODE + ", psycopg"]
            commands["click + driver: python -c 'import click, psycopg'"] = [sys.executable, "-c",
                                                                           "import click, psycopg"]
        expected = {}
        for label, script in entry_points(args.script):
            for name, query, n in (("words", words, n_words), ("url", url, n_url)):
                key = f"{label} lookup {name}"
                commands[key] = [script, "--home", str(home), *(["--db", pg] if pg else []), "lookup", query, "--json"]
                expected[key] = (label, min(n, 20))
        times, cpu, outputs = time_commands(commands, args.runs, args.warmup, env)
        floor_med = statistics.median(times[floor_label])
        print(f"\n{args.runs} runs after {args.warmup} warm-ups (interleaved), wall clock per process; "
              f"ratios are of wall-clock medians; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs:")
        missed = False
        for key, values in times.items():
            med = statistics.median(values)
            line = (f"  {key:<58} median {med * 1000:7.1f} ms  p90 {p90(values) * 1000:7.1f} ms  "
                    f"(CPU median {statistics.median(cpu[key]) * 1000:6.1f} ms)")
            if key in expected:
                label, want = expected[key]
                got = len(json.loads(outputs[key]))
                ratio = med / floor_med
                missed |= ratio > TARGET_RATIO and label == "citevault"
                line += f"  ratio {ratio:.2f}{'' if ratio <= TARGET_RATIO else ' > ' + str(TARGET_RATIO)}  ({got} claims)"
                if pg:
                    line += f"  (vs floor + driver {med / statistics.median(times[driver_label]):.2f})"
                if want >= 0 and got != want:
                    line += f"  WARNING: expected {want} claims"
            print(line)
        print(f"\ntarget ratio <= {TARGET_RATIO}: {'MISSED' if missed else 'met'}"
              " (pip's console script; other scripts, if shown, are informational)")
        print(f"\noperations ({args.runs} runs each):")
        operations(home, pg, args.runs, env)
        return 1 if missed else 0
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
