"""Rendering of message templates: sandboxed Jinja2, MJML, inlined CSS, a derived text part.

Templates run in Jinja2's `SandboxedEnvironment` (no attribute access to Python internals,
ranges capped) with autoescape and `StrictUndefined`: an unknown variable is an error that names
it. Work is bounded: the output is streamed and cut at MAX_OUTPUT characters, and a deadline is
checked on every call, attribute access and output chunk, so a template cannot run for long.
"""

from __future__ import annotations

import functools
import operator
import re
import threading
import time
from dataclasses import dataclass

import css_inline
import html2text
import mjml
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from patron.errors import InvalidInput

MAX_OUTPUT = 512 * 1024
MAX_SECONDS = 2.0
MAX_REPEAT = 100_000
FORMATS = ("html", "mjml")
# Never fetch remote stylesheets while rendering (MJML links web fonts): mail clients may.
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_link_tags=True)


class RenderError(InvalidInput):
    """A template that cannot be rendered: syntax, unknown variable, sandbox, limits."""


class _Budget:
    """A render's deadline, in CPU time of the rendering thread.

    CPU time, not wall time: on a loaded machine (or beside a sending thread holding the GIL)
    a cheap template can take seconds of wall time, and failing it then would fail a message
    for the machine's sake; what the limit guards against is a template that costs too much.
    """

    # Reading the clock costs as much as a sandboxed attribute access: read it every 16th check.
    EVERY = 16

    def __init__(self, seconds: float):
        self.deadline = time.thread_time() + seconds
        self.checks = 0

    def check(self) -> None:
        """Raise once the deadline has passed."""
        self.checks += 1
        if self.checks % self.EVERY == 0 and time.thread_time() > self.deadline:
            raise RenderError(f"the template took longer than {MAX_SECONDS:g} s to render")


class _Sandbox(SandboxedEnvironment):
    """The sandbox with a deadline on calls and attribute access, and bounded repetition."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, budget: _Budget, *, html: bool = True):
        super().__init__(autoescape=html, undefined=StrictUndefined)
        self.budget = budget

    def call(self, __context, __obj, *args, **kwargs):
        """Every call checks the deadline first."""
        self.budget.check()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj, attribute):
        """Every attribute access checks the deadline first."""
        self.budget.check()
        return super().getattr(obj, attribute)

    def call_binop(self, context, operator_name, left, right):
        """Refuse `*` and `**` whose result would be huge ("x" * 10**9)."""
        if operator_name == "**" and abs(right) > 64:
            raise SecurityError("exponent too large")
        if operator_name == "*":
            sizes = [len(x) for x in (left, right) if isinstance(x, str | list | tuple)]
            counts = [x for x in (left, right) if isinstance(x, int)]
            if sizes and counts and sizes[0] * abs(counts[0]) > MAX_REPEAT:
                raise SecurityError("repetition too large")
            return operator.mul(left, right)
        return operator.pow(left, right)


@dataclass(frozen=True)
class Source:
    """What a marketer writes: subject, preheader, body (HTML or MJML), optional text."""

    subject: str
    body: str
    format: str = "html"
    preheader: str = ""
    text: str | None = None
    layout: str | None = None


@dataclass(frozen=True)
class Rendered:
    """A message ready to send: subject, HTML with inlined CSS, and its text part."""

    subject: str
    html: str
    text: str
    preheader: str = ""


@functools.lru_cache(maxsize=512)
def _compiled(source: str, html: bool):
    """The compiled code of a template string (compiling is most of a render's work otherwise).

    Code compiled by one sandbox runs in any sandbox with the same autoescape: the sandbox's
    checks are calls on the environment the template is bound to at render time.
    """
    return _Sandbox(_Budget(MAX_SECONDS), html=html).compile(source)


def _render_string(env: _Sandbox, source: str, context: dict, what: str) -> str:
    """Render one template string within the output and time limits."""
    try:
        code = _compiled(source, bool(env.autoescape))
        template = env.template_class.from_code(env, code, env.make_globals(None), None)
        parts, size = [], 0
        for chunk in template.generate(**context):
            env.budget.check()
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RenderError(f"{what}: the output is larger than {MAX_OUTPUT:,} characters")
            parts.append(chunk)
        return "".join(parts)
    except TemplateSyntaxError as exc:
        raise RenderError(f"{what}, line {exc.lineno}: {exc.message}")
    except UndefinedError as exc:
        raise RenderError(f"{what}: {exc.message} (not in the customer's context)")
    except SecurityError as exc:
        raise RenderError(f"{what}: not allowed in a template: {exc}")
    except TemplateError as exc:
        raise RenderError(f"{what}: {exc}")
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise RenderError(f"{what}: {type(exc).__name__}: {exc}")


def check_syntax(source: Source) -> None:
    """Refuse a template whose parts do not parse, naming the part and line."""
    env = _Sandbox(_Budget(MAX_SECONDS))
    for what, text in _parts(source):
        try:
            env.parse(text)
        except TemplateSyntaxError as exc:
            raise RenderError(f"{what}, line {exc.lineno}: {exc.message}")
    if source.format not in FORMATS:
        raise RenderError(f"format must be one of {', '.join(FORMATS)}")


def _parts(source: Source) -> list[tuple[str, str]]:
    """The template strings of a source, with their names for error messages."""
    parts = [("subject", source.subject), ("body", source.body), ("preheader", source.preheader)]
    if source.text:
        parts.append(("text", source.text))
    if source.layout:
        parts.append(("layout", source.layout))
    return parts


_local = threading.local()


def _sandboxes(budget: _Budget) -> tuple[_Sandbox, _Sandbox]:
    """This thread's HTML and plain sandboxes, set to a render's budget (made once each)."""
    pair = getattr(_local, "pair", None)
    if pair is None:
        pair = _local.pair = (_Sandbox(budget), _Sandbox(budget, html=False))
    for env in pair:
        env.budget = budget
    return pair


def render(source: Source, context: dict, *, seconds: float = MAX_SECONDS) -> Rendered:
    """Render a source for one customer's context."""
    budget = _Budget(seconds)
    env, plain = _sandboxes(budget)
    subject = " ".join(_render_string(plain, source.subject, context, "subject").split())
    preheader = _render_string(plain, source.preheader, context, "preheader").strip()
    body = _render_string(env, source.body, context, "body")
    if source.layout:
        layout_context = {**context, "content": _Markup(body), "preheader": preheader}
        body = _render_string(env, source.layout, layout_context, "layout")
    html = _to_html(body, source.format)
    if source.text:
        text = _render_string(plain, source.text, context, "text")
    else:
        text = _derived_text(plain, source, context, preheader) or html_to_text(html)
    return Rendered(subject=subject, html=html, text=text, preheader=preheader)


def _Markup(html: str):
    """Already-rendered HTML that the layout inserts without escaping it again."""
    from markupsafe import Markup

    return Markup(html)


def _to_html(body: str, format_: str) -> str:
    """MJML compiled to HTML (responsive mail), then CSS inlined for mail clients."""
    if format_ == "mjml":
        try:
            result = mjml.mjml2html(body)
        except Exception as exc:  # the compiler's own error types vary by version
            raise RenderError(f"body: MJML could not be compiled: {exc}")
        body = result if isinstance(result, str) else result.html
    try:
        return _INLINER.inline(body)
    except ValueError as exc:
        raise RenderError(f"body: CSS could not be inlined: {exc}")


# Deriving the text part once per template instead of once per message: the Jinja tags of
# the HTML source are swapped for inert words, the HTML converted to text, the tags put back.
_TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.DOTALL)


