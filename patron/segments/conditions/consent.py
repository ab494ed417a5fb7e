"""Consent conditions: the customer's permission status on one channel."""

from __future__ import annotations

from typing import Literal, get_args

from patron.segments.conditions.registry import ConditionModel, ConditionType, register

Channel = Literal["email", "sms", "push"]
Status = Literal["granted", "denied", "unsubscribed", "unknown"]


class ConsentCondition(ConditionModel):
    """`{"type": "consent", "channel": "email", "status": "granted"}`; never recorded: unknown."""

    type: Literal["consent"]
    channel: Channel
    status: Status = "granted"


def _catalogue() -> list[dict]:
    """One builder entry: channel and status."""
    return [
        {
            "key": "consent",
            "group": "Consent",
            "label": "Consent",
            "template": {"type": "consent"},
            "params": [
                {
                    "name": "channel",
                    "input": "select",
                    "label": "channel",
                    "options": [[c, c] for c in get_args(Channel)],
                },
                {
                    "name": "status",
                    "input": "select",
                    "label": "status",
                    "options": [[s, s] for s in get_args(Status)],
                },
            ],
        }
    ]


register(
    ConditionType(
        name="consent",
        label="Consent",
        model=ConsentCondition,
        evaluate=lambda c, facts, ectx: facts.consents.get(c.channel, "unknown") == c.status,
        describe=lambda c: f"{c.channel} consent is {c.status}",
        activity=False,
        catalogue=_catalogue,
    )
)
