"""SQL of consent conditions: outer-join the channel's consent row."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from patron.customers.read import Consent
from patron.segments.conditions.consent import ConsentCondition

CONSENTS = Consent.__table__


def _compile(cond: ConsentCondition, ctx):
    """Outer-join the channel's consent row; a missing row reads as unknown."""
    rows = select(CONSENTS.c.customer_id, CONSENTS.c.status).where(
        CONSENTS.c.channel == cond.channel, *ctx.restrict(CONSENTS.c.customer_id)
    )
    status = ctx.outer_join(f"consent:{cond.channel}", rows).c.status
    if cond.status != "unknown":  # a plain comparison lets the join become an inner one
        return and_(status.isnot(None), status == cond.status)
    return func.coalesce(status, "unknown") == "unknown"


COMPILERS = {"consent": _compile}
