"""Use cases of coupons: campaigns, code batches, validating a cart, redeeming exactly once.

Published to other capabilities: `issue_code` (a personal code, idempotent per key) and
`validate` / `redeem`. Redemption locks the campaign row, checks every rule against counts
read under that lock, then writes the redemption and bumps the counters: at a total limit of
N, exactly N concurrent redemptions succeed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron import manifest
from patron.coupons import codes, rules
from patron.coupons.events import CouponRedeemed
from patron.coupons.tables import CouponCampaign, CouponCode, CouponRedemption
from patron.customers import service as customers
from patron.errors import Conflict, InvalidInput, NotFound
from patron.events.service import append
from patron.segments import read as segments

TIER_POINT = "coupons.tiers"
TERM_FIELDS = tuple(f for f in rules.Terms.__dataclass_fields__)


class Refused(InvalidInput):
    """A coupon refused by a rule; `details.rule` names it."""

    code = "coupon_refused"

    def __init__(self, decision: rules.Decision):
        super().__init__(decision.reason, details={"rule": decision.rule})
        self.rule = decision.rule


def _terms(campaign: CouponCampaign) -> rules.Terms:
    """A campaign's terms as the pure rules see them."""
    values = {name: getattr(campaign, name) for name in TERM_FIELDS}
    return rules.Terms(
        **{**values, "skus": tuple(campaign.skus), "categories": tuple(campaign.categories)}
    )


def _checked(fields: dict) -> dict:
    """Campaign fields whose terms hold together (InvalidInput naming the field)."""
    terms = {k: v for k, v in fields.items() if k in TERM_FIELDS}
    terms["skus"], terms["categories"] = (
        tuple(terms.get("skus", ())),
        tuple(terms.get("categories", ())),
    )
    try:
        rules.check_terms(rules.Terms(**terms))
    except rules.TermsError as exc:
        raise InvalidInput(str(exc)) from exc
    return fields


def create_campaign(
    *, session: Session, name: str, kind: str, code: str | None, now: datetime, **terms
) -> CouponCampaign:
    """Creates a campaign; a shared one gets its one code now, a unique one gets batches."""
    if kind not in rules.KINDS:
        raise InvalidInput(f"kind: one of {', '.join(rules.KINDS)}")
    if kind == "shared" and not (code and rules.normalise_code(code)):
        raise InvalidInput("code: a shared campaign needs its code")
    if session.scalar(select(CouponCampaign.id).where(CouponCampaign.name == name)):
        raise Conflict(f"a campaign named {name!r} exists")
    _checked(terms)
    campaign = CouponCampaign(
        name=name, kind=kind, created_at=now, updated_at=now, redeemed_count=0
    )
    for key, value in terms.items():
        setattr(campaign, key, list(value) if key in ("skus", "categories") else value)
    session.add(campaign)
    session.flush()
    if kind == "shared":
        shared = rules.normalise_code(code or "")
        if codes.insert_codes(session, campaign.id, [shared], now) != 1:
            raise Conflict(f"the code {shared!r} belongs to another campaign")
    return campaign


def get_campaign(*, session: Session, campaign_id: int) -> CouponCampaign:
    """Gets a campaign by id."""
    campaign = session.get(CouponCampaign, campaign_id)
    if campaign is None:
        raise NotFound(f"coupon campaign {campaign_id} does not exist")
    return campaign


def list_campaigns(*, session: Session) -> list[dict]:
    """Every campaign with its number of codes, newest first."""
    counts = dict(
        session.execute(
            select(CouponCode.campaign_id, func.count()).group_by(CouponCode.campaign_id)
        ).all()
    )
    rows = session.scalars(select(CouponCampaign).order_by(CouponCampaign.id.desc()))
    return [{"campaign": c, "codes": counts.get(c.id, 0)} for c in rows]


def set_active(
    *, session: Session, campaign_id: int, active: bool, now: datetime
) -> CouponCampaign:
    """Switches a campaign on or off."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    campaign.active, campaign.updated_at = active, now
    return campaign


def generate_batch(
    *,
    session: Session,
    campaign_id: int,
    count: int,
    length: int = rules.CODE_LENGTH,
    prefix: str = "",
    now: datetime,
) -> int:
    """Adds `count` unique codes to a unique-code campaign (set-based); returns how many."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if campaign.kind != "unique":
        raise InvalidInput("kind: only a unique-code campaign takes batches")
    if not 1 <= count <= rules.MAX_BATCH:
        raise InvalidInput(f"count: 1 to {rules.MAX_BATCH}")
    if not 6 <= length <= 20:
        raise InvalidInput("length: 6 to 20 letters")
    try:
        prefix = rules.check_prefix(prefix)
    except rules.TermsError as exc:
        raise InvalidInput(str(exc)) from exc
    return codes.generate(
        session, campaign_id=campaign_id, count=count, length=length, prefix=prefix, now=now
    )


