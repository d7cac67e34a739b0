"""A user's preferences: read by the gateway (to show and change) and by ingest (to obey).

No row means every default. New preferences get a column with a default and a field here with the
same default, so older rows keep meaning what they meant.
"""

from __future__ import annotations

import msgspec

from collections_shared.db import Connection


class Preferences(msgspec.Struct, frozen=True, kw_only=True):
    keep_gps: bool = False
    """Store the GPS position found in an original's EXIF (never in derivatives). Off by default."""


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
