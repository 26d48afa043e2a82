"""A real RFC 3161 Time-Stamp Authority for tests: OpenSSL's ``ts -reply`` behind a loopback HTTP handler,
with a CA and a TSA certificate (extendedKeyUsage critical timeStamping) made at test time."""
from __future__ import annotations

import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OPENSSL = "/usr/bin/openssl"

_CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _run(*args: str) -> None:
    subprocess.run([OPENSSL, *args], check=True, capture_output=True, timeout=60)


def make_tsa_pki(where: Path, name: str = "citevault test") -> None:
    """A self-signed CA (``ca.pem``), a TSA key and certificate it issued (``tsa.key``, ``tsa.pem``) and the
    ``ts`` configuration (``tsa.cnf``) in ``where``."""
    where.mkdir(parents=True, exist_ok=True)
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(where / "ca.key"), "-out",
         str(where / "ca.pem"), "-days", "30", "-subj", f"/CN={name} CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(where / "tsa.key"), "-out", str(where / "tsa.csr"),
         "-subj", f"/CN={name} TSA")
    (where / "ext.cnf").write_text("extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n"
                                   "basicConstraints=CA:FALSE\n")
    _run("x509", "-req", "-in", str(where / "tsa.csr"), "-CA", str(where / "ca.pem"), "-CAkey", str(where / "ca.key"),
         "-CAcreateserial", "-out", str(where / "tsa.pem"), "-days", "30", "-extfile", str(where / "ext.cnf"))
    (where / "serial").write_text("01\n")
    (where / "tsa.cnf").write_text(_CONFIG.format(dir=where))


@dataclass
class LocalTsa:
    url: str
    dir: Path
    server: ThreadingHTTPServer
    requests: int = 0

    @property
    def ca(self) -> Path:
        return self.dir / "ca.pem"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_tsa(where: Path, name: str = "citevault test") -> LocalTsa:
    """Make the PKI in ``where`` and serve ``openssl ts -reply`` on 127.0.0.1 (POST application/timestamp-query)."""
    make_tsa_pki(where, name)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's name
            query = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock, tempfile.TemporaryDirectory() as tmp:
                q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
                q.write_bytes(query)
                done = subprocess.run([OPENSSL, "ts", "-reply", "-config", str(where / "tsa.cnf"), "-queryfile",
                                       str(q), "-out", str(r)],
                                      capture_output=True, timeout=60, check=False)
                reply = r.read_bytes() if done.returncode == 0 and r.exists() else b""
                tsa.requests += 1
            if not reply:
                self.send_response(500)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tsa = LocalTsa(f"http://127.0.0.1:{server.server_address[1]}/tsr", where, server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return tsa
