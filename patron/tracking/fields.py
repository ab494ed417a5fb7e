"""Pure checks of single fields of tracking messages, shared by rules and ecommerce."""

from __future__ import annotations

from patron.errors import InvalidInput

MAX_ID_LENGTH = 255
_ID_TYPES = (str, int, float)


class BadMessage(InvalidInput):
    """A tracking request Segment would refuse with 400: malformed, mistyped or incomplete."""

    status = 400
    code = "invalid_message"

    def to_dict(self) -> dict:
        """Render the error with Segment clients' `code` key beside Patron's `error`."""
        return {**super().to_dict(), "code": self.code}


def ident(value: object, name: str, *, limit: int = MAX_ID_LENGTH) -> str | None:
    """An id given as a string or a number, as a string of at most limit; None when absent."""
    if value is None or value == "":
        return None
    if type(value) is str:  # the common case, checked first: ids come in every message
        result = value
    elif isinstance(value, bool) or not isinstance(value, _ID_TYPES):
        raise BadMessage(f"{name} must be a string or a number")
    else:
        result = value if isinstance(value, str) else str(value)
    if len(result) > limit:
        raise BadMessage(f"{name} must be at most {limit} characters")
    return result


def obj(value: object, name: str) -> dict:
    """A JSON object field, {} when absent."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadMessage(f"{name} must be an object")
    return value


def text(value: object, name: str, *, required: bool = False, limit: int = 255) -> str | None:
    """A string field of at most limit characters."""
    if value is None or value == "":
        if required:
            raise BadMessage(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise BadMessage(f"{name} must be a string")
    if len(value) > limit:
        raise BadMessage(f"{name} must be at most {limit} characters")
    return value
