"""Shared pytest fixtures for the citevault suite.

The file is split into sections, one per owner; add new fixtures in a new section below the last one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Optional, Union

import pytest

from tests.server import SiteServer
from tests.server import render_site_file as _render_site_file

# =====================================================================================================
# Test site: a real HTTP server on 127.0.0.1 serving tests/site/ plus edge-case routes (tests/server.py)
# =====================================================================================================


@pytest.fixture(scope="session")
def site_server() -> Iterator[SiteServer]:
    """The test site, started once per session. Routes are listed in the tests/server.py docstring.

    It is shared: filter ``site_server.requests`` with ``requests_for(path)`` or a unique query string,
    and use ``/flaky?key=<unique>`` for retry tests.
    """
    server = SiteServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def site_url(site_server: SiteServer) -> str:
    """Base URL of the test site, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
    return site_server.base_url


@pytest.fixture
def render_site_file(site_url: str, tmp_path: Path) -> Callable[..., Path]:
    """``render_site_file("claims/sample.csv")`` -> a copy in tmp_path with ``{base}`` set to the site URL.

    Same signature as :func:`tests.server.render_site_file`; ``base_url`` and ``tmp_path`` default to this
    test's site URL and tmp_path.
    """

    def render(relpath: str, base_url: Optional[str] = None, tmp: Union[str, Path, None] = None) -> Path:
        return _render_site_file(relpath, base_url or site_url, tmp if tmp is not None else tmp_path)

    return render


# ============================== end of the test-site section =========================================


# =====================================================================================================
# The web tests' evidence home (tests/web_fixtures.py): ``evidence`` (session, read-only) and ``client``
# (module). Registered here once, so the session home is built once whichever module asks first; test
# modules import only constants and classes from tests/web_fixtures.py.
# =====================================================================================================
from tests.web_fixtures import client, evidence  # noqa: F401  (fixtures, registered for pytest)

# ============================== end of the web-evidence section ======================================
