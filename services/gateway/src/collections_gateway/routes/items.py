"""The items API: thin handlers that parse, call the uploads and items services, and shape
responses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from collections_gateway.items import ItemsService
from collections_gateway.limits import Limiter
from collections_gateway.listing import ListQuery, Order, Sort, as_utc
from collections_gateway.schemas import (
    Accepted,
    ItemDetail,
    ItemPage,
    LookupRequest,
    LookupResult,
    PipelineSummary,
    PresignedUpload,
    RebuildResult,
    Status,
    UploadRequest,
)
from collections_gateway.uploads import Upload, UploadsService
from collections_shared.auth import Principal
from collections_shared.domain.analysis_input import InvalidAnalysisError, normalize_analysis
from collections_shared.domain.imports import (
    ImportedAnalysis,
    ImportSource,
    InvalidImportSourceError,
    check_source,
)
from collections_shared.errors import ValidationFailedError

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


def _idempotency_key(description: str) -> Any:
    """The optional ``Idempotency-Key`` header: printable ASCII, at most 255 characters."""
    return Parameter(
        header="Idempotency-Key",
        required=False,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description=description,
    )


IdempotencyKey = Annotated[
    str | None,
    _idempotency_key("Retrying with the same key returns the same item instead of a second one."),
]
AnalysisKey = Annotated[
    str | None,
    _idempotency_key(
        "Retrying with the same key asks for the same new version: it is made once. Without a "
        "key, a retry made before the analyzer ran asks for the same version too."
    ),
]
_MAX_ANALYSIS_JSON = 64 * 1024


@dataclass
class UploadForm:
    file: UploadFile
    analysis: str | None = None
    """Optional JSON analysis from another system; the vision analyzer is skipped for it."""
    analysis_source: str | None = None
    """With ``analysis``: JSON facts of where it comes from (``system``, ``item_id``,
    ``analysis_id``, ``provider``, ``model``, ``analysis_created_at``, ``item_created_at``)."""


def _imported_analysis(raw: str | None, raw_source: str | None) -> ImportedAnalysis | None:
    if raw is None or not raw.strip():
        if raw_source:
            raise ValidationFailedError(
                "analysis_source goes with an analysis part", code="invalid_analysis_source"
            )
        return None
    if len(raw) + len(raw_source or "") > _MAX_ANALYSIS_JSON:
        raise ValidationFailedError(
            "the analysis parts are too large (64 KiB max)", code="analysis_too_large"
        )
    try:
        original = msgspec.json.decode(raw)
        analysis = normalize_analysis(original)
    except (msgspec.DecodeError, InvalidAnalysisError) as error:
        raise ValidationFailedError(
            f"the analysis part is not valid: {error}", code="invalid_analysis"
        ) from error
    try:
        source = (
            check_source(msgspec.json.decode(raw_source, type=ImportSource)) if raw_source else None
        )
    except (msgspec.DecodeError, msgspec.ValidationError, InvalidImportSourceError) as error:
        raise ValidationFailedError(
            f"the analysis_source part is not valid: {error}", code="invalid_analysis_source"
        ) from error
    return ImportedAnalysis(analysis=analysis, source=source, original=original)


def _request_id(request: Request[Any, Any, State]) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


class ItemsController(Controller):
    path = "/items"
    tags = ["items"]
    security = BEARER

    @post(
        "/",
        status_code=202,
        summary="Upload an image",
        description="multipart/form-data with a `file` part (JPEG, PNG, WebP, GIF, HEIC).",
        opt={"problems": [409]},
    )
    async def upload(
        self,
        request: Request[Any, Any, State],
        principal: Principal,
        uploads: UploadsService,
        items: ItemsService,
        limiter: Limiter,
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        idempotency_key: IdempotencyKey = None,
    ) -> ItemDetail:
        imported = _imported_analysis(data.analysis, data.analysis_source)
        content = await data.file.read()
        await limiter.spend(principal.user_id, "uploads")
        item = await uploads.upload(
            principal.user_id,
            Upload(
                filename=data.file.filename or "upload",
                data=content,
                declared_type=data.file.content_type or "",
                idempotency_key=idempotency_key,
                imported=imported,
                correlation_id=_request_id(request),
            ),
        )
        return await items.detail(principal.user_id, item.id)

    @post(
        "/uploads",
        status_code=201,
        summary="Get a presigned S3 POST for a direct upload",
        opt={"problems": [415]},
    )
    async def presign(
        self,
        request: Request[Any, Any, State],
        principal: Principal,
        uploads: UploadsService,
        limiter: Limiter,
        data: UploadRequest,
    ) -> PresignedUpload:
        await limiter.spend(principal.user_id, "uploads")
        return await uploads.presign(principal.user_id, data, _request_id(request))

    @post(
        "/lookup",
        status_code=200,
        summary="Which of these file hashes are already in the collection",
        description="Clients hash files first and upload only the ones not found.",
        opt={"problems": []},
    )
    async def lookup(
        self, principal: Principal, items: ItemsService, data: LookupRequest
    ) -> LookupResult:
        return await items.lookup(principal.user_id, data.sha256)

    @get(
        "/",
        summary="List items: newest upload first, or by date taken; by album, favourite, dates",
        description="`sort=taken` orders by the EXIF date, else the upload time; `from` "
        "(inclusive) and `to` (exclusive) bound the same date. Cursors are stable under inserts.",
        opt={"problems": [404]},  # album_id names no album of the caller's
    )
    async def list_items(
        self,
        principal: Principal,
        items: ItemsService,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
        status: Status | None = None,
        category: Annotated[str | None, Parameter(max_length=48)] = None,
        album_id: uuid.UUID | None = None,
        favorite: bool | None = None,
        sort: Sort = "uploaded",
        order: Order = "desc",
        since: Annotated[datetime | None, Parameter(query="from")] = None,
        until: Annotated[datetime | None, Parameter(query="to")] = None,
    ) -> ItemPage:
        query = ListQuery(
            sort=sort,
            order=order,
            status=status,
            category=category,
            album_id=album_id,
            favorite=favorite,
            since=as_utc(since),
            until=as_utc(until),
        )
        return await items.list_items(principal.user_id, query, limit=limit, cursor=cursor)

    @get(
        "/summary",
        summary="The caller's items by status, what is in progress and what failed",
        description="Backs the status view; changes arrive over `GET /events`.",
    )
    async def pipeline(self, principal: Principal, items: ItemsService) -> PipelineSummary:
        return await items.pipeline(principal.user_id)

    @get("/{item_id:uuid}", summary="One item: status, failure, URLs, latest analysis, EXIF")
    async def get_item(
        self, principal: Principal, items: ItemsService, item_id: uuid.UUID
    ) -> ItemDetail:
        return await items.detail(principal.user_id, item_id)

    @delete(
        "/{item_id:uuid}",
        status_code=204,
        summary="Delete an item, its rows and objects",
        opt={"problems": []},
    )
    async def delete_item(
        self, principal: Principal, items: ItemsService, item_id: uuid.UUID
    ) -> None:
        await items.delete(principal.user_id, item_id)

    @post(
        "/{item_id:uuid}/analyze",
        status_code=202,
        summary="Create a new analysis version",
        opt={"problems": [409]},
    )
    async def analyze(
        self,
        principal: Principal,
        items: ItemsService,
        limiter: Limiter,
        item_id: uuid.UUID,
        idempotency_key: AnalysisKey = None,
        replace_user_fields: Annotated[
            bool,
            Parameter(
                query="replace_user_fields",
                description="Also replace the fields the owner edited (by default the new "
                "version keeps them).",
            ),
        ] = False,
    ) -> Accepted:
        await limiter.spend(principal.user_id, "llm_calls")
        item = await items.analyze(
            principal.user_id,
            item_id,
            idempotency_key,
            replace_user_fields=replace_user_fields,
        )
        return Accepted(item_id=item.id, status=item.status, message="a new analysis was requested")  # type: ignore[arg-type]

    @post(
        "/{item_id:uuid}/reprocess",
        status_code=202,
        summary="Run the whole pipeline again",
        opt={"problems": [409]},
    )
    async def reprocess(
        self, principal: Principal, items: ItemsService, item_id: uuid.UUID
    ) -> Accepted:
        item = await items.reprocess(principal.user_id, item_id)
        return Accepted(
            item_id=item.id, status="uploaded", message="the item will be processed again"
        )


class IndexController(Controller):
    path = "/index"
    tags = ["items"]
    security = BEARER

    @post(
        "/rebuild",
        status_code=202,
        summary="Re-embed every item with the current model",
        opt={"problems": []},
    )
    async def rebuild(self, principal: Principal, items: ItemsService) -> RebuildResult:
        return RebuildResult(queued=await items.rebuild_index(principal.user_id))
