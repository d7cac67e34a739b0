"""The OpenAPI document of a service app documents the errors it really sends, as it sends them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
import jsonschema
import msgspec
import pytest
from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.testing import AsyncTestClient

from collections_devtools.testing.client import TestClient
from collections_shared.errors import ConflictError
from collections_shared.http import create_service_app
from collections_shared.openapi import PROBLEM_JSON, PROBLEMS_OPT

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


class Note(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10)]


@dataclass
class Form:
    file: UploadFile


class Notes(Controller):
    path = "/notes"
    security = BEARER

    @get("/{note_id:uuid}")
    async def read(self, note_id: uuid.UUID) -> Note:
        return Note(text=str(note_id)[:10])

    @get("/")
    async def page(self, limit: Annotated[int, Parameter(ge=1, le=10)] = 5) -> list[Note]:
        return [Note(text="x")] * limit

    @post("/", opt={PROBLEMS_OPT: (409,)})
    async def create(self, data: Note) -> Note:
        if data.text == "taken":
            raise ConflictError("that note exists")
        return data

    @post("/upload", status_code=202)
    async def upload(
        self, data: Annotated[Form, Body(media_type=RequestEncodingType.MULTI_PART)]
    ) -> None:
        await data.file.read()


@post("/login", status_code=200)
async def login(data: Note) -> Note:
    return data


@get("/find", security=BEARER)
async def find(text: str) -> list[Note]:
    if "\x00" in text:
        raise asyncpg.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8"')
    return []


@pytest.fixture(name="client")
async def fx_client() -> AsyncIterator[TestClient]:
    app = create_service_app(
        service="notes", route_handlers=[Notes, login, find], multipart_form_part_limit=2
    )
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture(name="document")
async def fx_document(client: TestClient) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert 200 == response.status_code
    document: dict[str, Any] = response.json()
    return document


def _statuses(document: dict[str, Any], path: str, method: str) -> list[str]:
    return sorted(document["paths"][path][method]["responses"])


def _problem_body(document: dict[str, Any], response: str) -> dict[str, Any]:
    """The JSON Schema of a documented problem response, its ``$ref`` to Problem inlined."""
    schema = document["components"]["responses"][response]["content"][PROBLEM_JSON]["schema"]
    problem, pinned = schema["allOf"]
    assert {"$ref": "#/components/schemas/Problem"} == problem
    return {"allOf": [document["components"]["schemas"]["Problem"], pinned]}


async def test_each_operation_documents_the_errors_it_can_answer(document: dict[str, Any]) -> None:
    """Secured, path-id, query, body, multipart and declared errors each add their statuses."""
    assert ["200", "401", "404", "422", "429", "503"] == _statuses(
        document, "/notes/{note_id}", "get"
    )
    assert ["200", "401", "422", "429", "503"] == _statuses(document, "/notes", "get")
    assert ["201", "400", "401", "409", "413", "422", "429", "503"] == _statuses(
        document, "/notes", "post"
    )
    assert ["202", "400", "401", "409", "413", "415", "422", "429", "503"] == _statuses(
        document, "/notes/upload", "post"
    )
    assert ["200", "400", "401", "403", "409", "413", "415", "422", "503"] == _statuses(
        document, "/login", "post"
    )


async def test_litestar_default_error_schema_is_gone(document: dict[str, Any]) -> None:
    """No operation documents Litestar's {status_code, detail, extra} body any more."""
    assert "status_code" not in str(document["paths"])
    assert "ValidationException" not in str(document)


async def test_health_keeps_its_own_503(document: dict[str, Any]) -> None:
    """``/health`` answers 503 with its report, not with a problem document."""
    schema = document["paths"]["/health"]["get"]["responses"]["503"]["content"]["application/json"][
        "schema"
    ]
    assert {"$ref": "#/components/schemas/HealthReport"} == schema


async def test_rate_limit_and_outage_document_retry_after(document: dict[str, Any]) -> None:
    """429 and 503 problems promise a Retry-After header."""
    responses = document["components"]["responses"]
    assert responses["TooManyRequests"]["headers"]["Retry-After"]["required"]
    assert responses["ServiceUnavailable"]["headers"]["Retry-After"]["required"]


async def test_invalid_value_is_a_documented_422(
    client: TestClient,
    document: dict[str, Any],
) -> None:
    """A well-formed body with a value out of range is a 422 problem that matches its schema."""
    response = await client.post("/login", json={"text": "far too long for a note"})

    assert 422 == response.status_code
    assert PROBLEM_JSON == response.headers["content-type"]
    assert "validation_failed" == response.json()["code"]
    assert ["text"] == [error["key"] for error in response.json()["errors"]]
    jsonschema.validate(response.json(), _problem_body(document, "UnprocessableContent"))


async def test_unknown_field_and_bad_query_are_422(client: TestClient) -> None:
    """An unknown body field or a query value over its cap is 422, not Litestar's 400."""
    unknown = await client.post("/login", json={"text": "hi", "user_id": "someone"})
    missing = await client.post("/login", content=b"")

    assert (422, 422) == (unknown.status_code, missing.status_code)


async def test_malformed_json_is_a_documented_400(
    client: TestClient,
    document: dict[str, Any],
) -> None:
    """A body that is not JSON at all stays a 400: the syntax, not a value, is wrong."""
    response = await client.post(
        "/login", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert 400 == response.status_code
    assert "malformed_request" == response.json()["code"]
    jsonschema.validate(response.json(), _problem_body(document, "BadRequest"))


async def test_too_many_multipart_parts_is_413(client: TestClient) -> None:
    """Litestar's multipart part limit answers 413, as the caps on inputs require."""
    files = [("file", (f"{n}.jpg", b"x", "image/jpeg")) for n in range(5)]

    response = await client.post("/notes/upload", files=files)

    assert 413 == response.status_code
    assert "payload_too_large" == response.json()["code"]


async def test_text_the_database_cannot_store_is_422(client: TestClient) -> None:
    """A NUL that reaches PostgreSQL is the caller's input error, not a 500."""
    response = await client.get("/find", params={"text": "a\x00b"})

    assert 422 == response.status_code
    assert "nul_character" == response.json()["code"]
