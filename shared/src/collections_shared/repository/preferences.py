"""Reading a user's preferences (the gateway writes them; ingest obeys them)."""

from __future__ import annotations

from collections_shared.db import Connection
from collections_shared.domain.preferences import Preferences


async def load_preferences(
    connection: Connection, user_id: str, *, lock: bool = False
) -> Preferences:
    """``user_id``'s preferences (inside that user's tenant transaction).

    ``lock`` holds the row until the transaction ends, so a write that depends on a preference
    cannot interleave with a change of that preference (turning GPS off clears stored positions;
    an ingest committing afterwards must see it off).
    """
    row = await connection.fetchrow(
        "SELECT keep_gps FROM preferences WHERE user_id = $1" + (" FOR SHARE" if lock else ""),
        user_id,
    )
    if row is None:
        return Preferences()
    return Preferences(keep_gps=row["keep_gps"])
