"""Pure rules of the CDNOW transaction files: one purchase a line, as an order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from patron.customers.rules import LineInput, OrderInput
from patron.errors import InvalidInput
from patron.imports.rules import Record, RowError, parse_int, to_cents


def _cdnow_order(
    line: int, fields: list[str], seen: dict[tuple[str, str], int]
) -> Record | RowError:
    """One CDNOW purchase as an order with one line of `CDs` items."""
    customer, day, cds, dollars = fields[0], fields[-3], fields[-2], fields[-1]
    if not customer.isdigit():
        return RowError(line, "customer_id", f"must be a number, got {customer!r}")
    try:
        placed_at = datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return RowError(line, "date", f"must be a date YYYYMMDD, got {day!r}")
    n = seen.get((customer, day), 0)
    seen[customer, day] = n + 1
    try:
        quantity = parse_int(cds, "CDs", high=1_000_000)
        total = to_cents(dollars, "USD", "dollars")
    except InvalidInput as exc:
        return RowError(line, "CDs" if "CDs" in exc.message else "dollars", exc.message)
    unit = int((Decimal(total) / max(quantity, 1)).quantize(Decimal(1), ROUND_HALF_UP))
    lines = (LineInput(sku=None, name="CD", quantity=quantity, unit_price_cents=unit),)
    return Record(
        (line,),
        OrderInput(
            external_id=f"cdnow-{customer}-{day}-{n}",
            customer_external_id=customer,
            placed_at=placed_at,
            total_cents=total,
            source="import",
            lines=lines if quantity else (),
        ),
    )


def cdnow_records(lines: Iterable[str]) -> Iterator[Record | RowError]:
    """Orders from a CDNOW master (4 columns) or sample (5 columns) file; line 1 may be a header.

    Order ids are `cdnow-<customer>-<YYYYMMDD>-<n>`, n counting that customer's earlier lines
    of the same day, so importing the same file twice yields the same ids.
    """
    seen: dict[tuple[str, str], int] = {}
    for number, text in enumerate(lines, start=1):
        fields = text.split()
        if not fields or (number == 1 and not fields[0].isdigit()):
            continue
        if len(fields) not in (4, 5):
            yield RowError(
                number, "", f"expected 4 (master) or 5 (sample) columns, got {len(fields)}"
            )
            continue
        yield _cdnow_order(number, fields, seen)
