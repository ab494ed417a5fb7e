"""Pure rules of order rows: consecutive rows sharing an order id are one order's lines."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

from patron.customers.rules import LineInput, OrderInput, check_currency
from patron.imports.rules import (
    LINE_COLUMNS,
    MAX_CENTS,
    ORDER_COLUMNS,
    ORDER_STATUSES,
    Record,
    RowError,
    check_lengths,
    checked,
    parse_int,
    parse_money,
    parse_timestamp,
)

# How many finished orders are remembered to catch an order id repeated further down a file.
RECENT_ORDERS = 100_000
# A row: its number, its non-empty values, and what made its cells unreadable (if anything).
Row = tuple[int, dict[str, str]] | tuple[int, dict[str, str], list[RowError]]


def _line(
    row: int, values: dict[str, str], currency: str, errors: list[RowError]
) -> LineInput | None:
    """The order line of a row, when it has line columns."""
    if not any(name in values for name in LINE_COLUMNS):
        return None
    quantity = checked(
        errors,
        row,
        "quantity",
        lambda: parse_int(values.get("quantity", "1"), "quantity", low=1, high=1_000_000),
    )
    price = checked(errors, row, "unit_price", lambda: parse_money(values, "unit_price", currency))
    return LineInput(sku=values.get("sku"), quantity=quantity or 1, unit_price_cents=price or 0)


def _order_header(
    row: int, values: dict[str, str], lines: tuple[LineInput, ...], errors: list[RowError]
) -> OrderInput | None:
    """The order fields of the first row of an order, with its lines."""
    currency = (
        checked(errors, row, "currency", lambda: check_currency(values.get("currency", "USD")))
        or "USD"
    )
    placed_at = checked(
        errors, row, "placed_at", lambda: parse_timestamp(values.get("placed_at", ""), "placed_at")
    )
    discount = checked(errors, row, "discount", lambda: parse_money(values, "discount", currency))
    total = checked(errors, row, "total", lambda: parse_money(values, "total", currency))
    status = values.get("status", "placed").lower()
    if status not in ORDER_STATUSES:
        errors.append(RowError(row, "status", f"must be one of {', '.join(ORDER_STATUSES)}"))
    if "customer_id" not in values:
        errors.append(RowError(row, "customer_id", "is empty"))
    if total is None and not lines and "total" not in {e.column for e in errors}:
        errors.append(RowError(row, "total", "is empty and the order has no lines"))
    if errors:
        return None
    if total is None:
        total = max(sum(line.total_cents for line in lines) - (discount or 0), 0)
        if total > MAX_CENTS:
            errors.append(RowError(row, "total", f"the lines add up to more than {MAX_CENTS}"))
            return None
    order = OrderInput(
        external_id=values["external_id"],
        customer_external_id=values["customer_id"],
        placed_at=placed_at,
        total_cents=total,
        currency=currency,
        status=status,
        discount_cents=discount or 0,
        coupon_code=values.get("coupon_code"),
        source="import",
        lines=lines,
    )
    return checked(errors, row, "", order.validated)


def _order_group(rows: list[tuple[int, dict[str, str], list[RowError]]]) -> Record | list[RowError]:
    """One order from the consecutive rows sharing its id; any bad row rejects the whole order."""
    first_row, first, _ = rows[0]
    errors: list[RowError] = []
    lines = []
    for row, values, problems in rows:
        errors.extend(problems)
        check_lengths(errors, row, values)
        for name in ORDER_COLUMNS:
            if row != first_row and name in values and values[name] != first.get(name):
                errors.append(
                    RowError(row, name, f"differs from row {first_row} of the same order")
                )
        line = _line(row, values, first.get("currency", "USD").upper(), errors)
        if line is not None:
            lines.append(line)
    order = None if errors else _order_header(first_row, first, tuple(lines), errors)
    if errors or order is None:
        bad = {e.row for e in errors}
        return errors + [
            RowError(
                row, "external_id", f"order {first['external_id']!r} has a rejected row {min(bad)}"
            )
            for row, _, _ in rows
            if row not in bad
        ]
    return Record(tuple(row for row, _, _ in rows), order)


def _span(rows: tuple[int, int]) -> str:
    """'row 7' or 'rows 7-9'."""
    return f"row {rows[0]}" if rows[0] == rows[1] else f"rows {rows[0]}-{rows[1]}"


def order_records(
    rows: Iterable[Row], *, recent: int = RECENT_ORDERS
) -> Iterator[Record | RowError]:
    """Orders from CSV rows as they come; consecutive rows with the same external_id are one
    order's lines.

    A file is streamed, so an order's rows must be consecutive: a row repeating the id of one
    of the last `recent` orders is rejected with the rows it appeared at before.
    """
    seen: OrderedDict[str, tuple[int, int]] = OrderedDict()
    group: list[tuple[int, dict[str, str], list[RowError]]] = []

    def close() -> Iterator[Record | RowError]:
        result = _order_group(group)
        order_id = group[0][1]["external_id"]
        seen[order_id] = (group[0][0], group[-1][0])
        if len(seen) > recent:
            seen.popitem(last=False)
        group.clear()
        yield from (result if isinstance(result, list) else [result])

    for number, values, *rest in rows:
        problems = rest[0] if rest else []
        order_id = values.get("external_id")
        if order_id is None:
            yield from [*problems, RowError(number, "external_id", "is empty")]
            continue
        if group and order_id == group[0][1]["external_id"]:
            group.append((number, values, problems))
            continue
        if group:
            yield from close()
        if order_id in seen:
            yield RowError(
                number,
                "external_id",
                f"order {order_id!r} appeared before at {_span(seen[order_id])}: an order's "
                "rows must be consecutive (sort the file by order id and import it again)",
            )
            continue
        group.append((number, values, problems))
    if group:
        yield from close()
