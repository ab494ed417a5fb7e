"""The import page: upload with a mapping, the rejected rows, the rejects file, the size cap."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from patron.admin import service
from patron.customers.read import Customer
from tests.admin.conftest import token_of

CSV = "Client,email,first_name\nc1,ada@example.com,Ada\nc2,not-an-email,Bob\nc3,cy@example.com,Cy\n"


def _upload(client, body: str, **fields):
    """Post the import form with a file."""
    data = {"kind": "customers", "csrf_token": token_of(client, "/admin/import"), **fields}
    return client.post(
        "/admin/import", data=data, files={"file": ("customers.csv", body.encode(), "text/csv")}
    )


def test_import_needs_the_csrf_token(admin):
    answer = admin.post(
        "/admin/import",
        data={"kind": "customers"},
        files={"file": ("c.csv", CSV.encode(), "text/csv")},
    )
    assert answer.status_code == 403


def test_upload_with_a_mapping_imports_and_lists_the_rejected_row(admin, db):
    page = _upload(admin, CSV, mapping="external_id=Client")
    assert page.status_code == 200
    assert "2 created, 0 updated, 0 unchanged" in page.text
    with db.sessions() as s:
        emails = set(s.scalars(select(Customer.email)))
    assert emails == {"ada@example.com", "cy@example.com"}
    assert "1 row rejected" in page.text
    rejected = re.search(r'<table data-testid="rejected">.*?</table>', page.text, re.S).group(0)
    assert ">3<" in rejected and "email" in rejected
    link = re.search(r'href="(/admin/import/rejects/[^"]+\.csv)"', page.text).group(1)
    rows = list(csv.reader(io.StringIO(admin.get(link).text)))
    assert rows[0] == ["row", "column", "reason", "Client", "email", "first_name"]
    assert rows[1][0] == "3" and rows[1][3:] == ["c2", "not-an-email", "Bob"]
    again = _upload(admin, CSV, mapping="external_id=Client")
    assert "0 created, 0 updated, 2 unchanged" in again.text


def test_dry_run_saves_nothing(admin, db):
    page = _upload(admin, CSV, mapping="external_id=Client", dry_run="1")
    assert "dry run: nothing was saved" in page.text
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0


def test_a_missing_column_or_bad_mapping_is_a_message_not_a_500(admin):
    missing = _upload(admin, CSV)
    assert missing.status_code == 422 and "external_id" in missing.text
    bad = _upload(admin, CSV, mapping="nonsense")
    assert bad.status_code == 422 and "TARGET=SOURCE" in bad.text
    empty = _upload(admin, "")
    assert empty.status_code == 422 and "empty" in empty.text


def test_an_upload_over_the_cap_is_refused_with_a_pointer_to_the_cli(admin, monkeypatch):
    monkeypatch.setattr(service, "MAX_UPLOAD_BYTES", 1000)
    answer = _upload(admin, CSV + "c9,x@example.com,X\n" * 200, mapping="external_id=Client")
    assert "use `patron import` for larger ones" in answer.text


def test_a_file_over_the_one_megabyte_body_limit_of_other_routes_imports(admin):
    notes = "x" * 12_000
    body = "external_id,notes\n" + "".join(f"c{i},{notes}\n" for i in range(100))
    assert len(body) > 1_048_576
    page = _upload(admin, body)
    assert page.status_code == 200 and "100 created" in page.text


def test_an_expired_rejects_link_is_a_404(admin):
    assert admin.get("/admin/import/rejects/" + "a" * 32 + ".csv").status_code == 404