@functools.lru_cache(maxsize=512)
def text_template(html_source: str) -> str | None:
    """A text template equivalent to an HTML template's derived text, or None if unsafe.

    None when the conversion lost or reordered a block tag ({% ... %}), e.g. one inside
    <head> or an attribute; an expression it drops (a <title>) is simply not in the text.
    """
    tags: list[str] = []

    def hide(match: re.Match) -> str:
        if match.group(0).startswith("{#"):
            return ""
        tags.append(match.group(0))
        return f"zqx{len(tags) - 1}xqz"

    text = html_to_text(_TAG.sub(hide, html_source))
    found = [int(n) for n in re.findall(r"zqx(\d+)xqz", text)]
    blocks = [n for n, tag in enumerate(tags) if tag.startswith("{%")]
    if [n for n in found if n in set(blocks)] != blocks or len(found) != len(set(found)):
        return None
    derived = re.sub(r"zqx(\d+)xqz( ?)", lambda m: _restore(tags[int(m.group(1))], m), text)
    try:
        _Sandbox(_Budget(MAX_SECONDS), html=False).parse(derived)
    except TemplateSyntaxError:
        return None
    return derived


def _restore(tag: str, match: re.Match) -> str:
    """A hidden tag put back; a block tag eats the space the conversion put after it."""
    return tag if tag.startswith("{%") else tag + match.group(2)


def _derived_text(plain: _Sandbox, source: Source, context: dict, preheader: str) -> str | None:
    """The text part from the text templates of body and layout (None: derive per message)."""
    if source.format != "html":
        return None  # MJML's compiler rewrites the markup: derive from each message instead
    body = text_template(source.body)
    layout = text_template(source.layout) if source.layout else None
    if body is None or (source.layout and layout is None):
        return None
    text = _render_string(plain, body, context, "body").strip()
    if layout is not None:
        values = {**context, "content": text, "preheader": preheader}
        text = _render_string(plain, layout, values, "layout").strip()
    return text + "\n"


def html_to_text(html: str) -> str:
    """The plain-text part derived from the HTML (links kept as references)."""
    converter = html2text.HTML2Text()
    converter.body_width = 78
    converter.ignore_images = True
    converter.protect_links = True
    return converter.handle(html).strip() + "\n"
