"""SQL of the chat service: the agent reads one item of the caller's at a time.

Every query filters by the caller, inside a tenant transaction (row-level security checks it
again); rows come back as plain dicts of JSON-ready values, which is what the agent hands the
model.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from collections_shared.db import Connection

_ITEM_QUERY = """
SELECT i.id, i.filename, i.status, i.category, i.taken_at, i.created_at, i.camera_make,
       i.camera_model, a.summary, a.description, a.tags, a.objects, a.visible_text, a.colors,
       a.setting
  FROM items i LEFT JOIN analyses a ON a.id = i.latest_analysis_id
 WHERE i.id = $1 AND i.user_id = $2
"""


async def item_details(
    connection: Connection, user_id: str, item_id: uuid.UUID
) -> dict[str, Any] | None:
    """One item and its latest analysis, or ``None`` if the caller has no such item."""
    row = await connection.fetchrow(_ITEM_QUERY, item_id, user_id)
    if row is None:
        return None

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "item_id": str(row["id"]),
        "filename": row["filename"],
        "status": row["status"],
        "category": row["category"],
        "taken_at": iso(row["taken_at"]),
        "uploaded_at": iso(row["created_at"]),
        "camera": " ".join(part for part in (row["camera_make"], row["camera_model"]) if part),
        "summary": row["summary"] or "",
        "description": row["description"] or "",
        "tags": list(row["tags"] or []),
        "objects": list(row["objects"] or []),
        "visible_text": row["visible_text"] or "",
        "colors": list(row["colors"] or []),
        "setting": row["setting"] or "",
    }
