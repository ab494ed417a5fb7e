"""What analytics adds to the customer list: lifecycle stage and RFM segment filters and columns."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.analytics.lifecycle import STAGES
from patron.analytics.rfm import SEGMENTS, segment_label
from patron.analytics.tables import CustomerScore
from patron.customers.facets import ListFacet
from patron.customers.read import Customer
from patron.errors import InvalidInput


def _scores(session: Session, customer_ids: list[int], column) -> dict[int, str]:
    """One score column of the given customers, by id (unscored customers left out)."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(CustomerScore.customer_id, column).where(
            CustomerScore.customer_id.in_(customer_ids), column.is_not(None)
        )
    )
    return dict(rows.all())


def _where(column, known: tuple[str, ...], label: str):
    """A filter on one score column to one of the known values."""

    def where(value: str):
        if value not in known:
            raise InvalidInput(f"{label}: choose one of {', '.join(known)}")
        return Customer.id.in_(select(CustomerScore.customer_id).where(column == value))

    return where


STAGE = ListFacet(
    name="stage",
    label="Stage",
    options=lambda *, session: [(s, s.replace("_", " ")) for s in STAGES],
    where=_where(CustomerScore.lifecycle_stage, STAGES, "stage"),
    values=lambda *, session, customer_ids: {
        cid: stage.replace("_", " ")
        for cid, stage in _scores(session, customer_ids, CustomerScore.lifecycle_stage).items()
    },
    order=10,
)
RFM = ListFacet(
    name="rfm",
    label="RFM segment",
    options=lambda *, session: [(s, segment_label(s)) for s in SEGMENTS],
    where=_where(CustomerScore.rfm_segment, SEGMENTS, "rfm"),
    values=lambda *, session, customer_ids: {
        cid: segment_label(name)
        for cid, name in _scores(session, customer_ids, CustomerScore.rfm_segment).items()
    },
    order=20,
)
