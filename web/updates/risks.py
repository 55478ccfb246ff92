"""Risks and issues: raise one; re-rate it after mitigation, close or reopen it, with a reason."""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template, url_for
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from projections import queries
from web.backend import ledger
from web.updates.forms import CloseRiskForm, RaiseRiskForm, ReopenRiskForm, RerateRiskForm
from web.updates.support import (
    Programme,
    Row,
    actor,
    bp,
    db,
    fill,
    find,
    submit,
    writable_programme,
    writers_only,
)

RISK_URL = "/programmes/<programme>/risks/<any(risk, issue):kind>/<ref>"
NOT_RERATED = SelectChoice("", "Not re-rated yet")
NOT_PUBLISHED = SelectChoice("", "Not published")


@bp.route("/programmes/<programme>/risks")
@writers_only
def risks(programme: str) -> str:
    p = writable_programme(programme)
    return render_template("updates/risks.html", programme=p, risks=queries.get_risks(db(), p.slug))


def _risk(p: Programme, kind: str, ref: str) -> Row:
    return find(queries.get_risks(db(), p.slug, kind), ref)


def _rag_choices(form: RaiseRiskForm | RerateRiskForm, p: Programme) -> None:
    form.rag_before.choices = [*p.status_choices(p.rated), NOT_PUBLISHED]
    form.rag_after.choices = [*p.status_choices(p.rated), NOT_RERATED]


@bp.route("/programmes/<programme>/risks/new", methods=["GET", "POST"])
@writers_only
def raise_risk(programme: str) -> tuple[str, int] | Response:
    p = writable_programme(programme)
    form = RaiseRiskForm()
    _rag_choices(form, p)
    form.period.choices = p.period_choices()
    fill(form, kind="risk", rag_before="", rag_after="", period=p.current_period.label)
    return submit(
        form,
        lambda: ledger().raise_risk(
            p.slug,
            form.ref.data,
            kind=form.kind.data,
            description=form.description.data,
            rag_before=form.rag_before.data,
            mitigation=form.mitigation.data,
            rag_after=form.rag_after.data,
            owner=form.owner.data,
            period=form.period.data,
            actor=actor(),
        ),
        saved=lambda: f"{form.kind.data.capitalize()} {form.ref.data} raised.",
        back=url_for("updates.risks", programme=p.slug),
        template="updates/raise_risk.html",
        programme=p,
    )


@bp.route(f"{RISK_URL}/rerate", methods=["GET", "POST"])
@writers_only
def rerate_risk(programme: str, kind: str, ref: str) -> tuple[str, int] | Response:
    p = writable_programme(programme)
    risk = _risk(p, kind, ref)
    form = RerateRiskForm()
    _rag_choices(form, p)
    form.period.choices = p.period_choices(risk["period"])
    fill(
        form,
        rag_before=risk["rag_before"],
        mitigation=risk["mitigation"],
        rag_after=risk["rag_after"],
        period=p.current_period.label,
        seen_version=str(risk["version"]),
    )
    return _submit_risk(
        p,
        risk,
        form,
        lambda: ledger().rerate_risk(
            p.slug,
            risk["ref"],
            kind=kind,
            rag_before=form.rag_before.data,
            mitigation=form.mitigation.data,
            rag_after=form.rag_after.data,
            period=form.period.data,
            reason=form.reason.data,
            actor=actor(),
            seen_version=form.seen,
        ),
        "updates/rerate_risk.html",
        "re-rated",
    )


def _submit_risk(
    p: Programme,
    risk: Row,
    form: RerateRiskForm | CloseRiskForm | ReopenRiskForm,
    command: Callable[[], object],
    template: str,
    what: str,
) -> tuple[str, int] | Response:
    """Re-rate, close or reopen: the same page around a different command."""
    return submit(
        form,
        command,
        saved=lambda: f"{risk['kind'].capitalize()} {risk['ref']} {what}.",
        back=url_for("updates.risks", programme=p.slug),
        template=template,
        current=lambda: _risk(p, risk["kind"], risk["ref"]),
        programme=p,
        risk=risk,
    )


def _risk_state(
    programme: str,
    kind: str,
    ref: str,
    form: CloseRiskForm | ReopenRiskForm,
    command: str,
    template: str,
    what: str,
) -> tuple[str, int] | Response:
    """Close or reopen: the same question (which period, and why), a different command."""
    p = writable_programme(programme)
    risk = _risk(p, kind, ref)
    form.period.choices = p.period_choices(risk["period"])
    fill(form, period=p.current_period.label, seen_version=str(risk["version"]))
    return _submit_risk(
        p,
        risk,
        form,
        lambda: getattr(ledger(), command)(
            p.slug,
            risk["ref"],
            kind=kind,
            period=form.period.data,
            reason=form.reason.data,
            actor=actor(),
            seen_version=form.seen,
        ),
        template,
        what,
    )


@bp.route(f"{RISK_URL}/close", methods=["GET", "POST"])
@writers_only
def close_risk(programme: str, kind: str, ref: str) -> tuple[str, int] | Response:
    return _risk_state(
        programme, kind, ref, CloseRiskForm(), "close_risk", "updates/close_risk.html", "closed"
    )


@bp.route(f"{RISK_URL}/reopen", methods=["GET", "POST"])
@writers_only
def reopen_risk(programme: str, kind: str, ref: str) -> tuple[str, int] | Response:
    return _risk_state(
        programme, kind, ref, ReopenRiskForm(), "reopen_risk", "updates/reopen_risk.html", "reopened"
    )
