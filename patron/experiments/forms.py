"""The dashboard's experiment form: typed fields to the API's ExperimentIn, and the sample hint."""

from __future__ import annotations

import json
import math

from pydantic import ValidationError

from patron.errors import InvalidInput
from patron.experiments import inference
from patron.experiments.api import ExperimentIn

ARM_FIELDS = ("key", "percent", "template_id", "send_delay_minutes", "offer", "branch")
NUMBERS = ("holdout_percent", "test_percent", "decide_after_hours", "window_days")


def blank() -> dict:
    """The form of a new experiment: two arms of equal weight."""
    return {
        "name": "",
        "kind": "broadcast",
        "metric": "revenue",
        "holdout_percent": "10",
        "test_percent": "100",
        "decide_after_hours": "24",
        "window_days": "7",
        "segment_ids": [],
        "exclude_segment_ids": [],
        "journey_id": "",
        "step_id": "",
        "holdout_branch": "",
        "baseline": "",
        "sd": "",
        "mde": "5",
        "arms": [arm_row("A", "50"), arm_row("B", "50")],
    }


def arm_row(key: str = "", percent: str = "") -> dict:
    """One arm row as typed."""
    return {"key": key, "percent": percent, "template_id": "", "send_delay_minutes": "0",
            "offer": "", "branch": ""}  # fmt: skip


def typed(form) -> dict:
    """The submitted form as typed (strings), arms as rows, blank rows dropped."""
    out = {k: str(form.get(k) or "") for k in blank() if k not in ("arms", "segment_ids")}
    out["segment_ids"] = [str(v) for v in form.getlist("segment_ids")]
    out["exclude_segment_ids"] = [str(v) for v in form.getlist("exclude_segment_ids")]
    columns = [form.getlist(f"arm_{f}") for f in ARM_FIELDS]
    rows = [
        dict(zip(ARM_FIELDS, (str(v) for v in values), strict=True))
        for values in zip(*columns, strict=False)
    ]
    out["arms"] = [r for r in rows if any(r[f].strip() for f in ("key", "percent", "template_id"))]
    return out


def _int(value: str, name: str) -> int | None:
    """A whole number typed in a field (blank: None)."""
    if not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidInput(f"{name}: a whole number is required, not {value!r}") from None


def _offer(value: str, key: str) -> dict | None:
    """An arm's offer: template variables as a JSON object (blank: none)."""
    if not value.strip():
        return None
    try:
        offer = json.loads(value)
    except ValueError:
        offer = None
    if not isinstance(offer, dict):
        raise InvalidInput(f'arm {key}: offer must be a JSON object like {{"code": "SAVE10"}}')
    return offer


def _arm_body(row: dict, kind: str) -> dict:
    """One arm's API fields."""
    key = row["key"].strip()
    body = {"key": key, "percent": _int(row["percent"], f"arm {key} weight")}
    if kind == "journey":
        body["branch"] = _int(row["branch"], f"arm {key} branch")
        return body
    body["template_id"] = _int(row["template_id"], f"arm {key} template")
    body["send_delay_minutes"] = _int(row["send_delay_minutes"], f"arm {key} delay") or 0
    body["offer"] = _offer(row["offer"], key)
    return body


def _message(exc: ValidationError) -> str:
    """The first validation error in words, naming its field."""
    error = exc.errors()[0]
    where = " ".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}"


def model(typed_form: dict) -> ExperimentIn:
    """The API's create model from the typed form, or InvalidInput with the reason."""
    f = typed_form
    body: dict = {"name": f["name"].strip(), "kind": f["kind"], "metric": f["metric"]}
    for name in NUMBERS:
        value = _int(f[name], name.replace("_", " "))
        if value is not None:
            body[name] = value
    body["arms"] = [_arm_body(row, f["kind"]) for row in f["arms"]]
    if f["kind"] == "journey":
        body.update(
            journey_id=_int(f["journey_id"], "journey"),
            step_id=f["step_id"].strip() or None,
            holdout_branch=_int(f["holdout_branch"], "holdout branch"),
        )
        body.pop("holdout_percent", None)
    else:
        body["segment_ids"] = [_int(v, "segment") for v in f["segment_ids"] if v]
        body["exclude_segment_ids"] = [_int(v, "segment") for v in f["exclude_segment_ids"] if v]
    try:
        return ExperimentIn(**body)
    except ValidationError as exc:
        raise InvalidInput(_message(exc)) from None


def _number(value: str, name: str) -> float:
    """A positive decimal typed in a field."""
    try:
        number = float(value.strip().replace(",", ""))
    except ValueError:
        raise InvalidInput(f"{name}: a number is required") from None
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"{name}: a number above 0 is required")
    return number


def required_sample(typed_form: dict) -> int:
    """Recipients per arm to detect the minimum lift (relative, %) on the baseline.

    Click rate: the baseline is a rate in %; revenue: a mean per recipient with its SD.
    """
    f = typed_form
    mde = _number(f["mde"], "minimum detectable lift") / 100
    baseline = _number(f["baseline"], "baseline")
    if f["metric"] == "clicks":
        p = baseline / 100
        if p >= 1:
            raise InvalidInput("baseline: a click rate below 100%")
        sd = math.sqrt(p * (1 - p))
        return inference.required_per_arm(sd, mde * p)
    sd = _number(f["sd"], "standard deviation")
    return inference.required_per_arm(sd, mde * baseline)
