"""Profile conditions: a customer's own fields (email, names, locale, created_at, birthday)."""

from __future__ import annotations

from typing import Literal

from patron.segments.conditions.fields import (
    Field,
    FieldCondition,
    field_condition_type,
)
from patron.segments.conditions.registry import register


def _profile_field(name: str, label: str, kind: str) -> Field:
    """A field of the customer's own profile."""
    return Field(name, label, kind, get=lambda facts: facts.profile.get(name))


FIELDS = {
    f.name: f
    for f in (
        _profile_field("external_id", "Customer id", "string"),
        _profile_field("email", "Email", "string"),
        _profile_field("phone", "Phone", "string"),
        _profile_field("first_name", "First name", "string"),
        _profile_field("last_name", "Last name", "string"),
        _profile_field("locale", "Locale", "string"),
        _profile_field("time_zone", "Time zone", "string"),
        _profile_field("created_at", "Signed up", "datetime"),
        _profile_field("birthday", "Birthday", "date"),
    )
}


class ProfileCondition(FieldCondition):
    """`{"type": "profile", "field": "email", "op": "contains", "value": "@example.com"}`."""

    FIELDS = FIELDS
    type: Literal["profile"]


register(field_condition_type("profile", "Profile", ProfileCondition, FIELDS, activity=False))
