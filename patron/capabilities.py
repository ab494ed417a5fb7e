"""The composition root's one list of capabilities: the kernel iterates over these manifests."""

from __future__ import annotations

import importlib
import os

from patron import manifest as kernel_manifest
from patron.admin.manifest import manifest as admin
from patron.advocates.manifest import manifest as advocates
from patron.analytics.manifest import manifest as analytics
from patron.auth.manifest import manifest as auth
from patron.coupons.manifest import manifest as coupons
from patron.customers.manifest import manifest as customers
from patron.dashboard.manifest import manifest as dashboard
from patron.demo.manifest import manifest as demo
from patron.events.manifest import manifest as events
from patron.experiments.manifest import manifest as experiments
from patron.gatherings.manifest import manifest as gatherings
from patron.imports.manifest import manifest as imports
from patron.jobs.manifest import manifest as jobs
from patron.journeys.manifest import manifest as journeys
from patron.loyalty.manifest import manifest as loyalty
from patron.messages.manifest import manifest as messages
from patron.recommendations.manifest import manifest as recommendations
from patron.referrals.manifest import manifest as referrals
from patron.reviews.manifest import manifest as reviews
from patron.segments.manifest import manifest as segments
from patron.surveys.manifest import manifest as surveys
from patron.tracking.manifest import manifest as tracking
from patron.webhooks.manifest import manifest as webhooks

CAPABILITIES = (
    jobs,
    events,
    auth,
    dashboard,
    customers,
    tracking,
    imports,
    analytics,
    segments,
    webhooks,
    messages,
    journeys,
    experiments,
    surveys,
    reviews,
    coupons,
    referrals,
    gatherings,
    advocates,
    loyalty,
    recommendations,
    admin,
    demo,
)


def _plugins(spec: str) -> tuple[kernel_manifest.Manifest, ...]:
    """Extra manifests named in PATRON_PLUGINS as module:attribute pairs."""
    found = []
    for item in filter(None, (p.strip() for p in spec.split(","))):
        module_name, _, attribute = item.partition(":")
        found.append(getattr(importlib.import_module(module_name), attribute or "manifest"))
    return tuple(found)


REGISTRY = kernel_manifest.Registry(CAPABILITIES + _plugins(os.environ.get("PATRON_PLUGINS", "")))


def boot() -> kernel_manifest.Registry:
    """Install the registry for this process and return it."""
    kernel_manifest.install(REGISTRY)
    return REGISTRY
