"""Segments service: saving, cycles, memberships, incremental updates, built-ins, export."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from patron.customers import service as customers
from patron.customers.read import Customer, Event, Order
from patron.db import transaction
from patron.errors import Conflict, InvalidInput, NotFound
from patron.segments import exports, memberships, service
from patron.segments.audience import Audience
from patron.segments.builtins import BUILTINS
from patron.segments.tables import Segment, SegmentChange, SegmentMembership
from tests import factories

NOW = factories.T0
REPEAT = {
    "type": "and",
    "children": [{"type": "purchase", "field": "order_count", "op": "gte", "value": 2}],
}
VIEWERS = {
    "type": "and",
    "children": [
        {"type": "event", "name": "viewed", "op": "at_least", "count": 2, "within_days": 30}
    ],
}
SHOES = {
    "type": "or",
    "children": [
        {"type": "bought", "by": "category", "value": "shoes"},
        {"type": "not", "children": [{"type": "coupon", "within_days": 60}]},
    ],
}
GOLD = {
    "type": "and",
    "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}],
}


def _members(session, segment_id: int) -> set[int]:
    """Stored member ids of a segment."""
    return set(
        session.scalars(
            select(SegmentMembership.customer_id).where(SegmentMembership.segment_id == segment_id)
        )
    )


def _live(session, segment_id: int) -> set[int]:
    """Ids matching a segment's rules now (a full recompute, not stored)."""
    from patron.segments.compile import compile_tree
    from patron.segments.rules import parse_tree

    row = service.get_segment(session=session, segment_id=segment_id)
    return set(
        session.scalars(
            compile_tree(
                parse_tree(row.rules), now=NOW, resolve=service._resolver(session)
            ).members()
        )
    )


def _event(session, customer_id: int, name: str, number: int, days: float = 0) -> None:
    """Record an event through the customers service (fires the activity hook)."""
    customers.record_event(
        session=session,
        message_id=f"m{number}",
        type_="track",
        name=name,
        customer_id=customer_id,
        anonymous_id=None,
        properties={},
        context={},
        occurred_at=factories.at(days),
        received_at=NOW,
    )


def test_create_materialises_and_records_entries(db):
    with transaction(db.sessions) as s:
        a = factories.customer(s, "a")
        factories.customer(s, "b")
        factories.order(s, "o1", "a")
        factories.order(s, "o2", "a", days=-1)
        seg = service.create_segment(session=s, name=" Repeat ", rules_json=REPEAT, now=NOW)
    with transaction(db.sessions) as s:
        row = service.get_segment(session=s, segment_id=seg.id)
        assert (row.name, row.member_count, row.refreshed_at) == ("Repeat", 1, NOW)
        assert _members(s, seg.id) == {a.id}
        assert [c["change"] for c in service.changes(session=s, segment_id=seg.id)] == ["entered"]
        assert service.count(session=s, rules_json=REPEAT, now=NOW) == 1


def test_orders_and_events_update_memberships_at_once(db):
    with transaction(db.sessions) as s:
        a = factories.customer(s, "a")
        repeat = service.create_segment(session=s, name="Repeat", rules_json=REPEAT, now=NOW)
        viewers = service.create_segment(session=s, name="Viewers", rules_json=VIEWERS, now=NOW)
        factories.order(s, "o1", "a")
        assert _members(s, repeat.id) == set()
        factories.order(s, "o2", "a")
        _event(s, a.id, "viewed", 1)
        _event(s, a.id, "viewed", 2)
        assert _members(s, repeat.id) == {a.id}
        assert _members(s, viewers.id) == {a.id}
        customers.cancel_order(session=s, external_id="o2", now=NOW)
        assert _members(s, repeat.id) == set()
        assert service.get_segment(session=s, segment_id=repeat.id).member_count == 0
        changes = [c["change"] for c in service.changes(session=s, segment_id=repeat.id)]
        assert changes == ["entered", "exited"]


def test_set_based_update_of_many_customers_counts_event_segments(db, monkeypatch):
    # Past FEW customers the restricted update runs INSERT … SELECT over the event CTE; the
    # member count comes from those statements' row counts.
    monkeypatch.setattr(memberships, "FEW", 1)
    with transaction(db.sessions) as s:
        people = [factories.customer(s, f"c{i}").id for i in range(4)]
        viewers = service.create_segment(session=s, name="Viewers", rules_json=VIEWERS, now=NOW)
        for n, cid in enumerate(people[:3] * 2):
            _event(s, cid, "viewed", n, days=-1 if cid != people[2] else -40)
        assert _members(s, viewers.id) == set(people[:2]) == _live(s, viewers.id)
        assert service.get_segment(session=s, segment_id=viewers.id).member_count == 2
        s.execute(delete(Event).where(Event.customer_id == people[0]))
        assert service.update_for_customers(session=s, customer_ids=people, now=NOW) == 1
        assert _members(s, viewers.id) == {people[1]}
        assert service.get_segment(session=s, segment_id=viewers.id).member_count == 1


