"""Benchmark: receipts (``citevault receipt --document``) and their offline check, per claim.

Builds N captures and N claims without a network (bench/verify.py's ``build``: news-like pages and PDFs
written as WARC records by citevault's own WarcStore), checks them once (a receipt carries the verdict),
then times, in this process:

1. ``Archive.receipts`` of the whole document, signed only (no TSA): reading and re-hashing each record,
   RFC 8785, Ed25519;
2. the same with one local RFC 3161 TSA (tests/tsa.py: ``openssl ts -reply`` per request behind a
   loopback handler), to show what a TSA round trip adds;
3. ``Archive.verify_receipt`` of every receipt written (signature, signer, timestamp, record re-hashed).

Prints receipts/s. Usage::

    python bench/receipts.py                  # 1000 claims
    python bench/receipts.py --claims 200     # quick run
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=1000)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from verify import build  # bench/verify.py

    from archive.api import Archive
    from archive.checks import verify_document_captures
    from tests.tsa import start_tsa

    tmp = Path(tempfile.mkdtemp(prefix="citevault-bench-receipts-"))
    try:
        home = tmp / "home"
        build(home, args.claims)
        archive = Archive.open(str(home))
        verify_document_captures(archive.engine(), archive.home, None)
        (document_id,) = [d["id"] for d in archive.documents()]
        tsa = start_tsa(tmp / "tsa")
        rows = []
        for label, urls, certs in (("signed, no TSA", [], []), ("signed + 1 local TSA", [tsa.url], [str(tsa.ca)])):
            start = time.perf_counter()
            issued = list(archive.receipts(document_id, tsa=urls, tsa_certs=certs))
            seconds = time.perf_counter() - start
            rows.append((label, len(issued), seconds))
        paths = [archive.receipt_path(i.claim_id) for i in issued]
        start = time.perf_counter()
        states = [archive.verify_receipt(p, home_given=True).state for p in paths]
        rows.append(("verify (offline, records re-hashed)", len(states), time.perf_counter() - start))
        assert set(states) == {"verified"}, set(states)
        tsa.stop()
        archive.close()
        print(f"{args.claims} claims, one capture each ({sum(f.stat().st_size for f in (home / 'warcs').iterdir()) / 1e6:.1f} MB of WARC)")
        print(f"{'step':<38} {'receipts':>8} {'seconds':>8} {'per s':>8}")
        for label, count, seconds in rows:
            print(f"{label:<38} {count:>8} {seconds:>8.2f} {count / seconds:>8.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
