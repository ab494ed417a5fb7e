"""Dashboard pages of coupons: campaigns with batches and CSV export, exclusive offers."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from patron.coupons import offers, service
from patron.coupons.api import codes_csv
from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import InvalidInput, NotFound, PatronError
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)


def _int(value, name: str, default=None):
    """A whole number from a form field (empty: the default)."""
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise InvalidInput(f"{name}: a whole number") from None


def _date(value, name: str):
    """A UTC datetime from a form's date or datetime-local field (empty: None)."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{name}: a date like 2026-12-24") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _list(value) -> list[str]:
    """Comma-separated words as a list."""
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


@router.get("/coupons")
def coupon_list(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Campaigns with their code counts, offers, and the forms to add them."""
    return render(
        request,
        "coupons/list.html",
        {
            "campaigns": service.list_campaigns(session=session),
            "offers": offers.list_offers(session=session),
        },
    )


async def _submitted(request: Request) -> dict:
    """The form, after its CSRF token is checked."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    return {k: form.get(k) for k in form}


def _done(request: Request, action, message: str, back: str):
    """Run an action; flash its message or its error and go back."""
    try:
        action()
    except PatronError as exc:
        flash(request, exc.message, "error")
        return RedirectResponse(back, status_code=303)
    flash(request, message, "success")
    return RedirectResponse(back, status_code=303)


@router.post("/coupons")
async def coupon_create(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Create a campaign from the form."""
    f = await _submitted(request)

    def create():
        with session.begin_nested():
            service.create_campaign(
                session=session,
                name=str(f.get("name") or "").strip(),
                kind=str(f.get("kind") or ""),
                code=str(f.get("code") or "") or None,
                discount_type=str(f.get("discount_type") or ""),
                percent=_int(f.get("percent"), "percent", 0),
                amount_cents=_int(f.get("amount_cents"), "amount_cents", 0),
                min_order_cents=_int(f.get("min_order_cents"), "min_order_cents", 0),
                skus=_list(f.get("skus")),
                categories=_list(f.get("categories")),
                starts_at=_date(f.get("starts_at"), "starts_at"),
                ends_at=_date(f.get("ends_at"), "ends_at"),
                per_customer_limit=_int(f.get("per_customer_limit"), "per_customer_limit"),
                total_limit=_int(f.get("total_limit"), "total_limit"),
                segment_id=_int(f.get("segment_id"), "segment_id"),
                tier=str(f.get("tier") or "") or None,
                in_templates=f.get("in_templates") == "on",
                now=utcnow(),
            )

    return _done(request, create, "Campaign created.", "/coupons")


@router.get("/coupons/{campaign_id}")
def coupon_show(
    request: Request, campaign_id: int, _user=Depends(current_user), session: Session = SESSION
):
    """A campaign: its terms, the batch form, the CSV export and recent redemptions."""
    try:
        campaign = service.get_campaign(session=session, campaign_id=campaign_id)
    except NotFound as exc:
        context = {"message": exc.message, "back_href": "/coupons", "back_label": "Coupons"}
        return render(request, "web/not_found.html", context, status_code=404)
    return render(
        request,
        "coupons/campaign.html",
        {
            "campaign": campaign,
            "codes": service.codes.count_codes(session, campaign_id),
            "redemptions": service.redemptions(session=session, campaign_id=campaign_id),
        },
    )


@router.post("/coupons/{campaign_id}/batches")
async def coupon_batch(
    request: Request, campaign_id: int, _user=Depends(current_user), session: Session = SESSION
):
    """Add a batch of unique codes."""
    f = await _submitted(request)
    made = []

    def generate():
        with session.begin_nested():
            made.append(
                service.generate_batch(
                    session=session,
                    campaign_id=campaign_id,
                    count=_int(f.get("count"), "count", 0),
                    prefix=str(f.get("prefix") or ""),
                    now=utcnow(),
                )
            )

    response = _done(request, generate, "Codes generated.", f"/coupons/{campaign_id}")
    return response


@router.get("/coupons/{campaign_id}/codes.csv")
def coupon_codes_csv(campaign_id: int, _user=Depends(current_user), session: Session = SESSION):
    """The campaign's codes as a CSV download."""
    return Response(
        codes_csv(session, campaign_id),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="coupons-{campaign_id}.csv"'},
    )


@router.post("/coupons/offers")
async def offer_create(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Create an exclusive offer or early access from the form."""
    f = await _submitted(request)

    def create():
        starts, ends = _date(f.get("starts_at"), "starts_at"), _date(f.get("ends_at"), "ends_at")
        if starts is None or ends is None:
            raise InvalidInput("starts_at and ends_at: both dates are required")
        with session.begin_nested():
            offers.create_offer(
                session=session,
                name=str(f.get("name") or "").strip() or "Offer",
                kind=str(f.get("kind") or ""),
                description=str(f.get("description") or ""),
                url=str(f.get("url") or ""),
                segment_id=_int(f.get("segment_id"), "segment_id"),
                tier=str(f.get("tier") or "") or None,
                starts_at=starts,
                ends_at=ends,
                now=utcnow(),
            )

    return _done(request, create, "Offer created.", "/coupons")
