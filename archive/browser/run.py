"""The crawl's side of browser capture: pick the pages (:mod:`archive.browser.select`), hand them to the
browser worker in a process of its own (:mod:`archive.browser.worker`), and say what it did on stderr.

Runs after the raw crawl has recorded everything and before the crawl's quote checks, so the raw capture is
always first and the checks can read the rendered text. The raw crawl has decided each source's state by
then; a re-checked source whose page was just rendered is decided again from the rendered texts
(:mod:`archive.recheck.rendered_state`).
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from archive.browser.policy import Mode
from archive.errors import CitevaultError

if TYPE_CHECKING:
    from archive.api import Archive
    from archive.browser.policy import BrowserPolicy


class BrowserUnavailable(CitevaultError):
    """Pages were to be rendered but Chromium, Playwright or warcprox is missing."""


def unavailable() -> str | None:
    """Why browser capture cannot run here, or None when it can."""
    from archive.browser.worker import CHROMIUM

    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium, or set CITEVAULT_CHROMIUM)"
    for module in ("playwright", "warcprox"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'citevault[browser]')"
    return None


@dataclass
class RenderStats:
    pages: int = 0
    rendered: int = 0
    cut: int = 0
    refused: int = 0
    exchanges: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)  #: the worker's line per page
    warc_files: list[str] = field(default_factory=list)  #: the worker's own WARC files (named after it)


class Worker:
    """The browser worker's process (:mod:`archive.browser.worker`), started before its jobs are known.

    With ``--browser always`` every archived page is rendered, so the crawl starts the worker as it opens
    (:func:`prestart`): Python's imports, the proxies and Chromium start on the second core while the raw
    crawl runs, and the worker waits for its jobs on stdin. The crawl either hands them over
    (:func:`render_crawl`) or, when nothing is to be rendered, :meth:`discard` s it; a worker whose crawl
    died sees its stdin close and exits the same way."""

    def __init__(self, archive: Archive, policy: BrowserPolicy, operator: str, *, prestart: bool) -> None:
        command = [sys.executable, "-m", "archive.browser.worker", "--home", str(archive.home.root),
                   "--db", archive.home.db_url, "--parallel", str(policy.parallel),
                   "--time-limit", str(policy.time_limit), "--allow", policy.allow, "--operator", operator]
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by discard() or render_crawl()
        self.proc = subprocess.Popen([*command, *(["--prestart"] if prestart else [])], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env={**os.environ, "PYTHONWARNINGS": "ignore"})

    def discard(self) -> None:
        """No jobs: the worker closes Chromium and exits (killed if it takes more than 10 s)."""
        try:
            self.proc.communicate(timeout=10)  # closes its stdin: no jobs
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def prestart(archive: Archive, policy: BrowserPolicy, operator: str = "") -> Worker | None:
    """A worker started now for a crawl that renders every page it archives (``always`` for every domain),
    or None: with ``auto`` most crawls render nothing, and a browser started for nothing costs a few CPU
    seconds."""
    if policy.mode != Mode.ALWAYS or any(mode != Mode.ALWAYS for _, mode in policy.domains) or unavailable():
        return None
    return Worker(archive, policy, operator, prestart=True)


def render_crawl(archive: Archive, crawl_id: str, policy: BrowserPolicy, *, operator: str = "",
                 err: IO[str] | None = None, worker: Worker | None = None) -> RenderStats:
    """Render what crawl ``crawl_id`` captured that ``policy`` selects (with ``worker`` when one was
    started ahead; it is used up either way). Raises :class:`BrowserUnavailable` when pages were selected
    and the browser cannot run (the caller decides whether that is an error)."""
    from archive.browser.select import candidates

    err = err or sys.stderr
    stats = RenderStats()
    try:
        with archive.engine().connect() as conn:
            picked = candidates(conn, archive.home, crawl_id, policy) if policy.enabled else []
    except BaseException:
        if worker is not None:
            worker.discard()
        raise
    if not picked:
        if worker is not None:
            worker.discard()
        return stats
    missing = unavailable()
    if missing:
        if worker is not None:
            worker.discard()
        raise BrowserUnavailable(f"{len(picked)} page(s) to render in a browser, but {missing}")
    for c in picked:
        key = c.reason.split(" (")[0]
        stats.reasons[key] = stats.reasons.get(key, 0) + 1
    why = ", ".join(f"{n} {reason}" for reason, n in stats.reasons.items())
    err.write(f"citevault: rendering {len(picked)} page(s) in a browser ({why})\n")
    err.flush()
    started = time.monotonic()
    budget = policy.time_limit * (math.ceil(len(picked) / max(1, policy.parallel)) + 1) + 60
    worker = worker or Worker(archive, policy, operator, prestart=False)
    with worker.log as log:
        proc = worker.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write("".join(json.dumps(c.job()) + "\n" for c in picked))
            proc.stdin.close()
        except BrokenPipeError:  # a worker that died starting: its stderr says why (below)
            pass
        summary: dict[str, Any] = {}
        try:
            for line in proc.stdout:
                item = json.loads(line)
                if "summary" in item:
                    summary = item["summary"]
                else:
                    stats.lines.append(item)
            proc.wait(timeout=max(1.0, budget - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode != 0 and not summary:
            log.seek(0)
            last = [x for x in log.read().splitlines() if x.strip()][-1:] or [f"exit {proc.returncode}"]
            err.write(f"citevault: browser capture failed: {last[0][:300]}; the raw captures stay archived\n")
    stats.seconds = time.monotonic() - started
    for page in stats.lines:
        if page.get("cut"):
            steps = ", ".join(p.split(":")[0] for p in page.get("problems") or [])
            err.write(f"citevault: browser: {page['page']} cut at the {policy.time_limit:g}s limit ({steps}); "
                      "what it loaded is kept\n")
    stats.pages = len(stats.lines)
    stats.rendered = sum(1 for x in stats.lines if x.get("rendering"))
    stats.cut = sum(1 for x in stats.lines if x.get("cut"))
    stats.refused = sum(len(x.get("refused") or []) for x in stats.lines)
    stats.exchanges = sum(int(x.get("exchanges") or 0) for x in stats.lines)
    stats.warc_files = [str(name) for name in summary.get("warc_files") or []]
    extra = [f"{stats.cut} cut at the {policy.time_limit:g}s limit" if stats.cut else "",
             f"{stats.refused} request(s) to private addresses refused" if stats.refused else ""]
    detail = "; ".join(x for x in extra if x)
    where = f" in {', '.join(stats.warc_files)}" if stats.warc_files else ""
    err.write(f"citevault: rendered {stats.rendered} of {len(picked)} page(s) in a browser in {stats.seconds:.1f}s: "
              f"{stats.exchanges} exchanges recorded{where}{'; ' + detail if detail else ''}\n")
    _redecide(archive, [str(x["rendering"]) for x in stats.lines if x.get("rendering")], operator, err)
    return stats


def _redecide(archive: Archive, rendering_ids: list[str], operator: str, err: IO[str]) -> None:
    """The states the raw crawl decided for re-checked sources whose new capture was just rendered, decided
    again from the rendered texts (:mod:`archive.recheck.rendered_state`), and a line when one changed. A
    failure here leaves the raw decision and says so: the captures and renderings are archived either way."""
    if not rendering_ids:
        return
    from archive.recheck.rendered_state import redecide

    try:
        with archive.engine().begin() as conn:
            flipped = redecide(conn, archive.home, rendering_ids, operator=operator or None)
    except Exception as exc:  # noqa: BLE001 - the raw decision stands
        err.write(f"citevault: could not decide states again from the rendered text: {type(exc).__name__}: {exc}"[:300]
                  + "\n")
        return
    if flipped:
        counts: dict[str, int] = {}
        for done in flipped:
            counts[done.after] = counts.get(done.after, 0) + 1
        said = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        err.write(f"citevault: {len(flipped)} source state(s) decided again from the rendered text: {said} "
                  "(the raw page said otherwise)\n")
