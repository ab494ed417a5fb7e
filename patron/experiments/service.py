"""Experiments: create, start (assign, record exposures, queue each arm), decide, report.

A broadcast experiment hashes its audience once: the holdout gets nothing, the test share is
split over the arms (each its template, send delay and offer), and after `decide_after_hours`
the durable `experiments.decide` job judges the arms and sends the winner (or the control,
saying there was no clear winner) to the rest. Every message of an experiment has the same
outbox key (source "experiment", its id, the customer, the channel), so no customer gets two
of its variants. A journey experiment judges the branches of a split step; its exposures are
read from the journey's step runs (`exposures`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from patron.errors import InvalidInput, NotFound
from patron.experiments import analysis, config, exposures, holdout, metrics, rules
from patron.experiments.exposures import arms_of
from patron.experiments.tables import Experiment, Exposure
from patron.jobs import service as jobs
from patron.journeys import read as journeys_read
from patron.messages import audience, enqueue, sender
from patron.messages import service as messages
from patron.segments.read import Segment

SOURCE = "experiment"
DECIDE_JOB = "experiments.decide"


def _bounded(name: str, value: int, low: int, high: int) -> int:
    """An integer field within bounds, or InvalidInput naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name}: a whole number from {low} to {high} is required")
    return value


def _check_broadcast(session: Session, arms: list[rules.Arm], segment_ids: list[int]) -> None:
    """Segments and templates exist."""
    if not segment_ids:
        raise InvalidInput("a broadcast experiment needs at least one segment")
    found = set(session.scalars(select(Segment.id).where(Segment.id.in_(segment_ids))))
    missing = sorted(set(segment_ids) - found)
    if missing:
        raise InvalidInput(f"segments: no segment with id {', '.join(map(str, missing))}")
    for arm in arms:
        messages.get_template(session=session, template_id=arm.template_id)


def _journey_arms(session: Session, raw: list[dict], journey_id, step_id, holdout_branch):
    """Journey arms with their percentages taken from the split step."""
    if journey_id is None or not step_id:
        raise InvalidInput("a journey experiment needs journey_id and step_id (a split step)")
    step = journeys_read.split_step(session, journey_id=journey_id, step_id=step_id)
    if step is None:
        raise InvalidInput(f"journey {journey_id} has no split step {step_id!r}")
    percents = [b["percent"] for b in step["branches"]]
    filled = [dict(item, percent=item.get("percent") or 1) for item in raw]
    arms = rules.parse_arms(filled, kind="journey", check_sum=False)
    branches = [a.branch for a in arms] + ([holdout_branch] if holdout_branch is not None else [])
    if len(set(branches)) != len(branches) or any(b >= len(percents) for b in branches):
        raise InvalidInput(f"branches: distinct indices below {len(percents)} are required")
    held = percents[holdout_branch] if holdout_branch is not None else 0
    return [rules.Arm(**{**a.as_dict(), "percent": percents[a.branch]}) for a in arms], held


def create(
    session: Session,
    *,
    name: str,
    kind: str,
    arms: list[dict],
    now: datetime,
    metric: str = "revenue",
    holdout_percent: int = 0,
    test_percent: int = 100,
    decide_after_hours: int = 24,
    window_days: int = 7,
    segment_ids: list[int] = (),
    exclude_segment_ids: list[int] = (),
    journey_id: int | None = None,
    step_id: str | None = None,
    holdout_branch: int | None = None,
    salt: str | None = None,
) -> Experiment:
    """A draft experiment, every field checked; a fresh random salt unless one is given."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("an experiment needs a name")
    if kind not in rules.KINDS:
        raise InvalidInput(f"kind: one of {', '.join(rules.KINDS)}")
    if metric not in rules.METRICS:
        raise InvalidInput(f"metric: one of {', '.join(rules.METRICS)}")
    try:
        if kind == "journey":
            parsed, holdout_percent = _journey_arms(
                session, list(arms), journey_id, step_id, holdout_branch
            )
        else:
            parsed = rules.parse_arms(list(arms), kind=kind)
    except rules.ArmError as exc:
        raise InvalidInput(str(exc))
    if len(parsed) == 1 and not (holdout_percent or holdout_branch is not None):
        raise InvalidInput("arms: one arm needs a holdout to be compared with")
    if kind == "broadcast":
        _check_broadcast(session, parsed, sorted({int(i) for i in segment_ids}))
    row = Experiment(
        name=name[:255],
        kind=kind,
        state="draft",
        salt=(salt or secrets.token_hex(8))[:64],
        metric=metric,
        arms=[a.as_dict() for a in parsed],
        holdout_percent=_bounded(
            "holdout_percent", holdout_percent, 0, 50 if kind == "broadcast" else 90
        ),
        test_percent=_bounded("test_percent", test_percent, 1, 100),
        decide_after_hours=_bounded("decide_after_hours", decide_after_hours, 1, 24 * 30),
        window_days=_bounded("window_days", window_days, 1, 90),
        segment_ids=sorted({int(i) for i in segment_ids}),
        exclude_segment_ids=sorted({int(i) for i in exclude_segment_ids}),
        journey_id=journey_id if kind == "journey" else None,
        step_id=step_id if kind == "journey" else None,
        holdout_branch=holdout_branch if kind == "journey" else None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, experiment_id: int) -> Experiment:
    """One experiment, or NotFound."""
    row = session.get(Experiment, experiment_id)
    if row is None:
        raise NotFound(f"no experiment with id {experiment_id}")
    return row


def list_experiments(session: Session, *, limit: int = 100) -> list[Experiment]:
    """Experiments, newest first."""
    return list(session.scalars(select(Experiment).order_by(Experiment.id.desc()).limit(limit)))


def _audience_codes(session: Session, row: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """The audience now (minus the global holdout) and each customer's group code."""
    members = audience.members(row.segment_ids, row.exclude_segment_ids)
    ids = np.asarray(session.scalars(members).all(), dtype=np.int64)
    ids = ids[~holdout.members(ids)]
    codes = rules.assign(
        rules.units(row.salt, ids),
        holdout=row.holdout_percent / 100,
        test=row.test_percent / 100,
        percents=[a.percent for a in arms_of(row)],
    )
    return ids, codes


