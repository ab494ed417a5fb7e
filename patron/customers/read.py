"""The published read model of customer data: what other capabilities may query.

Other capabilities compose SQL over these mapped tables and SQL helpers (segments, analytics,
overview) but never write them: every write goes through `patron.customers.service`,
`patron.customers.bulk` or `patron.customers.batch`.
The import contracts forbid importing `patron.customers.tables` from outside this capability.
"""

from patron.customers.purchases import (
    VIEWED,
    Catalogue,
    ProductViews,
    PurchaseLines,
    catalogue,
    epoch_days,
    product_views,
    purchase_lines,
)
from patron.customers.rules import (
    CONSENT_CHANNELS,
    CONSENT_STATUSES,
    COUNTED_EXCLUDED,
    ORDER_STATUSES,
)
from patron.customers.stats import utc_day
from patron.customers.tables import (
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
    "COUNTED_EXCLUDED",
    "ORDER_STATUSES",
    "VIEWED",
    "AnonymousId",
    "Catalogue",
    "Consent",
    "Customer",
    "CustomerStats",
    "Event",
    "Order",
    "OrderLine",
    "Product",
    "ProductViews",
    "PurchaseLines",
    "catalogue",
    "epoch_days",
    "product_views",
    "purchase_lines",
    "utc_day",
]
