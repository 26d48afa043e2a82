"""Benchmark: browser capture (issue 11). ``citevault crawl --browser always`` on styled loopback pages.

Prints figures, asserts nothing. N pages (default 40) of the test site's styled news pages
(tests/site/styled/news.html and story.html: stylesheets with @import, a web font, images, srcset, a
favicon, a script, an iframe), each under its own query string so each is its own source, served by the
test site (tests/server.py) in a subprocess on 127.0.0.1. ``citevault add`` the claim list (untimed), then
``citevault crawl --browser always`` with ``CITEVAULT_BROWSER_PARALLEL`` pages at once (default 4), timed as
a whole process: wall clock, CPU time and the peak RSS of its whole process tree (the crawl, its recorder,
the browser worker with its warcprox threads, and every Chromium process), sampled every 50 ms by
bench/crawl_vs_wget.py's helpers. The browser phase's own rate comes from the crawl's line
``rendered X of N page(s) in a browser in T s``.

    python bench/browser.py                 # 40 pages, 4 in parallel
    python bench/browser.py --pages 12 --parallel 2

Targets (issue 11): at least 3 pages/s and at most 1.5 GB peak RSS with 4 pages in parallel on 2 cores.
Chromium processes share memory, so the sum of their RSS overstates what the tree really holds: the figure
is an upper bound.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import crawl_vs_wget as cvw  # the timing and citevault helpers, not copied

RENDERED = re.compile(r"rendered (\d+) of (\d+) page\(s\) in a browser in ([\d.]+)s: (\d+) exchanges")


def start_site() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "server.py"), "--port", "0", "--root",
                             str(ROOT / "tests" / "site")], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    if not base.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"bench: the test site did not start ({base!r})")
    return proc, base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    site, base = start_site()
    try:
        with tempfile.TemporaryDirectory(prefix="citevault-bench-browser-") as tmpdir:
            tmp = Path(tmpdir)
            urls = [f"{base}/styled/{'news' if i % 2 else 'story'}.html?n={i}" for i in range(args.pages)]
            claims = tmp / "claims.jsonl"
            cvw.write_claims(claims, urls)
            home = tmp / "home"
            cvw.citevault_add(home, claims, args.timeout)
            cmd = [cvw.citevault_exe(), "--home", str(home), "crawl", "--browser", "always",
                   "-s", f"CITEVAULT_BROWSER_PARALLEL={args.parallel}",
                   "-s", f"CITEVAULT_BROWSER_TIME_LIMIT={args.time_limit:g}"]
            timed = cvw.run_timed(cmd, tmp / "crawl.log", args.timeout)
            log = (tmp / "crawl.log").read_text("utf-8", "replace")
            found = RENDERED.search(log)
            if timed.returncode != 0 or found is None:
                print(log[-3000:])
                raise SystemExit(f"bench: the crawl failed (exit {timed.returncode})")
            rendered, total, seconds, exchanges = int(found[1]), int(found[2]), float(found[3]), int(found[4])
    finally:
        site.terminate()
        site.wait()
    print(f"browser capture: {args.pages} styled pages, {args.parallel} in parallel, "
          f"{cvw.os.cpu_count()} CPUs (busy {timed.busy:.0f}% before the run)")
    print(f"  browser phase : {rendered}/{total} pages rendered in {seconds:.1f}s = {rendered / seconds:.2f} pages/s, "
          f"{exchanges} exchanges recorded ({exchanges / max(1, rendered):.1f} per page)")
    print(f"  whole crawl   : {timed.seconds:.1f}s wall (raw capture + assets + browser + checks), "
          f"CPU {timed.cpu:.1f}s")
    print(f"  peak RSS      : {timed.peak_rss / 1e6:.0f} MB (whole process tree, Chromium's shared pages counted "
          "once per process: an upper bound)")
    print(f"  targets       : >= 3 pages/s: {'met' if rendered / seconds >= 3 else 'NOT met'}; "
          f"<= 1.5 GB RSS: {'met' if timed.peak_rss <= 1.5e9 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
