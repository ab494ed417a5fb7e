"""The template editor's form: fields to a TemplateInput, and an error to the field it names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from patron.errors import InvalidInput
from patron.messages.service import TemplateInput, VariantInput

VARIANT_FIELDS = ("locale", "format", "subject", "preheader", "body", "text")
_PART = re.compile(r"^(?:variant '([^']*)': )?(subject|body|preheader|text|layout)\b")


@dataclass(frozen=True)
class Form:
    """What the editor shows: the submitted fields, their variants, preview choices."""

    name: str = ""
    channel: str = "email"
    kind: str = "marketing"
    topic: str = ""
    layout_id: str = ""
    variants: tuple[dict, ...] = ()

    def to_input(self) -> TemplateInput:
        """The service's input (variants past the first with an empty body are left out)."""
        variants = [
            VariantInput(
                locale=v["locale"].strip(),
                format=v["format"] or "html",
                subject=v["subject"],
                preheader=v["preheader"],
                body=v["body"],
                text=v["text"] or None,
            )
            for i, v in enumerate(self.variants)
            if i == 0 or v["body"].strip()
        ]
        return TemplateInput(
            name=self.name,
            channel=self.channel,
            kind=self.kind,
            topic=self.topic.strip() or None,
            layout_id=_layout_id(self.layout_id),
            variants=variants,
        )


def _layout_id(value: str) -> int | None:
    """The layout chosen ("" for none)."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput("layout_id: choose a layout from the list")
    return int(value)


def from_submitted(submitted) -> Form:
    """The form from submitted form data (repeated variant fields, in order)."""
    columns = {f: [str(x) for x in submitted.getlist(f"variant_{f}")] for f in VARIANT_FIELDS}
    count = max((len(c) for c in columns.values()), default=0)
    variants = tuple(
        {f: (columns[f][i] if i < len(columns[f]) else "") for f in VARIANT_FIELDS}
        for i in range(count)
    )
    if not variants:
        variants = (blank_variant(),)
    variants = (dict(variants[0], locale=""), *variants[1:])
    return Form(
        name=str(submitted.get("name", "")),
        channel=str(submitted.get("channel", "email")),
        kind=str(submitted.get("kind", "marketing")),
        topic=str(submitted.get("topic", "")),
        layout_id=str(submitted.get("layout_id", "")),
        variants=variants,
    )


def blank_variant(locale: str = "") -> dict:
    """An empty variant."""
    return {f: "" for f in VARIANT_FIELDS} | {"locale": locale, "format": "html"}


def from_template(template, variants) -> Form:
    """The form of a saved template."""
    return Form(
        name=template.name,
        channel=template.channel,
        kind=template.kind,
        topic=template.topic or "",
        layout_id=str(template.layout_id or ""),
        variants=tuple(
            {
                "locale": v.locale,
                "format": v.format,
                "subject": v.subject,
                "preheader": v.preheader or "",
                "body": v.body,
                "text": v.text or "",
            }
            for v in variants
        ),
    )


def field_of(message: str, form: Form) -> str:
    """The field an error names: `name`, `layout_id`, `v{n}_{part}`, else `form`."""
    if message.startswith("name:") or message.startswith("a template named"):
        return "name"
    for simple in ("channel", "kind", "layout_id"):
        if message.startswith(simple):
            return simple
    found = _PART.match(message)
    if found is None:
        return "form"
    locale, part = found.group(1) or "", found.group(2)
    if part == "layout":
        return "layout_id"
    locales = [v["locale"].strip() for v in form.variants]
    index = locales.index(locale) if locale in locales else 0
    return f"v{index}_{part}"
