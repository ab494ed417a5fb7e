"""REST API of experiments under /api/experiments: `read` scope to read, `write` to change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ, SESSION, WRITE
from patron.experiments import service

router = APIRouter(prefix="/api/experiments", tags=["experiments"])


class ArmIn(BaseModel):
    """One arm: key, share, and what it varies (template, send delay, offer; or a branch)."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=32)
    percent: int | None = Field(default=None, ge=1, le=100)
    template_id: int | None = Field(default=None, ge=1)
    send_delay_minutes: int = Field(default=0, ge=0, le=10080)
    offer: dict[str, Any] | None = None
    branch: int | None = Field(default=None, ge=0, le=9)


class ExperimentIn(BaseModel):
    """A new experiment on a broadcast (segments, arms of templates) or a journey split."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    kind: Literal["broadcast", "journey"]
    arms: list[ArmIn] = Field(min_length=1, max_length=6)
    metric: Literal["revenue", "clicks"] = "revenue"
    holdout_percent: int = Field(default=0, ge=0, le=50)
    test_percent: int = Field(default=100, ge=1, le=100)
    decide_after_hours: int = Field(default=24, ge=1, le=720)
    window_days: int = Field(default=7, ge=1, le=90)
    segment_ids: list[int] = Field(default_factory=list, max_length=50)
    exclude_segment_ids: list[int] = Field(default_factory=list, max_length=50)
    journey_id: int | None = None
    step_id: str | None = Field(default=None, max_length=64)
    holdout_branch: int | None = Field(default=None, ge=0, le=9)


class ExperimentOut(BaseModel):
    """An experiment's fields."""

    id: int
    name: str
    kind: str
    state: str
    metric: str
    arms: list[dict]
    holdout_percent: int
    test_percent: int
    decide_after_hours: int
    window_days: int
    segment_ids: list[int]
    journey_id: int | None
    step_id: str | None
    holdout_branch: int | None
    winner: str | None
    decision: str | None
    created_at: datetime
    started_at: datetime | None
    decided_at: datetime | None


def _out(row) -> ExperimentOut:
    """The response body of an experiment."""
    return ExperimentOut(**service.summary(row))


@router.get("", response_model=list[ExperimentOut], summary="List", dependencies=READ)
def list_experiments(session: Session = SESSION, limit: int = Query(100, ge=1, le=500)):
    """Experiments, newest first."""
    return [_out(r) for r in service.list_experiments(session, limit=limit)]


@router.post(
    "", response_model=ExperimentOut, status_code=201, summary="Create", dependencies=WRITE
)
def create_experiment(body: ExperimentIn, session: Session = SESSION):
    """Creates a draft experiment; 422 with the reason when it cannot run."""
    data = body.model_dump()
    data["arms"] = [a.model_dump() for a in body.arms]
    return _out(service.create(session, now=utcnow(), **data))


@router.get("/holdout", summary="Global holdout report", dependencies=READ)
def global_holdout(session: Session = SESSION, days: int = Query(30, ge=1, le=365)):
    """What the whole programme adds: everyone else against the global holdout."""
    return jsonable_encoder(service.global_report(session, now=utcnow(), days=days))


@router.get("/{experiment_id}", response_model=ExperimentOut, summary="Get", dependencies=READ)
def get_experiment(experiment_id: int, session: Session = SESSION):
    """One experiment."""
    return _out(service.get(session, experiment_id=experiment_id))


@router.get("/{experiment_id}/report", summary="Report", dependencies=READ)
def report(experiment_id: int, session: Session = SESSION):
    """Arms, metrics, intervals, the sample-ratio check, incrementality and the verdict."""
    return jsonable_encoder(service.report(session, experiment_id=experiment_id, now=utcnow()))


@router.post(
    "/{experiment_id}/start", response_model=ExperimentOut, summary="Start", dependencies=WRITE
)
def start(experiment_id: int, session: Session = SESSION):
    """Assigns the audience, records exposures and queues every arm."""
    return _out(service.start(session, experiment_id=experiment_id, now=utcnow()))


@router.post(
    "/{experiment_id}/stop", response_model=ExperimentOut, summary="Stop", dependencies=WRITE
)
def stop(experiment_id: int, session: Session = SESSION):
    """Stops without a decision."""
    return _out(service.stop(session, experiment_id=experiment_id, now=utcnow()))
