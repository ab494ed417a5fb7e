"""Use cases of advocates: credits from events (a consumer), the advocacy score computed
set-based (SQL counts per part, NumPy weights), the ambassador provider of analytics, the
ambassadors list, and community activity received by webhook. The caller owns the transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patron.advocates import rules
from patron.advocates.events import CommunityActivity as ActivityEvent
from patron.advocates.tables import CommunityActivity, CommunityMember, Credit
from patron.analytics import read as analytics
from patron.customers import read as customers
from patron.errors import InvalidInput
from patron.events.service import append
from patron.manifest import contributions

CONSUMER = "advocates.credits"
EVENT_TYPES = frozenset(rules.PART_OF_EVENT)
WEIGHTS_SETTING = "PATRON_ADVOCATES_WEIGHTS"
THRESHOLD_SETTING = "PATRON_ADVOCATES_AMBASSADOR_SCORE"
PERKS_SETTING = "PATRON_ADVOCATES_PERKS"
PERKS_POINT = "advocates.perks"


def weights() -> np.ndarray:
    """The weight of each part (PATRON_ADVOCATES_WEIGHTS)."""
    return rules.parse_weights(os.environ.get(WEIGHTS_SETTING, rules.DEFAULT_WEIGHTS))


def threshold() -> float:
    """The score from which a customer is an advocate (PATRON_ADVOCATES_AMBASSADOR_SCORE)."""
    raw = os.environ.get(THRESHOLD_SETTING, "10").strip()
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{THRESHOLD_SETTING} must be a number, got {raw!r}")
    if value <= 0:
        raise InvalidInput(f"{THRESHOLD_SETTING} must be above 0")
    return value


def _insert(session: Session):
    """The dialect's INSERT that supports ON CONFLICT DO NOTHING."""
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


# Credits from events -----------------------------------------------------------------------


def on_events(*, session: Session, events, now: datetime) -> None:
    """Credit each advocacy act once; a survey answer re-scored away from promoter loses it
    (the last answer of a response in the batch decides)."""
    acts: dict[tuple[str, int, str], dict] = {}
    withdrawn = []
    for e in events:
        part, ref = rules.PART_OF_EVENT.get(e.type), rules.credit_ref(e.type, e.data)
        customer_id = e.customer_id
        if e.type == "referral.qualified":
            customer_id = e.data.get("referrer_customer_id") or customer_id
        if part is None or ref is None or customer_id is None:
            continue
        key = (part, customer_id, ref)
        if e.type == "survey.answered" and e.data.get("nps_category") != "promoter":
            acts.pop(key, None)
            withdrawn.append((customer_id, ref))
            continue
        acts.setdefault(key, {"customer_id": customer_id, "part": part, "ref": ref})
        acts[key]["occurred_at"] = e.occurred_at
    withdrawn = [w for w in withdrawn if ("promoter", *w) not in acts]
    if withdrawn:
        session.execute(
            delete(Credit).where(
                Credit.part == "promoter",
                tuple_(Credit.customer_id, Credit.ref).in_(withdrawn),
            )
        )
    if acts:
        statement = _insert(session)(Credit).values(list(acts.values()))
        session.execute(statement.on_conflict_do_nothing())


# Scores ------------------------------------------------------------------------------------


