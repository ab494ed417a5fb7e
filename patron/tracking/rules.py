"""Pure rules of the Segment-compatible tracking API: parsing, validation, timestamps, limits."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from patron.customers import rules as customer_rules
from patron.errors import InvalidInput, PayloadTooLarge
from patron.tracking import ecommerce, fields
from patron.tracking.fields import BadMessage

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
TYPES = ("identify", "track", "page", "screen", "group", "alias")
# Traits copied onto customer profile fields; every other trait goes into attributes.
_TRAIT_FIELDS = {
    "email": "email",
    "phone": "phone",
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "birthday": "birthday",
}
_CONTEXT_FIELDS = {"locale": "locale", "timezone": "time_zone"}
_MAX_LENGTH = {"email": 320, "phone": 64, "locale": 35, "time_zone": 64}


class TooLarge(PayloadTooLarge):
    """A message or batch over Segment's size limits."""

    def to_dict(self) -> dict:
        """Render the error with Segment clients' `code` key beside Patron's `error`."""
        return {**super().to_dict(), "code": self.code}


@dataclass(frozen=True)
class Message:
    """One validated tracking message, ready to be written."""

    type: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    name: str | None
    properties: dict
    context: dict
    occurred_at: datetime
    previous_id: str | None = None
    profile: dict = field(default_factory=dict)
    order: ecommerce.OrderData | None = None


