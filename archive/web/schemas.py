"""The JSON API's OpenAPI models (``/api/openapi.json``): the TypedDicts of :mod:`archive.shapes`, the very
types ``Archive`` returns and the CLI's ``--json`` prints (docs/json.md), handed to pydantic as they
are. Views return the library's dicts unchanged; the test suite checks every response against these
schemas (schemathesis), so the schema cannot drift.

Everything pydantic-specific lives here, so ``archive.shapes`` imports no pydantic: each field's description
is the docstring under it (``use_attribute_docstrings``), switched on below for every shape.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from archive import shapes
from archive.shapes import (
    CaptureJSON,
    CaptureRecord,
    ClaimJSON,
    ClaimRow,
    Coverage,
    DocumentJSON,
    DocumentRef,
    SourceDetailJSON,
    SourceJSON,
    Verification,
)

_CONFIG = ConfigDict(use_attribute_docstrings=True)

# pydantic reads a TypedDict's config from its ``__pydantic_config__`` attribute. It is set here rather than in
# the class bodies, which may hold only fields (and would need pydantic at import).
for _shape in vars(shapes).values():
    if isinstance(_shape, type) and issubclass(_shape, dict) and _shape.__module__ == shapes.__name__:
        setattr(_shape, "__pydantic_config__", _CONFIG)


class Problem(BaseModel):
    """An error: 404 for an unknown id, 422 for a bad parameter."""

    model_config = _CONFIG

    detail: str
    """what went wrong, and where to look"""


__all__ = [
    "CaptureJSON", "CaptureRecord", "ClaimJSON", "ClaimRow", "Coverage", "DocumentJSON", "DocumentRef", "Problem",
    "SourceDetailJSON", "SourceJSON", "Verification",
]
