"""Pure generator of the demo shop: customers, catalogue, two years of orders, a few events.

Buying follows the BG/NBD story (Fader, Hardie & Lee 2005): while alive, a customer buys
as a Poisson process of rate lambda ~ Gamma(r, alpha); after each purchase they drop out
with probability p ~ Beta(a, b). Rates are modulated by the month (November/December
peaks) by thinning. Everything is drawn from one NumPy Generator seeded by the caller,
and time comes in as `now`: the same seed and `now` give identical data.
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from patron.demo import browsing
from patron.demo.names import (
    ACQUISITION_CHANNELS,
    ADJECTIVES,
    CATEGORIES,
    EMAIL_DOMAINS,
    LOCALES,
)

HISTORY_DAYS = 730
# Demand by calendar month: holiday peaks in November and December, a January lull.
SEASON = {
    1: 0.8,
    2: 0.75,
    3: 0.9,
    4: 0.9,
    5: 0.95,
    6: 0.9,
    7: 0.85,
    8: 0.85,
    9: 0.95,
    10: 1.05,
    11: 1.7,
    12: 2.0,
}
RATE_SHAPE, RATE_MEAN_PER_DAY = 0.9, 1 / 75  # lambda ~ Gamma(r, scale = mean / r)
DROPOUT_A, DROPOUT_B = 1.4, 2.2  # p ~ Beta(a, b), mean ~0.39
NEVER_BUYS = 0.12  # newsletter sign-ups who never order
MAX_ORDERS = 80
PRODUCTS_PER_CATEGORY = 15
CUSTOMER_PREFIX, ORDER_PREFIX, EVENT_PREFIX = "demo-c-", "demo-o-", "demo-e-"


@dataclass(frozen=True)
class DemoShop:
    """The generated shop as plain rows; references to other rows are list indexes."""

    products: list[dict]
    customers: list[dict]
    consents: list[dict]
    orders: list[dict]
    lines: list[dict]
    events: list[dict]
    links: list[dict]


def generate(*, seed: int, customers: int, now: datetime) -> DemoShop:
    """Generate a whole shop of `customers` people with two years of history up to now."""
    rng = np.random.default_rng(seed)
    start = now - timedelta(days=HISTORY_DAYS)
    season = season_curve(start, HISTORY_DAYS)
    products = catalogue(rng, start)
    people, arrivals = make_customers(rng, customers, start, season, now)
    consents = make_consents(rng, people, now)
    histories = purchase_histories(rng, arrivals, season)
    orders, lines = make_orders(rng, histories, products, start)
    events, links = browsing.make_events(
        rng, histories, products, start, customers, history_days=HISTORY_DAYS, prefix=EVENT_PREFIX
    )
    return DemoShop(products, people, consents, orders, lines, events, links)


def _cdf(weights) -> list[float]:
    """Cumulative probabilities of the given weights, for _pick."""
    total = float(sum(weights))
    return list(np.cumsum(np.asarray(weights, dtype=float) / total))


def _pick(rng: np.random.Generator, cdf: list[float]) -> int:
    """Index drawn with the probabilities behind cdf (much faster than rng.choice with p)."""
    return min(bisect.bisect_right(cdf, rng.random()), len(cdf) - 1)


def season_curve(start: datetime, days: int) -> np.ndarray:
    """Demand multiplier of each day after start."""
    return np.array([SEASON[(start + timedelta(days=d)).month] for d in range(days + 1)])


def _price(rng: np.random.Generator, low: int, high: int) -> int:
    """A believable shelf price in cents between low and high, ending in .99 or .00."""
    dollars = max(int(np.exp(rng.uniform(np.log(low), np.log(high)))) // 100, 1)
    return dollars * 100 - 1 if dollars > 1 and rng.random() < 0.8 else dollars * 100


def catalogue(rng: np.random.Generator, start: datetime) -> list[dict]:
    """About 120 products in 8 categories; each category is a price ladder in its band (the
    higher the rank, the dearer), so recommendations find up-sells and down-sells."""
    products = []
    for category, (_weight, (low, high), nouns) in CATEGORIES.items():
        pairs = [(a, n) for n in nouns for a in ADJECTIVES]
        picks = rng.choice(len(pairs), size=PRODUCTS_PER_CATEGORY, replace=False)
        ladder = sorted(_price(rng, low, high) for _ in picks)
        for rank, pick in enumerate(sorted(picks)):
            adjective, noun = pairs[pick]
            products.append(
                {
                    "sku": f"{category[:3].upper()}-{rank + 1:03d}",
                    "name": f"{adjective} {noun}",
                    "category": category,
                    "price_cents": ladder[rank],
                    "created_at": start,
                }
            )
    return products


def _ascii(text: str) -> str:
    """Lower-case ASCII form of a name for an email address."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "").replace("'", "")


