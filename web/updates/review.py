"""Review of officers' updates: the queue awaiting the signed-in reviewer, and one item's
update for a period, approved or returned with a comment (issue 12, item 4).

Reviewers are the programme managers of the programme (`ledger.application.review`):
the ledger checks that again, with the rule that nobody approves their own update. The
reviewer approves exactly the content they read: the page carries its SHA-256, and if
the update changed since, the approval is refused and the update shown as it is now."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea
from werkzeug.wrappers import Response
from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length

from ledger.domain import content_sha256
from ledger.errors import LedgerError
from projections.queries.review import REVIEW_STATE_WORDS, get_review, get_review_queue
from web.backend import ledger
from web.permissions import PROGRAMME_MANAGER, requires_role
from web.updates.forms import TEXT_LIMIT
from web.updates.support import Programme, Row, actor, bp, db, load_programme, submit, writable_programme

APPROVE, RETURN = "approve", "return"


@bp.app_template_global()
def review_words(state: str | None) -> str:
    """A review state in words (draft where nothing was submitted)."""
    return REVIEW_STATE_WORDS.get(state or "draft", state or "")


class ReviewForm(FlaskForm):
    decision = RadioField(
        "Your decision",
        choices=[
            SelectChoice(APPROVE, "Approve this update"),
            SelectChoice(RETURN, "Return it to the officer"),
        ],
        widget=GovRadioInput(),
        validators=[InputRequired("Select whether to approve or return the update")],
        invalid_choice_message="Select whether to approve or return the update",
    )
    comment = TextAreaField(
        "Comment",
        description="Required to return it: say what the update needs. Optional to approve. "
        "The officer and auditors will see it with your name.",
        widget=GovTextArea(),
        validators=[Length(max=TEXT_LIMIT)],
    )
    # The SHA-256 of the content shown (the template writes the current one): approving
    # content that changed after the page was rendered is refused.
    seen_sha256 = HiddenField()


def _queue() -> list[dict[str, Any]]:
    """The updates awaiting this reviewer, per programme and period; updates they wrote
    or submitted are left to another reviewer."""
    me = actor()
    sections: dict[tuple[str, str], dict[str, Any]] = {}
    for row in get_review_queue(db(), programmes=current_user.programmes, reviewer=me):
        if row["recorded_by"] == me:
            continue
        key = (row["programme"], row["period"])
        if key not in sections:
            programme = load_programme(row["programme"])
            sections[key] = {"programme": programme, "period": row["period"], "rows": []}
        sections[key]["rows"].append(row)
    return sorted(sections.values(), key=lambda s: (s["programme"].name, s["period"]))


@bp.route("/review")
@requires_role(PROGRAMME_MANAGER)
def review_queue() -> str:
    return render_template("updates/review_queue.html", sections=_queue())


def _stored(p: Programme, ref: str, period: str) -> tuple[Row, dict[str, Any], str]:
    """The review row (read model) and the content as the ledger stores it, with its hash;
    404 unless the update for that period has been submitted."""
    review = get_review(db(), p.slug, ref, period)
    if review is None:
        abort(404)
    try:
        rating = ledger().get_item(p.slug, review["ref"])["ratings"][review["period"]]
    except (LedgerError, KeyError):
        abort(404)
    return review, rating, content_sha256(rating["status"], rating["update"], rating["mitigation"])


def _decide(p: Programme, review: Row, form: ReviewForm) -> None:
    """The one ledger command the decision asks for (nothing when no decision is made)."""
    where = {"period": review["period"], "actor": actor(), "comment": form.comment.data or ""}
    if form.decision.data == APPROVE:
        ledger().approve_update(p.slug, review["ref"], seen_sha256=form.seen_sha256.data or "", **where)
    elif form.decision.data == RETURN:
        ledger().return_update(p.slug, review["ref"], **where)


@bp.route("/programmes/<programme>/items/<ref>/review", methods=["GET", "POST"])
@requires_role(PROGRAMME_MANAGER)
def review_item(programme: str, ref: str) -> tuple[str, int] | Response:
    """The submitted update, and the form to approve it or return it with a comment."""
    p = writable_programme(programme)
    period = _period_arg(p)
    review, rating, digest = _stored(p, ref, period)
    form = ReviewForm()
    me = actor()
    return submit(
        form,
        lambda: _decide(p, review, form),
        saved=lambda: (
            f"{review['ref']}'s update for {period} "
            + ("approved." if form.decision.data == APPROVE else "returned to the officer.")
        ),
        back=url_for("updates.review_queue"),
        template="updates/review_item.html",
        programme=p,
        review=review,
        rating=rating,
        category=p.category_of(rating["status"]),
        # The page shows the content as it is now, so a new decision is about this hash.
        digest=digest,
        own=me in (review["submitted_by"], rating["actor"]),
    )


def _period_arg(p: Programme) -> str:
    try:
        return p.parse(request.args.get("period", "")).label
    except LedgerError:
        abort(404)
