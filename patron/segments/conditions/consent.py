"""Consent conditions: the customer's permission status on one channel."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import and_, func, select

# Reading another capability's table is unavoidable here: consent is joined in SQL.
from patron.customers.tables import CONSENT_CHANNELS, CONSENT_STATUSES, Consent
from patron.segments.conditions.registry import ConditionModel, ConditionType, register

CONSENTS = Consent.__table__
Channel = Literal["email", "sms", "push"]
Status = Literal["granted", "denied", "unsubscribed", "unknown"]


class ConsentCondition(ConditionModel):
    """`{"type": "consent", "channel": "email", "status": "granted"}`; never recorded: unknown."""

    type: Literal["consent"]
    channel: Channel
    status: Status = "granted"


def _compile(cond: ConsentCondition, ctx):
    """Outer-join the channel's consent row; a missing row reads as unknown."""
    rows = select(CONSENTS.c.customer_id, CONSENTS.c.status).where(
        CONSENTS.c.channel == cond.channel, *ctx.restrict(CONSENTS.c.customer_id)
    )
    status = ctx.outer_join(f"consent:{cond.channel}", rows).c.status
    if cond.status != "unknown":  # a plain comparison lets the join become an inner one
        return and_(status.isnot(None), status == cond.status)
    return func.coalesce(status, "unknown") == "unknown"


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
                    "options": [[c, c] for c in CONSENT_CHANNELS],
                },
                {
                    "name": "status",
                    "input": "select",
                    "label": "status",
                    "options": [[s, s] for s in CONSENT_STATUSES],
                },
            ],
        }
    ]


register(
    ConditionType(
        name="consent",
        label="Consent",
        model=ConsentCondition,
        compile=_compile,
        evaluate=lambda c, facts, ectx: facts.consents.get(c.channel, "unknown") == c.status,
        describe=lambda c: f"{c.channel} consent is {c.status}",
        activity=False,
        catalogue=_catalogue,
    )
)
