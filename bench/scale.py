"""Benchmark: memory at scale, a whole ``citevault crawl`` (defaults: quote checks included) of N sources.

N distinct URLs (default 100,000) come from nginx serving one small news page under every path
``/s/<n>.html`` (``location /s/ { try_files /page.html =404; }``), spread round-robin over loopback hosts
127.0.1.1.. (``--hosts``, to lift the per-host limit). A claim list cites each URL once with a quote from
the page, so every capture is checked too. ``citevault add`` is run first (not timed), then ``citevault
crawl`` as a whole process: wall clock and peak RSS of its process tree (crawler + recorder process, whose
checker thread runs the checks), sampled every 50 ms, with the helpers of crawl_vs_wget.py. Prints
figures, asserts nothing; the target is at most 300 MB at 100,000 sources.

    python bench/scale.py                        # 100,000 sources
    python bench/scale.py --sources 10000 25000  # the growth
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl_vs_wget import (
    citevault_add,
    citevault_exe,
    ensure_nginx,
    host_addresses,
    last_line,
    run_timed,
    start_nginx,
)

PAGE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Harbor wall</title></head><body>"
        "<header><nav><a href=\"/\">Home</a></nav></header><main><article><h1>Harbor wall approved</h1>"
        "<p>The council approved the harbor wall budget on Tuesday after a long debate about the storm "
        "barrier and the cost of the concrete foundations.</p><p>Repairs start in May and should end before "
        "the winter storms, the engineer said.</p></article></main><footer>Bench Gazette</footer></body></html>")
QUOTE = "approved the harbor wall budget on Tuesday"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[100_000])
    parser.add_argument("--hosts", type=int, default=16, help="loopback hosts 127.0.1.1.. nginx listens on")
    parser.add_argument("--timeout", type=float, default=7200)
    parser.add_argument("--install", action="store_true", help="apt-get install -y nginx if it is missing")
    args = parser.parse_args(argv)
    nginx = ensure_nginx(args.install)
    if nginx is None:
        print("bench: nginx is needed (apt-get install -y nginx, or --install)")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        site = tmp / "site"
        site.mkdir()
        (site / "page.html").write_text(PAGE, "utf-8")
        addrs = host_addresses("127.0.1.1", args.hosts)
        server = start_nginx(nginx, tmp, site, addrs, extra="        location /s/ { try_files /page.html =404; }")
        if server is None:
            return 1
        try:
            print(f"{'sources':>8} {'seconds':>8} {'pages/s':>8} {'peak RSS MB':>12} {'CPU s':>7}  crawl's last line")
            for n in args.sources:
                home = tmp / f"home-{n}"
                claims = tmp / f"claims-{n}.jsonl"
                urls = server.urls([f"/s/{i}.html" for i in range(n)])
                with open(claims, "w", encoding="utf-8") as fh:
                    fh.writelines(json.dumps({"text": f'Report {i} says it "{QUOTE}".', "quote": QUOTE,
                                             "sources": [url]}) + "\n" for i, url in enumerate(urls))
                citevault_add(home, claims, args.timeout)
                timed = run_timed([citevault_exe(), "--home", str(home), "crawl"], tmp / f"log-{n}.txt", args.timeout)
                summary = last_line(timed.log, "citevault: done")
                m = re.search(r"(\d+) archived", summary)
                archived = int(m.group(1)) if m else 0
                code = "" if timed.returncode == 0 else f" (exit {timed.returncode}; None = killed at --timeout)"
                print(f"{n:>8} {timed.seconds:>8.0f} {archived / timed.seconds:>8.1f} {timed.peak_rss / 1e6:>12.0f} "
                      f"{timed.cpu:>7.0f}  {summary}{code}", flush=True)
                shutil.rmtree(home, ignore_errors=True)
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
