"""Browser capture of an https page (docs/browser.md "HTTPS"): a TLS server on 127.0.0.1 with a self-signed
certificate made here serves a page with a stylesheet and images; the real CLI crawls it with ``--browser
always``, Debian's chromium renders it through warcprox (which intercepts TLS with its own CA, and does not
verify the upstream certificate), and the WARC files are read back with warcio: every exchange the browser
made is there under its https URL with the status line, headers and body bytes the server sent.

The raw capture (Scrapy) does not verify certificates either, so a self-signed site is archived raw too.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import citevault, db, warcio_check
from tests.server import SiteServer, make_png

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="no chromium at /usr/bin/chromium (apt-get install chromium)")

QUOTE = "the lighthouse keeper logged every ship that passed"
PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>The lighthouse log</title>
<link rel="stylesheet" href="style.css"></head>
<body><article><h1>The lighthouse log</h1>
<p>For forty years {QUOTE}, in a book that is now kept at the town library and can be read by anyone.</p>
<p>The entries name the ships, the weather and the time, and a few of them mention the storms of the winter
when the old pier was washed away and had to be built again by the people of the village.</p>
<img src="logo.png" alt="logo" width="16" height="16"><img src="missing.png" alt="missing">
</article></body></html>
"""
STYLE = "body { font-family: sans-serif; color: #223; background: #fdfdf8; } h1 { color: #a33; }\n"


def self_signed(folder: Path) -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1, signed by its own key (no CA trusts it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


class TlsSite(SiteServer):
    """The test site over TLS. The handshake runs in the connection's handler thread, so a client that
    never completes one cannot stall the accepting thread."""

    def __init__(self, root: Path, context: ssl.SSLContext) -> None:
        self.context = context
        self.handshakes_failed = 0
        super().__init__(root=root)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1
            return
        super().finish_request(request, client_address)


def warc_records(path: Path) -> list[dict[str, Any]]:
    """Every record of a WARC file: type, URI, WARC headers, raw HTTP head and payload as stored, and the
    digest problems warcio finds."""
    from archive.warc.scan import WarcReader

    with path.open("rb") as fh:
        problems = [list(rec.digest_checker.problems) for rec in ArchiveIterator(fh, check_digests=True)]
    out = []
    reader = WarcReader(path)
    for rec, digest_problems in zip(reader, problems):
        has_head = rec.type in ("response", "request") and rec.parse_http()
        out.append({"type": rec.type, "uri": rec.get("warc-target-uri"),
                    "headers": {k: rec.get(k.lower()) for k in (
                        "WARC-Record-ID", "WARC-Concurrent-To", "WARC-Refers-To", "Citevault-Role", "Content-Type",
                        "WARC-IP-Address")},
                    "head": rec.http_head if has_head else b"", "payload": b"".join(rec.chunks()),
                    "digest_problems": digest_problems})
        rec.finish()
    reader.close()
    return out


def test_browser_capture_of_an_https_page_is_wire_faithful(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "page.html").write_text(PAGE, "utf-8")
    (root / "style.css").write_text(STYLE, "utf-8")
    (root / "logo.png").write_bytes(make_png(16, 16))
    site = TlsSite(root, self_signed(tmp_path))
    site.start()
    try:
        base = site.base_url
        url = f"{base}/page.html"
        claims = tmp_path / "claims.jsonl"
        claims.write_text(json.dumps({"text": "The keeper logged every ship.", "sources": [url], "quote": QUOTE}) + "\n")
        home = tmp_path / "home"
        result = citevault(home, "archive", str(claims), "--browser", "always")
        assert result.code == 0, result
        assert "rendered 1 of 1 page(s) in a browser" in result.err, result.err
        named = re.search(r"exchanges recorded in (\S+\.warc\.gz)", result.err)
        assert named is not None, result.err
        conn = db(home)

        # the raw crawl: Scrapy does not verify certificates, so the self-signed page is archived as it is
        raw = conn.execute("SELECT id, http_status, warc_file FROM captures WHERE url = ? AND role IS NULL "
                           "AND record_type = 'response'", (url,)).fetchone()
        assert raw is not None and raw["http_status"] == 200
        assert conn.execute("SELECT state FROM sources WHERE url = ?", (url,)).fetchone()[0] == "archived"

        # the browser's exchanges, in the worker's own WARC file, as the server sent them
        recs = warc_records(home / "warcs" / named.group(1))
        assert all(not r["digest_problems"] for r in recs), [r for r in recs if r["digest_problems"]]
        responses = {r["uri"]: r for r in recs if r["type"] == "response"}
        expected = {"/page.html": ("200 OK", "text/html; charset=utf-8", "browser"),
                    "/style.css": ("200 OK", "text/css", "asset"),
                    "/logo.png": ("200 OK", "image/png", "asset"),
                    "/missing.png": ("404 Not Found", "text/html; charset=utf-8", "asset")}
        for path, (status, mime, role) in expected.items():
            rec = responses.get(base + path)
            assert rec is not None, (path, sorted(responses))
            head = rec["head"]
            assert head.startswith(f"HTTP/1.1 {status}\r\n".encode()), head
            assert b"Server: citevault-testsite/1.0" in head and f"Content-Type: {mime}".encode() in head, head
            assert rec["payload"] == site.served_body(path), path
            assert rec["headers"]["Citevault-Role"] == role
            assert rec["headers"]["WARC-IP-Address"] == "127.0.0.1"
            request = [r for r in recs if r["type"] == "request"
                       and r["headers"]["WARC-Concurrent-To"] == rec["headers"]["WARC-Record-ID"]]
            assert len(request) == 1 and request[0]["uri"] == base + path
            assert request[0]["head"].startswith(f"GET {path} HTTP/1.1\r\n".encode()), request[0]["head"]
        assert responses[url]["payload"] == PAGE.encode("utf-8")

        # the screenshot and the rendered text, linked to the raw capture's record
        found = conn.execute("SELECT * FROM renderings WHERE url = ?", (url,)).fetchone()
        assert found is not None and found["capture_id"] == raw["id"] and found["cut"] is None
        shots = [r for r in recs if r["uri"] == f"urn:screenshot:{url}"]
        assert len(shots) == 1 and shots[0]["type"] == "resource"
        assert shots[0]["headers"]["Content-Type"] == "image/png"
        assert shots[0]["payload"].startswith(b"\x89PNG\r\n\x1a\n")
        assert shots[0]["headers"]["WARC-Refers-To"] == f"<urn:uuid:{raw['id']}>"
        text = [r for r in recs if r["uri"] == f"urn:text:{url}"]
        assert len(text) == 1 and QUOTE in text[0]["payload"].decode("utf-8")

        assert site.handshakes_failed == 0
        verify = citevault(home, "verify")
        assert verify.code == 0, verify
        for path in sorted((home / "warcs").glob("*.warc.gz")):
            check = warcio_check(path)
            assert check.returncode == 0, check.stdout + check.stderr
    finally:
        site.stop()
