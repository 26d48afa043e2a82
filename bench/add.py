"""Benchmark: ``citevault add`` of plain-text files that are one long paragraph (1, 2, 4, 8 MB by default).

A single paragraph is the worst case for sentence splitting (one block of millions of characters; see
archive/claims/sentences.py), so this shows whether ``add`` stays linear. Sentences are news-like, with
abbreviations ("Dr.", "U.S.", "Oct. 7"), decimals, quotations and, in one sentence in fifty, a written-out
URL (a source). Each file is added by its own ``citevault add`` process into a fresh data home, timed as a
whole process (wall clock, peak RSS of the process tree), with the helpers of crawl_vs_wget.py. Prints
figures, asserts nothing; the target is at most 2 s per MB. CPU seconds (user + system) are printed too: on a
shared machine they are the steadier figure.

    python bench/add.py                 # 1, 2, 4, 8 MB
    python bench/add.py --sizes 0.2 1   # quick run
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl_vs_wget import citevault_exe, run_timed

_WORDS = ["harbor", "council", "approved", "budget", "engineer", "storm", "barrier", "tide", "gauge", "resident", "ferry", "terminal", "contract", "vote", "majority", "foundation", "concrete", "drainage", "pump", "station", "reservoir", "bridge", "railway", "school", "clinic", "market", "river", "estuary", "lighthouse", "report", "survey", "forecast", "estimate", "deficit", "grant", "loan"]
_EXTRAS = ("Dr. Smith said on Oct. 7 that", "the U.S. agency found", "prices rose 3.5 percent, and",
           'the mayor said "Stop. Now." before', "(see p. 4)", "i.e. the", "etc.")


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 18))]
    if rng.random() < 0.3:
        words.insert(rng.randint(0, len(words)), rng.choice(_EXTRAS))
    text = " ".join(words).capitalize() + rng.choice(".....?!")
    if n % 50 == 0:
        text += f" See https://example.org/reports/{n}?page=2."
    return text


def write_paragraph(path: Path, megabytes: float, seed: int = 7) -> int:
    """One title line, a blank line, then one paragraph of ``megabytes`` MB (10**6 bytes) on one line."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    size = 0
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("One long paragraph\n\n")
        while size < target:
            n += 1
            text = sentence(rng, n) + " "
            fh.write(text)
            size += len(text.encode("utf-8"))
        fh.write("\n")
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 2, 4, 8], help="file sizes in MB")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-add-") as name:
        tmp = Path(name)
        print(f"{'MB':>5} {'sentences':>10} {'seconds':>8} {'s/MB':>6} {'CPU s/MB':>9} {'peak RSS MB':>12}  result")
        for mb in args.sizes:
            path = tmp / f"paragraph-{mb:g}mb.txt"
            sentences = write_paragraph(path, mb)
            home = tmp / f"home-{mb:g}"
            timed = run_timed([citevault_exe(), "--home", str(home), "add", str(path)], tmp / f"log-{mb:g}.txt",
                              args.timeout)
            last = timed.log.read_text("utf-8", "replace").strip().splitlines()
            result = last[-1] if last else ""
            if timed.returncode != 0:
                result = f"exit {timed.returncode} (None = killed at --timeout): {result}"
            print(f"{mb:>5g} {sentences:>10} {timed.seconds:>8.1f} {timed.seconds / mb:>6.2f} {timed.cpu / mb:>9.2f} "
                  f"{timed.peak_rss / 2**20:>12.0f}  {result}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
