"""The web UI: browse documents, claims and captures; replay evidence in a sandbox; JSON API; Memento.

README "Browsing the archive". :func:`archive.web.app.create_app` builds the ASGI app; ``citevault serve``
(:mod:`archive.cli.serve`) runs it. Importing this package imports nothing heavy: FastAPI loads with
:mod:`archive.web.app`, only when the server starts.
"""
