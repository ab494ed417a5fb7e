"""Pure mapping of Segment's e-commerce spec events (Order Completed, Order Refunded) to orders."""

from __future__ import annotations

from dataclasses import dataclass

from patron.customers import rules as customer_rules
from patron.errors import InvalidInput
from patron.tracking.fields import BadMessage, ident, text

ORDER_COMPLETED = "Order Completed"
ORDER_REFUNDED = "Order Refunded"


@dataclass(frozen=True)
class OrderLineData:
    """One product of an e-commerce event, amounts in minor units."""

    sku: str | None
    name: str | None
    category: str | None
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class OrderData:
    """What an `Order Completed` or `Order Refunded` event asks for."""

    action: str  # "complete" or "refund"
    order_id: str
    currency: str
    total_cents: int | None
    discount_cents: int = 0
    coupon: str | None = None
    lines: tuple[OrderLineData, ...] = ()


def _amount(value: object, currency: str, name: str) -> int | None:
    """A decimal amount in minor units; None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
    try:
        cents = customer_rules.to_minor_units(value, currency, name=name)
    except InvalidInput as exc:
        raise BadMessage(exc.message)
    if cents < 0:
        raise BadMessage(f"{name} must not be negative")
    return cents


def _line(product: object, currency: str, where: str) -> OrderLineData:
    """One entry of `products[]` as an order line."""
    if not isinstance(product, dict):
        raise BadMessage(f"{where} must be an object")
    sku = ident(product.get("sku"), f"{where}.sku", limit=128) or ident(
        product.get("product_id"), f"{where}.product_id", limit=128
    )
    quantity = product.get("quantity", 1)
    if quantity is None:
        quantity = 1
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int | float)
        or quantity <= 0
        or int(quantity) != quantity
    ):
        raise BadMessage(f"{where}.quantity must be a positive whole number")
    if quantity > customer_rules.MAX_QUANTITY:
        raise BadMessage(f"{where}.quantity must be at most {customer_rules.MAX_QUANTITY}")
    price = _amount(product.get("price", 0), currency, f"{where}.price") or 0
    try:
        customer_rules.check_amount(int(quantity) * price, f"{where} (quantity × price)")
    except InvalidInput as exc:
        raise BadMessage(exc.message)
    return OrderLineData(
        sku=sku,
        name=text(product.get("name"), f"{where}.name"),
        category=text(product.get("category"), f"{where}.category"),
        quantity=int(quantity),
        unit_price_cents=price,
    )


def order_data(event: str, props: dict, where: str) -> OrderData | None:
    """The order an e-commerce spec event describes, or None for other events."""
    if event not in (ORDER_COMPLETED, ORDER_REFUNDED):
        return None
    order_id = ident(props.get("order_id"), f"{where}.properties.order_id")
    if order_id is None:
        raise BadMessage(f"{where}.properties.order_id is required for {event!r}")
    try:
        currency = customer_rules.check_currency(props.get("currency") or "USD")
    except InvalidInput as exc:
        raise BadMessage(f"{where}.properties.{exc.message}")
    p = f"{where}.properties"
    total = _amount(props.get("total"), currency, f"{p}.total")
    if total is None:
        total = _amount(props.get("revenue"), currency, f"{p}.revenue")
    if event == ORDER_REFUNDED:
        if total == 0:
            raise BadMessage(f"{p}.total of a refund must be positive")
        return OrderData(action="refund", order_id=order_id, currency=currency, total_cents=total)
    products = props.get("products") or []
    if not isinstance(products, list):
        raise BadMessage(f"{p}.products must be an array")
    lines = tuple(_line(item, currency, f"{p}.products[{i}]") for i, item in enumerate(products))
    if total is None:
        total = sum(line.quantity * line.unit_price_cents for line in lines)
    return OrderData(
        action="complete",
        order_id=order_id,
        currency=currency,
        total_cents=total,
        discount_cents=_amount(props.get("discount"), currency, f"{p}.discount") or 0,
        coupon=text(props.get("coupon"), f"{p}.coupon", limit=128),
        lines=lines,
    )