def test_cycles_are_refused_with_the_path_and_names(db):
    with transaction(db.sessions) as s:
        a = service.create_segment(session=s, name="A", rules_json=REPEAT, now=NOW)
        b = service.create_segment(
            session=s,
            name="B",
            now=NOW,
            rules_json={
                "type": "and",
                "children": [{"type": "coupon"}, {"type": "segment", "segment_id": a.id}],
            },
        )
        with pytest.raises(InvalidInput) as caught:
            service.update_segment(
                session=s,
                segment_id=a.id,
                now=NOW,
                rules_json={"type": "or", "children": [{"type": "segment", "segment_id": b.id}]},
            )
        assert caught.value.details[0]["path"] == "rules.children[0].segment_id"
        assert "A → B → A" in caught.value.message
        with pytest.raises(InvalidInput, match="cycle"):
            service.update_segment(
                session=s,
                segment_id=a.id,
                now=NOW,
                rules_json={"type": "or", "children": [{"type": "segment", "segment_id": a.id}]},
            )
        with pytest.raises(InvalidInput, match="does not exist"):
            service.count(
                session=s,
                now=NOW,
                rules_json={"type": "or", "children": [{"type": "segment", "segment_id": 999}]},
            )
        with pytest.raises(Conflict, match="used by: B"):
            service.delete_segment(session=s, segment_id=a.id)
        service.delete_segment(session=s, segment_id=b.id)
        service.delete_segment(session=s, segment_id=a.id)
        with pytest.raises(NotFound):
            service.get_segment(session=s, segment_id=a.id)


def test_names_are_unique(db):
    with transaction(db.sessions) as s:
        service.create_segment(session=s, name="Same", rules_json=REPEAT, now=NOW)
        with pytest.raises(Conflict):
            service.create_segment(session=s, name="Same", rules_json=GOLD, now=NOW)
        with pytest.raises(InvalidInput):
            service.create_segment(session=s, name="  ", rules_json=GOLD, now=NOW)


def test_builtins_are_created_once_and_not_deletable(db):
    with transaction(db.sessions) as s:
        service.create_segment(session=s, name="Loyal customers", rules_json=GOLD, now=NOW)
        created = service.ensure_builtin_segments(session=s, now=NOW)
        assert len(created) == len(BUILTINS)
        assert "Loyal customers (built-in)" in created
        assert service.ensure_builtin_segments(session=s, now=NOW) == []
        loyal = s.scalar(select(Segment).where(Segment.builtin_key == "loyal"))
        with pytest.raises(Conflict, match="built in"):
            service.delete_segment(session=s, segment_id=loyal.id)
        service.update_segment(session=s, segment_id=loyal.id, now=NOW, rules_json=GOLD)


def test_builtins_follow_scores_and_birthdays(db):
    from patron.analytics.read import CustomerScore

    with transaction(db.sessions) as s:
        a = factories.customer(s, "a", birthday="1990-01-20")
        b = factories.customer(s, "b", birthday="1990-02-01")
        s.add_all(
            [
                CustomerScore(
                    customer_id=a.id, computed_at=NOW, lifecycle_stage="loyal", clv_percentile=95.0
                ),
                CustomerScore(
                    customer_id=b.id,
                    computed_at=NOW,
                    lifecycle_stage="at_risk",
                    clv_percentile=89.0,
                ),
            ]
        )
        s.flush()
        report = {r["name"]: r["members"] for r in service.recompute_all(session=s, now=NOW)}
        assert report["Loyal customers"] == 1
        assert report["At-risk customers"] == 1
        assert report["High-value customers"] == 1
        assert report["Birthdays this month"] == 1  # NOW is in January


def test_preview_explains_and_export_writes_csv(db):
    with transaction(db.sessions) as s:
        a = factories.customer(
            s, "a", email="=cmd@example.com", first_name="Ann", attributes={"plan": "gold"}
        )
        factories.customer(s, "b", attributes={"plan": "free"})
        factories.order(
            s, "o1", "a", lines=[{"sku": "S", "category": "shoes"}], coupon_code="SAVE10"
        )
        preview = service.preview(session=s, rules_json=SHOES, now=NOW)
        reasons = {c["external_id"]: c["reasons"] for c in preview["customers"]}
        assert preview["count"] == 2
        assert reasons["a"] == ["bought product category shoes"]
        assert reasons["b"] == ["none of (used coupon (any) in the last 60 days)"]
        seg = service.create_segment(session=s, name="Gold", rules_json=GOLD, now=NOW)
        everyone = Audience("email", "all")
        text = "".join(exports.export_csv(session=s, segment_id=seg.id, audience=everyone, batch=1))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["customer_id", "external_id", "email"]
    assert rows[1][:5] == [str(a.id), "a", "'=cmd@example.com", "", "Ann"]
    assert len(rows) == 2


