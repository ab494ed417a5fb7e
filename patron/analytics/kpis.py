"""Customer KPIs as pure formulas over counts and sums (the service computes those with SQL).

Every function returns ``None`` when its denominator is zero (no customers, no orders ...), never
NaN or a division error. Money is in whatever unit it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from patron.analytics import AnalyticsInputError

# The date range the overview and the KPI page show when none is chosen: the last 30 days.
DEFAULT_RANGE_DAYS = 30


def _ratio(numerator: float, denominator: float) -> float | None:
    if numerator < 0 or denominator < 0:
        raise AnalyticsInputError("KPI inputs must be >= 0")
    return None if denominator == 0 else numerator / denominator


def retention_rate(customers_end: int, new_customers: int, customers_start: int) -> float | None:
    """Retention rate ``(E - N) / S`` (Kumar & Reinartz): end, new during, start of period."""
    if customers_end < new_customers:
        raise AnalyticsInputError("customers_end is smaller than new_customers")
    return _ratio(customers_end - new_customers, customers_start)


def churn_rate(customers_end: int, new_customers: int, customers_start: int) -> float | None:
    """Churn rate ``1 - (E - N) / S``."""
    retention = retention_rate(customers_end, new_customers, customers_start)
    return None if retention is None else 1.0 - retention


def repeat_purchase_rate(repeat_customers: int, buying_customers: int) -> float | None:
    """Repeat-purchase rate: customers with >= 2 orders / customers with >= 1 order."""
    return _ratio(repeat_customers, buying_customers)


def purchase_frequency(orders: int, customers: int) -> float | None:
    """Purchase frequency: orders / customers."""
    return _ratio(orders, customers)


def average_order_value(revenue: float, orders: int) -> float | None:
    """Average order value (AOV): revenue / orders."""
    return _ratio(revenue, orders)


def revenue_per_customer(revenue: float, customers: int) -> float | None:
    """Revenue per customer: revenue / customers."""
    return _ratio(revenue, customers)


def historical_clv(
    revenue: float, orders: int, customers: int, average_lifespan: float | None = None
) -> float | None:
    """Historical CLV: ``AOV x purchase frequency x average lifespan``.

    ``AOV x frequency`` is revenue per customer over the period; with ``average_lifespan`` (in
    periods) it is scaled to a lifetime, without it the period's revenue per customer is returned.
    """
    aov = average_order_value(revenue, orders)
    freq = purchase_frequency(orders, customers)
    if aov is None or freq is None:
        return None
    return aov * freq * (1.0 if average_lifespan is None else float(average_lifespan))


def net_promoter_score(scores) -> float | None:
    """NPS from 0-10 answers: ``100 x (promoters (9-10) - detractors (0-6)) / answers``."""
    values = list(scores)
    if any(not (0 <= s <= 10) or int(s) != s for s in values):
        raise AnalyticsInputError("NPS scores must be integers from 0 to 10")
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    share = _ratio(promoters - detractors + len(values), len(values))
    return None if share is None else 100.0 * (share - 1.0)


def nps_of_counts(promoters: int, passives: int, detractors: int) -> float | None:
    """NPS from counted answers: ``100 x (promoters - detractors) / answers``."""
    total = promoters + passives + detractors
    return None if total <= 0 else 100.0 * (promoters - detractors) / total


@dataclass(frozen=True)
class KpiSet:
    """The KPI values of one period (``None`` where undefined)."""

    retention_rate: float | None
    churn_rate: float | None
    repeat_purchase_rate: float | None
    purchase_frequency: float | None
    average_order_value: float | None
    revenue_per_customer: float | None
    historical_clv: float | None
    net_promoter_score: float | None = None


def kpi_set(
    *,
    customers_start: int,
    customers_end: int,
    new_customers: int,
    buying_customers: int,
    repeat_customers: int,
    orders: int,
    revenue: float,
    average_lifespan: float | None = None,
    nps_scores=(),
    nps_counts: tuple[int, int, int] | None = None,
) -> KpiSet:
    """Compute all KPIs of one period from its counts and sums."""
    return KpiSet(
        retention_rate=retention_rate(customers_end, new_customers, customers_start),
        churn_rate=churn_rate(customers_end, new_customers, customers_start),
        repeat_purchase_rate=repeat_purchase_rate(repeat_customers, buying_customers),
        purchase_frequency=purchase_frequency(orders, buying_customers),
        average_order_value=average_order_value(revenue, orders),
        revenue_per_customer=revenue_per_customer(revenue, buying_customers),
        historical_clv=historical_clv(revenue, orders, buying_customers, average_lifespan),
        net_promoter_score=nps_of_counts(*nps_counts)
        if nps_counts is not None
        else net_promoter_score(nps_scores),
    )


def compare(current: KpiSet, previous: KpiSet) -> dict[str, float | None]:
    """Return ``current - previous`` per KPI (``None`` where either side is undefined)."""
    deltas: dict[str, float | None] = {}
    for field in fields(KpiSet):
        now, before = getattr(current, field.name), getattr(previous, field.name)
        deltas[field.name] = None if now is None or before is None else now - before
    return deltas


# (name, label, unit, formula shown as help text); unit: ratio, cents or number.
KPI_HELP: tuple[tuple[str, str, str, str], ...] = (
    (
        "retention_rate",
        "Retention rate",
        "ratio",
        "(E − N) / S: S = customers who bought in the previous period, E = customers who bought "
        "in this period, N = those of E who did not buy in the previous period (new or won back).",
    ),
    ("churn_rate", "Churn rate", "ratio", "1 − retention rate."),
    (
        "repeat_purchase_rate",
        "Repeat-purchase rate",
        "ratio",
        "Customers with 2 or more orders in the period / customers with at least 1 order.",
    ),
    (
        "purchase_frequency",
        "Purchase frequency",
        "number",
        "Orders in the period / customers who ordered.",
    ),
    ("average_order_value", "Average order value", "cents", "Revenue (net of refunds) / orders."),
    (
        "revenue_per_customer",
        "Revenue per customer",
        "cents",
        "Revenue (net of refunds) / customers who ordered.",
    ),
    (
        "historical_clv",
        "Historical CLV",
        "cents",
        "Average order value × purchase frequency × average lifespan, lifespan = 1 / churn rate "
        "periods (revenue per customer of the period when churn is 0).",
    ),
    (
        "net_promoter_score",
        "Net promoter score",
        "number",
        "100 × (promoters (9-10) − detractors (0-6)) / answers; shown once surveys exist.",
    ),
)


def period_kpis(
    before: dict[str, int], during: dict[str, int], nps_counts: tuple[int, int, int] | None = None
) -> KpiSet:
    """KPIs of one period from its counts and those of the period before it (and NPS counts)."""
    start, end, retained = before["active"], during["active"], during["retained"]
    churn = churn_rate(end, end - retained, start)
    return kpi_set(
        customers_start=start,
        customers_end=end,
        new_customers=end - retained,
        buying_customers=end,
        repeat_customers=during["repeat"],
        orders=during["orders"],
        revenue=during["revenue_cents"],
        average_lifespan=1.0 / churn if churn else None,
        nps_counts=nps_counts,
    )


def kpi_rows(current: KpiSet, previous: KpiSet) -> list[dict]:
    """One row per KPI: label, unit, formula, value, previous value and change."""
    deltas = compare(current, previous)
    return [
        {
            "name": name,
            "label": label,
            "unit": unit,
            "formula": formula,
            "value": getattr(current, name),
            "previous": getattr(previous, name),
            "change": deltas[name],
        }
        for name, label, unit, formula in KPI_HELP
    ]


def fmt(value, unit: str) -> str:
    """A KPI value as text: percent for ratios, currency units for cents, "–" when unknown."""
    if value is None:
        return "–"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "cents":
        return f"{value / 100:,.2f}"
    return f"{value:.2f}"
