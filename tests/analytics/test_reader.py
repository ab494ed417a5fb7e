"""The pyarrow reader of `patron analyze` gives what the csv.reader loop gave: totals, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from patron.analytics import AnalyticsInputError, transactions
from patron.analytics.transactions import CsvSpec, read_customer_totals
from tests.analytics import legacy_reader

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _legacy(path: Path, spec: CsvSpec) -> dict[str, tuple]:
    """Per-customer aggregates of the old reader, by customer id text."""
    ids, times, amounts = legacy_reader.read_transactions(path, spec, now=NOW)
    customers, codes = np.unique(ids, return_inverse=True)
    days = times.astype("datetime64[D]").astype(np.int64)
    agg = legacy_reader.customer_aggregates(codes, days, np.round(amounts * 100).astype(np.int64))
    return _by_customer(customers.tolist(), agg)


def _fast(path: Path, spec: CsvSpec) -> dict[str, tuple]:
    """Per-customer aggregates of the pyarrow reader, by customer id text."""
    totals = read_customer_totals(path, spec, now=NOW)
    agg = totals.buyers
    return _by_customer([str(c) for c in totals.customers.to_pylist()], agg)


def _by_customer(customers: list[str], agg) -> dict[str, tuple]:
    fields = ("order_count", "first_day", "last_day", "purchase_days", "total_cents")
    columns = [getattr(agg, f).tolist() for f in (*fields, "first_day_cents")]
    return dict(zip(customers, zip(*columns, strict=True), strict=True))


@pytest.mark.parametrize("name", ["CDNOW_sample.txt", "CDNOW_master.txt"])
def test_cdnow_files_give_the_same_aggregates(name, tmp_path):
    path = DATA / name
    if name == "CDNOW_master.txt":  # the old reader failed on the header line: compare without it
        path = tmp_path / name
        path.write_text("".join((DATA / name).read_text().splitlines(True)[1:]))
    spec = CsvSpec(format="cdnow")
    fast = _fast(path, spec)
    assert fast == _legacy(path, spec)
    assert len(fast) == (2357 if name == "CDNOW_sample.txt" else 23570)


def test_cdnow_header_line_is_skipped_as_import_does():
    with pytest.raises(AnalyticsInputError, match="line 1: cannot read date 'date'"):
        legacy_reader.read_transactions(DATA / "CDNOW_master.txt", CsvSpec(format="cdnow"), now=NOW)
    totals = read_customer_totals(DATA / "CDNOW_master.txt", CsvSpec(format="cdnow"), now=NOW)
    assert totals.rows == 69659 and len(totals.customers) == 23570
    assert totals.customers[0].as_py() == "00001"


def _write(tmp_path: Path, lines: list[str], name="orders.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


ROWS = [f"{i % 13},2024-0{1 + i % 9}-{10 + i % 19},{(i * 37) % 90}.25" for i in range(400)]


@pytest.mark.parametrize(
    "ids",
    [
        pytest.param(lambda i: str(i), id="integer ids"),
        pytest.param(lambda i: f"cust-{i:03d}", id="text ids"),
        pytest.param(lambda i: f"{i:05d}", id="zero-padded ids are text"),
    ],
)
def test_csv_with_header_equals_the_old_reader(tmp_path, ids):
    lines = ["customer_id,date,amount"]
    lines += [f"{ids(int(r.split(',')[0]))},{r.split(',', 1)[1]}" for r in ROWS]
    path = _write(tmp_path, lines)
    fast = _fast(path, CsvSpec())
    assert fast == _legacy(path, CsvSpec()) and len(fast) == 13


def test_integer_ids_stay_integers_in_numeric_order(tmp_path):
    path = _write(tmp_path, ["customer_id,date,amount", "10,2024-01-01,1", "9,2024-01-02,2"])
    totals = read_customer_totals(path, CsvSpec(), now=NOW)
    assert totals.customers.to_pylist() == [9, 10]


def test_text_id_in_a_later_batch_turns_every_id_to_text(tmp_path, monkeypatch):
    monkeypatch.setattr(transactions, "BLOCK_BYTES", 64)
    lines = ["customer_id,date,amount", *ROWS, "x7,2024-01-01,5", "3,2023-12-31,1"]
    path = _write(tmp_path, lines)
    totals = read_customer_totals(path, CsvSpec(), now=NOW)
    assert (
        totals.customers.to_pylist()[:3] == ["0", "1", "10"]
        and "x7" in totals.customers.to_pylist()
    )
    assert _fast(path, CsvSpec()) == _legacy(path, CsvSpec())


def test_many_small_batches_merge_to_the_same_totals(tmp_path, monkeypatch):
    path = _write(tmp_path, ["customer_id,date,amount", *ROWS, *ROWS[:50]])
    whole = _fast(path, CsvSpec())
    monkeypatch.setattr(transactions, "BLOCK_BYTES", 200)
    assert _fast(path, CsvSpec()) == whole == _legacy(path, CsvSpec())


def test_cdnow_master_layout_without_header_and_custom_csv_columns(tmp_path):
    cdnow = _write(tmp_path, [" 00001 19970101  1   11.77", " 00002 19970112  5   77.00"], "c.txt")
    assert _fast(cdnow, CsvSpec(format="cdnow")) == _legacy(cdnow, CsvSpec(format="cdnow"))
    spec = CsvSpec(customer="who", date="when", amount="total", delimiter=";")
    lines = ["who;when;total"] + [r.replace(",", ";") for r in ROWS]
    path = _write(tmp_path, lines)
    assert _fast(path, spec) == _legacy(path, spec)


def test_iso_timestamps_with_zones_and_a_date_format(tmp_path):
    lines = [
        "customer_id,date,amount",
        "1,2024-01-01T23:30:00-02:00,1",
        "1,2024-01-03T10:00:00Z,2",
        "2,2024-02-01T00:00:00+05:00,3",
    ]
    path = _write(tmp_path, lines)
    fast = _fast(path, CsvSpec())
    assert fast == _legacy(path, CsvSpec())
    assert fast["1"][3] == 2  # 2024-01-02 and 2024-01-03 in UTC
    other = _write(tmp_path, ["customer_id,date,amount", "1,03/01/2024,1", "2,04/01/2024,2"])
    spec = CsvSpec(date_format="%d/%m/%Y")
    assert _fast(other, spec) == _legacy(other, spec)


BAD = [
    ("1,2024-01-01,5\n2,yesterday,3\n", "line 3: cannot read date 'yesterday'"),
    ("1,2024-01-01,5\n1,2024-01-02,abc\n", "line 3: cannot read amount 'abc'"),
    ("1,2024-01-01,5\n1,2024-01-02,nan\n", "line 3: cannot read amount 'nan'"),
    ("1,2024-01-01,5\n1,2024-01-02,inf\n", "line 3: cannot read amount 'inf'"),
    ("1,2024-01-01,5\n1,2024-01-02,-4\n", "line 3: negative amount -4; net refunds"),
    ("1,2024-01-01,5\n1,2999-01-02,4\n", "line 3: date 2999-01-02 is in the future"),
    ("", "the file is empty"),
    ("customer_id,date,amount\n", "no transactions"),
]


@pytest.mark.parametrize(("content", "message"), BAD)
def test_malformed_csv_gives_the_old_error_and_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(
        content if not content or content.startswith("c") else f"customer_id,date,amount\n{content}"
    )
    for read in (legacy_reader.read_transactions, read_customer_totals):
        with pytest.raises(AnalyticsInputError, match=message.replace("(", r"\(")):
            read(path, CsvSpec(), now=NOW)


def test_malformed_cdnow_gives_the_old_error_and_line(tmp_path):
    path = _write(tmp_path, [" 00001 19970101 1 11.77", " 00002 19971332 1 12.00"], "c.txt")
    for read in (legacy_reader.read_transactions, read_customer_totals):
        with pytest.raises(AnalyticsInputError, match="line 2: cannot read date '19971332'"):
            read(path, CsvSpec(format="cdnow"), now=NOW)


def test_error_in_a_later_batch_names_the_physical_line(tmp_path, monkeypatch):
    monkeypatch.setattr(transactions, "BLOCK_BYTES", 128)
    lines = ["customer_id,date,amount", *ROWS[:100], "", *ROWS[100:200], "5,2024-01-01,x"]
    path = _write(tmp_path, lines)
    with pytest.raises(AnalyticsInputError, match="line 203: cannot read amount 'x'"):
        read_customer_totals(path, CsvSpec(), now=NOW)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1,2024-01-01,5\n2,2024-01-02\n", "line 3: 2 fields, the header has 3"),
        ("1,2024-01-01,5\n,2024-01-02,3\n", "empty customer id \\(line 3\\)"),
    ],
)
def test_field_count_and_empty_id_errors_name_the_line(tmp_path, content, message):
    path = _write(tmp_path, ["customer_id,date,amount", content.rstrip()])
    with pytest.raises(AnalyticsInputError, match=message):
        read_customer_totals(path, CsvSpec(), now=NOW)


@pytest.mark.parametrize("by", ["date", "customer"])
def test_sorted_files_in_small_batches_count_a_day_split_across_batches_once(
    tmp_path, monkeypatch, by
):
    rows = sorted(ROWS + ROWS[:60], key=lambda r: (r.split(",")[1], r) if by == "date" else r)
    path = _write(tmp_path, ["customer_id,date,amount", *rows])
    whole = _fast(path, CsvSpec())
    monkeypatch.setattr(transactions, "BLOCK_BYTES", 150)
    assert _fast(path, CsvSpec()) == whole == _legacy(path, CsvSpec())
    assert max(v[3] for v in whole.values()) < max(v[0] for v in whole.values())


def test_holdout_totals_of_an_unsorted_file_equal_those_of_the_sorted_file(tmp_path, monkeypatch):
    monkeypatch.setattr(transactions, "BLOCK_BYTES", 150)
    unsorted = _write(tmp_path, ["customer_id,date,amount", *ROWS], "unsorted.csv")
    ordered = sorted(ROWS, key=lambda r: r.split(",")[1])
    by_date = _write(tmp_path, ["customer_id,date,amount", *ordered], "sorted.csv")
    cal = int(np.datetime64("2024-05-01").astype(np.int64))
    got = [
        read_customer_totals(p, CsvSpec(), now=NOW, calibration_end=cal)
        for p in (unsorted, by_date)
    ]
    for field in ("order_count", "purchase_days", "total_cents", "first_day_cents", "last_day"):
        a, b = (getattr(t.calibration, field).tolist() for t in got)
        assert a == b
    early = read_customer_totals(unsorted, CsvSpec(), now=NOW, calibration_end=cal - 10_000)
    assert early.calibration.order_count.sum() == 0


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(["  7 ,2024-01-05, 3.5 "], id="spaces around values"),
        pytest.param(["007,2024-01-05,3", "7,2024-01-06,4"], id="a zero-padded id beside 7"),
        pytest.param(["-7,2024-01-05,3"], id="a signed id"),
        pytest.param(["1234567890123,2024-01-05,3"], id="an id of 13 digits"),
        pytest.param(["7,2024-01-05T10:00:00,3"], id="a timestamp"),
        pytest.param(['7,"2024-01-05","1e2"'], id="quoted values, exponent"),
        pytest.param(["7,2024-01-05,0"], id="a zero amount"),
    ],
)
def test_typed_reader_and_checked_reader_agree_with_the_old_one(tmp_path, monkeypatch, extra):
    monkeypatch.setattr(transactions, "BLOCK_BYTES", 256)
    path = _write(tmp_path, ["customer_id,date,amount", *ROWS, *extra])
    assert _fast(path, CsvSpec()) == _legacy(path, CsvSpec())


def test_plain_file_is_read_by_the_typed_reader_alone(tmp_path, monkeypatch):
    path = _write(tmp_path, ["customer_id,date,amount", *ROWS])
    expected = _legacy(path, CsvSpec())

    def refuse(*args):
        raise AssertionError("the checked reader should not be needed")

    monkeypatch.setattr(transactions, "_checked_batches", refuse)
    assert _fast(path, CsvSpec()) == expected


@pytest.mark.parametrize(("content", "message"), BAD[:6])
def test_bad_value_after_many_typed_batches_gives_the_old_error(
    tmp_path, monkeypatch, content, message
):
    monkeypatch.setattr(transactions, "BLOCK_BYTES", 256)
    body = content.split("\n", 1)[1]
    path = tmp_path / "late.csv"
    path.write_text("customer_id,date,amount\n" + "\n".join(ROWS) + "\n" + body)
    line = int(message.split(":")[0].split()[1]) + len(ROWS) - 1
    expected = message.replace("line 3", f"line {line}")
    for read in (legacy_reader.read_transactions, read_customer_totals):
        with pytest.raises(AnalyticsInputError, match=expected):
            read(path, CsvSpec(), now=NOW)


def test_large_integer_ids_in_a_later_batch_keep_numeric_order(tmp_path, monkeypatch):
    monkeypatch.setattr(transactions, "BLOCK_BYTES", 256)
    big = [f"{10**11 + i},2024-02-0{1 + i % 9},{i}.5" for i in range(30)]
    path = _write(tmp_path, ["customer_id,date,amount", *ROWS, *big, "3,2024-03-01,2"])
    totals = read_customer_totals(path, CsvSpec(), now=NOW)
    ids = totals.customers.to_pylist()
    assert ids == sorted(ids) and ids[-1] == 10**11 + 29 and len(ids) == 43
    assert _fast(path, CsvSpec()) == _legacy(path, CsvSpec())


def test_sparse_ids_over_many_batches_equal_the_old_reader(tmp_path, monkeypatch):
    """Ids too sparse for the id table go through the merged sorted runs; repeats across them."""
    monkeypatch.setattr(transactions, "BLOCK_BYTES", 300)
    rng = np.random.default_rng(5)
    pool = 10**11 + rng.choice(10**9, 400, replace=False)
    picks = rng.choice(pool, 2_000)
    days = np.sort(rng.integers(0, 300, picks.size))
    rows = [
        f"{c},{np.datetime64('2023-01-01') + d},{a}.25"
        for c, d, a in zip(picks, days, rng.integers(0, 90, picks.size), strict=True)
    ]
    path = _write(tmp_path, ["customer_id,date,amount", *rows])
    totals = read_customer_totals(path, CsvSpec(), now=NOW)
    ids = totals.customers.to_pylist()
    assert ids == sorted(set(picks.tolist()))
    assert _fast(path, CsvSpec()) == _legacy(path, CsvSpec())
