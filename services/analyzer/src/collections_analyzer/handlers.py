"""Analyzer: ``ImageProcessed`` or ``AnalysisRequested`` → analysis version → ``AnalysisComplete``.

``ImageProcessed`` says where the preview is; ``AnalysisRequested`` (the owner asked for another
version) names only the item, whose derivatives are read from the database. Either way the
analysis is keyed by the event that asked for it, so a redelivered event, or a retried request
with the same id, finds its analysis and only re-publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from collections_analyzer.providers.base import (
    AnalysisResult,
    ImageInput,
    ProviderOutputError,
    ProviderUnavailableError,
)
from collections_analyzer.providers.chain import ProviderChain
from collections_shared.aws import read_object
from collections_shared.db import Pool, tenant_transaction
from collections_shared.domain.analysis import Provenance
from collections_shared.domain.analysis_edit import keep_user_fields
from collections_shared.domain.item import ItemRecord
from collections_shared.errors import PermanentError, TransientError
from collections_shared.events import (
    AnalysisComplete,
    AnalysisRequested,
    AnyEvent,
    ImageProcessed,
)
from collections_shared.logging import get_logger
from collections_shared.publisher import EventPublisher
from collections_shared.repository.analyses import (
    StoredAnalysis,
    find_by_source_event,
    insert_analysis,
    latest_version,
)
from collections_shared.repository.items import get_item, set_status
from collections_shared.worker import item_failer

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = get_logger(__name__)

AnalysisCause = ImageProcessed | AnalysisRequested


@dataclass(frozen=True)
class Preview:
    """The derivative the model is shown, and the original's size."""

    bucket: str
    key: str
    width: int
    height: int


class AnalyzerHandler:
    def __init__(
        self,
        pool: Pool,
        s3: S3Client,
        publisher: EventPublisher,
        chain: ProviderChain,
        *,
        bucket: str,
    ) -> None:
        self._pool = pool
        self._s3 = s3
        self._publisher = publisher
        self._chain = chain
        self._bucket = bucket
        self.fail = item_failer(pool, publisher, "analyze")

    async def dispatch(self, event: AnyEvent) -> None:
        match event:
            case ImageProcessed() | AnalysisRequested():
                await self.analyze(event)
            case _:
                log.info("event_ignored", detail_type=type(event).__name__)

    async def analyze(self, event: AnalysisCause) -> None:
        async with tenant_transaction(self._pool, event.user_id) as connection:
            item = await get_item(connection, event.item_id)
            done = (
                await find_by_source_event(connection, event.item_id, event.event_id)
                if item
                else None
            )
        preview = self._preview(event, item) if item else None
        if item is None or preview is None:
            log.info("analysis_skipped", reason="item gone" if item is None else "no preview")
            return
        if done is None:
            done = await self._analyze(item, event, preview)
        await self._announce(event, done)

    def _preview(self, event: AnalysisCause, item: ItemRecord) -> Preview | None:
        """Where ``ImageProcessed`` says the preview is, or where the item row says it is."""
        if isinstance(event, ImageProcessed):
            keys, bucket = event.derivative_keys, event.bucket
            width, height = event.width, event.height
        else:
            keys, bucket = item.derivative_keys, self._bucket
            width, height = item.width or 1, item.height or 1
        key = keys.get("preview")
        return Preview(bucket=bucket, key=key, width=width, height=height) if key else None

    async def _analyze(
        self, item: ItemRecord, event: AnalysisCause, preview: Preview
    ) -> StoredAnalysis:
        image = ImageInput(
            data=await read_object(
                self._s3, preview.bucket, preview.key, missing_code="preview_missing"
            ),
            width=preview.width,
            height=preview.height,
            filename=item.filename,
            taken_at=item.taken_at,
            camera=" ".join(filter(None, [item.camera_make, item.camera_model])),
        )
        try:
            result = await self._chain.analyze(image)
        except ProviderUnavailableError as error:
            raise TransientError(
                error.code, error.message, retry_after=error.retry_after
            ) from error
        except ProviderOutputError as error:
            raise PermanentError(error.code, error.message) from error
        replace = isinstance(event, AnalysisRequested) and event.replace_user_fields
        return await self._store(event, result, replace_user_fields=replace)

    async def _store(
        self, event: AnalysisCause, result: AnalysisResult, *, replace_user_fields: bool
    ) -> StoredAnalysis:
        async with tenant_transaction(self._pool, event.user_id) as connection:
            previous = await latest_version(connection, event.item_id, for_update=True)
            analysis, user_fields = result.analysis, []
            if previous is not None and previous.user_fields and not replace_user_fields:
                # The owner's corrections outlive an automatic re-analysis.
                user_fields = previous.user_fields
                analysis = keep_user_fields(analysis, previous.analysis, user_fields)
            stored = await insert_analysis(
                connection,
                user_id=event.user_id,
                item_id=event.item_id,
                source_event_id=event.event_id,
                analysis=analysis,
                provenance=Provenance(
                    provider=result.provider,
                    model=result.model,
                    prompt_version=result.prompt_version,
                    input_tokens=result.input_tokens,
                    output_tokens=result.output_tokens,
                    latency_ms=result.latency_ms,
                    raw=result.raw,
                    fallback=result.fallback,
                    user_fields=user_fields,
                ),
            )
            await set_status(
                connection,
                event.item_id,
                "analyzed",
                allowed_from=("processed", "analyzed", "searchable", "failed"),
            )
        log.info(
            "analysis_stored",
            provider=result.provider,
            model=result.model,
            version=stored.version,
            fallback=[failure.provider for failure in result.fallback],
            kept_user_fields=user_fields,
        )
        return stored

    async def _announce(self, event: AnalysisCause, stored: StoredAnalysis) -> None:
        await self._publisher.publish(
            AnalysisComplete.build(
                user_id=event.user_id,
                item_id=event.item_id,
                correlation_id=event.correlation_id,
                analysis_id=stored.id,
                version=stored.version,
            )
        )
