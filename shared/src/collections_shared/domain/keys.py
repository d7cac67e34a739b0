"""S3 object keys: where each user's originals and derivatives live.

``{user_id}/images/{item_id}.{ext}`` for originals, ``{user_id}/derived/{item_id}/{name}.{ext}``
for derivatives. Keys are always built from a server-generated item id and the caller's ``sub``,
never from a file name, so no upload can write outside its owner's prefix.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import unquote_plus

_ORIGINAL = re.compile(
    r"^(?P<user_id>[A-Za-z0-9][A-Za-z0-9_\-:@.]{0,127})/images/"
    r"(?P<item_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(?P<ext>[a-z0-9]{1,5})$"
)

DERIVATIVES = {"thumbnail": "webp", "preview": "jpg"}


@dataclass(frozen=True, slots=True)
class OriginalKey:
    user_id: str
    item_id: uuid.UUID
    extension: str

    def __str__(self) -> str:
        return original_key(self.user_id, self.item_id, self.extension)


def original_key(user_id: str, item_id: uuid.UUID, extension: str) -> str:
    return f"{user_id}/images/{item_id}.{extension}"


def user_prefix(user_id: str) -> str:
    return f"{user_id}/"


def derivative_prefix(user_id: str, item_id: uuid.UUID) -> str:
    return f"{user_id}/derived/{item_id}/"


def derivative_key(user_id: str, item_id: uuid.UUID, name: str) -> str:
    return f"{derivative_prefix(user_id, item_id)}{name}.{DERIVATIVES[name]}"


def parse_original_key(key: str) -> OriginalKey | None:
    """The owner and item of an original's key, or None for any other key (derivatives...)."""
    match = _ORIGINAL.match(key)
    if match is None or ".." in match["user_id"]:
        return None
    return OriginalKey(match["user_id"], uuid.UUID(match["item_id"]), match["ext"])


def decode_event_key(raw: str) -> str:
    """S3 event notifications URL-encode keys (``+`` for spaces), as AWS does."""
    return unquote_plus(raw)
