"""Benchmark: browser capture (issue 11). ``citevault crawl --browser always`` on styled loopback pages.

Prints figures, asserts nothing. N pages (default 40) of the test site's styled news pages
(tests/site/styled/news.html and story.html: stylesheets with @import, a web font, images, srcset, a
favicon, a script, an iframe), each under its own query string so each is its own source, served by the
test site (tests/server.py) in a subprocess on 127.0.0.1. ``citevault add`` the claim list (untimed), then
``citevault crawl --browser always`` with ``CITEVAULT_BROWSER_PARALLEL`` pages at once (default 4), timed as
a whole process: wall clock, the CPU time of every process of its tree, and the peak RSS and PSS summed over
the tree (the crawl, its recorder, the browser worker with its warcprox threads, Playwright's driver and every
Chromium process), sampled every 50 ms (PSS every 0.5 s). The browser phase's own rate comes from the crawl's line
``rendered X of N page(s) in a browser in T s``.

    python bench/browser.py                 # 40 pages, 4 in parallel
    python bench/browser.py --pages 12 --parallel 2

Targets (issue 11): at least 3 pages/s and at most 1.5 GB peak RSS with 4 pages in parallel on 2 cores.
Chromium processes share memory, so the sum of their RSS overstates what the tree really holds (an upper
bound); the summed PSS (each shared page divided among the processes sharing it) is what it really holds.
On a machine shared with other work the wall-clock rate understates what 2 idle cores give: the CPU
seconds per page, and the rate they allow, are printed too.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import crawl_vs_wget as cvw  # the timing and citevault helpers, not copied

RENDERED = re.compile(r"rendered (\d+) of (\d+) page\(s\) in a browser in ([\d.]+)s: (\d+) exchanges")


@dataclass
class Sampled:
    """A run of ``cmd``: wall clock, the peak of the tree's summed RSS and PSS, and the CPU seconds of every
    process the tree ever held (Chromium's renderers are children of its zygote, which nobody waits for, so
    ``RUSAGE_CHILDREN`` misses them: each process's last CPU reading is kept instead)."""

    seconds: float = 0.0
    peak_rss: int = 0
    peak_pss: int = 0
    cpu: dict[int, float] = field(default_factory=dict)
    returncode: int | None = None
    at_peak: dict[str, int] = field(default_factory=dict)  #: RSS by kind of process when the sum peaked
    kinds: dict[int, str] = field(default_factory=dict)  #: pid -> kind of process (for the CPU split)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def kind_of(cmdline: list[str]) -> str:
    """Which part of the crawl a process is, from its command line."""
    line = " ".join(cmdline)
    for flag, kind in (("--type=renderer", "renderer"), ("--type=zygote", "zygote"), ("--type=utility", "utility"),
                       ("--type=gpu", "gpu")):
        if flag in line:
            return f"chromium {kind}"
    if "chromium" in line:
        return "chromium browser"
    if "archive.browser.worker" in line:
        return "browser worker"
    if "playwright" in line and "node" in line:
        return "playwright driver"
    if "multiprocessing" in line:
        return "recorder"
    return "crawl" if "citevault" in line else (cmdline[0] if cmdline else "?")


def run_sampled(cmd: list[str], log: Path, timeout: float) -> Sampled:
    """Run ``cmd`` in the log's directory: not in a source tree, whose ``archive`` package the browser worker
    (``python -m``, which puts the current directory first on ``sys.path``) would import instead of the one
    the crawl imports (PYTHONPATH or the installed package)."""
    out = Sampled()
    with open(log, "wb") as fh:
        started = time.perf_counter()
        proc = psutil.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=cvw.clean_env(),
                            cwd=log.parent)
        last_pss = 0.0
        while proc.poll() is None and time.perf_counter() - started < timeout:
            try:
                tree = [proc, *proc.children(recursive=True)]
            except psutil.Error:
                continue
            rss = 0
            pss_due = time.perf_counter() - last_pss > 0.5
            pss = 0
            by_kind: dict[str, int] = {}
            for p in tree:
                try:
                    times = p.cpu_times()
                    out.cpu[p.pid] = times.user + times.system  # not children_*: they are in the tree too
                    # read every time: a process just forked still shows its parent's command line
                    kind = kind_of(p.cmdline())
                    if kind != "?" or p.pid not in out.kinds:  # an exiting process shows no command line
                        out.kinds[p.pid] = kind
                    if pss_due:
                        info = p.memory_full_info()
                        one, pss = info.rss, pss + info.pss
                    else:
                        one = p.memory_info().rss
                    rss += one
                    by_kind[out.kinds[p.pid]] = by_kind.get(out.kinds[p.pid], 0) + one
                except psutil.Error:
                    pass
            if rss > out.peak_rss:
                out.peak_rss, out.at_peak = rss, by_kind
            if pss_due:
                out.peak_pss, last_pss = max(out.peak_pss, pss), time.perf_counter()
            time.sleep(0.05)
        if proc.poll() is None:
            cvw.kill_tree(proc)
        out.returncode = proc.wait()
        out.seconds = time.perf_counter() - started
    return out


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
            busy = psutil.cpu_percent(interval=1.0)
            timed = run_sampled(cmd, tmp / "crawl.log", args.timeout)
            log = (tmp / "crawl.log").read_text("utf-8", "replace")
            found = RENDERED.search(log)
            if timed.returncode != 0 or found is None:
                print(log[-3000:])
                raise SystemExit(f"bench: the crawl failed (exit {timed.returncode})")
            rendered, total, seconds, exchanges = int(found[1]), int(found[2]), float(found[3]), int(found[4])
    finally:
        site.terminate()
        site.wait()
    cores = psutil.cpu_count() or 1
    print(f"browser capture: {args.pages} styled pages, {args.parallel} in parallel, "
          f"{cores} CPUs ({busy:.0f}% busy with other work just before the run)")
    print(f"  browser phase : {rendered}/{total} pages rendered in {seconds:.1f}s = {rendered / seconds:.2f} pages/s, "
          f"{exchanges} exchanges recorded ({exchanges / max(1, rendered):.1f} per page)")
    per_page = timed.cpu_seconds / max(1, rendered)
    print(f"  whole crawl   : {timed.seconds:.1f}s wall (raw capture + assets + browser + checks), "
          f"CPU {timed.cpu_seconds:.1f}s in all = {per_page:.2f} CPU-s per page")
    print(f"  CPU bound     : {cores / per_page:.2f} pages/s at most on {cores} idle cores (the whole crawl's CPU "
          "per page, start-up included)")
    print(f"  peak memory   : RSS summed over the process tree {timed.peak_rss / 1e6:.0f} MB (Chromium's shared pages "
          f"counted once per process: an upper bound); PSS summed {timed.peak_pss / 1e6:.0f} MB")
    split = ", ".join(f"{k} {v / 1e6:.0f}" for k, v in sorted(timed.at_peak.items(), key=lambda kv: -kv[1]))
    print(f"  RSS at peak   : {split} (MB)")
    cpu_by: dict[str, float] = {}
    for pid, used in timed.cpu.items():
        kind = timed.kinds.get(pid, "?")
        cpu_by[kind] = cpu_by.get(kind, 0.0) + used
    print("  CPU by process: " + ", ".join(f"{k} {v / max(1, rendered):.3f}" for k, v in
                                         sorted(cpu_by.items(), key=lambda kv: -kv[1])) + " (CPU-s per page)")
    print(f"  targets       : >= 3 pages/s: {'met' if rendered / seconds >= 3 else 'NOT met'}; "
          f"<= 1.5 GB RSS: {'met' if timed.peak_rss <= 1.5e9 else 'NOT met'} "
          f"(PSS: {'met' if timed.peak_pss <= 1.5e9 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
