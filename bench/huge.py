"""Benchmark: ``citevault check`` on one huge HTML source (64 MiB by default), time and peak RSS.

Builds a data home without a network: one capture of a news-like page of ``--mib`` MiB (an article of
paragraphs, as bench/verify.py makes them, repeated), written as a WARC response record by citevault's
own WarcStore, and a claim list with two claims citing it: a quote from its first paragraph, and one from
its last (past what the check reads). Then runs, each as a whole process timed with the helpers of
crawl_vs_wget.py (wall clock, peak RSS of the process tree):

* ``citevault check`` (the target: at most 5 s and 400 MB);
* ``citevault report DOC --format json``, whose verdicts say how much text was seen (``text_seen``);
* ``citevault report DOC --format html`` (passages shown from the stored verdicts).

Prints figures, asserts nothing.

    python bench/huge.py             # 64 MiB
    python bench/huge.py --mib 16
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from crawl_vs_wget import citevault_exe, clean_env, run_timed
from verify import sentence

URL = "http://bench.invalid/huge.html"


def huge_page(mib: float, seed: int = 11) -> tuple[bytes, str, str]:
    """The page, a quote from its first paragraph and one from its last."""
    rng = random.Random(seed)
    head = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The longest story</title></head>'
            "<body><main><article><h1>The longest story</h1>")
    parts = [head.encode()]
    size = len(parts[0])
    first = last = ""
    while size < mib * 2**20:
        paragraph = " ".join(sentence(rng) for _ in range(rng.randint(2, 4)))
        first = first or paragraph
        last = paragraph
        part = f"<p>{paragraph}</p>\n".encode()
        parts.append(part)
        size += len(part)
    parts.append(b"</article></main></body></html>")
    return b"".join(parts), " ".join(first.split()[:12]), " ".join(last.split()[:12])


def build(home: Path, mib: float) -> str:
    """The data home with the capture and the claims; returns the document id."""
    import sqlalchemy as sa

    from archive import ids
    from archive.api import Archive
    from tests.archives import add_response_capture

    body, first, last = huge_page(mib)
    claims = home.parent / "huge-claims.jsonl"
    claims.write_text("".join(json.dumps(c) + "\n" for c in (
        {"text": f'The story begins "{first}".', "quote": first, "sources": [URL]},
        {"text": f'The story ends "{last}".', "quote": last, "sources": [URL]},
    )), encoding="utf-8")
    archive = Archive.open(str(home))
    added = archive.add([str(claims)])
    doc_id = added[0].document["id"]
    archive.close()
    fetched = datetime(2025, 3, 1, tzinfo=UTC)
    add_response_capture(home, URL, body, fetched=fetched)
    archive = Archive.open(str(home))
    engine = archive.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sources SET state = 'archived', last_fetched = :f WHERE id = :s")
                     .bindparams(sa.bindparam("f", type_=sa.DateTime)),
                     {"f": fetched.replace(tzinfo=None), "s": ids.source_id(URL)})
    archive.close()
    return str(doc_id)


def verdicts(data: object) -> list[dict[str, object]]:
    """Every verification object in a JSON document."""
    if isinstance(data, dict):
        if "verdict" in data and "selector" in data:  # a verification, not a claim's summary
            return [data]
        return [v for value in data.values() for v in verdicts(value)]
    if isinstance(data, list):
        return [v for value in data for v in verdicts(value)]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=float, default=64, help="size of the page in MiB")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-huge-") as name:
        home = Path(name) / "home"
        doc_id = build(home, args.mib)
        print(f"one capture of a {args.mib:g} MiB HTML page, two quotes (its first and its last paragraph)")
        exe = citevault_exe()
        for label, cmd in (("check", ["check"]),
                           ("report --format json", ["report", doc_id, "--format", "json", "--no-check"]),
                           ("report --format html", ["report", doc_id, "--format", "html", "--no-check"])):
            timed = run_timed([exe, "--home", str(home), *cmd], Path(name) / f"log-{cmd[0]}.txt", args.timeout)
            status = "" if timed.returncode == 0 else f"  exit {timed.returncode} (None = killed at --timeout)"
            print(f"{label:<22} {timed.seconds:6.2f} s  peak RSS {timed.peak_rss / 1e6:6.0f} MB  "
                  f"CPU {timed.cpu:5.2f} s{status}", flush=True)
        shown = subprocess.run([exe, "--home", str(home), "report", doc_id, "--format", "json", "--no-check"],
                               capture_output=True, text=True, env=clean_env(), check=False)
        try:
            report = json.loads(shown.stdout)
        except ValueError:
            print(f"report --format json failed: {shown.stderr[-300:]}")
            return 0
        for v in verdicts(report):
            print(f"  verdict {v.get('verdict')} (score {v.get('score')}); text_seen {v.get('text_seen')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