def _arrival_days(rng: np.random.Generator, n: int, season: np.ndarray) -> np.ndarray:
    """Sign-up times in days after start: growing over time and seasonal."""
    days = len(season) - 1
    weights = season[:days] * (0.6 + 0.8 * np.arange(days) / days)
    picks = rng.choice(days, size=n, p=weights / weights.sum())
    return picks + rng.random(n)


def make_customers(
    rng: np.random.Generator, n: int, start: datetime, season: np.ndarray, now: datetime
) -> tuple[list[dict], list[tuple[float, bool]]]:
    """Profiles of n customers and, for each, (sign-up day, whether they ever buy)."""
    locales = list(LOCALES)
    shares = np.array([LOCALES[loc][0] for loc in locales])
    chosen = rng.choice(len(locales), size=n, p=shares / shares.sum())
    arrivals = _arrival_days(rng, n, season)
    buys = rng.random(n) >= NEVER_BUYS
    seen: set[str] = set()
    people = []
    for i in range(n):
        locale = locales[chosen[i]]
        _share, zones, firsts, lasts = LOCALES[locale]
        first, last = firsts[rng.integers(len(firsts))], lasts[rng.integers(len(lasts))]
        local = f"{_ascii(first)}.{_ascii(last)}"
        if local in seen:
            local = f"{local}{rng.integers(1, 100)}"
        local = local if local not in seen else f"{local}.{i}"
        seen.add(local)
        created = start + timedelta(days=float(arrivals[i]) - rng.uniform(0, 0.02) * buys[i])
        people.append(
            {
                "external_id": f"{CUSTOMER_PREFIX}{i + 1:06d}",
                "email": f"{local}@{EMAIL_DOMAINS[rng.integers(len(EMAIL_DOMAINS))]}",
                "first_name": first,
                "last_name": last,
                "birthday": _birthday(rng, now) if rng.random() < 0.85 else None,
                "locale": locale,
                "time_zone": zones[rng.integers(len(zones))],
                "attributes": {
                    "acquisition_channel": ACQUISITION_CHANNELS[
                        rng.integers(len(ACQUISITION_CHANNELS))
                    ]
                },
                "created_at": max(created, start),
                "updated_at": max(created, start),
            }
        )
    return people, [(float(arrivals[i]), bool(buys[i])) for i in range(n)]


def _birthday(rng: np.random.Generator, now: datetime) -> date:
    """A birthday of an adult between 18 and 80."""
    age = int(np.clip(rng.normal(39, 13), 18, 80))
    return date(now.year - age, 1, 1) + timedelta(days=int(rng.integers(0, 365)))


_EMAIL_CONSENT, _EMAIL_CDF = ("granted", "denied", "unsubscribed", "none"), _cdf([78, 7, 10, 5])
_SMS_CONSENT, _SMS_CDF = ("granted", "denied", "none"), _cdf([22, 28, 50])


def make_consents(rng: np.random.Generator, people: list[dict], now: datetime) -> list[dict]:
    """Email consent mostly granted (some denied or unsubscribed), SMS for a minority."""
    rows = []
    for index, person in enumerate(people):
        created = person["created_at"]
        email = _EMAIL_CONSENT[_pick(rng, _EMAIL_CDF)]
        if email != "none":
            later = created + (now - created) * rng.uniform(0.1, 1.0)
            rows.append(
                {
                    "customer": index,
                    "channel": "email",
                    "status": email,
                    "source": "preference_center" if email == "unsubscribed" else "checkout",
                    "updated_at": later if email == "unsubscribed" else created,
                }
            )
        sms = _SMS_CONSENT[_pick(rng, _SMS_CDF)]
        if sms != "none":
            rows.append(
                {
                    "customer": index,
                    "channel": "sms",
                    "status": sms,
                    "source": "checkout",
                    "updated_at": created,
                }
            )
    return rows


@dataclass(frozen=True)
class History:
    """One buyer's purchase days (days after start) and favourite category."""

    customer: int
    times: list[float]
    favourite: int
    alive: bool


def _purchase_times(
    rng: np.random.Generator,
    t0: float,
    rate: float,
    dropout: float,
    season: np.ndarray,
    peak: float,
) -> tuple[list[float], bool]:
    """BG/NBD purchase times from t0 with seasonal thinning; and whether still alive."""
    horizon = len(season) - 1
    times, t = [t0], t0
    while len(times) < MAX_ORDERS:
        if rng.random() < dropout:
            return times, False
        while True:
            t += rng.exponential(1.0 / (rate * peak))
            if t >= horizon:
                return times, True
            if rng.random() * peak < season[int(t)]:
                break
        times.append(t)
    return times, True


