"""Dashboard pages of templates and layouts: list, editor with live preview, test send, settings.

The preview is a POST of the editor's fields (unsaved) that answers JSON with the rendered
subject, HTML and text; the page shows the HTML in sandboxed frames (no scripts, a unique
origin) at desktop and phone widths.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION
from patron.errors import NotFound, PatronError
from patron.messages import authoring, config, editor_form, rules, sender, service
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)
BASE = "/messages/templates"


def _not_found(request: Request, exc: NotFound, back: str = BASE, label: str = "Templates"):
    """The dashboard's not-found page."""
    return render(
        request,
        "web/not_found.html",
        {"message": exc.message, "back_href": back, "back_label": label},
        status_code=404,
    )


def _editor(request, session, form, template_id=None, error=None, status_code=200):
    """The editor page with its fields, layouts and the error next to its field."""
    errors = {editor_form.field_of(error.message, form): error.message} if error else {}
    return render(
        request,
        "messages/template_editor.html",
        {
            "form": form,
            "template_id": template_id,
            "layouts": authoring.list_layouts(session=session),
            "errors": errors,
            "channels": rules.CHANNELS,
            "kinds": rules.KINDS,
        },
        status_code=status_code,
    )


@router.get(BASE)
def template_list(request: Request, _user=Depends(current_user), session: Session = READ_SESSION):
    """Every template."""
    templates = service.list_templates(session=session)
    return render(request, "messages/templates.html", {"templates": templates})