def test_full_refresh_is_set_based_and_idempotent(db):
    with transaction(db.sessions) as s:
        ids = [
            factories.customer(s, f"c{i}", attributes={"plan": "gold" if i % 3 else "x"}).id
            for i in range(30)
        ]
        seg = service.create_segment(session=s, name="Gold", rules_json=GOLD, now=NOW)
        assert service.get_segment(session=s, segment_id=seg.id).member_count == 20
        again = service.refresh_segment(session=s, segment_id=seg.id, now=NOW)
        assert (again["entered"], again["exited"], again["members"]) == (0, 0, 20)
        s.execute(delete(Customer).where(Customer.id == ids[1]))
        assert service.update_for_customers(session=s, customer_ids=[ids[1]], now=NOW) == 1
        assert ids[1] not in _members(s, seg.id)
        customers.update_customer(
            session=s, customer_id=ids[0], profile={"attributes": {"plan": "gold"}}, now=NOW
        )
        customers.update_customer(
            session=s, customer_id=ids[2], profile={"attributes": {"plan": "free"}}, now=NOW
        )
        result = service.refresh_segment(session=s, segment_id=seg.id, now=NOW)
        assert (result["entered"], result["exited"], result["members"]) == (1, 1, 19)


operations = st.lists(
    st.tuples(
        st.sampled_from(["order", "order", "refund", "cancel", "event", "event"]),
        st.integers(0, 4),
        st.integers(0, 6),
        st.sampled_from([0, -5, -20, -45, -90]),
        st.sampled_from(["shoes", "bags", None]),
        st.sampled_from([None, "SAVE10"]),
    ),
    min_size=1,
    max_size=20,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_incremental_memberships_equal_a_full_recompute(db, ops):
    with transaction(db.sessions) as s:
        for table in (SegmentChange, SegmentMembership, Segment, Event, Order, Customer):
            s.execute(delete(table))
    with transaction(db.sessions) as s:
        people = [
            factories.customer(s, f"c{i}", attributes={"plan": "gold" if i % 2 else "x"})
            for i in range(5)
        ]
        segments = [
            service.create_segment(session=s, name=name, rules_json=tree, now=NOW).id
            for name, tree in (
                ("repeat", REPEAT),
                ("viewers", VIEWERS),
                ("shoes", SHOES),
                ("gold", GOLD),
            )
        ]
        combined = service.create_segment(
            session=s,
            name="combined",
            now=NOW,
            rules_json={
                "type": "and",
                "children": [
                    {"type": "segment", "segment_id": segments[0]},
                    {"type": "segment", "segment_id": segments[3]},
                ],
            },
        )
        segments.append(combined.id)
    with transaction(db.sessions) as s:
        for n, (kind, who, number, day, category, coupon) in enumerate(ops):
            oid = f"o{number}"
            known = s.scalar(select(Order).where(Order.external_id == oid))
            if kind == "order":
                lines = [{"sku": "S", "category": category}] if category else []
                factories.order(s, oid, f"c{who}", days=day, lines=lines, coupon_code=coupon)
            elif kind == "refund" and known is not None and known.refunded_cents < 1000:
                customers.refund_order(session=s, external_id=oid, amount_cents=None, now=NOW)
            elif kind == "cancel" and known is not None:
                customers.cancel_order(session=s, external_id=oid, now=NOW)
            elif kind == "event":
                _event(s, people[who].id, "viewed", n, days=day)
    with transaction(db.sessions) as s:
        for sid in segments:
            assert _members(s, sid) == _live(s, sid), sid
            assert service.get_segment(session=s, segment_id=sid).member_count == len(
                _members(s, sid)
            )
            history: dict[int, list[str]] = {}
            for change in service.changes(session=s, segment_id=sid):
                history.setdefault(change["customer_id"], []).append(change["change"])
            for cid, seen in history.items():
                assert all(a != b for a, b in itertools.pairwise(seen)), seen
                assert (seen[-1] == "entered") == (cid in _members(s, sid))


def test_deleting_a_customer_removes_their_memberships(db):
    with transaction(db.sessions) as s:
        a = factories.customer(s, "a", attributes={"plan": "gold"})
        factories.order(s, "o1", "a")
        factories.order(s, "o2", "a")
        gold = service.create_segment(session=s, name="Gold", rules_json=GOLD, now=NOW)
        repeat = service.create_segment(session=s, name="Repeat", rules_json=REPEAT, now=NOW)
        assert _members(s, gold.id) == _members(s, repeat.id) == {a.id}
    with transaction(db.sessions) as s:
        customers.delete_customer(session=s, customer_id=a.id, now=NOW)
    with transaction(db.sessions) as s:
        assert _members(s, gold.id) == _members(s, repeat.id) == set()