def decode_body(raw: bytes, encoding: str | None, *, limit: int) -> bytes:
    """Return the request body, gunzipped when sent with Content-Encoding gzip."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadMessage(f"unsupported Content-Encoding {encoding!r}: send gzip or none")
    wbits = 47 if encoding != "deflate" else 15  # 47: zlib or gzip header, detected
    inflater = zlib.decompressobj(wbits)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise BadMessage(f"the body is not valid {encoding} data")
    if len(body) > limit:
        raise too_large(limit)
    return body


def too_large(limit: int) -> TooLarge:
    """The error for a body over `limit` bytes."""
    what = "batch" if limit == MAX_BATCH_BYTES else "message"
    return TooLarge(f"{what} is larger than the {limit // 1024} KB limit")


def parse_json(body: bytes, *, limit: int) -> dict:
    """Parse a request body into a JSON object, enforcing the size limit."""
    if len(body) > limit:
        raise too_large(limit)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"the body is not valid JSON: {exc}")
    if not isinstance(data, dict):
        raise BadMessage("the body must be a JSON object")
    if b"\\u0000" in body:  # PostgreSQL cannot store NUL in text or JSONB
        raise BadMessage("the body must not contain NUL characters (\\u0000)")
    return data


def parse_timestamp(value: object, name: str) -> datetime | None:
    """Parse an ISO-8601 timestamp into aware UTC (a time without zone is taken as UTC)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadMessage(f"{name} must be an ISO-8601 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadMessage(f"{name} is not an ISO-8601 timestamp: {value!r}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadMessage(f"{name} is out of range once converted to UTC: {value!r}")


def corrected_time(
    client_time: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """When a message happened, corrected for client clock skew as Segment does.

    timestamp = receivedAt - (sentAt - clientTimestamp); with no sentAt the client's
    time is taken as is; with no client time, receivedAt.
    """
    if client_time is None:
        return received_at
    if sent_at is None:
        return client_time
    try:
        return received_at - (sent_at - client_time)
    except OverflowError:
        raise BadMessage("timestamp and sentAt are too far apart")


def profile_from(traits: dict, context: dict, where: str) -> dict:
    """Customer profile fields and attributes from identify traits and context."""
    profile: dict = {}
    attributes = {}
    for key, value in traits.items():
        name = _TRAIT_FIELDS.get(key)
        if name is None:
            attributes[key] = value
        elif value is not None and not isinstance(value, str):
            raise BadMessage(f"{where}.traits.{key} must be a string")
        elif value is not None and len(value) > _MAX_LENGTH.get(name, 255):
            raise BadMessage(
                f"{where}.traits.{key} must be at most {_MAX_LENGTH.get(name, 255)} characters"
            )
        else:
            profile[name] = value
    try:
        if "email" in profile:
            profile["email"] = customer_rules.check_email(profile["email"])
        if "birthday" in profile:
            profile["birthday"] = customer_rules.parse_birthday(profile["birthday"])
    except InvalidInput as exc:
        raise BadMessage(f"{where}.traits: {exc.message}")
    for key, name in _CONTEXT_FIELDS.items():
        value = context.get(key)
        if isinstance(value, str) and value:
            profile[name] = value[: _MAX_LENGTH[name]]
    if attributes:
        profile["attributes"] = attributes
    return profile


def profile_differs(current: dict, profile: dict) -> bool:
    """Whether applying profile would change a customer whose fields are `current`."""
    for name, value in profile.items():
        if name == "attributes":
            attributes = current.get("attributes") or {}
            if any(attributes.get(k, _ABSENT) != v for k, v in value.items()):
                return True
        elif current.get(name) != value:
            return True
    return False


_ABSENT = object()


def merged_profile(current: dict, profile: dict) -> dict:
    """A customer's fields after applying profile: given fields replaced, attributes merged."""
    merged = {**current, **{k: v for k, v in profile.items() if k != "attributes"}}
    if profile.get("attributes"):
        merged["attributes"] = {**(current.get("attributes") or {}), **profile["attributes"]}
    return merged


def _event_fields(
    type_: str, raw: dict, props: dict, traits: dict, where: str
) -> tuple[str | None, dict]:
    """The event name and properties of a message of this type."""
    if type_ == "track":
        return fields.text(raw.get("event"), f"{where}.event", required=True), props
    if type_ in ("page", "screen"):
        category = fields.text(raw.get("category"), f"{where}.category")
        if category and "category" not in props:
            props = {**props, "category": category}
        return fields.text(raw.get("name"), f"{where}.name"), props
    if type_ == "group":
        group_id = fields.ident(raw.get("groupId"), f"{where}.groupId")
        if group_id is None:
            raise BadMessage(f"{where}.groupId is required")
        return group_id, traits
    return None, traits


@dataclass(frozen=True)
class Envelope:
    """What a request says for all its messages: when it was sent and shared context."""

    received_at: datetime
    sent_at: datetime | None = None
    context: dict = field(default_factory=dict)


def envelope(body: dict, received_at: datetime) -> Envelope:
    """The request-level fields of a batch (sentAt, context)."""
    return Envelope(
        received_at=received_at,
        sent_at=parse_timestamp(body.get("sentAt"), "sentAt"),
        context=fields.obj(body.get("context"), "context"),
    )


def message(
    raw: object, *, type_: str | None, env: Envelope, new_id: Callable[[], str], where: str = "body"
) -> Message:
    """Validate one Segment message; type_ None means it comes from a batch and names its type."""
    if not isinstance(raw, dict):
        raise BadMessage(f"{where} must be an object")
    if type_ is None:
        type_ = raw.get("type")
        if type_ not in TYPES:
            raise BadMessage(f"{where}.type must be one of {', '.join(TYPES)}")
    user_id = fields.ident(raw.get("userId"), f"{where}.userId")
    anonymous_id = fields.ident(raw.get("anonymousId"), f"{where}.anonymousId")
    previous_id = None
    if type_ == "alias":
        previous_id = fields.ident(raw.get("previousId"), f"{where}.previousId")
        if user_id is None or previous_id is None:
            raise BadMessage(f"{where}: alias needs both userId and previousId")
    elif user_id is None and anonymous_id is None:
        raise BadMessage(f"{where}: either userId or anonymousId is required")
    props = fields.obj(raw.get("properties"), f"{where}.properties")
    traits = fields.obj(raw.get("traits"), f"{where}.traits")
    context = fields.obj(raw.get("context"), f"{where}.context")
    if env.context:
        context = {**env.context, **context}
    name, props = _event_fields(type_, raw, props, traits, where)
    if type_ == "alias":
        props = {**props, "previousId": previous_id}
    client_time = parse_timestamp(raw.get("timestamp"), f"{where}.timestamp") or parse_timestamp(
        raw.get("originalTimestamp"), f"{where}.originalTimestamp"
    )
    sent_at = parse_timestamp(raw.get("sentAt"), f"{where}.sentAt") or env.sent_at
    return Message(
        type=type_,
        message_id=fields.ident(raw.get("messageId"), f"{where}.messageId") or new_id(),
        user_id=user_id,
        anonymous_id=anonymous_id,
        name=name,
        properties=props,
        context=context,
        occurred_at=corrected_time(client_time, sent_at, env.received_at),
        previous_id=previous_id,
        profile=profile_from(traits, context, where) if type_ == "identify" else {},
        order=ecommerce.order_data(name, props, where) if type_ == "track" else None,
    )


def single(data: dict, *, type_: str, received_at: datetime, new_id: Callable[[], str]) -> Message:
    """Validate the parsed body of a one-message call."""
    return message(data, type_=type_, env=envelope(data, received_at), new_id=new_id)


def batch(
    data: dict, *, body_size: int, received_at: datetime, new_id: Callable[[], str]
) -> list[Message]:
    """Validate a parsed batch body; every message must be valid or none is taken.

    Messages repeating a messageId within the batch count once (the first wins).
    """
    items = data.get("batch")
    if not isinstance(items, list):
        raise BadMessage("batch must be an array of messages")
    # When the whole body fits in one message's limit no single message can exceed it.
    if body_size > MAX_MESSAGE_BYTES:
        for i, item in enumerate(items):
            if len(orjson.dumps(item)) > MAX_MESSAGE_BYTES:
                raise TooLarge(
                    f"batch[{i}]: message is larger than the {MAX_MESSAGE_BYTES // 1024} KB limit"
                )
    env = envelope(data, received_at)
    seen: set[str] = set()
    messages = []
    for i, item in enumerate(items):
        msg = message(item, type_=None, env=env, new_id=new_id, where=f"batch[{i}]")
        if msg.message_id not in seen:
            seen.add(msg.message_id)
            messages.append(msg)
    return messages