def purchase_histories(
    rng: np.random.Generator, arrivals: list[tuple[float, bool]], season: np.ndarray
) -> list[History]:
    """Purchase histories of the customers who buy."""
    n = len(arrivals)
    rates = rng.gamma(RATE_SHAPE, RATE_MEAN_PER_DAY / RATE_SHAPE, size=n)
    dropouts = rng.beta(DROPOUT_A, DROPOUT_B, size=n)
    weights = np.array([w for w, _band, _nouns in CATEGORIES.values()])
    favourites = rng.choice(len(weights), size=n, p=weights / weights.sum())
    peak = float(season.max())
    histories = []
    for i, (t0, buys) in enumerate(arrivals):
        if not buys:
            continue
        times, alive = _purchase_times(rng, t0, rates[i], dropouts[i], season, peak)
        histories.append(History(i, times, int(favourites[i]), alive))
    return histories


# Popular products sell more: Zipf-like weights by rank within a category.
_POPULARITY = _cdf(1.0 / np.arange(1, PRODUCTS_PER_CATEGORY + 1) ** 0.8)
_QUANTITY = _cdf([0.85, 0.12, 0.03])
_CATEGORY = _cdf([w for w, _band, _nouns in CATEGORIES.values()])


# Planted complements: each product goes with one product of the next category (beans with a
# grinder), bought in the same basket or in the customer's next order.
WITH_COMPLEMENT, COMPLEMENT_NEXT = 0.35, 0.25


def complement(product: int) -> int:
    """The index of the product that goes with this one (a fixed pairing across categories)."""
    category, rank = divmod(product, PRODUCTS_PER_CATEGORY)
    partner = (category + 1) % len(CATEGORIES)
    return partner * PRODUCTS_PER_CATEGORY + (rank * 7 + 3) % PRODUCTS_PER_CATEGORY


def _basket(
    rng: np.random.Generator, favourite: int, by_category: list[list[int]], carried: int | None
) -> dict[int, int]:
    """Products and quantities of one order, leaning to the buyer's favourite category, with
    planted complements (and the complement carried over from the previous order)."""
    basket: dict[int, int] = {}
    for _ in range(1 + min(int(rng.poisson(0.6)), 5)):
        category = favourite if rng.random() < 0.6 else _pick(rng, _CATEGORY)
        product = by_category[category][_pick(rng, _POPULARITY)]
        basket[product] = basket.get(product, 0) + 1 + _pick(rng, _QUANTITY)
    first = next(iter(basket))
    if rng.random() < WITH_COMPLEMENT:
        basket.setdefault(complement(first), 1)
    if carried is not None:
        basket.setdefault(carried, 1)
    return basket


def _coupon(rng: np.random.Generator, first: bool, month: int) -> tuple[str | None, float]:
    """The coupon code of an order, if any, and its discount rate."""
    if first and rng.random() < 0.22:
        return "WELCOME10", 0.10
    if month in (11, 12) and rng.random() < 0.20:
        return "HOLIDAY20", 0.20
    if rng.random() < 0.04:
        return "THANKYOU15", 0.15
    return None, 0.0


def _status(rng: np.random.Generator, age_days: float) -> str:
    """Fulfilment state by age, with some cancellations and refunds."""
    draw = rng.random()
    if draw < 0.015:
        return "cancelled"
    if age_days > 3 and draw < 0.045:
        return "refunded"
    if age_days > 3 and draw < 0.055:
        return "partially_refunded"
    return "placed" if age_days < 0.5 else "paid" if age_days < 4 else "fulfilled"


def make_orders(
    rng: np.random.Generator, histories: list[History], products: list[dict], start: datetime
) -> tuple[list[dict], list[dict]]:
    """Orders numbered in time order, with lines, coupons, refunds and cancellations."""
    by_category = [
        [i for i, p in enumerate(products) if p["category"] == name] for name in CATEGORIES
    ]
    placed = sorted(
        (t, h.customer, k == 0, h.favourite) for h in histories for k, t in enumerate(h.times)
    )
    orders, lines = [], []
    carry: dict[int, int] = {}
    for number, (t, customer, first, favourite) in enumerate(placed, start=1):
        at = start + timedelta(days=t)
        basket = _basket(rng, favourite, by_category, carry.pop(customer, None))
        if rng.random() < COMPLEMENT_NEXT:
            carry[customer] = complement(next(iter(basket)))
        subtotal = sum(products[p]["price_cents"] * q for p, q in basket.items())
        coupon, rate = _coupon(rng, first, at.month)
        discount = round(subtotal * rate)
        total = subtotal - discount
        status = _status(rng, HISTORY_DAYS - t)
        refunded = {
            "refunded": total,
            "partially_refunded": min(total, products[next(iter(basket))]["price_cents"]),
        }.get(status, 0)
        orders.append(
            {
                "external_id": f"{ORDER_PREFIX}{number:07d}",
                "customer": customer,
                "placed_at": at,
                "status": status,
                "total_cents": total,
                "discount_cents": discount,
                "refunded_cents": refunded,
                "coupon_code": coupon,
            }
        )
        for product, quantity in basket.items():
            lines.append(
                {
                    "order": number - 1,
                    "product": product,
                    "quantity": quantity,
                    "unit_price_cents": products[product]["price_cents"],
                }
            )
    return orders, lines
