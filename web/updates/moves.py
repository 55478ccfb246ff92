"""Re-filing an item when the plan is restructured, each with a reason: a programme
manager moves it under another parent (with everything beneath it), or calls it another
kind (an action becomes a priority). Its history stays under its own ref; reports lay it
out by its new place from then on."""

from __future__ import annotations

from flask import url_for
from govuk_frontend_wtf.wtforms_widgets import GovSelect
from werkzeug.wrappers import Response
from wtforms import Field, SelectChoice, SelectField, ValidationError

from ledger.domain import ITEM_KINDS
from ledger.domain.wording import with_article
from projections import queries
from web.backend import ledger
from web.permissions import PROGRAMME_MANAGER, requires_role
from web.updates.forms import VersionedForm, textarea
from web.updates.support import actor, bp, db, fill, submit, writable_item

TOP = "(top)"  # the select's value for the top of the programme: no ref contains brackets


class MoveForm(VersionedForm):
    parent_ref = SelectField(
        "Move it under",
        description="Items filed beneath it move with it. It cannot go under itself or one of them.",
        widget=GovSelect(),
        invalid_choice_message="Select an item of this programme from the list",
    )
    reason = textarea(
        "Reason", "Auditors will see this with your name and the time.",
        required="Enter why the item moves",
    )
    now_under = TOP  # the item's parent now, set by the view

    def validate_parent_ref(self, field: Field) -> None:
        if (field.data or "").casefold() == self.now_under.casefold():
            raise ValidationError("It is already there: select where it moves to")


@bp.route("/programmes/<programme>/items/<ref>/move", methods=["GET", "POST"])
@requires_role(PROGRAMME_MANAGER)
def move_item(programme: str, ref: str) -> tuple[str, int] | Response:
    p, item = writable_item(programme, ref)
    form = MoveForm()
    form.parent_ref.choices = [SelectChoice(TOP, "The top of the programme (no parent)")] + [
        SelectChoice(i["ref"], f"{'— ' * i['depth']}{i['ref']}: {i['title']}")
        for i in queries.get_possible_parents(db(), p.slug, item["ref"])
    ]
    form.now_under = item["parent_ref"] or TOP
    fill(form, parent_ref=form.now_under, seen_version=str(item["version"]))

    def parent() -> str:
        return "" if form.parent_ref.data == TOP else form.parent_ref.data or ""

    def saved() -> str:
        where = f"under {parent()}" if parent() else "to the top of the programme"
        return f"{item['ref']} is moved {where}."

    return submit(
        form,
        lambda: ledger().move_item(
            p.slug, item["ref"], parent(), reason=form.reason.data, actor=actor(), seen_version=form.seen
        ),
        saved=saved,
        back=url_for("audit.timeline", programme=p.slug, ref=item["ref"]),
        template="updates/move_item.html",
        current=lambda: queries.get_item(db(), p.slug, item["ref"]),
        programme=p,
        item=item,
    )


class KindForm(VersionedForm):
    kind = SelectField(
        "Kind of item",
        description="Reports lay out visions, aims and priorities as headings over the items beneath them.",
        widget=GovSelect(),
        choices=[SelectChoice(kind, kind.capitalize()) for kind in ITEM_KINDS],
        invalid_choice_message="Select a kind of item from the list",
    )
    reason = textarea(
        "Reason", "Auditors will see this with your name and the time.",
        required="Enter why the item becomes another kind",
    )
    now = ""  # the item's kind now, set by the view

    def validate_kind(self, field: Field) -> None:
        if field.data == self.now:
            raise ValidationError(f"It is already {with_article(self.now)}: select another kind")


@bp.route("/programmes/<programme>/items/<ref>/kind", methods=["GET", "POST"])
@requires_role(PROGRAMME_MANAGER)
def change_item_kind(programme: str, ref: str) -> tuple[str, int] | Response:
    p, item = writable_item(programme, ref)
    form = KindForm()
    form.now = item["kind"]
    fill(form, kind=item["kind"], seen_version=str(item["version"]))
    return submit(
        form,
        lambda: ledger().change_item_kind(
            p.slug, item["ref"], form.kind.data or "", reason=form.reason.data, actor=actor(),
            seen_version=form.seen,
        ),
        saved=lambda: f"{item['ref']} is now {with_article(form.kind.data or '')}.",
        back=url_for("audit.timeline", programme=p.slug, ref=item["ref"]),
        template="updates/item_kind.html",
        current=lambda: queries.get_item(db(), p.slug, item["ref"]),
        programme=p,
        item=item,
    )
