"""Calling the public API in tests, in-process or against a running stack (any httpx client)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PASSWORD = "Sup3r-Secret-pw"  # noqa: S105 - test accounts on the emulator


@dataclass
class ApiUser:
    email: str
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_up(client: Any, email: str, password: str = PASSWORD) -> ApiUser:
    """Create an account through ``/auth/signup`` and log in."""
    signup = await client.post("/auth/signup", json={"email": email, "password": password})
    assert signup.status_code == 201, signup.text
    login = await client.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return ApiUser(
        email=email, user_id=signup.json()["user_id"], token=login.json()["access_token"]
    )


async def upload(
    client: Any, user: ApiUser, data: bytes, filename: str = "holiday.jpg", **headers: str
) -> Any:
    """``POST /items`` with one file."""
    return await client.post(
        "/items",
        files={"file": (filename, data, "image/jpeg")},
        headers={**user.headers, **headers},
    )
