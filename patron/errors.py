"""The exception hierarchy: each error carries its HTTP status and a stable code."""

from __future__ import annotations


class PatronError(Exception):
    """Base of every error Patron reports to a user."""

    status = 400
    code = "error"

    def __init__(self, message: str, *, details: list | dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        """Render the error as the JSON body of an API answer."""
        body: dict = {"error": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidInput(PatronError):
    """The input is malformed or breaks a rule."""

    status = 422
    code = "invalid_input"


class NotFound(PatronError):
    """The thing asked for does not exist."""

    status = 404
    code = "not_found"


class Conflict(PatronError):
    """The change clashes with what is stored (duplicate id, stale state)."""

    status = 409
    code = "conflict"


class Unauthorized(PatronError):
    """No valid credentials were given."""

    status = 401
    code = "unauthorized"


class Forbidden(PatronError):
    """The credentials lack the scope the action needs."""

    status = 403
    code = "forbidden"


class PayloadTooLarge(PatronError):
    """The request body is over its size limit."""

    status = 400
    code = "payload_too_large"
