"""The refresh use case on SQLite and PostgreSQL: scores, stage changes, model fields."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select

from patron.analytics import service
from patron.analytics.refresh import purchase_cycle_days, refresh
from patron.analytics.tables import CustomerScore, LifecycleChange, ScoreRun
from patron.db import transaction
from patron.events.tables import LoggedEvent
from patron.migrate import drift
from patron.schema import metadata
from tests.analytics.shop import Sale, load_shop, simulated_sales
from tests.factories import at, order


def _scores(db) -> dict[int, CustomerScore]:
    """Stored scores by customer id."""
    with transaction(db.sessions) as session:
        return {s.customer_id: s for s in session.scalars(select(CustomerScore))}


def _changes(db) -> list[tuple[int, str | None, str]]:
    """Stored stage changes as (customer, from, to), in insertion order."""
    with transaction(db.sessions) as session:
        rows = session.execute(
            select(
                LifecycleChange.customer_id, LifecycleChange.from_stage, LifecycleChange.to_stage
            ).order_by(LifecycleChange.id)
        )
        return [tuple(r) for r in rows]


def _steady_shop(db) -> dict[str, int]:
    """Twenty repeat buyers every 30 days, a one-time buyer 'solo' and an idle customer."""
    sales = [Sale(f"r{c:02d}", day) for c in range(20) for day in (0, 30, 60, 90, 120)]
    sales.append(Sale("solo", 118))
    with transaction(db.sessions) as session:
        return load_shop(session, sales, idle=("idle",))


def test_refresh_scores_every_customer_and_records_first_stages(db):
    ids = _steady_shop(db)
    report = refresh(sessions=db.sessions, now=at(125))
    scores = _scores(db)
    assert set(scores) == set(ids.values())
    assert report.customers == 22 and report.buyers == 21 and report.repeat_buyers == 20
    assert report.cycle_days == 30.0
    idle = scores[ids["idle"]]
    assert idle.lifecycle_stage is None and idle.recency_score is None and idle.p_alive is None
    assert scores[ids["solo"]].lifecycle_stage == "new"
    assert scores[ids["r00"]].lifecycle_stage == "loyal"
    first = _changes(db)
    assert sorted(c for c, _, _ in first) == sorted(v for k, v in ids.items() if k != "idle")
    assert all(frm is None for _, frm, _ in first)
    assert report.stage_changes == len(first)
    assert not [d for d in drift(db.engine, metadata) if "customer_scores" in str(d)]


def test_second_refresh_records_exactly_the_changed_stages(db):
    ids = _steady_shop(db)
    refresh(sessions=db.sessions, now=at(125))
    with transaction(db.sessions) as session:
        order(session, "extra", "solo", days=124, total=1500)
    before = {cid: s.lifecycle_stage for cid, s in _scores(db).items()}
    recorded = len(_changes(db))
    report = refresh(sessions=db.sessions, now=at(125))
    after = {cid: s.lifecycle_stage for cid, s in _scores(db).items()}
    new_rows = _changes(db)[recorded:]
    changed = {cid for cid in after if after[cid] != before[cid]}
    assert ids["solo"] in changed
    assert {c for c, _, _ in new_rows} == changed
    assert all((frm, to) == (before[c], after[c]) for c, frm, to in new_rows)
    assert report.stage_changes == len(new_rows)
    third = refresh(sessions=db.sessions, now=at(125))
    assert third.stage_changes == 0 and len(_changes(db)) == recorded + len(new_rows)


def test_refresh_fits_models_and_stores_consistent_predictions(db):
    with transaction(db.sessions) as session:
        load_shop(session, simulated_sales(250))
    report = refresh(sessions=db.sessions, now=at(366))
    with transaction(db.sessions) as session:
        run = service.latest_run(session=session)
    assert report.model == "mbgnbd" and report.fit_note is None, report.fit_note
    assert set(report.fit["params"]) == {"r", "alpha", "a", "b"}
    assert report.fit["log_likelihood"] < 0
    assert set(report.fit["spend"]["params"]) == {"p", "q", "gamma"}
    assert run.model == "mbgnbd" and run.customers == report.customers
    rows = list(_scores(db).values())
    p_alive = np.array([s.p_alive for s in rows])
    assert ((p_alive > 0) & (p_alive <= 1)).all()
    assert np.allclose([s.churn_risk for s in rows], 1 - p_alive)
    assert all(s.expected_purchases_90d >= 0 and s.expected_spend_cents > 0 for s in rows)
    by_value = sorted(rows, key=lambda s: s.predicted_clv_cents)
    assert [s.clv_percentile for s in by_value] == sorted(s.clv_percentile for s in rows)
    assert by_value[-1].clv_percentile == 100.0


def test_refresh_without_enough_repeat_buyers_still_writes_rfm_and_stages(db):
    with transaction(db.sessions) as session:
        ids = load_shop(session, [Sale("a", 0), Sale("a", 10), Sale("b", 5), Sale("c", 7)])
    report = refresh(sessions=db.sessions, now=at(20))
    assert report.model is None and "repeat buyer" in report.fit_note
    scores = _scores(db)
    assert all(scores[i].recency_score in range(1, 6) for i in ids.values())
    assert all(scores[i].lifecycle_stage for i in ids.values())
    assert all(
        scores[i].p_alive is None and scores[i].predicted_clv_cents is None for i in ids.values()
    )


def test_refresh_on_an_empty_database(db):
    report = refresh(sessions=db.sessions, now=at(0))
    assert (report.customers, report.stage_changes, report.model) == (0, 0, None)


def test_cancelled_orders_do_not_make_a_buyer(db):
    with transaction(db.sessions) as session:
        ids = load_shop(
            session,
            [
                Sale("x", 1, status="cancelled"),
                Sale("y", 1, cents=500),
                Sale("z", 2, cents=800, status="refunded", refunded=800),
            ],
        )
    refresh(sessions=db.sessions, now=at(3))
    scores = _scores(db)
    assert scores[ids["x"]].lifecycle_stage is None and scores[ids["z"]].lifecycle_stage is None
    assert scores[ids["y"]].lifecycle_stage == "new"


def test_refresh_job_runs_in_given_session_or_own_transaction(db):
    _steady_shop(db)
    result = service.refresh_job(sessions=db.sessions, now=at(125), payload={})
    assert result["customers"] == 22 and result["computed_at"].startswith("2025-05-06")
    with transaction(db.sessions) as session:
        again = service.refresh_job(session=session, now=at(126), payload={"model": "mbgnbd"})
        runs = session.scalar(select(func.count()).select_from(ScoreRun))
    assert again["model"] in ("mbgnbd", None) and runs == 2


def test_refresh_announces_itself_and_each_stage_change_in_the_event_log(db):
    _steady_shop(db)
    report = refresh(sessions=db.sessions, now=at(125))
    with transaction(db.sessions) as s:
        logged = s.execute(select(LoggedEvent.type, LoggedEvent.customer_id, LoggedEvent.data))
        by_type: dict[str, list] = {}
        for type_name, customer_id, data in logged:
            by_type.setdefault(type_name, []).append((customer_id, data))
    [(nobody, announced)] = by_type["scores.refreshed"]
    assert nobody is None and announced["customers"] == report.customers
    assert report.segments == "announced"
    changes = by_type.get("lifecycle.changed", [])
    assert len(changes) == report.stage_changes > 0
    assert all(data["to_stage"] and data["from_stage"] is None for _c, data in changes)


def test_purchase_cycle_is_median_mean_gap_of_repeat_buyers():
    first = np.array([0.0, 0.0, 0.0, 5.0])
    last = np.array([10.0, 40.0, 0.0, 65.0])
    days = np.array([3, 3, 1, 2])
    assert purchase_cycle_days(first, last, days) == 20.0
    assert purchase_cycle_days(first[2:3], last[2:3], days[2:3]) == 30.0
