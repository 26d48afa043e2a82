"""Benchmark: page assets. ``citevault crawl`` (its defaults) against ``wget -p --warc-file`` on the same pages.

Prints figures, asserts nothing. N pages (default 500, ~20 KB of text each, as in crawl_vs_wget.py) each load
10 assets: 3 shared by every page and 7 of their own::

    shared, on the first host   /shared/site.css (link rel=stylesheet; its @font-face loads the font)
                                /shared/font.woff2 (found only inside site.css)
                                /shared/logo.png (img in the header; also the page's favicon)
    per page, on its own host   /a/{i}/page.css (link rel=stylesheet)   /a/{i}/bg.png (url() in page.css)
                                /a/{i}/hero.png (img src)               /a/{i}/hero-2x.png (srcset 2x)
                                /a/{i}/lazy.png (data-src only)          /a/{i}/thumb.png (img src)
                                /a/{i}/page.js (script src)

Pages go round-robin over ``--hosts`` loopback addresses (127.0.1.1 ...), all served by one
bench/latency_server.py process that waits ``--latency-ms`` before every response; the site is written into
the server's root once it has its port (the shared assets are absolute URLs on the first host, fetched once
per crawl by a crawler that remembers them). Both tools run in the same invocation, one after the other, each
timed as a whole process (wall clock, peak RSS of the process tree sampled every 50 ms, CPU time): the helpers
are imported from bench/crawl_vs_wget.py.

* citevault: ``citevault add`` the claim list (untimed), then ``citevault crawl`` with its defaults: assets
  on, the quote checks after the crawl on, since that is the command a user runs.
* wget: ``wget -p -H --warc-file=... -i urls.txt`` (``-p``: page requisites; ``-H``: also those on another
  host, the shared ones, as wget's manual advises for complete pages).

Assets are counted in each tool's WARC files: response records whose URL is not one of the page URLs; the
"assets" column counts distinct such URLs answered 200, and a second table says which of the expected assets
each tool archived, by kind. A citevault that does not fetch assets yet simply reports 0 assets.

    python bench/assets.py                      # 500 pages x 10 assets, 50 hosts, 50 ms; both tools
    python bench/assets.py --pages 50           # smoke run (~1 min, most of it wget)
    python bench/assets.py --pages 50 --no-wget
    python bench/assets.py --browser            # points to bench/browser.py

Browser mode (issue 11) is timed by bench/browser.py (pages/s and peak memory with 4 pages rendered in
parallel); ``--browser`` here only says so.

Only loopback addresses (127.0.0.0/8) are used.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import struct
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:  # run as a script or imported from elsewhere: crawl_vs_wget is a sibling
    sys.path.insert(0, str(BENCH))

import crawl_vs_wget as cvw  # (the timing, server and citevault helpers, not copied)

FIRST = cvw.LATENCY_FIRST  # 127.0.1.1
SHARED = {"/shared/site.css": "shared css", "/shared/font.woff2": "shared font", "/shared/logo.png": "shared logo"}
#: Per-page asset file name -> kind (the second table's rows).
OWN = {"page.css": "page css", "bg.png": "css url() image", "hero.png": "img src", "hero-2x.png": "srcset 2x",
       "lazy.png": "lazy data-src", "thumb.png": "img src", "page.js": "script"}
IMAGE_BYTES = 6 * 1024  # each generated PNG is about this big (noise does not compress)


# -- the site ---------------------------------------------------------------------------------------
def png(width: int, height: int, rng: random.Random, colour: tuple[int, int, int]) -> bytes:
    """A valid RGB PNG: a solid band of ``colour`` on top, noise below (so it weighs what a photo would)."""
    band = height // 3
    rows = []
    for y in range(height):
        row = bytes(colour) * width if y < band else rng.randbytes(3 * width)
        rows.append(b"\x00" + row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
            + chunk(b"IEND", b""))


def _image(rng: random.Random, i: int) -> bytes:
    side = max(8, int((IMAGE_BYTES / 3 * 1.5) ** 0.5))  # 2/3 noise rows of 3 bytes a pixel
    return png(side, side, rng, ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))


def asset_markup(i: int, shared_base: str) -> tuple[bytes, bytes]:
    """What page ``i`` adds to its <head> and to the top of its <main>."""
    head = (f'<link rel="stylesheet" href="{shared_base}/shared/site.css">\n'
            f'<link rel="icon" href="{shared_base}/shared/logo.png">\n'
            f'<link rel="stylesheet" href="/a/{i}/page.css">\n'
            f'<script src="/a/{i}/page.js" defer></script>\n')
    body = (f'<p class="masthead"><img src="{shared_base}/shared/logo.png" alt="Logo" width="120" height="40"></p>\n'
            f'<figure><img src="/a/{i}/hero.png" srcset="/a/{i}/hero.png 1x, /a/{i}/hero-2x.png 2x" '
            f'alt="Figure {i}" width="64" height="64"></figure>\n'
            f'<p><img class="lazy" data-src="/a/{i}/lazy.png" alt="Chart {i}" width="64" height="64">'
            f'<img src="/a/{i}/thumb.png" alt="Thumbnail {i}" width="32" height="32"></p>\n')
    return head.encode(), body.encode()


@dataclass
class Site:
    page_urls: list[str]
    sizes: dict[str, int]  # page path -> bytes (what crawl_vs_wget's counting wants)
    expected: dict[str, str]  # asset URL -> kind
    asset_bytes: int


def write_site(root: Path, server: cvw.Server, pages: int, size_kb: float, seed: int = 7) -> Site:
    """Write the pages and their assets under ``root`` (the running server's directory, read lazily)."""
    paths = [f"/p/{i}.html" for i in range(1, pages + 1)]
    urls = server.urls(paths)
    shared_base = f"http://{server.addrs[0]}:{server.port}"
    rng = random.Random(seed)
    vocab = cvw._vocabulary(random.Random(seed))
    target = int(size_kb * 1024)
    (root / "shared").mkdir(parents=True, exist_ok=True)
    (root / "p").mkdir(exist_ok=True)
    shared = {
        "site.css": (b'@font-face { font-family: "Bench Sans"; src: url("font.woff2") format("woff2"); }\n'
                     b'body { font-family: "Bench Sans", sans-serif; margin: 0 auto; max-width: 48rem; }\n'
                     b".masthead { border-bottom: 4px solid #c00; } img.lazy { background: #eee; }\n"),
        # Not a valid font: crawlers store bytes, nothing here renders them (tests/site/styled/ has a real one).
        "font.woff2": b"wOF2" + rng.randbytes(24 * 1024),
        "logo.png": png(120, 40, rng, (200, 0, 0)),
    }
    asset_bytes = 0
    for name, data in shared.items():
        (root / "shared" / name).write_bytes(data)
        asset_bytes += len(data)
    expected = {shared_base + path: kind for path, kind in SHARED.items()}
    sizes = {}
    for i, (path, url) in enumerate(zip(paths, urls), 1):
        page = cvw.make_page(i, pages, target, vocab, seed)
        head, body = asset_markup(i, shared_base)
        page = page.replace(b"</head>", head + b"</head>", 1).replace(b"<article>\n", b"<article>\n" + body, 1)
        (root / "p" / f"{i}.html").write_bytes(page)
        sizes[path] = len(page)
        own = root / "a" / str(i)
        own.mkdir(parents=True, exist_ok=True)
        files = {
            "page.css": f"article {{ background: #fafafa url(bg.png) no-repeat right top; }}\n"
                        f"/* page {i} */ figure {{ margin: 1rem 0; border-left: 6px solid "
                        f"#{(i * 4001) % 0xFFFFFF:06x}; }}\n".encode(),
            "bg.png": _image(rng, i), "hero.png": _image(rng, i + 1), "hero-2x.png": _image(rng, i + 2),
            "lazy.png": _image(rng, i + 3), "thumb.png": _image(rng, i + 4),
            "page.js": (f"// page {i}: copies data-src into src, as a lazy-loading script would\n"
                        "document.querySelectorAll('img[data-src]').forEach(function (img) {\n"
                        "  img.src = img.getAttribute('data-src');\n});\n").encode() + b"//" + b"x" * 1500 + b"\n",
        }
        host = url.rsplit("/p/", 1)[0]
        for name, data in files.items():
            (own / name).write_bytes(data)
            asset_bytes += len(data)
            expected[f"{host}/a/{i}/{name}"] = OWN[name]
    return Site(urls, sizes, expected, asset_bytes)


# -- counting ---------------------------------------------------------------------------------------
@dataclass
class AssetCount:
    pages: int = 0  # distinct page URLs answered 200
    asset_records: int = 0  # response records whose URL is not a page URL (robots.txt and refetches included)
    assets: int = 0  # distinct non-page URLs answered 200
    by_kind: collections.Counter[str] = field(default_factory=collections.Counter)  # expected assets archived
    unexpected: int = 0  # distinct non-page URLs answered 200 that the site does not list as an asset
    files: int = 0
    size: int = 0


def count_assets(paths: list[Path], page_urls: set[str], expected: dict[str, str]) -> AssetCount:
    from warcio.archiveiterator import ArchiveIterator

    count = AssetCount(files=len(paths), size=sum(p.stat().st_size for p in paths))
    pages: set[str] = set()
    assets: set[str] = set()
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                ok = (record.http_headers.get_statuscode() if record.http_headers else None) == "200"
                if uri in page_urls:
                    if ok:
                        pages.add(uri)
                    continue
                count.asset_records += 1
                if ok:
                    assets.add(uri)
    count.pages, count.assets = len(pages), len(assets)
    for uri in assets:
        kind = expected.get(uri)
        if kind is None:
            count.unexpected += 1
        else:
            count.by_kind[kind] += 1
    return count


# -- the tools --------------------------------------------------------------------------------------
@dataclass
class Run:
    tool: str
    timed_seconds: float
    cpu: float
    peak_rss: int
    count: AssetCount
    command: str
    notes: list[str]

    def rate(self, n: int) -> float:
        return n / self.timed_seconds if self.timed_seconds else 0.0


def run_citevault(tmp: Path, site: Site, args: argparse.Namespace) -> Run:
    # crawl_vs_wget.run_citevault: `citevault add` (untimed), then the timed `citevault crawl` in a new home
    result = cvw.run_citevault("assets", tmp, site.page_urls, site.sizes, args)
    warcs = sorted((tmp / "home-assets-citevault-r1" / "warcs").glob("*.warc.gz"))  # that function's home
    count = count_assets(warcs, set(site.page_urls), site.expected)
    notes = [n for n in result.notes if not n.startswith("WARC:")]
    notes.append(f"WARC: {count.files} file(s), {count.asset_records} non-page response records")
    return Run("citevault", result.seconds, result.cpu, result.peak_rss, count, result.command, notes)


def run_wget(tmp: Path, site: Site, args: argparse.Namespace) -> Run:
    url_file = tmp / "urls.txt"
    url_file.write_text("".join(u + "\n" for u in site.page_urls), "utf-8")
    base = tmp / "wget-assets"
    wtmp = tmp / "wget-tmp"
    wtmp.mkdir(exist_ok=True)
    # -p needs the files on disk (wget reads each saved page back to find its requisites): -P, not -O /dev/null
    cmd = ["wget", "--no-verbose", "--tries=3", "--timeout=30", "-p", "-H", f"--warc-file={base}",
           "--no-warc-keep-log", f"--warc-tempdir={wtmp}", "-P", str(tmp / "wget-files"), "-i", str(url_file)]
    timed = cvw.run_timed(cmd, tmp / "log-assets-wget.txt", args.timeout)
    warcs = [p for p in [base.with_name(base.name + ".warc.gz")] if p.exists()]
    count = count_assets(warcs, set(site.page_urls), site.expected)
    notes = [f"WARC: {count.files} file(s), {count.asset_records} non-page response records",
             f"CPUs {timed.busy:.0f}% busy with other work at start"]
    if timed.returncode != 0:
        notes.append(f"exit code {timed.returncode} (None = killed at --timeout; 8 = some server error, e.g. the "
                     f"404 robots.txt is not one; see {timed.log})")
    return Run("wget", timed.seconds, timed.cpu, timed.peak_rss, count, " ".join(cmd), notes)


# -- output -----------------------------------------------------------------------------------------
def print_results(title: str, runs: list[Run], site: Site) -> None:
    print(f"\n== {title}")
    print(f"{'tool':<10} {'pages':>6} {'assets':>7} {'asset recs':>10} {'seconds':>8} {'pages/s':>8} "
          f"{'assets/s':>9} {'peak RSS MB':>11} {'CPU s':>7} {'WARC MB':>8}")
    for r in runs:
        c = r.count
        print(f"{r.tool:<10} {c.pages:>6} {c.assets:>7} {c.asset_records:>10} {r.timed_seconds:>8.2f} "
              f"{r.rate(c.pages):>8.1f} {r.rate(c.assets):>9.1f} {r.peak_rss / 1e6:>11.1f} {r.cpu:>7.1f} "
              f"{c.size / 1e6:>8.2f}")
    by = {r.tool: r for r in runs}
    if "citevault" in by and "wget" in by:
        cv, wg = by["citevault"], by["wget"]
        for label, a, b in (("pages/s", cv.rate(cv.count.pages), wg.rate(wg.count.pages)),
                            ("assets/s", cv.rate(cv.count.assets), wg.rate(wg.count.assets)),
                            ("wall time (wget/citevault)", wg.timed_seconds, cv.timed_seconds)):
            ratio = f"{a / b:.2f}x" if b else "n/a (wget: 0)"
            print(f"ratio citevault/wget {label} = {ratio}")
        print("(target: citevault >= 10x wget)")
    kinds = list(dict.fromkeys(site.expected.values()))
    expected = collections.Counter(site.expected.values())
    print(f"\n{'expected asset':<18} {'expected':>8} " + " ".join(f"{r.tool:>10}" for r in runs))
    for kind in kinds:
        print(f"{kind:<18} {expected[kind]:>8} " + " ".join(f"{r.count.by_kind[kind]:>10}" for r in runs))
    print(f"{'all':<18} {len(site.expected):>8} " + " ".join(f"{sum(r.count.by_kind.values()):>10}" for r in runs))
    print(f"{'not in the site':<18} {'':>8} " + " ".join(f"{r.count.unexpected:>10}" for r in runs))
    for r in runs:
        print(f"  {r.tool}: {r.command}")
        for note in r.notes:
            print(f"    {note}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--pages", type=int, default=500, help="pages, each with 10 assets (3 shared, 7 its own)")
    p.add_argument("--size-kb", type=float, default=20, help="approximate size of each page's HTML")
    p.add_argument("--hosts", type=int, default=50, help="loopback hosts 127.0.1.1.. the pages go round-robin over")
    p.add_argument("--latency-ms", type=float, default=50, help="delay before each response")
    p.add_argument("--concurrency", type=int, default=None, help="citevault crawl --concurrency (default: its own)")
    p.add_argument("--setting", "-s", action="append", default=[], metavar="NAME=VALUE",
                   help="passed to `citevault crawl -s` (repeatable)")
    p.add_argument("--no-wget", action="store_true", help="skip wget")
    p.add_argument("--browser", action="store_true", help="browser capture: see bench/browser.py")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed for each timed process")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (printed)")
    args = p.parse_args(argv)
    if args.pages < 1 or not 1 <= args.hosts <= 254:
        p.error("--pages must be >= 1, --hosts 1-254")
    if not shutil.which("wget") and not args.no_wget:
        p.error("wget not found (apt-get install -y wget), or pass --no-wget")

    tmp = Path(tempfile.mkdtemp(prefix="citevault-bench-assets-"))
    os.chmod(tmp, 0o755)
    root = tmp / "site"
    root.mkdir()
    server = cvw.start_latency_server(tmp, root, FIRST, args.hosts, args.latency_ms, "latency-server")
    try:
        started = time.perf_counter()
        site = write_site(root, server, args.pages, args.size_kb)
        cvw.check_server(site.page_urls[0])
        print(f"bench: {args.pages} pages ({sum(site.sizes.values()) / 1e6:.1f} MB) + {len(site.expected)} distinct "
              f"assets ({site.asset_bytes / 1e6:.1f} MB) generated in {time.perf_counter() - started:.1f}s under {tmp}",
              flush=True)
        print(f"bench: {args.hosts} hosts {server.addrs[0]}..{server.addrs[-1]} port {server.port}, "
              f"{args.latency_ms:g} ms per response ({server.note}); citevault = {cvw.citevault_exe()}; "
              f"wget = {shutil.which('wget')}; {os.cpu_count()} CPUs", flush=True)
        runs = [run_citevault(tmp, site, args)]
        if not args.no_wget:
            runs.append(run_wget(tmp, site, args))
        print_results(f"page assets: {args.pages} pages x 10 assets (3 shared), {args.hosts} hosts, "
                      f"{args.latency_ms:g} ms", runs, site)
        if runs[0].count.assets == 0:
            print("note: citevault archived no assets: this tree's crawl does not fetch page assets yet")
        if args.browser:
            print("\n== browser capture\ntimed by bench/browser.py (python bench/browser.py)")
    finally:
        server.stop()
        if args.keep:
            print(f"\nbench: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
