"""The admin import page: upload a CSV, map its columns, see and download the rejected rows.

The import runs in the request through `patron.admin.service.run_import` (the imports
service has no job entry point), so an upload is capped at `service.MAX_UPLOAD_BYTES`.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from patron.admin import service
from patron.admin.guard import ADMIN
from patron.admin.views import page
from patron.db import utcnow
from patron.errors import InvalidInput, NotFound, PatronError, PayloadTooLarge
from patron.imports.rules import COLUMNS, KINDS
from patron.web.limits import own_limits
from patron.web.session import check_csrf

router = APIRouter(include_in_schema=False)
PATH = "/admin/import"
REJECTS_DIR = Path(tempfile.gettempdir()) / "patron-rejects"
REJECTS_KEEP_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
FORM = {"kind": "customers", "mapping": "", "attributes": False, "dry_run": False}


def _import_page(
    request: Request, *, form: dict, report=None, rejects=None, error=None, status=200
):
    """The upload form, and the report of the last import."""
    return page(
        request,
        "import",
        {
            "kinds": KINDS,
            "columns": COLUMNS,
            "form": form,
            "report": report,
            "rejected_rows": len({e.row for e in report.rejected}) if report else 0,
            "shown": report.rejected[: service.SHOWN_REJECTS] if report else [],
            "rejects": rejects,
            "error": error,
            "max_mb": service.MAX_UPLOAD_BYTES // (1024 * 1024),
        },
        status_code=status,
    )


@router.get(PATH)
def import_page(request: Request, _user=ADMIN):
    """The upload form."""
    return _import_page(request, form=dict(FORM))


def _check_size(request: Request) -> None:
    """Refuse an upload over the cap before reading it."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise InvalidInput("the upload must declare its size (Content-Length)")
    if int(length) > service.MAX_UPLOAD_BYTES + 64 * 1024:  # the form's other fields
        raise _too_large()


def _too_large() -> PayloadTooLarge:
    """The error of a file over the upload cap."""
    return PayloadTooLarge(
        f"files up to {service.MAX_UPLOAD_BYTES / (1024 * 1024):g} MB can be imported here; "
        "use `patron import` for larger ones"
    )


async def _save(upload: UploadFile, folder: Path) -> Path:
    """Copy the uploaded file to disk, counting its bytes."""
    target, size = folder / "upload.csv", 0
    with target.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > service.MAX_UPLOAD_BYTES:
                raise _too_large()
            out.write(chunk)
    if size == 0:
        raise InvalidInput("the file is empty: choose a CSV file with a header row")
    return target


def _keep_rejects(text: str) -> str:
    """Store a rejects file for download; returns its token (old files are removed)."""
    REJECTS_DIR.mkdir(mode=0o700, exist_ok=True)
    cutoff = time.time() - REJECTS_KEEP_SECONDS
    for old in REJECTS_DIR.glob("*.csv"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (REJECTS_DIR / f"{token}.csv").write_text(text, encoding="utf-8")
    return token


@router.post(PATH)
async def import_upload(request: Request, _user=ADMIN):
    """Import the uploaded file and show what was created, updated and rejected."""
    form = dict(FORM)
    folder = Path(tempfile.mkdtemp(prefix="patron-upload-"))
    try:
        _check_size(request)
        submitted = await request.form()
        check_csrf(request, submitted.get("csrf_token"))
        form.update(
            kind=str(submitted.get("kind", "customers")),
            mapping=str(submitted.get("mapping", "")),
            attributes=bool(submitted.get("attributes")),
            dry_run=bool(submitted.get("dry_run")),
        )
        upload = submitted.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("choose a CSV file to import")
        path = await _save(upload, folder)
        report = await run_in_threadpool(
            service.run_import,
            factory=request.app.state.sessions,
            kind=form["kind"],
            path=path,
            mapping=service.parse_mapping_text(form["mapping"]),
            attributes=form["attributes"],
            dry_run=form["dry_run"],
            now=utcnow(),
        )
        rejects = (
            _keep_rejects(service.rejects_csv(path, report.rejected)) if report.rejected else None
        )
    except PatronError as exc:
        return _import_page(request, form=form, error=exc.message, status=exc.status)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _import_page(request, form=form, report=report, rejects=rejects)


@router.get(PATH + "/rejects/{token}.csv")
def import_rejects(token: str, _user=ADMIN):
    """Download the rejected rows of an import, with their cells, to fix and import again."""
    path = REJECTS_DIR / f"{token}.csv"
    if not _TOKEN.match(token) or not path.is_file():
        raise NotFound("this rejects file has expired; import the file again to get a new one")
    return FileResponse(path, media_type="text/csv", filename="rejected-rows.csv")


def exempt_from_body_limit(app) -> None:
    """Let the import route check its own, larger, upload cap."""
    own_limits(app, PATH)
