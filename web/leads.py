"""Leads are accounts: administrators link free-text leads to accounts, and reassign an
item's lead. Every link is a ledger event with the administrator's name and reason."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ledger.errors import LedgerError
from projections import queries
from web.backend import backend, read_model
from web.forms import LeadForm, add_error
from web.permissions import ADMINISTRATOR, requires_role

bp = Blueprint("leads", __name__, url_prefix="/admin")

NO_ACCOUNT = SelectChoice("", "No account (free text only)")


def _account_choices(blank: SelectChoice) -> list[SelectChoice]:
    return [
        blank,
        *(
            SelectChoice(a["username"], f"{a['display_name']} ({a['username']})")
            for a in queries.get_accounts(read_model())
            if a["active"]
        ),
    ]


def _field(error: LedgerError) -> str | None:
    """The form's field for the ledger's: the account chosen, or the reason."""
    return {"lead_account": "account", "reason": "reason"}.get(error.field or "")


def _linked(message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("leads.leads"))


@bp.route("/leads")
@requires_role(ADMINISTRATOR)
def leads() -> str:
    """Free-text leads no account is linked to, and every item's lead."""
    db = read_model()
    return render_template(
        "admin/leads.html",
        unlinked=queries.get_unlinked_leads(db),
        items=queries.get_item_leads(db),
    )


@bp.route("/leads/link", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def link_lead() -> str | Response:
    """Link every unlinked item a free-text lead names to one account, all or nothing."""
    text = request.values.get("lead_officer", "")
    lead = next(
        (row for row in queries.get_unlinked_leads(read_model()) if row["lead_officer"] == text), None
    )
    if lead is None:
        abort(404)
    form = LeadForm()
    form.account.choices = _account_choices(SelectChoice("", "Select an account"))
    if form.validate_on_submit():
        if not form.account.data:
            add_error(form, "Select an account", "account")
        else:
            try:
                ledger = backend().ledger
                with ledger.batch() as batch:
                    for item in lead["items"]:
                        ledger.link_lead(
                            item["programme"],
                            item["ref"],
                            form.account.data,
                            actor=current_user.username,
                            reason=form.reason.data,
                            seen_version=item["version"],
                            batch=batch,
                        )
            except LedgerError as error:
                add_error(form, error, _field(error))
            else:
                count = len(lead["items"])
                return _linked(
                    f"{text} linked to {form.account.data} on {count} item{'s' if count != 1 else ''}."
                )
    form.lead_officer.data = text
    return render_template("admin/link_lead.html", form=form, lead=lead, title=f"Link {text} to an account")


@bp.route("/programmes/<programme>/items/<ref>/lead", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def item_lead(programme: str, ref: str) -> str | Response:
    """Reassign one item's lead to another account (or to none)."""
    item = queries.get_item(read_model(), programme, ref)
    if item is None:
        abort(404)
    form = LeadForm()
    form.account.choices = _account_choices(NO_ACCOUNT)
    if form.validate_on_submit():
        try:
            backend().ledger.link_lead(
                item["programme"],
                item["ref"],
                form.account.data or "",
                actor=current_user.username,
                reason=form.reason.data,
                seen_version=item["version"],
            )
        except LedgerError as error:
            add_error(form, error, _field(error))
        else:
            return _linked(f"{item['ref']}'s lead is now {form.account.data or 'free text only'}.")
    elif not form.is_submitted():
        form.account.data = item["lead_account"] or ""
    return render_template("admin/item_lead.html", form=form, item=item, title=f"Lead for {item['ref']}")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
