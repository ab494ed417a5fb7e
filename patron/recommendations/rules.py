"""Pure business rules of recommendations: what may be shown, in what order, how many.

Applied at serving time to a ranked candidate list (product ids, best first), so a change of
flags or settings takes effect without retraining.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

KINDS = ("personal", "cross_sell", "up_sell", "down_sell", "popular")
PRODUCT_KINDS = ("cross_sell", "up_sell", "down_sell")
TAG = "patron_rec"
MAX_N = 50


@dataclass(frozen=True)
class Policy:
    """The rules: excluded categories, replenishable categories and the per-category cap."""

    excluded_categories: frozenset[str] = frozenset()
    replenishable_categories: frozenset[str] = frozenset()
    max_per_category: int = 3


def parse_categories(text: str) -> frozenset[str]:
    """A comma-separated setting as a set of category names (case-insensitive)."""
    return frozenset(p.strip().lower() for p in text.split(",") if p.strip())


def allowed(
    candidates: Sequence[int],
    *,
    category_of: Mapping[int, str],
    inactive: Collection[int],
    replenishable: Collection[int],
    bought: Collection[int],
    policy: Policy,
    n: int,
    also_exclude: Collection[int] = (),
) -> list[int]:
    """The first n candidates that are active, not excluded, not already bought (unless
    replenishable), at most `max_per_category` per category, each once."""
    out: list[int] = []
    per_category: dict[str, int] = {}
    seen: set[int] = set()
    for product in candidates:
        if product in seen or product in inactive or product in also_exclude:
            continue
        seen.add(product)
        if product not in category_of:
            continue
        category = (category_of[product] or "").lower()
        if category in policy.excluded_categories:
            continue
        refill = product in replenishable or category in policy.replenishable_categories
        if product in bought and not refill:
            continue
        if per_category.get(category, 0) >= policy.max_per_category:
            continue
        per_category[category] = per_category.get(category, 0) + 1
        out.append(product)
        if len(out) >= n:
            break
    return out


def merge(lists: Sequence[Sequence[Sequence[float]]]) -> list[int]:
    """Candidates of several items' lists, ranked by their summed scores."""
    total: dict[int, float] = {}
    for items in lists:
        for product, score in items:
            total[int(product)] = total.get(int(product), 0.0) + float(score)
    return [p for p, _ in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))]


def check_kind(kind: str, allowed_kinds: Sequence[str] = KINDS) -> str:
    """The kind, or ValueError naming the choices."""
    if kind not in allowed_kinds:
        raise ValueError(f"kind: choose one of {', '.join(allowed_kinds)}")
    return kind


def check_n(n: int) -> int:
    """A list length between 1 and MAX_N, or ValueError."""
    if not 1 <= n <= MAX_N:
        raise ValueError(f"n: between 1 and {MAX_N}")
    return n


def product_url(template: str, *, sku: str, kind: str) -> str:
    """The shop link of a recommended product, tagged with the kind for click tracking."""
    url = template.replace("{sku}", sku)
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}{TAG}={kind}"


def tagged(url: str) -> tuple[str, str] | None:
    """(kind, sku) of a clicked recommendation link, or None when the link is not one."""
    parts = urlsplit(url)
    kind = parse_qs(parts.query).get(TAG, [""])[0]
    if kind not in KINDS:
        return None
    sku = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return (kind, sku) if sku else None