def export_codes(*, session: Session, campaign_id: int, chunk: int = 5000) -> Iterator[tuple]:
    """Every code of a campaign with its owner and use count, in id order, read in chunks."""
    get_campaign(session=session, campaign_id=campaign_id)
    after = 0
    while True:
        rows = session.execute(
            select(
                CouponCode.id, CouponCode.code, CouponCode.customer_id, CouponCode.redeemed_count
            )
            .where(CouponCode.campaign_id == campaign_id, CouponCode.id > after)
            .order_by(CouponCode.id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        yield from (r[1:] for r in rows)
        after = rows[-1][0]


def issue_codes(
    *, session: Session, campaign_id: int, wanted: dict[str, int], now: datetime
) -> dict[str, str]:
    """Personal codes, one per key (key -> customer id), made set-based when first asked."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if campaign.kind == "shared":
        shared = session.scalar(
            select(CouponCode.code).where(CouponCode.campaign_id == campaign_id)
        )
        return {key: shared for key in wanted}
    if not wanted:
        return {}
    return codes.issue(
        session, campaign_id=campaign_id, wanted=wanted, length=rules.CODE_LENGTH, now=now
    )


def issue_code(
    *, session: Session, customer_id: int, campaign_id: int, key: str, now: datetime
) -> str:
    """A personal code of the campaign for the customer; the same code for the same key."""
    if not key or len(key) > 255:
        raise InvalidInput("key: 1 to 255 characters")
    customers.get_customer(session=session, customer_id=customer_id)
    return issue_codes(
        session=session, campaign_id=campaign_id, wanted={key: customer_id}, now=now
    )[key]


def tier_of(session: Session, customer_id: int) -> str | None:
    """The customer's tier: from a `coupons.tiers` provider, else the `tier` attribute."""
    for provider in manifest.contributions(TIER_POINT):
        found = provider(session=session, customer_ids=[customer_id]).get(customer_id)
        if found is not None:
            return found
    customer = customers.get_customer(session=session, customer_id=customer_id)
    value = (customer.attributes or {}).get("tier")
    return str(value) if value is not None else None


def in_segment(session: Session, segment_id: int | None, customer_id: int) -> bool:
    """Whether the customer is a current member of the segment (True without one)."""
    if segment_id is None:
        return True
    found = session.get(segments.SegmentMembership, (segment_id, customer_id))
    return found is not None


def _find_code(session: Session, code: str, *, lock: bool) -> tuple[CouponCode, CouponCampaign]:
    """The code row and its campaign (campaign locked when asked); Refused when unknown."""
    row = session.scalar(select(CouponCode).where(CouponCode.code == rules.normalise_code(code)))
    if row is None:
        raise Refused(
            rules.Decision(False, rule="unknown_code", reason="unknown_code: no such coupon")
        )
    query = select(CouponCampaign).where(CouponCampaign.id == row.campaign_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    campaign = session.scalar(query)
    if lock:
        session.refresh(row)
    return row, campaign


def _facts(
    session: Session, row: CouponCode, campaign: CouponCampaign, customer_id: int, now: datetime
) -> rules.Facts:
    """The counts and memberships the rules check."""
    used_by_customer = session.scalar(
        select(func.count())
        .select_from(CouponRedemption)
        .where(
            CouponRedemption.campaign_id == campaign.id, CouponRedemption.customer_id == customer_id
        )
    )
    return rules.Facts(
        now=now,
        customer_id=customer_id,
        code_owner=row.customer_id,
        unique_code=campaign.kind == "unique",
        code_redeemed=row.redeemed_count,
        total_redeemed=campaign.redeemed_count,
        customer_redeemed=used_by_customer,
        in_segment=in_segment(session, campaign.segment_id, customer_id),
        tier=tier_of(session, customer_id) if campaign.tier else None,
    )


def validate(
    *, session: Session, code: str, customer_id: int, cart: rules.Cart, now: datetime
) -> rules.Decision:
    """Whether the code applies to the customer's cart now, its discount, or the refusing rule."""
    customers.get_customer(session=session, customer_id=customer_id)
    try:
        row, campaign = _find_code(session, code, lock=False)
    except Refused as exc:
        return rules.Decision(False, rule=exc.rule, reason=exc.message)
    return rules.evaluate(_terms(campaign), _facts(session, row, campaign, customer_id, now), cart)


def redeem(
    *,
    session: Session,
    code: str,
    customer_id: int,
    order_ref: str,
    cart: rules.Cart,
    now: datetime,
    order_id: int | None = None,
    discount_cents: int | None = None,
    source: str = "api",
) -> tuple[CouponRedemption, bool]:
    """Redeems a code on an order once: (redemption, created). Refused names the rule."""
    customers.get_customer(session=session, customer_id=customer_id)
    row, campaign = _find_code(session, code, lock=True)
    done = session.scalar(
        select(CouponRedemption).where(
            CouponRedemption.code_id == row.id, CouponRedemption.order_ref == order_ref
        )
    )
    if done is not None:
        if done.customer_id != customer_id:
            raise Conflict(f"order {order_ref!r} was redeemed by another customer")
        return done, False
    decision = rules.evaluate(
        _terms(campaign), _facts(session, row, campaign, customer_id, now), cart
    )
    if not decision.valid:
        raise Refused(decision)
    amount = decision.discount_cents if discount_cents is None else discount_cents
    redemption = CouponRedemption(
        campaign_id=campaign.id,
        code_id=row.id,
        customer_id=customer_id,
        order_ref=order_ref,
        order_id=order_id,
        discount_cents=amount,
        source=source,
        redeemed_at=now,
    )
    session.add(redemption)
    campaign.redeemed_count += 1
    row.redeemed_count += 1
    session.flush()
    append(session, [CouponRedeemed(customer_id, campaign.id, row.code, order_id, amount)], now=now)
    return redemption, True


def redemptions(*, session: Session, campaign_id: int, limit: int = 50) -> list[CouponRedemption]:
    """A campaign's latest redemptions."""
    return list(
        session.scalars(
            select(CouponRedemption)
            .where(CouponRedemption.campaign_id == campaign_id)
            .order_by(CouponRedemption.id.desc())
            .limit(limit)
        )
    )


def decision_dict(decision: rules.Decision) -> dict:
    """A decision as JSON."""
    return asdict(decision)
