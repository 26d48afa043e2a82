"""Benchmark: memory at scale, a whole ``citevault crawl`` (defaults: quote checks included) of N sources.

N distinct URLs (default 100,000) come from nginx serving one small news page under every path
``/s/<n>.html`` (``location /s/ { try_files /page.html =404; }``), spread round-robin over loopback hosts
127.0.1.1.. (``--hosts``, to lift the per-host limit). A claim list cites each URL once with a quote from
the page, so every capture is checked too. ``citevault add`` is run first (not timed), then ``citevault
crawl`` as a whole process: wall clock and peak RSS of its process tree (crawler + recorder process, whose
checker thread runs the checks), sampled every 50 ms, with the helpers of crawl_vs_wget.py, and each process's
own peak, so that what grows with the number of sources shows which process it is in. Prints
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

import resource
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import psutil
from crawl_vs_wget import (
    QUIET_WAIT_SECONDS,
    SAMPLE_SECONDS,
    TREE_REFRESH_SECONDS,
    citevault_add,
    citevault_exe,
    clean_env,
    ensure_nginx,
    host_addresses,
    kill_tree,
    last_line,
    process_tree,
    start_nginx,
    wait_quiet,
)

PAGE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Harbor wall</title></head><body>"
        "<header><nav><a href=\"/\">Home</a></nav></header><main><article><h1>Harbor wall approved</h1>"
        "<p>The council approved the harbor wall budget on Tuesday after a long debate about the storm "
        "barrier and the cost of the concrete foundations.</p><p>Repairs start in May and should end before "
        "the winter storms, the engineer said.</p></article></main><footer>Bench Gazette</footer></body></html>")
QUOTE = "approved the harbor wall budget on Tuesday"


@dataclass
class Sampled:
    """A whole crawl: wall clock, CPU, the peak of the summed RSS, and each process's own peak (by role)."""

    seconds: float
    cpu: float
    peak_rss: int
    returncode: int | None
    log: Path
    busy: float
    peaks: dict[str, int] = field(default_factory=dict)  # role -> peak RSS of that process
    growth: list[tuple[float, dict[str, int]]] = field(default_factory=list)  # (seconds, role -> RSS) every ~10%


def role(proc: psutil.Process, root: psutil.Process, seen: dict[int, str]) -> str:
    """The crawler (the command itself), its spawned children in order of appearance (the recorder first,
    then e.g. a checker process: child2, child3…), and multiprocessing's resource tracker."""
    if proc.pid not in seen:
        try:
            cmd = " ".join(proc.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            cmd = ""
        children = sum(1 for r in seen.values() if r not in ("crawler", "tracker"))
        seen[proc.pid] = ("crawler" if proc.pid == root.pid else "tracker" if "resource_tracker" in cmd
                          else "recorder" if children == 0 else f"child{children + 1}")
    return seen[proc.pid]


def run_sampled(cmd: Sequence[str], log: Path, timeout: float, expected_seconds: float = 60.0) -> Sampled:
    """Like crawl_vs_wget.run_timed, but keeps each process's peak RSS as well as the peak of their sum,
    and a few samples over time, so that what grows with the number of sources shows which process it is."""
    busy = wait_quiet(QUIET_WAIT_SECONDS)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = usage.ru_utime + usage.ru_stime
    seen: dict[int, str] = {}
    peaks: dict[str, int] = {}
    growth: list[tuple[float, dict[str, int]]] = []
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = psutil.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=clean_env())
        procs = process_tree(proc)
        listed = last_kept = started
        peak = 0
        returncode: int | None = None
        while True:
            now = time.perf_counter()
            if now - listed >= TREE_REFRESH_SECONDS:
                procs, listed = process_tree(proc), now
            sample: dict[str, int] = {}
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                name = role(p, proc, seen)
                sample[name] = sample.get(name, 0) + rss
            for name, rss in sample.items():
                peaks[name] = max(peaks.get(name, 0), rss)
            peak = max(peak, sum(sample.values()))
            if now - last_kept >= max(1.0, expected_seconds / 10):
                growth.append((now - started, sample))
                last_kept = now
            try:
                returncode = proc.wait(timeout=SAMPLE_SECONDS)
                break
            except psutil.TimeoutExpired:
                pass
            if now - started > timeout:
                kill_tree(proc)
                break
        elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Sampled(elapsed, usage.ru_utime + usage.ru_stime - cpu_before, peak, returncode, log, busy, peaks,
                   growth)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[100_000])
    parser.add_argument("--hosts", type=int, default=16, help="loopback hosts 127.0.1.1.. nginx listens on")
    parser.add_argument("--timeout", type=float, default=7200)
    parser.add_argument("-s", "--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="a crawl setting (e.g. CITEVAULT_CHECK_AFTER_CRAWL=False: the checker's share)")
    parser.add_argument("--growth", action="store_true", help="also print each process's RSS every ~10%% of the crawl")
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
                settings = [arg for setting in args.settings for arg in ("-s", setting)]
                timed = run_sampled([citevault_exe(), "--home", str(home), "crawl", *settings], tmp / f"log-{n}.txt",
                                    args.timeout, expected_seconds=n / 150)
                summary = last_line(timed.log, "citevault: done")
                m = re.search(r"(\d+) archived", summary)
                archived = int(m.group(1)) if m else 0
                code = "" if timed.returncode == 0 else f" (exit {timed.returncode}; None = killed at --timeout)"
                print(f"{n:>8} {timed.seconds:>8.0f} {archived / timed.seconds:>8.1f} {timed.peak_rss / 1e6:>12.0f} "
                      f"{timed.cpu:>7.0f}  {summary}{code}", flush=True)
                mb = "  ".join(f"{name} {rss / 1e6:.0f}" for name, rss in sorted(timed.peaks.items()))
                print(f"{'':>8} peak RSS MB per process: {mb}   (load before: {timed.busy:.0f}% CPU busy)")
                if args.growth:
                    for at, sample in timed.growth:
                        mb = "  ".join(f"{name} {rss / 1e6:.0f}" for name, rss in sorted(sample.items()))
                        print(f"{'':>8}   at {at:6.0f} s: {mb}")
                shutil.rmtree(home, ignore_errors=True)
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
