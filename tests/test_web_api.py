"""The JSON API: the CLI's exact ``--json`` shapes over HTTP, its OpenAPI schema, and a schemathesis fuzz
(every operation, bounded examples): no 5xx, and every response matches the schema it documents.
"""
from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.helpers import citevault
from tests.web_fixtures import Evidence

# Without httpx2 installed, Starlette's TestClient warns that it falls back to httpx: not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def test_claim_json_is_what_show_json_prints(client: Any, evidence: Evidence) -> None:
    claim_id = evidence.claim_citing("/evidence/report.html")
    cli = citevault(evidence.home, *client.citevault_db, "show", claim_id, "--json")
    assert cli.code == 0, cli
    assert client.get(f"/api/claims/{claim_id}").json() == cli.json()


def test_lookup_and_claims_are_what_the_cli_prints(client: Any, evidence: Evidence) -> None:
    for query in ("report records", evidence.url("/evidence/report.html")):
        cli = citevault(evidence.home, *client.citevault_db, "lookup", query, "--limit", "5", "--json")
        assert cli.code == 0, cli
        assert client.get("/api/lookup", params={"q": query, "limit": 5}).json() == cli.json(), query
    listing = citevault(evidence.home, *client.citevault_db, "claims", evidence.document_id, "--json")
    assert client.get(f"/api/documents/{evidence.document_id}/claims").json() == listing.json()
    assert client.get("/api/claims", params={"document_id": evidence.document_id}).json() == listing.json()
    assert client.get("/api/claims").json() == citevault(evidence.home, *client.citevault_db, "claims", "--json").json()


def test_documents_and_sources(client: Any, evidence: Evidence) -> None:
    docs = client.get("/api/documents").json()
    assert [d["id"] for d in docs] == [evidence.document_id, evidence.notes_id]
    story = docs[0]
    assert story["title"] == "Harbour barrier: what the evidence says"
    assert story["coverage"]["states"]["gone"] == 1 and story["coverage"]["states"]["failed"] == 1
    assert 0 < story["coverage"]["archived_share"] < 1
    source = client.get("/api/sources", params={"url": evidence.url("/evidence/report.html")}).json()
    assert source["state"] == "archived" and len(source["captures"]) == 4
    assert [c["record_type"] for c in source["captures"]][:2] == ["response", "revisit"]
    assert len(source["claims"]) == 3  # two sentences of the story, one row of the notes
    unknown = client.get("/api/sources", params={"url": "http://[broken"})
    assert unknown.status_code == 200 and unknown.json()["captures"] == []
    assert client.get("/api/lookup", params={"q": "http://[broken"}).status_code == 200


def test_openapi_schema_lists_every_operation(client: Any) -> None:
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "citevault"
    assert set(schema["paths"]) == {
        "/api/documents", "/api/documents/{document_id}", "/api/documents/{document_id}/claims", "/api/claims",
        "/api/claims/{claim_id}", "/api/lookup", "/api/captures/{capture_id}", "/api/sources",
    }
    claim = schema["components"]["schemas"]["ClaimJSON"]
    assert set(claim["required"]) == {"id", "text", "quote", "document", "sources"}
    assert client.get("/docs").status_code == 404  # Swagger UI would load scripts from a CDN


@pytest.fixture(scope="module")
def api_schema(client: Any) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", client.app)


fuzzed = schemathesis.pytest.from_fixture("api_schema")


@fuzzed.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_api_fuzz_no_server_errors_and_schema_conformance(case: Any) -> None:
    case.call_and_validate()
