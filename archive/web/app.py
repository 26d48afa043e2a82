"""The web application: pages, replay, Memento and the JSON API over one opened :class:`Archive`.

``citevault serve`` builds it with :func:`create_app` and runs it under uvicorn; tests use it in-process
with ``fastapi.testclient.TestClient``. It only reads: nothing here writes to the index or the WARCs.

Two protections apply to every response, besides the replay sandbox (:mod:`archive.web.replay`):

- the UI's pages carry a strict Content-Security-Policy (no scripts at all, frames from this server only,
  not frameable by others);
- with ``allowed_hosts`` (what ``serve`` passes when it binds a loopback address), a request whose
  ``Host`` is not one of them is refused: a web page cannot reach a local archive by DNS rebinding.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, MutableMapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from archive import __version__
from archive.errors import CitevaultError, InputError, NotFoundError
from archive.web import api, memento, pages, replay

if TYPE_CHECKING:
    from archive.api import Archive

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

STATIC = Path(__file__).with_name("static")

#: The UI's own policy: no script runs on a citevault page; frames only from this server (replays).
UI_CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          "img-src 'self' data:; style-src 'self'; frame-src 'self'; frame-ancestors 'none'")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def host_name(host_header: str) -> str:
    """The host of a ``Host`` header, port dropped, IPv6 brackets removed.

    >>> host_name("127.0.0.1:8000"), host_name("[::1]:8000"), host_name("LocalHost")
    ('127.0.0.1', '::1', 'localhost')
    """
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class _Guard:
    """ASGI middleware: refuses unknown ``Host`` headers, and adds the UI's security headers to every
    response that did not set its own (replays set theirs)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str] | None) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed_hosts} if allowed_hosts else None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.allowed is not None:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if host_name(host) not in self.allowed:
                response = Response("unknown Host header: open the address `citevault serve` printed\n",
                                    status_code=421, media_type="text/plain")
                await response(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in (
                    (b"content-security-policy", UI_CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ):
                    if name == b"x-frame-options" and b"content-security-policy" in present:
                        continue  # a replay: framed by the UI, its CSP says by whom
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(archive: Archive, *, allowed_hosts: Sequence[str] | None = None) -> FastAPI:
    """The ASGI app serving ``archive``. ``allowed_hosts``: accepted ``Host`` names (None: any)."""
    app = FastAPI(
        title="citevault",
        version=__version__,
        description="Read-only JSON API of a citevault archive: the shapes of the CLI's `--json` output "
                    "(README \"Claim JSON\").",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: not on a page that replays evidence
        redoc_url=None,
    )
    app.state.archive = archive
    app.include_router(api.router, prefix="/api")
    app.include_router(replay.router)
    app.include_router(memento.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    def problem(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=status)
        return pages.render(request, "error.html", status_code=status, status=status, message=message)

    @app.exception_handler(CitevaultError)
    async def citevault_error(request: Request, exc: CitevaultError) -> Response:
        # StoreError (a WARC file moved, the database unreadable) and anything else: 503, the message says why
        status = 404 if isinstance(exc, NotFoundError) else 400 if isinstance(exc, InputError) else 503
        return problem(request, status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return await request_validation_exception_handler(request, exc)
        return problem(request, 422, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return problem(request, exc.status_code, message)

    app.add_middleware(_Guard, allowed_hosts=allowed_hosts)
    return app
