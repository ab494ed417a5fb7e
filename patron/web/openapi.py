"""The error answers every API route documents: one body model, one responses table."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    """The JSON body of every refused or failed API request."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="Stable machine-readable code, e.g. `invalid_input`.")
    message: str = Field(description="What went wrong, in one line for a person.")
    details: list[Any] | dict[str, Any] | None = Field(
        None, description="Per-field problems, when there are several."
    )


_WHEN = {
    400: "Malformed request (e.g. a tracking message Segment would refuse)",
    401: "No valid API key: send `Authorization: Bearer <key>`",
    403: "The API key lacks the scope this route needs",
    404: "The thing asked for does not exist",
    409: "The change clashes with stored data",
    413: "The request body is over the size limit",
    422: "The input is invalid or breaks a rule",
    500: "A bug on our side; logged, answered with a body",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _WHEN.items()
}
