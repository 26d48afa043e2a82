"""Benchmark: ``citevault crawl`` against ``wget --warc-file`` on the same pages, same server.

Prints figures, asserts nothing. Two modes:

* zero: N generated pages served by nginx on 127.0.0.1 (no added latency): what each tool costs per page.
* latency: pages spread round-robin over many loopback hosts (127.0.1.1 ...), each response delayed by
  ``--latency-ms`` (bench/latency_server.py, one asyncio process): what concurrency buys.

Both tools write a gzip WARC with digests; each run is timed as a whole process (wall clock) with its peak
RSS (process + children, sampled every 50 ms), and the WARC is read back to count the pages archived.

    python bench/crawl_vs_wget.py                                   # full run, both modes
    python bench/crawl_vs_wget.py --pages 300 --latency-pages 200   # smoke run
    python bench/crawl_vs_wget.py --mode zero --concurrency 16 --no-wget
    python bench/crawl_vs_wget.py --mode zero --baselines --py-spy /tmp/profile.txt
    python bench/crawl_vs_wget.py --mode zero --no-wget --repeat 3 -s CITEVAULT_WARC_COMPRESSLEVEL=1
    python bench/crawl_vs_wget.py --mode zero --workers 2           # + 2 worker processes on PostgreSQL

Only loopback addresses are used. nginx missing: ``--install`` runs ``apt-get install -y nginx``; otherwise
the zero mode falls back to bench/latency_server.py with no latency, and says so.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import resource
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

import psutil

BENCH = Path(__file__).resolve().parent
SAMPLE_SECONDS = 0.05
TREE_REFRESH_SECONDS = 1.0  # listing children scans all of /proc: do it less often than sampling RSS
ZERO_FIRST = "127.0.0.1"
LATENCY_FIRST = "127.0.1.1"
# Dropped from the tools' environment: loopback needs no proxy. no_proxy goes too: with any *_proxy variable
# set, Scrapy's HttpProxyMiddleware calls urllib's proxy_bypass() (an environment scan) for every request.
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")


# -- page generation --------------------------------------------------------------------------------
_COMMON = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
    "they you were her she there been one all we their has would when if so no will more about than out up "
    "them into can only other new some could time these two may then first any like now my such make over "
    "our even most after also made many before must through back years where much your way well down should "
    "because each just those people how too little state good very world still own see men work long here "
    "government report council budget million percent study data health water city county court school public "
    "committee minister election policy market price energy climate survey hospital police research funding"
).split()


def _vocabulary(rng: random.Random, size: int = 1500) -> list[str]:
    onsets = ["b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "st", "tr", "pl", "gr", "ch"]
    vowels = ["a", "e", "i", "o", "u", "ea", "ou", "io"]
    codas = ["", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng"]
    words = set()
    while len(words) < size:
        n = rng.choice((1, 2, 2, 3, 3, 4))
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(n)))
    return _COMMON * 4 + sorted(words)  # common words weighted up, as in real text


def _sentence(rng: random.Random, vocab: list[str]) -> str:
    words = rng.choices(vocab, k=rng.randint(8, 24))
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), f"{rng.randint(2, 9999):,}")
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def make_page(i: int, total: int, target: int, vocab: list[str], seed: int) -> bytes:
    rng = random.Random(seed * 1_000_003 + i)
    title = " ".join(rng.choices(vocab, k=rng.randint(4, 9))).capitalize()
    out = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        f"<title>{title} | Report {i}</title>\n",
        f"<meta name=\"description\" content=\"{_sentence(rng, vocab)}\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n</head>\n<body>\n",
        "<header><nav><a href=\"/\">Home</a> | <a href=\"/p/1.html\">Archive</a> | <a href=\"/about.html\">About</a>"
        "</nav></header>\n<main>\n<article>\n",
        f"<h1>{title}</h1>\n<p class=\"byline\">By {rng.choice(vocab).capitalize()} "
        f"{rng.choice(vocab).capitalize()}, {rng.randint(1, 28)} March {rng.randint(2001, 2026)}</p>\n",
    ]
    size = sum(len(s) for s in out)
    links = rng.randint(3, 8)
    tail = "</article>\n</main>\n<footer><p>Generated page for the citevault benchmark.</p></footer>\n</body>\n</html>\n"
    while size < target - len(tail):
        r = rng.random()
        if r < 0.08:
            block = f"<h2>{' '.join(rng.choices(vocab, k=rng.randint(2, 6))).capitalize()}</h2>\n"
        elif r < 0.14:
            items = "".join(f"<li>{_sentence(rng, vocab)}</li>" for _ in range(rng.randint(2, 5)))
            block = f"<ul>{items}</ul>\n"
        else:
            sentences = [_sentence(rng, vocab) for _ in range(rng.randint(2, 7))]
            if links and rng.random() < 0.35:
                links -= 1
                j = rng.randint(1, total)
                anchor = " ".join(rng.choices(vocab, k=rng.randint(1, 4)))
                sentences.insert(rng.randrange(len(sentences) + 1), f"See <a href=\"/p/{j}.html\">{anchor}</a>.")
            block = f"<p>{' '.join(sentences)}</p>\n"
        out.append(block)
        size += len(block)
    out.append(tail)
    return "".join(out).encode("utf-8")


def generate_site(root: Path, count: int, size_kb: float, seed: int = 7) -> dict[str, int]:
    """Write ``root/p/1.html`` .. ``root/p/{count}.html``; return {url path: size}."""
    (root / "p").mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_bytes(b"<!DOCTYPE html><title>bench</title><p><a href=\"/p/1.html\">pages</a></p>\n")
    vocab = _vocabulary(random.Random(seed))
    sizes = {}
    target = int(size_kb * 1024)
    for i in range(1, count + 1):
        data = make_page(i, count, target, vocab, seed)
        (root / "p" / f"{i}.html").write_bytes(data)
        sizes[f"/p/{i}.html"] = len(data)
    return sizes


# -- processes --------------------------------------------------------------------------------------
def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}


def process_tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return [proc]


def tree_rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return total


def kill_tree(proc: psutil.Process) -> None:
    try:
        procs = [*proc.children(recursive=True), proc]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


@dataclass
class Timed:
    seconds: float
    cpu: float  # user + system seconds of the process and the children it waited for
    peak_rss: int
    returncode: int | None  # None: killed at the timeout
    log: Path
    busy: float = 0.0  # % of all CPUs busy just before it started: other work on the machine skews the figures


QUIET_BUSY_PERCENT = 20.0
QUIET_WAIT_SECONDS = 60.0


def wait_quiet(seconds: float) -> float:
    """Wait (at most ``seconds``) until other processes leave the CPUs mostly idle; return the last % busy."""
    deadline = time.monotonic() + seconds
    busy = psutil.cpu_percent(interval=0.5)
    while busy > QUIET_BUSY_PERCENT and time.monotonic() < deadline:
        busy = psutil.cpu_percent(interval=1.0)
    return busy


def run_timed(cmd: Sequence[str], log: Path, timeout: float) -> Timed:
    """Run ``cmd`` to completion (stdout+stderr to ``log``); wall clock and peak RSS of its process tree."""
    busy = wait_quiet(QUIET_WAIT_SECONDS)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = usage.ru_utime + usage.ru_stime
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = psutil.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=clean_env())
        procs = process_tree(proc)
        listed = time.perf_counter()
        peak = tree_rss(procs)
        returncode: int | None = None
        while True:
            try:
                returncode = proc.wait(timeout=SAMPLE_SECONDS)
                break
            except psutil.TimeoutExpired:
                pass
            now = time.perf_counter()
            if now - listed >= TREE_REFRESH_SECONDS:
                procs, listed = process_tree(proc), now
            peak = max(peak, tree_rss(procs))
            if now - started > timeout:
                kill_tree(proc)
                break
        elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Timed(elapsed, usage.ru_utime + usage.ru_stime - cpu_before, peak, returncode, log, busy)


def last_line(path: Path, prefix: str) -> str:
    lines = [ln for ln in path.read_text("utf-8", "replace").splitlines() if ln.startswith(prefix)]
    return lines[-1].strip() if lines else ""


def wait_port(addr: str, port: int, proc: subprocess.Popen, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((addr, port), timeout=1.0):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def free_port(addr: str) -> int:
    with socket.socket() as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def host_addresses(first: str, count: int) -> list[str]:
    import ipaddress

    start = ipaddress.IPv4Address(first)
    addrs = [start + i for i in range(count)]
    if not all(a.is_loopback for a in addrs):
        raise SystemExit("only loopback addresses (127.0.0.0/8) may be used")
    return [str(a) for a in addrs]


# -- servers ----------------------------------------------------------------------------------------
class Server:
    def __init__(self, name: str, proc: subprocess.Popen, addrs: list[str], port: int, note: str = "") -> None:
        self.name, self.proc, self.addrs, self.port, self.note = name, proc, addrs, port, note

    def urls(self, paths: list[str]) -> list[str]:
        return [f"http://{self.addrs[i % len(self.addrs)]}:{self.port}{p}" for i, p in enumerate(paths)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


def ensure_nginx(install: bool) -> str | None:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if found or not install:
        return found
    print("bench: nginx not found; --install: apt-get install -y nginx", flush=True)
    try:
        subprocess.run(["apt-get", "update"], check=False, timeout=600, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "nginx"], check=False, timeout=900, stdout=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"bench: apt-get failed: {exc}", flush=True)
    return shutil.which("nginx") or (("/usr/sbin/nginx") if os.path.exists("/usr/sbin/nginx") else None)


def start_nginx(nginx: str, tmp: Path, site: Path, addrs: list[str], extra: str = "") -> Server | None:
    """nginx on ``addrs`` serving ``site``; ``extra``: lines added to its server block (bench/scale.py)."""
    prefix = tmp / "nginx"
    (prefix / "nginx-tmp").mkdir(parents=True, exist_ok=True)
    template = (BENCH / "nginx.conf.tmpl").read_text("utf-8")
    for _attempt in range(3):
        port = free_port(addrs[0])
        conf = (template.replace("@USER@", "user root;" if os.geteuid() == 0 else "")
                .replace("@PREFIX@", str(prefix))
                .replace("root @ROOT@;", f"root {site};\n{extra}")
                .replace("@LISTEN@", "\n".join(f"        listen {a}:{port};" for a in addrs)))
        conf_path = prefix / "nginx.conf"
        conf_path.write_text(conf, "utf-8")
        log = open(prefix / "nginx-stderr.log", "wb")
        proc = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf_path), "-e", str(prefix / "nginx-error.log")],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        if all(wait_port(a, port, proc) for a in (addrs[0], addrs[-1])):
            return Server("nginx", proc, addrs, port, f"nginx ({nginx}, conf {conf_path})")
        Server("nginx", proc, addrs, port).stop()
        err = (prefix / "nginx-error.log")
        print(f"bench: nginx did not start on port {port}: "
              f"{err.read_text('utf-8', 'replace')[-500:] if err.exists() else '(no error log)'}", flush=True)
    return None


def start_latency_server(tmp: Path, site: Path, first: str, hosts: int, latency_ms: float, name: str) -> Server:
    log = open(tmp / f"{name}-stderr.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "latency_server.py"), "--root", str(site), "--first", first,
         "--hosts", str(hosts), "--latency-ms", str(latency_ms), "--max-seconds", "7200"],
        stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
    )
    log.close()
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30.0)
    line = proc.stdout.readline().decode("ascii", "replace").strip() if ready else ""
    if not line.startswith("READY "):
        proc.kill()
        proc.wait(timeout=15)
        raise SystemExit(f"bench: latency server did not start (see {tmp / f'{name}-stderr.log'})")
    port = int(line.split()[1])
    addrs = host_addresses(first, hosts)
    return Server(name, proc, addrs, port, f"bench/latency_server.py, {latency_ms:g} ms, {hosts} hosts")


def check_server(url: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as resp:
        body = resp.read()
    if resp.status != 200 or not body:
        raise SystemExit(f"bench: {url} answered {resp.status} with {len(body)} bytes")


# -- WARC counting ----------------------------------------------------------------------------------
@dataclass
class WarcCount:
    pages: int = 0  # distinct benchmark pages archived with status 200
    responses: int = 0  # every response record (robots.txt, retries included)
    payload: int = 0  # bytes of the archived pages
    files: int = 0
    size: int = 0  # bytes on disk


def count_warcs(paths: list[Path], sizes: dict[str, int]) -> WarcCount:
    from warcio.archiveiterator import ArchiveIterator

    count = WarcCount(files=len(paths), size=sum(p.stat().st_size for p in paths))
    seen: set[str] = set()
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    continue
                count.responses += 1
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                status = record.http_headers.get_statuscode() if record.http_headers else None
                url_path = urlsplit(uri).path
                if status == "200" and url_path in sizes and uri not in seen:
                    seen.add(uri)
                    count.pages += 1
                    count.payload += sizes[url_path]
    return count


# -- the tools --------------------------------------------------------------------------------------
@dataclass
class Result:
    tool: str
    pages: int
    seconds: float
    cpu: float
    peak_rss: int
    warc_bytes: int | None
    payload: int
    command: str
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def citevault_exe() -> str:
    beside = Path(sys.executable).parent / "citevault"
    return str(beside) if beside.exists() else (shutil.which("citevault") or "citevault")


def write_claims(path: Path, urls: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i, url in enumerate(urls, 1):
            text = f"Report {i} says the council approved a budget of {i * 7919 % 100000} thousand for project {i}."
            fh.write(json.dumps({"text": text, "sources": [url]}) + "\n")


def citevault_add(home: Path, claims: Path, timeout: float) -> str:
    cmd = [citevault_exe(), "--home", str(home), "add", str(claims)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=clean_env())
    except subprocess.TimeoutExpired:
        raise SystemExit(f"bench: `{' '.join(cmd)}` did not finish in {timeout:g}s") from None
    if done.returncode != 0:
        hint = (" (ImportError: the claim-extraction module may still be in progress; retry later)"
                if "ImportError" in done.stderr else "")
        raise SystemExit(f"bench: `{' '.join(cmd)}` failed{hint}:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def run_citevault(label: str, tmp: Path, urls: list[str], sizes: dict[str, int], args: argparse.Namespace,
                  *, tool: str = "citevault", no_warc: bool = False, py_spy: Path | None = None,
                  run: int = 1, settings: Sequence[str] = ()) -> Result:
    """``citevault crawl`` as a user runs it (its defaults: the quote checks included), plus ``settings``."""
    home = tmp / f"home-{label}-{tool}-r{run}"
    claims = tmp / f"claims-{label}.jsonl"
    if not claims.exists():
        write_claims(claims, urls)
    added = citevault_add(home, claims, args.timeout)
    warcs = home / "warcs"
    before = {p.name for p in warcs.glob("*.warc.gz*")}
    if no_warc:
        code = (
            "import sys\nfrom archive.api import Archive\nfrom crawler.run import run_crawl\n"
            "a = Archive.open(sys.argv[1]); a.engine(create=True)\n"
            "run_crawl(a.home, concurrency=int(sys.argv[2]) or None, overrides={'DOWNLOADER_MIDDLEWARES': "
            "{'crawler.middlewares.WarcRecorderMiddleware': None}})\n"
        )
        cmd = [sys.executable, "-c", code, str(home), str(args.concurrency or 0)]
        shown = "python -c 'run_crawl(..., overrides={DOWNLOADER_MIDDLEWARES: {WarcRecorderMiddleware: None}})'"
    else:
        cmd = [citevault_exe(), "--home", str(home), "crawl"]
        if args.concurrency:
            cmd += ["--concurrency", str(args.concurrency)]
        for pair in [*args.setting, *settings]:
            cmd += ["-s", pair]
        shown = " ".join(["citevault", *cmd[1:]])
        if py_spy is not None:
            # --subprocesses: the recorder is a child process (archive/crawl/recorder_process.py)
            cmd = [args.py_spy_exe, "record", "--threads", "--subprocesses", "--format", "raw", "--rate", "200",
                   "-o", str(py_spy), "--", *cmd]
            shown = f"py-spy record --threads --subprocesses --format raw --rate 200 -o {py_spy} -- {shown}"
    timed = run_timed(cmd, tmp / f"log-{label}-{tool}-r{run}.txt", args.timeout)
    summary = last_line(timed.log, "citevault: done")
    new = sorted(p for p in warcs.glob("*.warc.gz") if p.name not in before)
    count = count_warcs(new, sizes)
    notes = [f"add: {added}", f"last line: {summary or '(none; see ' + str(timed.log) + ')'}",
             f"CPUs {timed.busy:.0f}% busy with other work at start"]
    m = re.search(r"done in ([\d.]+)s: (\d+) archived", summary)
    if m and float(m.group(1)) > 0:  # start-up (imports, schema check) and exit are outside that figure
        notes.append(f"inside the crawl: {int(m.group(2)) / float(m.group(1)):.1f} pages/s "
                     f"({timed.seconds - float(m.group(1)):.1f}s of the wall clock is start-up and exit)")
    if timed.returncode != 0:
        notes.append(f"exit code {timed.returncode} (None = killed at --timeout); log {timed.log}")
    notes.append(f"quote checks done by the end: {verdicts_in(home)} verdicts")
    pages = count.pages
    payload = count.payload
    if no_warc:  # nothing in the WARC to count: take the crawl's own summary
        m = re.search(r"(\d+) archived", summary)
        pages = int(m.group(1)) if m else 0
        payload = int(sum(sizes.values()) * pages / max(len(sizes), 1))
    else:
        notes.append(f"WARC: {count.files} new file(s), {count.responses} response records "
                     f"({count.pages} distinct pages with 200)")
    return Result(tool, pages, timed.seconds, timed.cpu, timed.peak_rss, None if no_warc else count.size, payload,
                  shown, notes)


def verdicts_in(home: Path) -> int:
    """Verdicts in a data home's index (the crawl's quote checks: one per claim and 2xx capture)."""
    import sqlite3

    try:
        conn = sqlite3.connect(home / "citevault.sqlite")
        try:
            return int(conn.execute("SELECT count(*) FROM verifications").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


#: The second citevault line: the crawl without its quote checks (not what a user runs by default).
NO_CHECK = ("CITEVAULT_CHECK_AFTER_CRAWL=False",)


def run_wget(label: str, tmp: Path, urls: list[str], sizes: dict[str, int], args: argparse.Namespace,
             run: int = 1) -> Result:
    url_file = tmp / f"urls-{label}.txt"
    url_file.write_text("".join(u + "\n" for u in urls), "utf-8")
    base = tmp / f"wget-{label}-r{run}"
    wtmp = tmp / f"wget-tmp-{label}"
    wtmp.mkdir(exist_ok=True)
    cmd = ["wget", "--no-verbose", "--tries=3", "--timeout=30", f"--warc-file={base}", "--no-warc-keep-log",
           f"--warc-tempdir={wtmp}", "--input-file", str(url_file), "--output-document", "/dev/null"]
    timed = run_timed(cmd, tmp / f"log-{label}-wget-r{run}.txt", args.timeout)
    warcs = [p for p in [base.with_name(base.name + ".warc.gz")] if p.exists()]  # one file: no --warc-max-size
    count = count_warcs(warcs, sizes)
    notes = [f"WARC: {count.files} file(s), {count.responses} response records ({count.pages} distinct pages with 200)",
             f"CPUs {timed.busy:.0f}% busy with other work at start"]
    if timed.returncode != 0:
        notes.append(f"exit code {timed.returncode} (None = killed at --timeout; 8 = some server error); "
                     f"log {timed.log}")
    return Result("wget", count.pages, timed.seconds, timed.cpu, timed.peak_rss, count.size, count.payload,
                  " ".join(cmd), notes)


def run_bare_scrapy(label: str, tmp: Path, urls: list[str], sizes: dict[str, int],
                    args: argparse.Namespace, per_host: int, run: int = 1) -> Result:
    url_file = tmp / f"urls-{label}.txt"
    url_file.write_text("".join(u + "\n" for u in urls), "utf-8")
    cmd = [sys.executable, str(BENCH / "scrapy_bare.py"), str(url_file), "--concurrency",
           str(args.concurrency or 64), "--per-host", str(per_host)]
    timed = run_timed(cmd, tmp / f"log-{label}-scrapy-bare-r{run}.txt", args.timeout)
    summary = last_line(timed.log, "scrapy-bare: done")
    m = re.search(r"(\d+) ok .*?(\d+) body bytes", summary)
    pages, payload = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return Result("scrapy-bare", pages, timed.seconds, timed.cpu, timed.peak_rss, None, payload,
                  "python " + " ".join(cmd[1:]), [f"last line: {summary}", f"CPUs {timed.busy:.0f}% busy with other work at start"])


def repeated(n: int, runner) -> Result:  # type: ignore[no-untyped-def]
    """Run ``runner(run)`` n times; the run with the median pages/s, noting every run's figure."""
    results = [runner(i) for i in range(1, n + 1)]
    if n == 1:
        return results[0]
    median = sorted(results, key=lambda r: r.rate)[n // 2]
    median.notes.insert(0, f"median of {n} runs by pages/s; all runs: " + ", ".join(f"{r.rate:.1f}" for r in results))
    return median


# -- output -----------------------------------------------------------------------------------------
def print_table(title: str, results: list[Result]) -> None:
    print(f"\n== {title}")
    print(f"{'tool':<16} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'MB/s':>7} {'peak RSS MB':>11} "
          f"{'WARC bytes':>12} {'CPU s':>7} {'CPU ms/page':>11}")
    for r in results:
        mbs = r.payload / r.seconds / 1e6 if r.seconds else 0.0
        warc = f"{r.warc_bytes:,}" if r.warc_bytes is not None else "-"
        print(f"{r.tool:<16} {r.pages:>6} {r.seconds:>8.2f} {r.rate:>8.1f} {mbs:>7.2f} "
              f"{r.peak_rss / 1e6:>11.1f} {warc:>12} {r.cpu:>7.1f} {1000 * r.cpu / max(r.pages, 1):>11.2f}")
    by = {r.tool: r for r in results}
    if "citevault" in by and "wget" in by and by["wget"].rate:
        print(f"ratio citevault/wget pages/s = {by['citevault'].rate / by['wget'].rate:.2f}x  "
              "(headline: `citevault crawl` with its defaults, quote checks included)")
    if "citevault-nocheck" in by and "wget" in by and by["wget"].rate:
        print(f"ratio citevault-nocheck/wget pages/s = {by['citevault-nocheck'].rate / by['wget'].rate:.2f}x  "
              "(-s CITEVAULT_CHECK_AFTER_CRAWL=False)")
    for r in results:
        print(f"  {r.tool}: {r.command}")
        for note in r.notes:
            print(f"    {note}")
    sys.stdout.flush()


#: Leaf frames that are a thread waiting (for a queue item, a lock, the selector): not CPU work.
WAIT_LEAVES = ("Condition.wait (", "Event.wait (", "Lock.acquire (", "_PollLikeSelector.select (",
               "EpollSelector.select (", "select (")


def print_profile(raw: Path, top: int = 15) -> None:
    """Own time per function from py-spy's raw (collapsed-stack) output: the leaf frame of each sample."""
    if not raw.exists():
        print(f"  py-spy wrote no profile ({raw})")
        return
    own: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    waits: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text("utf-8", "replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        process = ""
        prefix = re.match(r'(process \d+:"[^"]*";)+', stack)  # --subprocesses: parent;child;thread...
        if prefix:  # (a command line may hold ";" itself)
            process = "recorder " if "multiprocessing.spawn" in prefix.group(0) else "crawler "
            stack = stack[prefix.end():]
        frames = stack.split(";")
        m = re.match(r"thread \((?:0x)?[0-9a-f]+\)(?::\s*(.*))?$", frames[0])
        thread = process + ((m.group(1) or "unnamed") if m else "?")
        if m and len(frames) == 1:
            thread, frames = thread, [*frames, "(no Python frame)"]
        leaf = re.sub(r":\d+\)$", ")", frames[-1])  # one entry per function, not per line
        if leaf.startswith(WAIT_LEAVES):
            waits[thread] += int(n)
            continue
        own[leaf] += int(n)
        threads[thread] += int(n)
        total += int(n)
    print(f"\n== py-spy: top {top} functions by own time ({total} working samples at 200 Hz, {raw})")
    print("  working samples by thread: " + ", ".join(f"{t} {n}" for t, n in threads.most_common(6)))
    if waits:
        print("  left out, threads waiting (queue, lock, selector): " + ", ".join(f"{t} {n}" for t, n in waits.most_common(4)))
    for func, n in own.most_common(top):
        print(f"{n:>7} {100 * n / max(total, 1):5.1f}%  {func}")
    sys.stdout.flush()


# -- modes ------------------------------------------------------------------------------------------
def zero_mode(tmp: Path, site: Path, sizes: dict[str, int], args: argparse.Namespace) -> None:
    addrs = host_addresses(ZERO_FIRST if args.zero_hosts == 1 else LATENCY_FIRST, args.zero_hosts)
    nginx = ensure_nginx(args.install)
    server = start_nginx(nginx, tmp, site, addrs) if nginx else None
    if server is None:
        print("bench: *** nginx unavailable: FALLBACK to bench/latency_server.py with 0 ms latency "
              "(a Python server: figures are lower than with nginx) ***", flush=True)
        server = start_latency_server(tmp, site, addrs[0], len(addrs), 0.0, "fallback-server")
    try:
        paths = [f"/p/{i}.html" for i in range(1, args.pages + 1)]
        urls = server.urls(paths)
        check_server(urls[0])
        print(f"\nzero-latency mode: {len(urls)} pages from {server.note}, "
              f"{len(addrs)} host(s) {addrs[0]}..{addrs[-1]} port {server.port}", flush=True)
        per_host = 4
        eff = min(args.concurrency or 64, per_host * len(addrs))
        print(f"  citevault: --concurrency {args.concurrency or 'default (64)'}, per-host limit {per_host} "
              f"=> at most {eff} requests in flight", flush=True)
        n = args.repeat
        results = [repeated(n, lambda r: run_citevault("zero", tmp, urls, sizes, args, run=r))]
        if not args.no_wget:
            results.append(repeated(n, lambda r: run_wget("zero", tmp, urls, sizes, args, run=r)))
        if not args.no_nocheck:
            results.append(repeated(n, lambda r: run_citevault("zero", tmp, urls, sizes, args, run=r,
                                                               tool="citevault-nocheck", settings=NO_CHECK)))
        if args.baselines:
            results.append(repeated(n, lambda r: run_citevault("zero", tmp, urls, sizes, args, tool="citevault-nowarc",
                                                               no_warc=True, run=r)))
            results.append(repeated(n, lambda r: run_bare_scrapy("zero", tmp, urls, sizes, args, per_host, run=r)))
        print_table(f"zero latency, {len(urls)} pages of ~{args.size_kb:g} KB", results)
        if args.py_spy:
            out = Path(args.py_spy).resolve()
            prof = run_citevault("zero", tmp, urls, sizes, args, tool="citevault-pyspy", py_spy=out)
            print_table("zero latency under py-spy (slower: sampling overhead)", [prof])
            print_profile(out)
    finally:
        server.stop()


def latency_mode(tmp: Path, site: Path, sizes: dict[str, int], args: argparse.Namespace) -> None:
    server = start_latency_server(tmp, site, LATENCY_FIRST, args.hosts, args.latency_ms, "latency-server")
    try:
        paths = [f"/p/{i}.html" for i in range(1, args.latency_pages + 1)]
        urls = server.urls(paths)
        check_server(urls[0])
        print(f"\nlatency mode: {len(urls)} pages round-robin over {args.hosts} hosts "
              f"{server.addrs[0]}..{server.addrs[-1]} port {server.port}, {args.latency_ms:g} ms per response",
              flush=True)
        sub = {p: sizes[p] for p in paths}
        n = args.repeat
        results = [repeated(n, lambda r: run_citevault("latency", tmp, urls, sub, args, run=r))]
        if not args.no_wget:
            results.append(repeated(n, lambda r: run_wget("latency", tmp, urls, sub, args, run=r)))
        if not args.no_nocheck:
            results.append(repeated(n, lambda r: run_citevault("latency", tmp, urls, sub, args, run=r,
                                                               tool="citevault-nocheck", settings=NO_CHECK)))
        if args.baselines:
            results.append(repeated(n, lambda r: run_citevault("latency", tmp, urls, sub, args,
                                                               tool="citevault-nowarc", no_warc=True, run=r)))
            results.append(repeated(n, lambda r: run_bare_scrapy("latency", tmp, urls, sub, args, 4, run=r)))
        print_table(f"latency {args.latency_ms:g} ms, {args.hosts} hosts, {len(urls)} pages", results)
    finally:
        server.stop()


# -- several workers on one PostgreSQL index (issue 14) ----------------------------------------------
def _pg_databases(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """A function making a new empty PostgreSQL database (its URL) and a stop function: on ``--pg-url``'s
    server, or on a private cluster started here (tests/pg.py: Debian's postgresql package)."""
    import itertools

    names = itertools.count(1)
    if args.pg_url:
        import psycopg

        base = args.pg_url.rsplit("/", 1)[0]
        dsn = args.pg_url.replace("postgresql+psycopg://", "postgresql://")

        def make() -> str:
            name = f"cvbench_{os.getpid()}_{next(names)}"
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
            return f"{base}/{name}"

        return make, lambda: None, None
    sys.path.insert(0, str(BENCH.parent))
    from tests.pg import Cluster, available

    if not available():
        raise SystemExit("bench: --workers needs PostgreSQL: pass --pg-url, or apt-get install -y postgresql")
    cluster = Cluster().start()
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    return (lambda: cluster.empty_database("cvbench")), cluster.stop, postmaster


def server_cpu(postmaster: int | None) -> float | None:
    """CPU seconds the private PostgreSQL cluster used so far: the postmaster, the backends it reaped
    (its children's times) and those still running. On this machine the server shares the cores with the
    crawl, so its CPU per page belongs in the budget (it is not in the crawl's CPU column)."""
    if postmaster is None:
        return None
    try:
        root = psutil.Process(postmaster)
        t = root.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in root.children():
            try:
                c = child.cpu_times()
                total += c.user + c.system
            except psutil.Error:
                pass
        return total
    except psutil.Error:
        return None


def run_workers(label: str, tmp: Path, urls: list[str], sizes: dict[str, int], args: argparse.Namespace,
                workers: int, db: str, run: int = 1, postmaster: int | None = None) -> Result:
    """``workers`` ``citevault crawl`` processes started together on one data home and one PostgreSQL
    index, each with its own node name: timed as a whole, from the first start to the last exit."""
    import shlex

    home = tmp / f"home-{label}-w{workers}-r{run}"
    claims = tmp / f"claims-{label}.jsonl"
    if not claims.exists():
        write_claims(claims, urls)
    exe = citevault_exe()
    done = subprocess.run([exe, "--home", str(home), "--db", db, "add", str(claims)], capture_output=True,
                          text=True, timeout=args.timeout, env=clean_env(), check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: add into {db} failed:\n{done.stderr[-2000:]}")
    crawl = [exe, "--home", str(home), "--db", db, "crawl"]
    if args.concurrency:
        crawl += ["--concurrency", str(args.concurrency)]
    for pair in args.setting:
        crawl += ["-s", pair]
    logs = [tmp / f"log-{label}-w{workers}-r{run}-{i}.txt" for i in range(1, workers + 1)]
    script = " ".join(f"{shlex.join([*crawl, '--node', f'worker{i}'])} 2>{shlex.quote(str(log))} &"
                      for i, log in enumerate(logs, 1)) + " wait"
    server_before = server_cpu(postmaster)
    timed = run_timed(["sh", "-c", script], tmp / f"log-{label}-w{workers}-r{run}.txt", args.timeout)
    server_after = server_cpu(postmaster)
    count = count_warcs(sorted((home / "warcs").glob("*.warc.gz")), sizes)
    notes = [(f"{workers} worker process(es), PostgreSQL index; WARC: {count.files} file(s), {count.responses} "
              f"response records ({count.pages} distinct pages with 200)"),
             *(f"worker {i}: {last_line(log, 'citevault: done') or '(no summary; see ' + str(log) + ')'}"
               for i, log in enumerate(logs, 1)),
             f"CPUs {timed.busy:.0f}% busy with other work at start"]
    if server_before is not None and server_after is not None:
        spent = server_after - server_before
        notes.append(f"PostgreSQL server (same cores, not in the CPU column): {spent:.1f} CPU s, "
                     f"{1000 * spent / max(count.pages, 1):.2f} ms/page; crawl + server "
                     f"{1000 * (timed.cpu + spent) / max(count.pages, 1):.2f} ms/page")
    # response records beyond the pages: each worker's robots.txt (a 404 here)
    return Result(f"citevault x{workers} (pg)", count.pages, timed.seconds, timed.cpu, timed.peak_rss, count.size,
                  count.payload, f"{workers} x citevault --db … crawl --node workerN", notes)


def workers_mode(tmp: Path, site: Path, sizes: dict[str, int], args: argparse.Namespace) -> None:
    """Zero latency: ``--workers`` crawl processes against one PostgreSQL index, one worker on it, and wget."""
    addrs = host_addresses(ZERO_FIRST if args.zero_hosts == 1 else LATENCY_FIRST, args.zero_hosts)
    nginx = ensure_nginx(args.install)
    server = start_nginx(nginx, tmp, site, addrs) if nginx else None
    if server is None:
        print("bench: *** nginx unavailable: FALLBACK to bench/latency_server.py with 0 ms latency ***", flush=True)
        server = start_latency_server(tmp, site, addrs[0], len(addrs), 0.0, "fallback-server")
    make_db, stop_db, postmaster = _pg_databases(args)
    try:
        urls = server.urls([f"/p/{i}.html" for i in range(1, args.pages + 1)])
        check_server(urls[0])
        print(f"\nworkers mode: {len(urls)} pages from {server.note}, zero latency, PostgreSQL index", flush=True)
        n = args.repeat
        results = [repeated(n, lambda r: run_workers("workers", tmp, urls, sizes, args, 1, make_db(), run=r,
                                                     postmaster=postmaster)),
                   repeated(n, lambda r: run_workers("workers", tmp, urls, sizes, args, args.workers, make_db(),
                                                     run=r, postmaster=postmaster))]
        if not args.no_wget:
            results.append(repeated(n, lambda r: run_wget("workers", tmp, urls, sizes, args, run=r)))
        print_table(f"zero latency, {len(urls)} pages of ~{args.size_kb:g} KB: {args.workers} workers vs one, "
                    "PostgreSQL index", results)
    finally:
        stop_db()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--pages", type=int, default=5000, help="pages in zero-latency mode")
    p.add_argument("--size-kb", type=float, default=20, help="approximate size of each page")
    p.add_argument("--mode", choices=("zero", "latency", "both"), default="both")
    p.add_argument("--latency-ms", type=float, default=50, help="delay before each response (latency mode)")
    p.add_argument("--hosts", type=int, default=50, help="loopback hosts 127.0.1.1.. (latency mode)")
    p.add_argument("--latency-pages", type=int, default=2000, help="pages in latency mode")
    p.add_argument("--concurrency", type=int, default=None, help="citevault crawl --concurrency (default: its own)")
    p.add_argument("--zero-hosts", type=int, default=1,
                   help="zero mode: serve from this many loopback hosts (1: 127.0.0.1; more: 127.0.1.1..), "
                        "to lift citevault's per-host limit of 4")
    p.add_argument("--setting", "-s", action="append", default=[], metavar="NAME=VALUE",
                   help="passed to `citevault crawl -s` (repeatable), e.g. CITEVAULT_WARC_COMPRESSLEVEL=1")
    p.add_argument("--no-wget", action="store_true", help="skip wget (e.g. for a concurrency sweep)")
    p.add_argument("--no-nocheck", action="store_true",
                   help="skip the second citevault run, the one without quote checks")
    p.add_argument("--repeat", type=int, default=1,
                   help="run each tool this many times and report the median run (the machine may be busy)")
    p.add_argument("--baselines", action="store_true",
                   help="also time citevault with the WARC middleware disabled, and bare Scrapy (no WARC, no index)")
    p.add_argument("--py-spy", metavar="FILE", help="zero mode: one more crawl under py-spy; raw profile to FILE")
    p.add_argument("--install", action="store_true", help="apt-get install -y nginx if it is missing")
    p.add_argument("--timeout", type=float, default=900, help="seconds allowed for each timed process")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (printed)")
    p.add_argument("--workers", type=int, default=1,
                   help="also run this many crawl processes at once on one PostgreSQL index (zero latency), "
                        "against one worker on it and wget")
    p.add_argument("--pg-url", metavar="URL", help="--workers: a PostgreSQL server to create databases on "
                   "(postgresql+psycopg://user@host/db); default: a private cluster started for the run")
    args = p.parse_args(argv)
    if args.repeat < 1 or args.pages < 1 or args.latency_pages < 1 or not 1 <= args.hosts <= 254 or not 1 <= args.zero_hosts <= 254:
        p.error("--pages/--latency-pages must be >= 1, --hosts/--zero-hosts 1-254")
    if args.py_spy:
        args.py_spy_exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not os.path.exists(args.py_spy_exe):
            p.error("--py-spy: py-spy not found (pip install py-spy)")
    if not shutil.which("wget") and not args.no_wget:
        p.error("wget not found (apt-get install -y wget), or pass --no-wget")

    tmp = Path(tempfile.mkdtemp(prefix="citevault-bench-"))
    os.chmod(tmp, 0o755)
    try:
        need = max(args.pages if args.mode != "latency" else 0, args.latency_pages if args.mode != "zero" else 0)
        started = time.perf_counter()
        site = tmp / "site"
        sizes = generate_site(site, need, args.size_kb)
        print(f"bench: {need} pages, {sum(sizes.values()) / 1e6:.1f} MB, generated in "
              f"{time.perf_counter() - started:.1f}s under {tmp}", flush=True)
        print(f"bench: citevault = {citevault_exe()}; wget = {shutil.which('wget')}; {os.cpu_count()} CPUs", flush=True)
        if args.mode in ("zero", "both"):
            zero_mode(tmp, site, sizes, args)
        if args.mode in ("latency", "both"):
            latency_mode(tmp, site, sizes, args)
        if args.workers > 1:
            workers_mode(tmp, site, sizes, args)
    finally:
        if args.keep:
            print(f"\nbench: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
