"""Partition and sort keys of the chat table; every key starts with the verified owner.

Thread (session) ids are bound to their owner by construction: a checkpoint lives under
``USER#{sub}#THREAD#{thread_id}``, so another user's thread id addresses an empty partition
rather than someone else's conversation, even if a route forgot to check ownership.
"""

from __future__ import annotations

import re

from collections_shared.domain.chat import SESSION_ID_PATTERN

_SESSION_ID = re.compile(SESSION_ID_PATTERN)


def _owner(sub: str) -> str:
    # '#' separates key parts; a sub containing it could forge another key's prefix.
    if not sub or "#" in sub:
        raise ValueError("the owner must be a non-empty subject without '#'")
    return sub


def _thread(thread_id: str) -> str:
    if not _SESSION_ID.match(thread_id):
        raise ValueError("thread ids are 1-64 letters, digits, '-' or '_'")
    return thread_id


def user_pk(sub: str) -> str:
    """The partition of one user's session index."""
    return f"USER#{_owner(sub)}"


def thread_pk(sub: str, thread_id: str) -> str:
    """The partition of one conversation's checkpoints and pending writes."""
    return f"USER#{_owner(sub)}#THREAD#{_thread(thread_id)}"


def session_sk(session_id: str) -> str:
    """The sort key of a session index entry under :func:`user_pk`."""
    return f"SESSION#{_thread(session_id)}"


def is_session_id(value: str) -> bool:
    """Whether ``value`` has the shape of a session id (anything else cannot exist)."""
    return bool(_SESSION_ID.match(value))