def _queue_arm(session: Session, row: Experiment, arm: rules.Arm, phase: str, now) -> int:
    """Queue the arm's message to its exposed customers of a phase (one INSERT ... SELECT)."""
    template = messages.get_template(session=session, template_id=arm.template_id)
    audience_of = select(Exposure.customer_id).where(
        Exposure.experiment_id == row.id, Exposure.arm == arm.key, Exposure.phase == phase
    )
    return enqueue.enqueue_many(
        session,
        audience_of,
        template_id=template.id,
        source=SOURCE,
        source_id=row.id,
        now=now,
        kind=template.kind,
        channel=template.channel,
        send_after=now + timedelta(minutes=arm.send_delay_minutes),
        data=arm.offer,
    )


def _move(session: Session, row: Experiment, source: str, **values) -> bool:
    """Conditional state change: True when this call made it."""
    won = session.execute(
        update(Experiment)
        .where(Experiment.id == row.id, Experiment.state == source)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(row)
    return bool(won)


def start(session: Session, *, experiment_id: int, now: datetime) -> Experiment:
    """Begin: assign, record exposures, queue every arm; the decision job waits N hours."""
    row = get(session, experiment_id=experiment_id)
    if not _move(session, row, "draft", state="testing", started_at=now):
        raise InvalidInput(f"a {row.state} experiment cannot start")
    if row.kind == "broadcast":
        ids, codes = _audience_codes(session, row)
        keys = np.array([*rules.arm_keys(arms_of(row)), rules.HOLDOUT_KEY])
        test = codes != rules.ROLLOUT
        arm_keys = keys[np.where(codes[test] == rules.HOLDOUT, len(keys) - 1, codes[test])]
        phases = np.where(codes[test] == rules.HOLDOUT, "holdout", "test")
        exposures.expose(session, row, ids[test], arm_keys, phases, now)
        for arm in arms_of(row):
            _queue_arm(session, row, arm, "test", now)
        sender.wake(session, lane="bulk", now=now)
    jobs.enqueue(
        session=session,
        kind=DECIDE_JOB,
        payload={"experiment_id": row.id},
        run_at=now + timedelta(hours=row.decide_after_hours),
        now=now,
        dedupe_key=f"{DECIDE_JOB}:{row.id}",
    )
    return row


def _shares(row: Experiment) -> list[float]:
    """Planned shares of the arms and the holdout among recorded test recipients."""
    arms = arms_of(row)
    if row.kind == "journey":  # the split's own percentages (holdout: its branch's)
        return [a.percent / 100 for a in arms] + [row.holdout_percent / 100]
    h, t = row.holdout_percent / 100, row.test_percent / 100
    return [(1 - h) * t * a.percent / 100 for a in arms] + [h]


def _source(session: Session, row: Experiment) -> tuple[str, list[int]]:
    """The outbox source and ids of the experiment's messages."""
    if row.kind == "journey":
        return "journey", journeys_read.version_ids(session, journey_id=row.journey_id)
    return SOURCE, [row.id]


def horizon(row: Experiment) -> datetime | None:
    """When the fixed horizon ends: no verdict before it."""
    if row.started_at is None:
        return None
    return row.started_at + timedelta(hours=row.decide_after_hours)


def report(session: Session, *, experiment_id: int, now: datetime) -> dict:
    """Arms, metrics, comparisons, SRM, incrementality and the verdict of one experiment."""
    row = get(session, experiment_id=experiment_id)
    if row.kind == "journey" and row.started_at is not None:
        exposures.sync_journey(session, row)
    arms = arms_of(row)
    source, source_ids = _source(session, row)
    data = metrics.recipients(
        session,
        experiment_id=row.id,
        keys=rules.arm_keys(arms),
        source=source,
        source_ids=source_ids,
    )
    end = horizon(row)
    final = row.state == "decided" or (end is not None and now >= end)
    result = analysis.analyse(
        data,
        keys=rules.arm_keys(arms),
        shares=_shares(row),
        opts=config.options(row.metric),
        final=final,
    )
    return {"experiment": summary(row), "horizon": end, "final": final, **result}


def summary(row: Experiment) -> dict:
    """The experiment's fields as shown."""
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "state": row.state,
        "metric": row.metric,
        "arms": row.arms,
        "holdout_percent": row.holdout_percent,
        "test_percent": row.test_percent,
        "decide_after_hours": row.decide_after_hours,
        "window_days": row.window_days,
        "segment_ids": row.segment_ids,
        "journey_id": row.journey_id,
        "step_id": row.step_id,
        "holdout_branch": row.holdout_branch,
        "winner": row.winner,
        "decision": row.decision,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "decided_at": row.decided_at,
    }


