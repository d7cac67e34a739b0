"""The items API: thin handlers that parse, call the uploads and items services, and shape
responses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from collections_gateway.items import ItemsService
from collections_gateway.limits import Limiter
from collections_gateway.schemas import (
    Accepted,
    AnalysisList,
    ItemDetail,
    ItemPage,
    PipelineSummary,
    PresignedUpload,
    RebuildResult,
    Status,
    UploadRequest,
)
from collections_gateway.uploads import Upload, UploadsService
from collections_shared.auth import Principal
from collections_shared.domain.analysis import Analysis, InvalidAnalysisError, normalize_analysis
from collections_shared.errors import ValidationFailedError

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]
IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        required=False,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retrying with the same key returns the same item instead of a second one.",
    ),
]
_MAX_ANALYSIS_JSON = 64 * 1024


@dataclass
class UploadForm:
    file: UploadFile
    analysis: str | None = None
    """Optional JSON analysis from another system; the vision analyzer is skipped for it."""


def _imported_analysis(raw: str | None) -> Analysis | None:
    if raw is None or not raw.strip():
        return None
    if len(raw) > _MAX_ANALYSIS_JSON:
        raise ValidationFailedError(
            "the analysis part is too large (64 KiB max)", code="analysis_too_large"
        )
    try:
        return normalize_analysis(msgspec.json.decode(raw))
    except (msgspec.DecodeError, InvalidAnalysisError) as error:
        raise ValidationFailedError(
            f"the analysis part is not valid: {error}", code="invalid_analysis"
        ) from error


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
        imported = _imported_analysis(data.analysis)
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

    @get("/", summary="List items, newest first")
    async def list_items(
        self,
        principal: Principal,
        items: ItemsService,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
        status: Status | None = None,
        category: Annotated[str | None, Parameter(max_length=48)] = None,
    ) -> ItemPage:
        return await items.list_items(
            principal.user_id, limit=limit, cursor=cursor, status=status, category=category
        )

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

    @get("/{item_id:uuid}/analyses", summary="Every analysis version of an item, newest first")
    async def analyses(
        self, principal: Principal, items: ItemsService, item_id: uuid.UUID
    ) -> AnalysisList:
        return AnalysisList(analyses=await items.analyses(principal.user_id, item_id))

    @post(
        "/{item_id:uuid}/analyze",
        status_code=202,
        summary="Create a new analysis version",
        opt={"problems": [409]},
    )
    async def analyze(
        self, principal: Principal, items: ItemsService, limiter: Limiter, item_id: uuid.UUID
    ) -> Accepted:
        await limiter.spend(principal.user_id, "llm_calls")
        item = await items.analyze(principal.user_id, item_id)
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
