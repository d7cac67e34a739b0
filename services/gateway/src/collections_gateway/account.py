"""The caller's preferences. No framework types here."""

from __future__ import annotations

from collections_gateway import repository
from collections_gateway.schemas import PreferencesChange, PreferencesOut
from collections_shared.db import Pool, tenant_transaction
from collections_shared.repository.preferences import load_preferences


class AccountService:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def preferences(self, user_id: str) -> PreferencesOut:
        async with tenant_transaction(self.pool, user_id) as connection:
            current = await load_preferences(connection, user_id)
            located = await repository.count_located_items(connection, user_id)
        return PreferencesOut(keep_gps=current.keep_gps, items_with_location=located)

    async def change_preferences(self, user_id: str, change: PreferencesChange) -> PreferencesOut:
        """Apply ``change``. Turning GPS off also forgets every position already stored.

        The row is written (and so locked) before positions are cleared, and ingest reads the
        preference ``FOR SHARE`` when it stores a position, so none can slip in afterwards.
        """
        async with tenant_transaction(self.pool, user_id) as connection:
            current = await repository.save_preferences(
                connection, user_id, keep_gps=change.keep_gps
            )
            if not current.keep_gps:
                await repository.forget_locations(connection, user_id)
            located = await repository.count_located_items(connection, user_id)
        return PreferencesOut(keep_gps=current.keep_gps, items_with_location=located)
