"""The template context of customers: what every `messages.context` provider contributes.

A provider is `(session=, customer_ids=) -> {customer_id: {name: value}}`, batched for many
customers at once; capabilities declare theirs in their manifests (`contributes=`), so
messages imports none of them. A provider may carry a `sample()` giving the same names for a
made-up customer, used to validate templates before any customer exists.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from patron.manifest import contributions

POINT = "messages.context"


class _Placeholder(str):
    """A value standing for any variable of `data`, however deep (`data.order.number`)."""

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Placeholder(f"{str.__str__(self)[:-1]}.{name}]")

    def __getitem__(self, key):
        return _Placeholder(f"{str.__str__(self)[:-1]}.{key}]")


class AnyData(dict):
    """`data` while validating a template: any variable an API caller might pass is allowed."""

    def __missing__(self, key):
        return _Placeholder(f"[{key}]")


def providers() -> list:
    """The installed context providers."""
    return contributions(POINT)


def contexts(*, session: Session, customer_ids: Collection[int]) -> dict[int, dict]:
    """The merged context of each customer (one batched call per provider)."""
    ids = sorted(set(customer_ids))
    merged: dict[int, dict] = {cid: {} for cid in ids}
    if not ids:
        return merged
    for provider in providers():
        for customer_id, values in provider(session=session, customer_ids=ids).items():
            merged.setdefault(customer_id, {}).update(values)
    return merged


def sample() -> dict:
    """The context of a made-up customer, from the providers that describe one."""
    merged: dict = {}
    for provider in providers():
        make = getattr(provider, "sample", None)
        if make is not None:
            merged.update(make())
    return merged


def message_extras(*, unsubscribe_url: str, preferences_url: str, data: dict | None) -> dict:
    """Names every message has beside the customer's: its unsubscribe and preference centre
    links and API data."""
    return {
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": preferences_url,
        "data": dict(data or {}),
    }
