"""Smoke test of the real thing: `citevault serve` in a subprocess, on 127.0.0.1, answering HTTP."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CLI, citevault
from tests.web_fixtures import REPORT_SENTENCE, Evidence


def _get(url: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_serve_answers_on_loopback_and_stops_on_ctrl_c(evidence: Evidence) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with subprocess.Popen([*CLI, "--home", str(evidence.home), "serve", "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            assert line.startswith("citevault: serving ") and "http://127.0.0.1:" in line, line
            base = line.split(" at ", 1)[1].split("/ ", 1)[0]
            status, headers, body = _get(base + "/")
            assert status == 200 and b"Harbour barrier: what the evidence says" in body
            assert "script-src 'none'" in headers["content-security-policy"]
            status, _, body = _get(base + "/api/documents")
            assert status == 200 and json.loads(body)[0]["id"] == evidence.document_id
            cap = evidence.capture("/evidence/report.html")
            status, headers, body = _get(f"{base}/replay/{cap['timestamp']}/{cap['url']}")
            assert status == 200 and REPORT_SENTENCE.encode() in body
            assert headers["content-security-policy"].startswith("sandbox allow-scripts;")
            assert _get(base + "/api/documents", host="attacker.example")[0] == 421  # DNS rebinding refused
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 0
            assert "Traceback" not in proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_serve_errors_are_one_line(evidence: Evidence, tmp_path: Path) -> None:
    nothing = citevault(tmp_path / "empty", "serve", "--port", "0", timeout=60)
    assert nothing.code == 1 and "no archive at" in nothing.err and "Traceback" not in nothing.err, nothing
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        taken = citevault(evidence.home, "serve", "--port", str(busy.getsockname()[1]), timeout=60)
    finally:
        busy.close()
    assert taken.code == 1 and "cannot listen on 127.0.0.1:" in taken.err and "--port" in taken.err, taken
    assert len(taken.err.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["serve", "--help"]])
def test_serve_help_has_an_example(args: list[str], tmp_path: Any) -> None:
    result = citevault(tmp_path, *args)
    assert result.code == 0 and "citevault serve" in result.out and "127.0.0.1" in result.out
