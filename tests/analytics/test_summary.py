"""Transaction summaries: definitions, holdout split, aggregates, bad input."""

import numpy as np
import pytest

from patron.analytics import (
    AnalyticsInputError,
    median_interpurchase_interval,
    read_transactions_csv,
    summarize,
    summary_from_aggregates,
)

IDS = np.array([7, 7, 7, 7, 3, 3, 9])
DATES = np.array(
    [
        "2024-01-01",
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
        "2024-01-03",
        "2024-02-01",
        "2024-01-20",
    ],
    dtype="datetime64[D]",
)
VALUES = np.array([10.0, 5.0, 20.0, 30.0, 8.0, 12.0, 50.0])


def test_same_day_purchases_are_one_transaction_and_first_is_excluded():
    s = summarize(IDS, DATES, VALUES, observation_end="2024-02-05", calibration_end="2024-01-10")
    assert s.customer_ids.tolist() == [3, 7]  # 9 first bought after calibration
    assert s.frequency.tolist() == [0, 1]
    assert s.recency.tolist() == [0.0, 7.0]
    assert s.T.tolist() == [7.0, 9.0]
    assert s.monetary.tolist() == [0.0, 20.0]
    assert s.holdout_frequency.tolist() == [1, 1]
    assert s.holdout_monetary.tolist() == [12.0, 30.0]
    assert s.holdout_length == 26.0


def test_units_and_compression():
    s = summarize(IDS, DATES, VALUES, observation_end="2024-02-05", unit="weeks")
    assert s.T[s.customer_ids == 7][0] == pytest.approx(35 / 7)
    comp = s.compress()
    assert comp.weights.sum() == len(s)
    assert np.array_equal(comp.frequency[comp.inverse], s.frequency)
    assert np.array_equal(comp.T[comp.inverse], s.T)


def test_string_ids_and_numeric_days_match_integer_path():
    days = DATES.astype(np.int64) + 0.75
    a = summarize(IDS, DATES, VALUES, observation_end="2024-02-05")
    b = summarize(
        IDS.astype(str),
        days,
        VALUES,
        observation_end=float(np.datetime64("2024-02-05", "D").astype(int)),
    )
    assert np.array_equal(a.frequency, b.frequency) and np.array_equal(a.monetary, b.monetary)
    assert np.array_equal(a.T, b.T)


def test_matches_a_naive_loop_on_random_data():
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 50, 2000)
    days = rng.integers(0, 100, 2000)
    vals = rng.gamma(2, 10, 2000)
    s = summarize(ids, days, vals, observation_end=120)
    for cid, f, r, t, m in zip(
        s.customer_ids, s.frequency, s.recency, s.T, s.monetary, strict=True
    ):
        mine = days[ids == cid]
        per_day = {d: vals[(ids == cid) & (days == d)].sum() for d in np.unique(mine)}
        ordered = sorted(per_day)
        assert f == len(ordered) - 1 and r == ordered[-1] - ordered[0] and t == 120 - ordered[0]
        expected = np.mean([per_day[d] for d in ordered[1:]]) if f else 0.0
        assert m == pytest.approx(expected)


def test_aggregates_and_interval():
    s = summary_from_aggregates(
        np.array(["2024-01-01", "2024-01-05"], dtype="datetime64[D]"),
        np.array(["2024-01-21", "2024-01-05"], dtype="datetime64[D]"),
        [3, 1],
        [90.0, 40.0],
        observation_end="2024-01-31",
        first_order_value=[30.0, 40.0],
    )
    assert s.frequency.tolist() == [2, 0] and s.recency.tolist() == [20.0, 0.0]
    assert s.T.tolist() == [30.0, 26.0] and s.monetary.tolist() == [30.0, 0.0]
    assert median_interpurchase_interval(IDS, DATES) == 7.0


def test_csv_roundtrip(tmp_path):
    path = tmp_path / "tx.csv"
    lines = ["customer,date,value"] + [
        f"{i},{d},{v}" for i, d, v in zip(IDS, DATES, VALUES, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    ids, times, values = read_transactions_csv(path)
    assert np.array_equal(ids, IDS) and np.array_equal(values, VALUES)
    assert np.array_equal(times.astype("datetime64[D]"), DATES)


@pytest.mark.parametrize(
    ("ids", "days", "values", "end"),
    [
        ([], [], [], 10),
        ([1, 2], [1, 2], [1.0, np.nan], 10),
        ([1, 2], [1, 2], [1.0, -1.0], 10),
        ([1, 2], [1, 20], [1.0, 2.0], 10),
        ([1, 2], [1, np.nan], [1.0, 2.0], 10),
        ([1, 2, 3], [1, 2], [1.0, 2.0], 10),
    ],
    ids=["empty", "nan-value", "negative", "after-end", "nan-time", "length"],
)
def test_bad_input_raises(ids, days, values, end):
    with pytest.raises(AnalyticsInputError):
        summarize(
            np.array(ids, dtype=np.int64), np.array(days, dtype=float), values, observation_end=end
        )


def test_nobody_repeating_still_summarises_but_has_no_interval():
    s = summarize([1, 2], [1, 2], [5.0, 0.0], observation_end=3)
    assert s.frequency.tolist() == [0, 0] and not np.isnan(s.monetary).any()
    with pytest.raises(AnalyticsInputError):
        median_interpurchase_interval([1, 2], [1, 2])
