"""Publishing a report, and the record of each edition: what it was built from, the
approvals it relied on (with the SHA-256 of the content each approved) and any override.

In a period opened for updates every item in the report must be approved; the publish
page lists those that are not, and the programme manager may publish anyway only with a
reason, which the edition records."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from werkzeug.wrappers import Response
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from ledger.errors import LedgerError
from projections import queries
from projections.queries.narrative_checks import NarrativeCheck, get_narrative_checks
from projections.queries.review import get_review_states
from projections.reports import build, publish
from projections.reports.model import REPORT_KINDS
from web.backend import backend
from web.forms import add_error, whole_number
from web.permissions import EVERY_ROLE, PUBLISHER_ROLES, can_publish, requires_role
from web.reports.support import KINDS, bp, edition_arg, programme_or_abort, requested_period

# How each review state reads to the person publishing (draft: saved, never submitted).
NOT_APPROVED_WORDS = {
    "submitted": "Awaiting review",
    "returned": "Returned to the officer",
    "superseded": "Approval superseded: changed since it was approved",
    "approved": "Approval superseded: changed since it was approved",
}


class PublishForm(FlaskForm):
    # The log position the person saw on the confirm page: publishing goes ahead only if
    # the ledger is still there, so nobody publishes changes they have not seen (and an
    # empty POST records nothing).
    position = HiddenField(validators=[InputRequired("Open the publish page again and confirm.")])
    reason = TextAreaField(
        "Reason",
        description="Auditors will see this with your name. Required when publishing again.",
        widget=GovTextArea(),
        validators=[Length(max=2000)],
    )
    override_reason = TextAreaField(
        "Why publish with updates not approved",
        description="Recorded with this edition and shown on its record, with your name.",
        widget=GovTextArea(),
        validators=[Length(max=2000)],
    )
    submit = SubmitField("Publish", widget=GovSubmitInput())


def _seen_position(form: PublishForm) -> int:
    # -1 is never the ledger's position, so a tampered one is refused as "changed since".
    position = whole_number(form.position.data)
    return -1 if position is None else position


def _not_approved(slug: str, kind: str, period: str) -> list[dict[str, Any]] | None:
    """The report's items not approved as they stand, each with why, as the ledger will
    check them on publishing; None where review does not apply (a period never opened)."""
    system = backend().system
    report = build.build_report(system.projections_db, slug, kind, period)
    entries = {e.ref: e for e in report.entries}
    review = system.ledger.get_report_review(slug, period, list(entries))
    if review is None:
        return None
    states = get_review_states(system.projections_db, slug, period)
    return [
        {
            "ref": ref,
            "title": entries[ref].title,
            "why": NOT_APPROVED_WORDS.get(
                states[ref]["state"] if ref in states else "", "Not submitted for review"
            ),
        }
        for ref in review["unapproved"]
    ]


@bp.route(f"/<programme>/<{KINDS}:kind>/publish", methods=["GET", "POST"])
@requires_role(*PUBLISHER_ROLES)
def publish_report(programme: str, kind: str) -> str | Response:
    """Confirm, then publish the report as the ledger stands now (POST, CSRF-protected)."""
    p = programme_or_abort(programme)
    if not can_publish(current_user, p["slug"]):
        abort(403)
    period = requested_period(p)
    system = backend().system
    editions = publish.list_editions(system.ledger, p["slug"], kind, period)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            edition = publish.publish(
                system,
                p["slug"],
                kind,
                period,
                actor=current_user.username,
                reason=form.reason.data or "",
                seen_position=_seen_position(form),
                override_reason=form.override_reason.data or "",
            )
        except LedgerError as error:
            add_error(form, error)
        else:
            flash(
                f"{edition.title} published (edition {edition.edition}, from log position "
                f"{edition.log_position}).",
                "success",
            )
            return redirect(url_for("reports.publications", programme=p["slug"]))
    position = build.current_position(system.projections_db)
    form.position.data = str(position)
    return render_template(
        "reports/publish.html",
        form=form,
        programme=p,
        kind=kind,
        kind_name=REPORT_KINDS[kind],
        period=period,
        editions=editions,
        position=position,
        not_approved=_not_approved(p["slug"], kind, period),
        narrative_checks=get_narrative_checks(system.projections_db, p["slug"], period),
        checks_when="the ledger as it stands now",
    )


@bp.route(f"/<programme>/<{KINDS}:kind>/record")
@requires_role(*EVERY_ROLE)
def record(programme: str, kind: str) -> str:
    """One edition's record: who published it, when, from which log position, its hash,
    and the review it relied on (approvals with their hashes, or the override)."""
    p = programme_or_abort(programme)
    period = requested_period(p)
    editions = [
        e
        for e in queries.get_publications(backend().system.projections_db, p["slug"], period)
        if e["report"] == kind
    ]
    number = edition_arg()
    wanted = [e for e in editions if number is None or e["edition"] == number]
    if not wanted:
        abort(404)
    edition = max(wanted, key=lambda e: e["edition"])
    return render_template(
        "reports/record.html",
        programme=p,
        kind=kind,
        kind_name=REPORT_KINDS[kind],
        period=period,
        edition=edition,
        approvals=json.loads(edition["approvals"] or "[]"),
        not_approved=[ref for ref in edition["not_approved"].split(", ") if ref],
        narrative_checks=_checks_as_published(p["slug"], period, edition["log_position"]),
        checks_when=f"as published, from log position {edition['log_position']}",
    )


def _checks_as_published(slug: str, period: str, position: int) -> list[NarrativeCheck]:
    """The narrative checks against the ledger as it stood when the edition was built."""
    with tempfile.TemporaryDirectory(prefix="govledger-checks-") as temp:
        snapshot = publish.snapshot_file(backend().system, Path(temp), position, slug)
        return get_narrative_checks(snapshot, slug, period)
