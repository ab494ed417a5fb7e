"""REST API of API keys under /api/keys (admin scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from patron.auth import service
from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION, require_scope

router = APIRouter(
    prefix="/api/keys", tags=["api keys"], dependencies=[Depends(require_scope("admin"))]
)


class KeyCreate(BaseModel):
    """A new API key: what it is for and what it may do."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    scopes: list[Literal["read", "write", "admin", "track"]] = Field(
        min_length=1, description="`admin` implies every scope, `write` implies `read`."
    )


class KeyRead(BaseModel):
    """An API key as listed: never the key itself."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    scopes: list[str]
    prefix: str = Field(description="Public part of the key: `pat_<prefix>_...`.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, value):
        """Stored scopes are comma-separated."""
        return value.split(",") if isinstance(value, str) else value


class KeyCreated(KeyRead):
    """A newly created key, shown once: store `key` now."""

    key: str


@router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    summary="Create an API key (the key is returned only once)",
)
def create_key(body: KeyCreate, session: Session = SESSION):
    """Creates a key with the given scopes."""
    row, key = service.create_key(
        session=session, name=body.name, scopes=",".join(body.scopes), now=utcnow()
    )
    return KeyCreated.model_validate({**KeyRead.model_validate(row).model_dump(), "key": key})


@router.get("", response_model=list[KeyRead], summary="List API keys")
def list_keys(session: Session = READ_SESSION):
    """Lists keys, newest first."""
    return service.list_keys(session=session)


@router.delete("/{key_id}", status_code=204, response_model=None, summary="Revoke an API key")
def revoke_key(key_id: int, session: Session = SESSION) -> None:
    """Revokes a key so it no longer authenticates."""
    service.revoke_key(session=session, key_id=key_id, now=utcnow())
