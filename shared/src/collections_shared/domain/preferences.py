"""A user's preferences: read by the gateway (to show and change) and by ingest (to obey).

No row means every default. New preferences get a column with a default and a field here with the
same default, so older rows keep meaning what they meant.
"""

from __future__ import annotations

import msgspec


class Preferences(msgspec.Struct, frozen=True, kw_only=True):
    keep_gps: bool = False
    """Store the GPS position found in an original's EXIF (never in derivatives). Off by default."""
