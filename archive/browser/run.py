"""The crawl's side of browser capture: pick the pages (:mod:`archive.browser.select`), hand them to the
browser worker in a process of its own (:mod:`archive.browser.worker`), and say what it did on stderr.

Runs after the raw crawl has recorded everything and before the crawl's quote checks, so the raw capture is
always first and the checks can read the rendered text.
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


def render_crawl(archive: Archive, crawl_id: str, policy: BrowserPolicy, *, operator: str = "",
                 err: IO[str] | None = None) -> RenderStats:
    """Render what crawl ``crawl_id`` captured that ``policy`` selects. Raises :class:`BrowserUnavailable`
    when pages were selected and the browser cannot run (the caller decides whether that is an error)."""
    from archive.browser.select import candidates

    err = err or sys.stderr
    stats = RenderStats()
    if not policy.enabled:
        return stats
    with archive.engine().connect() as conn:
        picked = candidates(conn, archive.home, crawl_id, policy)
    if not picked:
        return stats
    missing = unavailable()
    if missing:
        raise BrowserUnavailable(f"{len(picked)} page(s) to render in a browser, but {missing}")
    for c in picked:
        key = c.reason.split(" (")[0]
        stats.reasons[key] = stats.reasons.get(key, 0) + 1
    why = ", ".join(f"{n} {reason}" for reason, n in stats.reasons.items())
    err.write(f"citevault: rendering {len(picked)} page(s) in a browser ({why})\n")
    err.flush()
    started = time.monotonic()
    command = [sys.executable, "-m", "archive.browser.worker", "--home", str(archive.home.root),
               "--db", archive.home.db_url, "--parallel", str(policy.parallel),
               "--time-limit", str(policy.time_limit), "--allow", policy.allow, "--operator", operator]
    budget = policy.time_limit * (math.ceil(len(picked) / max(1, policy.parallel)) + 1) + 60
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                                env={**os.environ, "PYTHONWARNINGS": "ignore"})
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("".join(json.dumps(c.job()) + "\n" for c in picked))
        proc.stdin.close()
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
    extra = [f"{stats.cut} cut at the {policy.time_limit:g}s limit" if stats.cut else "",
             f"{stats.refused} request(s) to private addresses refused" if stats.refused else ""]
    detail = "; ".join(x for x in extra if x)
    err.write(f"citevault: rendered {stats.rendered} of {len(picked)} page(s) in a browser in {stats.seconds:.1f}s: "
              f"{stats.exchanges} exchanges recorded{'; ' + detail if detail else ''}\n")
    return stats
