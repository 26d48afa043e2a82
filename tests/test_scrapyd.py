"""The evidence spider under a real scrapyd on 127.0.0.1: deploy the egg, schedule through the HTTP API,
wait for the job, and find its captures in the index."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import citevault, db, warc_files, warcio_check

ROOT = Path(__file__).parent.parent
pytest.importorskip("scrapyd")
pytest.importorskip("scrapyd_client")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(base: str, endpoint: str, data: dict[str, Any] | None = None, files: dict[str, bytes] | None = None) -> Any:
    if files:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (data or {}).items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{item}\r\n'.encode())
        for name, blob in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.egg"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode() + blob + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(f"{base}/{endpoint}", data=body,
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    elif data is not None:
        pairs = [(k, item) for k, v in data.items() for item in (v if isinstance(v, list) else [v])]
        request = urllib.request.Request(f"{base}/{endpoint}", data=urllib.parse.urlencode(pairs).encode())
    else:
        request = urllib.request.Request(f"{base}/{endpoint}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path: Path) -> Any:
    port = _free_port()
    workdir = tmp_path / "scrapyd"
    workdir.mkdir()
    (workdir / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {workdir / 'eggs'}\nlogs_dir = {workdir / 'logs'}\ndbs_dir = {workdir / 'dbs'}\n"
        "items_dir =\nmax_proc = 1\npoll_interval = 0.2\n"
    )
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _api(base, "daemonstatus.json")["status"] == "ok":
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("scrapyd did not start")
    try:
        yield base, workdir
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _build_egg(tmp_path: Path) -> bytes:
    """scrapyd-deploy --build-egg on a copy of the project (it writes build files next to scrapy.cfg)."""
    project = tmp_path / "project"
    for name in ("archive", "crawler"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("scrapy.cfg", "setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    egg = tmp_path / "citevault.egg"
    result = subprocess.run([sys.executable, "-m", "scrapyd_client.deploy", "--build-egg", str(egg)],
                            cwd=project, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and egg.exists(), result.stderr
    return egg.read_bytes()


def test_evidence_spider_under_scrapyd(scrapyd: Any, site_url: str, tmp_path: Path) -> None:
    base, workdir = scrapyd
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        json.dumps({"text": "Page eleven says so.", "sources": [f"{site_url}/pages/11.html"]}) + "\n"
        + json.dumps({"text": "The budget was approved.", "sources": [f"{site_url}/articles/target.html"]}) + "\n"
    )
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0

    added = _api(base, "addversion.json", {"project": "citevault", "version": "1"}, {"egg": _build_egg(tmp_path)})
    assert added["status"] == "ok" and added["spiders"] == 1, added
    assert _api(base, "listspiders.json?project=citevault")["spiders"] == ["evidence"]
    job = _api(base, "schedule.json", {"project": "citevault", "spider": "evidence",
                                       "setting": [f"CITEVAULT_HOME={home}", "CITEVAULT_PROGRESS=False"]})
    assert job["status"] == "ok", job
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        jobs = _api(base, "listjobs.json?project=citevault")
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"job did not finish: {jobs}")
    logs = list((workdir / "logs").rglob("*.log"))
    log = logs[0].read_text() if logs else ""
    states = dict(db(home).execute("SELECT url, state FROM sources").fetchall())
    assert states == {f"{site_url}/pages/11.html": "archived", f"{site_url}/articles/target.html": "archived"}, log
    files = warc_files(home)
    assert files and all(warcio_check(f).returncode == 0 for f in files)
    assert db(home).execute("SELECT COUNT(*) FROM captures WHERE record_type = 'response'").fetchone()[0] >= 2
