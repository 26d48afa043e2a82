"""Is a crawl's process still running? (leases and ``.open`` WARC files belong to a live process or to none)."""
from __future__ import annotations

import os
from pathlib import Path


def alive(pid: int) -> bool:
    """True while ``pid`` runs. A zombie counts as dead: a killed crawl's recorder process is reparented
    to PID 1, which in a container may not reap it for a while, yet it will never write again.

    >>> alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS) or gone meanwhile: os.kill's answer stands
        return True
    # "pid (comm) state ...": comm may hold spaces or parentheses, the state follows the last ")"
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X")


def node_name() -> str:
    """This worker's node name: ``CITEVAULT_NODE`` (``citevault crawl --node``), else the host name. It names
    the node's WARC files (``citevault-{ts}-{serial}-{node}-{pid}.warc.gz``) and its crawl rows, so "-" and
    path characters become "_" (a file name splits back into its five parts).

    >>> os.environ["CITEVAULT_NODE"] = "crawler-2/b"; node_name()
    'crawler_2_b'
    >>> del os.environ["CITEVAULT_NODE"]
    """
    import re
    import socket

    name = os.environ.get("CITEVAULT_NODE") or socket.gethostname()
    return re.sub(r"[-/\\\s.]+", "_", name.strip()) or "node"
