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


def node_label() -> str:
    """This worker's node name as given: ``CITEVAULT_NODE`` (``citevault crawl --node``), else the host name.
    It goes into the crawl rows (``crawls.host``), as the plain host name always did."""
    import socket

    return (os.environ.get("CITEVAULT_NODE") or socket.gethostname()).strip() or "node"


def file_node(label: str) -> str:
    """A node name as WARC file names spell it: "-" and path characters become "_", so a name
    ``citevault-{ts}-{serial}-{node}-{pid}.warc.gz`` splits back into its five parts.

    >>> file_node("crawler-2/b")
    'crawler_2_b'
    """
    import re

    return re.sub(r"[-/\\\s]+", "_", label)


def node_name() -> str:
    """:func:`node_label` as WARC file names spell it (:func:`file_node`)."""
    return file_node(node_label())
