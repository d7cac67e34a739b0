"""The caller's account: preferences, and deleting everything the caller owns. No framework
types here."""

from __future__ import annotations

import msgspec

from collections_gateway import repository
from collections_gateway.repositories.albums import delete_all_albums
from collections_gateway.s3objects import S3Objects
from collections_gateway.schemas import DeletedAccount, PreferencesChange, PreferencesOut
from collections_gateway.upstream import Upstream
from collections_shared.db import Pool, tenant_transaction
from collections_shared.domain.chat import Deleted
from collections_shared.logging import get_logger
from collections_shared.repository.preferences import load_preferences

log = get_logger(__name__)


class AccountService:
    def __init__(self, pool: Pool, s3: S3Objects, chat: Upstream) -> None:
        self.pool = pool
        self.s3 = s3
        self.chat = chat

    async def delete_everything(self, user_id: str, authorization: str) -> DeletedAccount:
        """Every row, object and chat session of ``user_id``; nobody else's.

        Rows go first (one transaction), then the objects under the caller's prefix, then the
        chat sessions, which the chat service deletes for the bearer of ``authorization``.
        """
        async with tenant_transaction(self.pool, user_id) as connection:
            albums = await delete_all_albums(connection, user_id)
            items = await repository.delete_all_items(connection)
            await repository.delete_preferences(connection, user_id)
        objects = await self.s3.delete_user_objects(user_id)
        response = await self.chat.call(
            "DELETE", "/chat/sessions", {"authorization": authorization}
        )
        sessions = 0
        if response.status_code == 200:
            try:
                sessions = msgspec.json.decode(response.body, type=Deleted).deleted
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                log.warning("chat_delete_reply_invalid", error=str(error))
        return DeletedAccount(items=items, objects=objects, chat_sessions=sessions, albums=albums)

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
