"""The `customers.activity` extension point: inline reactions to orders and events.

Only work that must stay consistent with the write itself runs here (segment memberships);
everything else reacts to the durable domain events, outside the writer's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from patron.manifest import contributions

POINT = "customers.activity"


def notify(session: Session, customer_ids: Iterable[int], now: datetime) -> None:
    """Tell every contributed listener, inside the writing transaction, who changed."""
    ids = {int(i) for i in customer_ids if i is not None}
    if not ids:
        return
    for listener in contributions(POINT):
        listener(session=session, customer_ids=ids, now=now)
