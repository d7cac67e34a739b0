"""Analyzer: ``ImageProcessed`` → a new analysis version of the item → ``AnalysisComplete``.

The analysis is keyed by the event that asked for it, so a redelivered event finds its analysis
and only re-publishes; a user's re-analyze request is a new event and so a new version.
"""

from __future__ import annotations

from typing import Any

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
    AnyEvent,
    ImageProcessed,
    derived_event_id,
    utc_now,
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

log = get_logger(__name__)


class AnalyzerHandler:
    def __init__(
        self, pool: Pool, s3: Any, publisher: EventPublisher, chain: ProviderChain
    ) -> None:
        self._pool = pool
        self._s3 = s3
        self._publisher = publisher
        self._chain = chain
        self.fail = item_failer(pool, publisher, "analyze")

    async def dispatch(self, event: AnyEvent) -> None:
        match event:
            case ImageProcessed():
                await self.analyze(event)
            case _:
                log.info("event_ignored", detail_type=type(event).__name__)

    async def analyze(self, event: ImageProcessed) -> None:
        async with tenant_transaction(self._pool, event.user_id) as connection:
            item = await get_item(connection, event.item_id)
            done = (
                await find_by_source_event(connection, event.item_id, event.event_id)
                if item
                else None
            )
        if item is None or "preview" not in event.derivative_keys:
            log.info("analysis_skipped", reason="item gone" if item is None else "no preview")
            return
        if done is None:
            done = await self._analyze(item, event)
        await self._announce(event, done)

    async def _analyze(
        self, item: ItemRecord, event: ImageProcessed, *, replace_user_fields: bool = False
    ) -> StoredAnalysis:
        image = ImageInput(
            data=await read_object(
                self._s3,
                event.bucket,
                event.derivative_keys["preview"],
                missing_code="preview_missing",
            ),
            width=event.width,
            height=event.height,
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
        return await self._store(event, result, replace_user_fields=replace_user_fields)

    async def _store(
        self, event: ImageProcessed, result: AnalysisResult, *, replace_user_fields: bool
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

    async def _announce(self, event: ImageProcessed, stored: StoredAnalysis) -> None:
        await self._publisher.publish(
            AnalysisComplete(
                event_id=derived_event_id(stored.id, "AnalysisComplete"),
                occurred_at=utc_now(),
                user_id=event.user_id,
                item_id=event.item_id,
                correlation_id=event.correlation_id,
                analysis_id=stored.id,
                version=stored.version,
            )
        )
