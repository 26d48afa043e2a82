"""Shared pytest fixtures for the citevault suite.

The file is split into sections, one per owner; add new fixtures in a new section below the last one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Union

import pytest

from archive.api import Archive
from tests.server import SiteServer
from tests.server import render_site_file as _render_site_file

# The suite's crawls are raw captures unless a test asks for the browser (--browser, tests/test_browser_capture.py):
# the default, auto, would render the test site's short pages and change what the other tests count.
os.environ.setdefault("CITEVAULT_BROWSER", "never")

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from archive.ingest import Ingested
    from tests.archives import Evidence as ArchivedEvidence

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
from tests.web_fixtures import client, evidence, evidence_on_postgres  # noqa: F401  (fixtures, registered for pytest)

# ============================== end of the web-evidence section ======================================


# =====================================================================================================
# Index: a fresh SQLite index per test, and one filled by the real `add` code (the component tier)
# =====================================================================================================
@dataclass
class PopulatedIndex:
    """A data home whose index holds what ``citevault add`` puts there, nothing crawled yet.

    ``added``: what :meth:`archive.api.Archive.add` returned, in order: the sample claim list
    (tests/site/claims/sample.jsonl, 5 claims citing 5 sources on the test site), then the sample article
    added by URL (a pending document, fetched by the crawl).
    """

    archive: Archive
    base: str
    added: list[Ingested]

    @property
    def home(self) -> Path:
        return self.archive.home.root

    @property
    def engine(self) -> Engine:
        return self.archive.engine()

    @property
    def claim_list(self) -> Ingested:
        return self.added[0]

    @property
    def article(self) -> Ingested:
        return self.added[1]


@pytest.fixture
def index_db(tmp_path: Path) -> Iterator[Engine]:
    """A new SQLite index in ``tmp_path/home``, migrated to head by the library; disposed of afterwards."""
    from archive.index.db import HEAD_REVISION, current_revision

    archive = Archive.open(str(tmp_path / "home"))
    engine = archive.engine(create=True)
    assert current_revision(engine) == HEAD_REVISION
    try:
        yield engine
    finally:
        archive.close()


@pytest.fixture
def populated_index(tmp_path: Path, site_url: str, render_site_file: Callable[..., Path]) -> Iterator[PopulatedIndex]:
    """The real ``add`` of the sample claim list and of the sample article by URL (see :class:`PopulatedIndex`)."""
    archive = Archive.open(str(tmp_path / "home"))
    added = archive.add([str(render_site_file("claims/sample.jsonl")), f"{site_url}/articles/sample.html"])
    try:
        yield PopulatedIndex(archive, site_url, added)
    finally:
        archive.close()

# ============================== end of the index section =============================================


# =====================================================================================================
# Crawled archives shared by the end-to-end modules (tests/archives.py says how each is built): one
# subprocess crawl per session instead of one per module. Read-only; the session fails at the end if a
# test changed one in place: copy it first (tests.archives.copy_home / copy_evidence).
# =====================================================================================================
@dataclass(frozen=True)
class CrawledArchive:
    home: Path
    base: str  # the test site's URL


@pytest.fixture(scope="session")
def crawled_archive(site_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawledArchive]:
    """The test site archived the way a user does it: two crawls and a pending document
    (:func:`tests.archives.build_archive`)."""
    from tests.archives import build_archive, fingerprint

    home = tmp_path_factory.mktemp("crawled") / "home"
    build_archive(home, site_url, tmp_path_factory.mktemp("crawled-inputs"))
    built = fingerprint(home)
    yield CrawledArchive(home, site_url)
    assert fingerprint(home) == built, f"a test changed the shared archive {home}: copy it first"


@pytest.fixture(scope="session")
def evidence_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The evidence site (tests/data/evidence/site plus a PDF) served from a copy: (base URL, its root)."""
    from tests.archives import start_site

    server, root = start_site(tmp_path_factory.mktemp("evidence-site"))
    try:
        yield server.base_url, root
    finally:
        server.stop()


@pytest.fixture(scope="session")
def evidence_crawl(evidence_site: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchivedEvidence]:
    """The evidence site's article and claim list archived once, not checked (:func:`tests.archives.archive_evidence`)."""
    from tests.archives import archive_evidence, fingerprint

    crawled = archive_evidence(tmp_path_factory.mktemp("evidence-crawl"), *evidence_site)
    built = fingerprint(crawled.home)
    yield crawled
    assert fingerprint(crawled.home) == built, f"a test changed the shared archive {crawled.home}: copy it first"

# ============================== end of the crawled-archives section ==================================


# =====================================================================================================
# Both index backends (issue 14): a private PostgreSQL cluster for the session (tests/pg.py), and
# ``index_backend``, parametrized "sqlite" / "postgresql", for the modules whose tests must hold on both.
# The PostgreSQL parameter is skipped only where PostgreSQL is not installed (.ci/run installs it).
# =====================================================================================================
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """The session's private PostgreSQL (a :class:`tests.pg.Cluster`), started on first use."""
    from tests import pg

    if not pg.available():
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    pytest.importorskip("psycopg")
    cluster = pg.Cluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def index_backend(request: pytest.FixtureRequest) -> str:
    """"sqlite" or "postgresql": the module's tests run once per backend."""
    return str(request.param)


def backend_db(backend: str, request: pytest.FixtureRequest) -> str | None:
    """``--db`` for ``backend``: None (the home's SQLite file) or a new migrated PostgreSQL database."""
    if backend == "sqlite":
        return None
    cluster = request.getfixturevalue("pg_cluster")
    return str(cluster.database())  # type: ignore[attr-defined]

# ============================== end of the both-backends section =====================================
