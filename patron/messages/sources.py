"""Loading templates for rendering: each template's variants as rendering sources, by locale.

A customer's locale picks its variant: the exact locale ("pt-BR"), then its language ("pt"),
then the default ("" ), which every template has.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.messages.rendering import Source
from patron.messages.tables import Layout, Template, TemplateVariant


@dataclass(frozen=True)
class TemplateSources:
    """A template and its content per locale, ready for `rendering.render`."""

    id: int
    name: str
    channel: str
    kind: str
    by_locale: dict[str, Source]

    def for_locale(self, locale: str | None) -> Source:
        """The variant of a locale, falling back to its language and then the default."""
        return self.by_locale[variant_locale(self.by_locale, locale)]


def variant_locale(available: Collection[str], locale: str | None) -> str:
    """The variant to use for a locale among the available ones ("" is the default)."""
    wanted = (locale or "").strip().replace("_", "-")
    lowered = {a.lower(): a for a in available}
    for candidate in (wanted, wanted.split("-")[0]):
        if candidate and candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return ""


def source_of(variant: TemplateVariant, layout_html: str | None) -> Source:
    """The rendering source of one variant (inside its template's layout, if any)."""
    return Source(
        subject=variant.subject,
        body=variant.body,
        format=variant.format,
        preheader=variant.preheader or "",
        text=variant.text or None,
        layout=layout_html,
    )


def load(session: Session, template_ids: Collection[int]) -> dict[int, TemplateSources]:
    """Templates with their variants and layouts, three queries for any number."""
    ids = sorted(set(template_ids))
    if not ids:
        return {}
    templates = session.scalars(select(Template).where(Template.id.in_(ids))).all()
    layout_ids = {t.layout_id for t in templates if t.layout_id}
    layouts = (
        dict(session.execute(select(Layout.id, Layout.html).where(Layout.id.in_(layout_ids))).all())
        if layout_ids
        else {}
    )
    variants: dict[int, list[TemplateVariant]] = {}
    for v in session.scalars(select(TemplateVariant).where(TemplateVariant.template_id.in_(ids))):
        variants.setdefault(v.template_id, []).append(v)
    return {
        t.id: TemplateSources(
            t.id,
            t.name,
            t.channel,
            t.kind,
            {v.locale: source_of(v, layouts.get(t.layout_id)) for v in variants.get(t.id, [])},
        )
        for t in templates
    }
