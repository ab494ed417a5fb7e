"""Use cases of the admin pages, each built on the owning capability's service.

Admin owns no tables: keys and users belong to auth, the refresh job to analytics (run by the
jobs queue), imports to imports, consumers to events. This module only composes them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from patron.analytics.manifest import REFRESH_JOB
from patron.errors import InvalidInput
from patron.events import service as events
from patron.imports import service as imports
from patron.imports.rules import RowError, parse_mapping
from patron.jobs import service as jobs
from patron.manifest import installed

REFRESH_QUEUE = "bulk"
# One manual refresh at a time: a second click while it waits or runs adds nothing.
REFRESH_DEDUPE_KEY = f"{REFRESH_JOB}:manual"
# Imports from the dashboard run in the request (imports has no job entry point yet), so a file
# is capped to keep the request short and the server's memory bounded.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
SHOWN_REJECTS = 200


@dataclass(frozen=True)
class RefreshRequest:
    """The refresh job a click asked for, and whether it was already queued."""

    job_id: int
    already_queued: bool


def request_refresh(*, session: Session, now: datetime) -> RefreshRequest:
    """Enqueue one score refresh on the bulk queue, or point at the one already waiting."""
    job_id = jobs.enqueue(
        session=session,
        kind=REFRESH_JOB,
        run_at=now,
        now=now,
        dedupe_key=REFRESH_DEDUPE_KEY,
        max_attempts=2,
        queue=REFRESH_QUEUE,
    )
    if job_id is not None:
        return RefreshRequest(job_id, already_queued=False)
    active = jobs.active_job_id(session=session, dedupe_key=REFRESH_DEDUPE_KEY)
    if active is None:  # finished between the two statements: queue a fresh one
        return request_refresh(session=session, now=now)
    return RefreshRequest(active, already_queued=True)


def latest_refresh(*, session: Session) -> jobs.JobView | None:
    """The newest refresh job, scheduled or manual."""
    return jobs.latest_of_kind(session=session, kind=REFRESH_JOB)


@dataclass(frozen=True)
class SystemStatus:
    """Queues, event consumers and recently failed jobs."""

    queues: list[jobs.QueueStatus]
    consumers: list[events.ConsumerStatus]
    failed_jobs: list[jobs.JobView]


def system_status(*, session: Session, now: datetime) -> SystemStatus:
    """What the System page shows."""
    return SystemStatus(
        jobs.queue_status(session=session, now=now),
        events.status(session=session, consumers=installed().consumers()),
        jobs.recent_failed(session=session, limit=20),
    )


def retry_consumer(*, session: Session, name: str) -> None:
    """Let a failing consumer try again at once."""
    if name not in installed().consumers():
        raise InvalidInput(f"no event consumer is called {name!r}")
    events.reset_backoff(session=session, name=name)


def parse_mapping_text(text: str) -> dict[str, str]:
    """The mapping field: one TARGET=SOURCE per line (or comma-separated)."""
    pairs = [p.strip() for line in text.splitlines() for p in line.split(",") if p.strip()]
    return parse_mapping(pairs)


def run_import(
    *,
    factory: sessionmaker[Session],
    kind: str,
    path: Path,
    mapping: dict[str, str],
    attributes: bool,
    dry_run: bool,
    now: datetime,
) -> imports.ImportReport:
    """Import an uploaded CSV through the imports service (the one entry point admin uses)."""
    parsed = imports.read_file(
        kind=kind, path=path, fmt="csv", mapping=mapping, attributes=attributes
    )
    return imports.apply(factory=factory, kind=kind, parsed=parsed, now=now, dry_run=dry_run)


def rejects_csv(path: Path, rejected: list[RowError]) -> str:
    """The rejects file: row (the header is row 1), column, reason, then the row's own cells."""
    wanted = {e.row for e in rejected}
    header, cells = _original_rows(path, wanted)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "reason", *header])
    for error in rejected:
        writer.writerow([error.row, error.column, error.reason, *cells.get(error.row, [])])
    return out.getvalue()


def _original_rows(path: Path, wanted: set[int]) -> tuple[list[str], dict[int, list[str]]]:
    """The header and the cells of the wanted rows of a CSV file (rows numbered from 1)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        first = handle.readline()
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        header, cells = [], {}
        for number, row in enumerate(csv.reader(handle, dialect), start=1):
            if number == 1:
                header = row
            elif number in wanted:
                cells[number] = row
    return header, cells
