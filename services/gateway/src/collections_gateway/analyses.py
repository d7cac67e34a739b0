"""An item's analysis versions: listing them, the owner's edits and restores. No framework types.

An edit or a restore is a new version in the same table as the analyzer's (``insert_analysis``
under the item's row lock), then ``AnalysisComplete`` so the embedder re-embeds it: the keyword
index sees the new version at commit, the vector index a moment later.
"""

from __future__ import annotations

import uuid

from collections_gateway.schemas import AnalysisOut
from collections_shared.db import Connection, Pool, tenant_transaction
from collections_shared.domain.analysis import Analysis, Provenance
from collections_shared.domain.analysis_edit import (
    AnalysisEdit,
    EmptyEditError,
    apply_edit,
    changed_fields,
)
from collections_shared.domain.analysis_input import InvalidAnalysisError
from collections_shared.domain.item import ItemRecord
from collections_shared.errors import ConflictError, NotFoundError, ValidationFailedError
from collections_shared.events import AnalysisComplete, derived_event_id, utc_now
from collections_shared.logging import get_logger
from collections_shared.publisher import EventPublisher
from collections_shared.repository.analyses import (
    AnalysisVersion,
    StoredAnalysis,
    get_version,
    insert_analysis,
    latest_version,
    list_versions,
)
from collections_shared.repository.items import get_item, set_status

log = get_logger(__name__)

USER_PROVIDER = "user"
USER_MODEL = "owner"
USER_PROMPT_VERSION = "edit"
_REEMBED_FROM = ("analyzed", "searchable", "failed")


def analysis_out(version: AnalysisVersion, changed: list[str] | None = None) -> AnalysisOut:
    return AnalysisOut(
        id=version.id,
        version=version.version,
        provider=version.provider,
        model=version.model,
        prompt_version=version.prompt_version,
        created_at=version.created_at,
        analysis=version.analysis,
        input_tokens=version.input_tokens,
        output_tokens=version.output_tokens,
        latency_ms=version.latency_ms,
        fallback=version.fallback,
        user_fields=version.user_fields,
        restored_from=version.restored_from,
        changed=changed or [],
    )


class AnalysesService:
    """Versions of one item's analysis, for its owner."""

    def __init__(self, pool: Pool, publisher: EventPublisher) -> None:
        self.pool = pool
        self.publisher = publisher

    async def versions(self, user_id: str, item_id: uuid.UUID) -> list[AnalysisOut]:
        """Every version, newest first, each with the fields it changed."""
        async with tenant_transaction(self.pool, user_id) as connection:
            item = await get_item(connection, item_id)
            rows = await list_versions(connection, item_id) if item else []
        if item is None:
            raise NotFoundError("no such item")
        older = [*rows[1:], None]
        return [
            analysis_out(row, changed_fields(before.analysis if before else None, row.analysis))
            for row, before in zip(rows, older, strict=True)
        ]

    async def edit(self, user_id: str, item_id: uuid.UUID, edit: AnalysisEdit) -> AnalysisOut:
        """A new ``user`` version: the current one with ``edit`` applied."""
        async with tenant_transaction(self.pool, user_id) as connection:
            item, current = await self._current(connection, item_id)
            try:
                edited, user_fields = apply_edit(current.analysis, edit, current.user_fields)
            except (EmptyEditError, InvalidAnalysisError) as error:
                raise ValidationFailedError(str(error), code="invalid_edit") from error
            provenance = Provenance(
                provider=USER_PROVIDER,
                model=USER_MODEL,
                prompt_version=USER_PROMPT_VERSION,
                raw={"edited": sorted(edit.given()), "based_on": current.version},
                user_fields=user_fields,
            )
            stored, version = await self._store(connection, item, edited, provenance)
        await self._announce(item, stored)
        log.info("analysis_edited", version=stored.version, fields=sorted(edit.given()))
        return analysis_out(version, changed_fields(current.analysis, edited))

    async def restore(self, user_id: str, item_id: uuid.UUID, number: int) -> AnalysisOut:
        """A new version that copies version ``number`` (content, provider, owner's fields)."""
        async with tenant_transaction(self.pool, user_id) as connection:
            item, current = await self._current(connection, item_id)
            old = await get_version(connection, item_id, number)
            if old is None:
                raise NotFoundError("no such analysis version")
            if old.id == current.id:
                raise ConflictError("this version is already the current one", code="current")
            provenance = Provenance(
                provider=old.provider,
                model=old.model,
                prompt_version=old.prompt_version,
                raw={"restored_from": number},
                fallback=old.fallback,
                user_fields=old.user_fields,
                restored_from=number,
            )
            stored, version = await self._store(connection, item, old.analysis, provenance)
        await self._announce(item, stored)
        log.info("analysis_restored", version=stored.version, restored_from=number)
        return analysis_out(version, changed_fields(current.analysis, old.analysis))

    async def _current(
        self, connection: Connection, item_id: uuid.UUID
    ) -> tuple[ItemRecord, AnalysisVersion]:
        item = await get_item(connection, item_id)
        if item is None:
            raise NotFoundError("no such item")
        current = await latest_version(connection, item_id, for_update=True)
        if current is None:
            raise ConflictError("the item has no analysis yet", code="not_analyzed")
        return item, current

    async def _store(
        self, connection: Connection, item: ItemRecord, analysis: Analysis, provenance: Provenance
    ) -> tuple[StoredAnalysis, AnalysisVersion]:
        stored = await insert_analysis(
            connection,
            user_id=item.user_id,
            item_id=item.id,
            source_event_id=uuid.uuid4(),
            analysis=analysis,
            provenance=provenance,
        )
        await set_status(connection, item.id, "analyzed", allowed_from=_REEMBED_FROM)
        version = await latest_version(connection, item.id)
        assert version is not None  # just written in this transaction
        return stored, version

    async def _announce(self, item: ItemRecord, stored: StoredAnalysis) -> None:
        await self.publisher.publish(
            AnalysisComplete(
                event_id=derived_event_id(stored.id, "AnalysisComplete"),
                occurred_at=utc_now(),
                user_id=item.user_id,
                item_id=item.id,
                correlation_id=item.correlation_id,
                analysis_id=stored.id,
                version=stored.version,
            )
        )
