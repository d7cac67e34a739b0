"""Why an upload was refused: a machine-readable code plus a message a person can read."""

from __future__ import annotations

from typing import Literal, get_args

from collections_shared.errors import PermanentError

RejectCode = Literal[
    "empty_file",  # 0 bytes: nothing to look at
    "file_too_large",  # more bytes than the caller allows; refused before any parsing
    "unsupported_type",  # the magic bytes are not JPEG, PNG, WebP, GIF or HEIC/HEIF
    "image_too_large",  # the header declares more pixels than allowed (decompression bomb)
    "corrupt_image",  # claims an allowed type but does not decode completely
]
REJECT_CODES: frozenset[str] = frozenset(get_args(RejectCode))


class ImageRejected(PermanentError):  # noqa: N818 - the name is the contract the worker uses
    """The bytes will never make a valid item; retrying cannot help.

    It is a `PermanentError`, so the worker marks the item ``failed`` with this code at once.
    """

    code: RejectCode

    def __init__(self, code: RejectCode, message: str) -> None:
        super().__init__(code, message)
        self.code = code