@router.get(f"{BASE}/new")
def template_new(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """An empty editor, framed by the default layout (seeded on first use)."""
    layout = authoring.ensure_default_layout(session=session, now=utcnow())
    form = editor_form.Form(layout_id=str(layout.id), variants=(editor_form.blank_variant(),))
    return _editor(request, session, form)


async def _submitted(request: Request):
    """The submitted form, its CSRF token checked."""
    submitted = await request.form()
    check_csrf(request, submitted.get("csrf_token"))
    return submitted


def _customer_id(submitted) -> int | None:
    """The preview customer chosen (none: the first customer)."""
    value = str(submitted.get("customer_id", "")).strip()
    return int(value) if value.isdigit() else None


@router.post(BASE)
async def template_create(request: Request, _user=Depends(current_user), session=SESSION):
    """Save a new template, or show the editor again with the error at its field."""
    submitted = await _submitted(request)
    form = editor_form.from_submitted(submitted)
    try:
        with session.begin_nested():
            template = service.create_template(
                session=session,
                data=form.to_input(),
                now=utcnow(),
                customer_id=_customer_id(submitted),
            )
    except PatronError as exc:
        return _editor(request, session, form, error=exc, status_code=exc.status)
    flash(request, f"Template {template.name!r} saved.", "success")
    return RedirectResponse(f"{BASE}/{template.id}", status_code=303)


@router.get(f"{BASE}/{{template_id}}")
def template_show(request: Request, template_id: int, _user=Depends(current_user), session=SESSION):
    """The editor of a saved template."""
    try:
        template = service.get_template(session=session, template_id=template_id)
    except NotFound as exc:
        return _not_found(request, exc)
    variants = service.variants_of(session=session, template_id=template_id)
    return _editor(request, session, editor_form.from_template(template, variants), template_id)


@router.post(f"{BASE}/{{template_id}}")
async def template_update(
    request: Request, template_id: int, _user=Depends(current_user), session=SESSION
):
    """Save a template's changes, or show the editor again with the error at its field."""
    submitted = await _submitted(request)
    form = editor_form.from_submitted(submitted)
    try:
        with session.begin_nested():
            service.update_template(
                session=session,
                template_id=template_id,
                data=form.to_input(),
                now=utcnow(),
                customer_id=_customer_id(submitted),
            )
    except NotFound as exc:
        return _not_found(request, exc)
    except PatronError as exc:
        return _editor(request, session, form, template_id, error=exc, status_code=exc.status)
    flash(request, "Template saved.", "success")
    return RedirectResponse(f"{BASE}/{template_id}", status_code=303)


@router.post("/messages/preview")
async def template_preview(request: Request, _user=Depends(current_user), session=READ_SESSION):
    """The editor's fields rendered for a customer: JSON subject, HTML, text, or the error."""
    submitted = await _submitted(request)
    form = editor_form.from_submitted(submitted)
    try:
        rendered = authoring.preview(
            session=session,
            data=form.to_input(),
            customer_id=_customer_id(submitted),
            locale=str(submitted.get("preview_locale", "")) or None,
        )
    except PatronError as exc:
        field = editor_form.field_of(exc.message, form)
        return JSONResponse({"error": exc.message, "field": field}, status_code=exc.status)
    return JSONResponse(
        {
            "subject": rendered.subject,
            "preheader": rendered.preheader,
            "html": rendered.html,
            "text": rendered.text,
        }
    )


@router.get("/messages/customers")
def customer_search(
    q: str = Query("", max_length=200), _user=Depends(current_user), session=READ_SESSION
):
    """Customers matching a search, to preview with (JSON)."""
    found = authoring.find_customers(session=session, q=q) if q.strip() else []
    return [
        {"id": c.id, "label": " ".join(filter(None, [c.first_name, c.last_name, c.email]))}
        for c in found
    ]


@router.post(f"{BASE}/{{template_id}}/test")
def template_test(
    request: Request,
    template_id: int,
    csrf_token: str = Form(""),
    to: str = Form(""),
    customer_id: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Queue a test of the saved template to an address (transactional lane)."""
    check_csrf(request, csrf_token)
    chosen = int(customer_id) if customer_id.strip().isdigit() else None
    try:
        with session.begin_nested():
            row = authoring.send_test(
                session=session, template_id=template_id, to=to, customer_id=chosen, now=utcnow()
            )
    except PatronError as exc:
        flash(request, f"Test not sent: {exc.message}", "error")
        return RedirectResponse(f"{BASE}/{template_id}", status_code=303)
    where = "the mailbox" if sender.current_config().email_channel == "capture" else to
    done = f"Test message {row.id} queued to {to.strip()}; it arrives in {where}."
    flash(request, done, "success")
    return RedirectResponse(f"{BASE}/{template_id}", status_code=303)


@router.get("/messages/settings")
def sending_settings(request: Request, _user=Depends(current_user)):
    """What sending is configured to do, without secrets."""
    try:
        shown, problem = config.description(sender.current_config()), None
    except PatronError as exc:
        shown, problem = {}, exc.message
    return render(request, "messages/settings.html", {"shown": shown, "problem": problem})


# Layouts --------------------------------------------------------------------------------------

LAYOUTS = "/messages/layouts"


@router.get(LAYOUTS)
def layout_list(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Every layout (the default one seeded on first visit) and the form to add one."""
    authoring.ensure_default_layout(session=session, now=utcnow())
    layouts = authoring.list_layouts(session=session)
    return render(request, "messages/layouts.html", {"layouts": layouts})


def _layout_page(request, form: dict, layout_id=None, error=None, status_code=200):
    """The layout editor."""
    return render(
        request,
        "messages/layout_editor.html",
        {"form": form, "layout_id": layout_id, "error": error},
        status_code=status_code,
    )


@router.get(f"{LAYOUTS}/new")
def layout_new(request: Request, _user=Depends(current_user)):
    """An editor for a new layout, starting from the default one."""
    return _layout_page(request, {"name": "", "html": authoring.DEFAULT_LAYOUT_HTML})


@router.get(f"{LAYOUTS}/{{layout_id}}")
def layout_show(request: Request, layout_id: int, _user=Depends(current_user), session=SESSION):
    """A layout's editor."""
    try:
        layout = authoring.get_layout(session=session, layout_id=layout_id)
    except NotFound as exc:
        return _not_found(request, exc, LAYOUTS, "Layouts")
    return _layout_page(request, {"name": layout.name, "html": layout.html}, layout_id)


@router.post(LAYOUTS)
@router.post(f"{LAYOUTS}/{{layout_id}}")
def layout_save(
    request: Request,
    layout_id: int | None = None,
    csrf_token: str = Form(""),
    name: str = Form(""),
    html: str = Form("", max_length=500_000),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Save a layout, or show its editor again with the error."""
    check_csrf(request, csrf_token)
    form = {"name": name, "html": html}
    try:
        with session.begin_nested():
            layout = authoring.save_layout(
                session=session, name=name, html=html, now=utcnow(), layout_id=layout_id
            )
    except NotFound as exc:
        return _not_found(request, exc, LAYOUTS, "Layouts")
    except PatronError as exc:
        return _layout_page(request, form, layout_id, error=exc, status_code=exc.status)
    flash(request, f"Layout {layout.name!r} saved.", "success")
    return RedirectResponse(f"{LAYOUTS}/{layout.id}", status_code=303)
