"""Domain events reviews publish."""

from __future__ import annotations

from dataclasses import dataclass

from patron.events.types import DomainEvent

REQUESTED = "review.requested"
SUBMITTED = "review.submitted"
APPROVED = "review.approved"
EVENT_TYPES = (REQUESTED, SUBMITTED, APPROVED)


@dataclass(frozen=True)
class ReviewRequested(DomainEvent):
    """A customer was asked to review a product they bought."""

    type = REQUESTED
    sku: str = ""
    order_id: int = 0


@dataclass(frozen=True)
class ReviewSubmitted(DomainEvent):
    """A review was written (it waits for moderation)."""

    type = SUBMITTED
    review_id: int = 0
    sku: str = ""
    rating: int = 0
    verified: bool = False


@dataclass(frozen=True)
class ReviewApproved(DomainEvent):
    """A review was approved and is shown (loyalty gives points for it)."""

    type = APPROVED
    review_id: int = 0
    sku: str = ""
    rating: int = 0
