"""Set-based code writing: one INSERT ... SELECT per batch, collisions retried as a set.

PostgreSQL reads the batch from arrays (`unnest`), SQLite from a JSON array (`json_each`);
`ON CONFLICT DO NOTHING` drops codes (or issue keys) already taken and the statement's row
count says how many landed, so a retry asks only for the shortfall.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger, String

from patron.coupons import rules
from patron.coupons.tables import CouponCode
from patron.db import UTCDateTime
from patron.errors import Conflict

MAX_ROUNDS = 8


def _postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def fresh_codes(count: int, length: int, prefix: str = "") -> list[str]:
    """`count` random codes from the unambiguous alphabet (cryptographic randomness)."""
    found: list[str] = []
    while len(found) < count:
        need = count - len(found)
        raw = secrets.token_bytes(rules.bytes_needed(need, length))
        found += rules.codes_from_bytes(raw, need, length, prefix)
    return found


def insert_codes(session: Session, campaign_id: int, codes: list[str], now: datetime) -> int:
    """Insert codes of a campaign in one statement, skipping taken ones; returns how many."""
    if _postgres(session):
        statement = text(
            "INSERT INTO coupon_codes (campaign_id, code, redeemed_count, created_at) "
            "SELECT :campaign, c, 0, :now FROM unnest(:codes) AS c ON CONFLICT DO NOTHING"
        ).bindparams(bindparam("codes", type_=ARRAY(String)))
        params = {"campaign": campaign_id, "now": now, "codes": codes}
    else:
        statement = text(
            "INSERT INTO coupon_codes (campaign_id, code, redeemed_count, created_at) "
            "SELECT :campaign, value, 0, :now FROM json_each(:codes) WHERE true "
            "ON CONFLICT DO NOTHING"
        )
        params = {"campaign": campaign_id, "now": now, "codes": json.dumps(codes)}
    statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
    result = session.execute(statement.execution_options(preserve_rowcount=True), params)
    return max(result.rowcount or 0, 0)


def generate(
    session: Session, *, campaign_id: int, count: int, length: int, prefix: str, now: datetime
) -> int:
    """Add `count` new unique codes to a campaign, retrying collisions set-based."""
    made = 0
    for _ in range(MAX_ROUNDS):
        if made == count:
            return made
        made += insert_codes(session, campaign_id, fresh_codes(count - made, length, prefix), now)
    if made < count:
        raise Conflict(f"only {made} of {count} codes were free: use longer codes or a prefix")
    return made


def _insert_personal(
    session: Session, campaign_id: int, wanted: dict[str, int], length: int, now: datetime
) -> None:
    """Insert one fresh code per issue key (keys or codes already taken are skipped)."""
    keys = sorted(wanted)
    codes = fresh_codes(len(keys), length)
    owners = [wanted[k] for k in keys]
    if _postgres(session):
        statement = text(
            "INSERT INTO coupon_codes "
            "(campaign_id, code, customer_id, issue_key, redeemed_count, created_at) "
            "SELECT :campaign, c, o, k, 0, :now FROM unnest(:codes, :owners, :keys) AS t(c, o, k) "
            "ON CONFLICT DO NOTHING"
        ).bindparams(
            bindparam("codes", type_=ARRAY(String)),
            bindparam("owners", type_=ARRAY(BigInteger)),
            bindparam("keys", type_=ARRAY(String)),
        )
        params = {"codes": codes, "owners": owners, "keys": keys}
    else:
        statement = text(
            "INSERT INTO coupon_codes "
            "(campaign_id, code, customer_id, issue_key, redeemed_count, created_at) "
            "SELECT :campaign, json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
            "json_extract(value, '$[2]'), 0, :now FROM json_each(:rows) WHERE true "
            "ON CONFLICT DO NOTHING"
        )
        params = {"rows": json.dumps([list(r) for r in zip(codes, owners, keys, strict=True)])}
    statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
    session.execute(statement, {"campaign": campaign_id, "now": now, **params})


def issue(
    session: Session, *, campaign_id: int, wanted: dict[str, int], length: int, now: datetime
) -> dict[str, str]:
    """The personal code of each issue key (key -> customer id), made when first asked."""
    found: dict[str, str] = {}
    for _ in range(MAX_ROUNDS):
        rows = session.execute(
            select(CouponCode.issue_key, CouponCode.code, CouponCode.campaign_id).where(
                CouponCode.issue_key.in_(sorted(wanted))
            )
        )
        for key, code, owner_campaign in rows:
            if owner_campaign != campaign_id:
                raise Conflict(f"issue key {key!r} was used for another campaign")
            found[key] = code
        missing = {k: v for k, v in wanted.items() if k not in found}
        if not missing:
            return found
        _insert_personal(session, campaign_id, missing, length, now)
    raise Conflict("personal codes could not be issued: the code space is crowded")


def count_codes(session: Session, campaign_id: int) -> int:
    """How many codes a campaign has."""
    return session.scalar(
        select(func.count()).select_from(CouponCode).where(CouponCode.campaign_id == campaign_id)
    )
