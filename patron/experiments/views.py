"""Dashboard pages of experiments: the list with the global holdout, and one experiment."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import NotFound
from patron.experiments import chart, service
from patron.web.render import render
from patron.web.session import current_user

router = APIRouter(include_in_schema=False)


@router.get("/experiments")
def experiment_list(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Experiments, newest first, and what the whole programme adds."""
    now = utcnow()
    return render(
        request,
        "experiments/list.html",
        {
            "experiments": service.list_experiments(session),
            "programme": service.global_report(session, now=now),
        },
    )


def _chart_rows(result: dict) -> list[dict]:
    """Each arm's lift on the primary metric against the control."""
    primary = "clicked" if result["experiment"]["metric"] == "clicks" else "revenue"
    return [
        {
            "key": c["key"],
            "rel": c[primary]["rel"],
            "low": c[primary]["rel_low"],
            "high": c[primary]["rel_high"],
        }
        for c in result["comparisons"]
    ]


@router.get("/experiments/{experiment_id}")
def experiment_show(
    request: Request, experiment_id: int, _user=Depends(current_user), session: Session = SESSION
):
    """Arms, metrics, the interval chart, the mismatch warning and the verdict."""
    try:
        result = service.report(session, experiment_id=experiment_id, now=utcnow())
    except NotFound as exc:
        return render(
            request,
            "web/not_found.html",
            {"message": exc.message, "back_href": "/experiments", "back_label": "Experiments"},
            status_code=404,
        )
    return render(
        request,
        "experiments/show.html",
        {"r": result, "chart": chart.geometry(_chart_rows(result))},
    )