def part_counts(
    session: Session, customer_ids: Iterable[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(sorted customer ids, counts n x parts) of everyone with a credit (or of the given)."""
    query = select(Credit.customer_id, Credit.part, func.count()).group_by(
        Credit.customer_id, Credit.part
    )
    if customer_ids is not None:
        query = query.where(Credit.customer_id.in_(sorted(set(customer_ids))))
    rows = session.execute(query).all()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, len(rules.PARTS)))
    cids = np.array([r[0] for r in rows], dtype=np.int64)
    parts = np.array([rules.PARTS.index(r[1]) for r in rows])
    ids, at = np.unique(cids, return_inverse=True)
    counts = np.zeros((ids.size, len(rules.PARTS)))
    np.add.at(counts, (at, parts), np.array([r[2] for r in rows], dtype=float))
    return ids, counts


def advocates(*, session: Session, customer_ids: np.ndarray) -> np.ndarray:
    """The `analytics.advocates` provider: whose advocacy score reaches the threshold."""
    wanted = np.asarray(customer_ids, dtype=np.int64)
    ids, counts = part_counts(session)
    flags = np.zeros(wanted.size, dtype=bool)
    if not ids.size:
        return flags
    over = ids[rules.scores(counts, weights()) >= threshold()]
    return np.isin(wanted, over)


def score_of(*, session: Session, customer_id: int) -> dict:
    """A customer's score with its parts (counts and points per part)."""
    ids, counts = part_counts(session, [customer_id])
    row = counts[0] if ids.size else np.zeros(len(rules.PARTS))
    w = weights()
    return {
        "customer_id": customer_id,
        "score": float(rules.scores(row, w)[0]),
        "threshold": threshold(),
        "parts": {
            p: {"count": int(row[i]), "points": float(row[i] * w[i])}
            for i, p in enumerate(rules.PARTS)
        },
    }


def perks(*, session: Session, customer_ids: list[int]) -> dict[int, list[str]]:
    """Perks of each ambassador: the configured ones plus what capabilities contribute."""
    common = [p.strip() for p in os.environ.get(PERKS_SETTING, "").split(";") if p.strip()]
    out = {cid: list(common) for cid in customer_ids}
    for provider in contributions(PERKS_POINT):
        for cid, extra in provider(session=session, customer_ids=customer_ids).items():
            out.setdefault(cid, []).extend(extra)
    return out


def ambassadors(*, session: Session, limit: int = 100, everyone: bool = False) -> list[dict]:
    """Customers at or over the threshold (or everyone credited), best score first."""
    ids, counts = part_counts(session)
    if not ids.size:
        return []
    w = weights()
    totals = rules.scores(counts, w)
    keep = np.flatnonzero(totals >= threshold()) if not everyone else np.arange(ids.size)
    order = keep[np.lexsort((ids[keep], -totals[keep]))][:limit]
    chosen = ids[order].tolist()
    c, s = customers.Customer, analytics.CustomerScore
    people = {
        row.id: row
        for row in session.execute(
            select(c.id, c.email, c.first_name, c.last_name, s.lifecycle_stage)
            .outerjoin(s, s.customer_id == c.id)
            .where(c.id.in_(chosen))
        )
    }
    given = perks(session=session, customer_ids=chosen)
    out = []
    for i in order:
        cid = int(ids[i])
        person = people.get(cid)
        out.append(
            {
                "customer_id": cid,
                "email": person.email if person else None,
                "name": " ".join(filter(None, [person.first_name, person.last_name]))
                if person
                else "",
                "stage": person.lifecycle_stage if person else None,
                "score": float(totals[i]),
                "parts": {p: int(counts[i, j]) for j, p in enumerate(rules.PARTS)},
                "perks": given.get(cid, []),
            }
        )
    return out


# Community activity ------------------------------------------------------------------------


def _customers_by_email(session: Session, emails: set[str]) -> dict[str, int]:
    """Customer ids by lower-cased email (the lowest id when shared)."""
    if not emails:
        return {}
    c = customers.Customer
    return dict(
        session.execute(
            select(func.lower(c.email), func.min(c.id))
            .where(func.lower(c.email).in_(sorted(emails)))
            .group_by(func.lower(c.email))
        ).all()
    )


def _emails_of_usernames(session: Session, source: str, usernames: set[str]) -> dict[str, str]:
    """Known emails of community usernames."""
    if not usernames:
        return {}
    m = CommunityMember
    return dict(
        session.execute(
            select(m.username, m.email).where(m.source == source, m.username.in_(usernames))
        ).all()
    )


def record_activities(*, session: Session, activities: list[rules.Activity], now: datetime) -> dict:
    """Store activities once each (by source id), mapped to customers by email, as events."""
    by_source: dict[str, set[str]] = {}
    for a in activities:
        if a.email is None and a.username:
            by_source.setdefault(a.source, set()).add(a.username)
    known = {s: _emails_of_usernames(session, s, names) for s, names in by_source.items()}
    emails = {a.email or known.get(a.source, {}).get(a.username or "") for a in activities}
    ids = _customers_by_email(session, {e for e in emails if e})
    recorded = matched = 0
    for a in activities:
        email = a.email or known.get(a.source, {}).get(a.username or "")
        customer_id = ids.get(email) if email else None
        statement = (
            _insert(session)(CommunityActivity)
            .values(
                source=a.source,
                external_id=a.external_id,
                kind=a.kind,
                email=email,
                username=a.username,
                customer_id=customer_id,
                occurred_at=a.occurred_at,
                received_at=now,
            )
            .on_conflict_do_nothing()
            .returning(CommunityActivity.id)
        )
        if session.execute(statement).scalar() is None:
            continue
        recorded += 1
        if customer_id is not None:
            matched += 1
            append(session, [ActivityEvent(customer_id, a.kind, a.source, a.external_id)], now=now)
    return {"received": len(activities), "recorded": recorded, "matched": matched}


def remember_member(
    *, session: Session, source: str, user: rules.DiscourseUser, now: datetime
) -> int:
    """Keep a community username's email; earlier unmatched activity of it is matched now."""
    statement = _insert(session)(CommunityMember).values(
        source=source, username=user.username, email=user.email, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["source", "username"],
            set_={"email": user.email, "updated_at": now},
        )
    )
    customer_id = _customers_by_email(session, {user.email}).get(user.email)
    if customer_id is None:
        return 0
    a = CommunityActivity
    rows = session.execute(
        update(a)
        .where(a.source == source, a.username == user.username, a.customer_id.is_(None))
        .values(customer_id=customer_id, email=user.email)
        .returning(a.kind, a.external_id)
    ).all()
    append(session, [ActivityEvent(customer_id, k, source, x) for k, x in rows], now=now)
    return len(rows)


def recent_activity(*, session: Session, limit: int = 50) -> list[CommunityActivity]:
    """The latest community activity received."""
    return list(
        session.scalars(
            select(CommunityActivity).order_by(CommunityActivity.id.desc()).limit(limit)
        )
    )