def decide(session: Session, *, experiment_id: int, now: datetime) -> Experiment:
    """At the horizon: judge the arms; a broadcast sends the winner, or the control, to the rest."""
    row = get(session, experiment_id=experiment_id)
    if row.state != "testing":
        return row
    result = report(session, experiment_id=row.id, now=max(now, horizon(row)))
    verdict = result["verdict"]
    winner = verdict["winner"] or rules.arm_keys(arms_of(row))[0]
    sentence = verdict["text"]
    if not verdict["significant"] and row.kind == "broadcast":
        sentence = f"no clear winner, so the control {winner} is sent ({sentence})"
    elif not verdict["significant"]:
        sentence = f"no clear winner: keep the control branch {winner} ({sentence})"
    if not _move(session, row, "testing", state="decided", winner=winner, decided_at=now):
        return row
    rest = 0
    if row.kind == "broadcast" and row.test_percent < 100:
        ids, codes = _audience_codes(session, row)
        pool = ids[codes == rules.ROLLOUT]
        exposures.expose(session, row, pool, np.full(len(pool), winner), "rollout", now)
        arm = next(a for a in arms_of(row) if a.key == winner)
        rest = _queue_arm(session, row, arm, "rollout", now)
        sender.wake(session, lane="bulk", now=now)
        sentence += f"; {winner} sent to the remaining {rest:,} recipients"
    row.decision = sentence
    return row


def decide_job(*, session: Session, now: datetime, payload: dict) -> str:
    """The `experiments.decide` job: decide one experiment at its horizon."""
    row = decide(session, experiment_id=int(payload["experiment_id"]), now=now)
    return row.decision or row.state


def stop(session: Session, *, experiment_id: int, now: datetime) -> Experiment:
    """Stop a draft or testing experiment without a decision (its queued messages stay)."""
    row = get(session, experiment_id=experiment_id)
    for state in ("draft", "testing"):
        if _move(session, row, state, state="stopped", decided_at=now):
            return row
    raise InvalidInput(f"a {row.state} experiment cannot be stopped")


def global_report(session: Session, *, now: datetime, days: int = 30) -> dict:
    """What the whole programme adds: everyone else against the global holdout, last N days."""
    ids, revenue, pre, orders = metrics.everyone(session, now=now, days=days)
    held = holdout.members(ids)
    zero = np.zeros(len(ids))
    data = analysis.Recipients(
        np.where(held, rules.HOLDOUT, 0), revenue, pre, orders, zero, zero, zero
    )
    share = config.holdout_share()
    opts = config.options("revenue")
    result = analysis.analyse(
        data,
        keys=["messaged"],
        shares=[1 - share, share],
        opts=analysis.Options(cap_percentile=opts.cap_percentile, bootstrap=False),
    )
    return {
        "share": share,
        "days": days,
        "customers": len(ids),
        "arms": result["arms"],
        "srm": result["srm"],
        "incrementality": result["incrementality"],
    }
