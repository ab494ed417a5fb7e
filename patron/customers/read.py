"""The published read model of customer data: what other capabilities may query.

Other capabilities compose SQL over these mapped tables (segments, analytics, overview) but never
write them: every write goes through `patron.customers.service` or `patron.customers.bulk`.
The import contracts forbid importing `patron.customers.tables` from outside this capability.
"""

from patron.customers.tables import (
    CONSENT_CHANNELS,
    CONSENT_STATUSES,
    ORDER_STATUSES,
    AnonymousId,
    Consent,
    Customer,
    CustomerStats,
    Event,
    Order,
    OrderLine,
    Product,
)

__all__ = [
    "CONSENT_CHANNELS",
    "CONSENT_STATUSES",
    "ORDER_STATUSES",
    "AnonymousId",
    "Consent",
    "Customer",
    "CustomerStats",
    "Event",
    "Order",
    "OrderLine",
    "Product",
]
