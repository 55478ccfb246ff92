""""Why is this red?": the events that led to an item's rating for one period, in order,
with who, when, what changed, the reason, any restatement and the review's approval
state; the step that moved the status into its category is marked in words. Linked from
every status the dashboards, the item page and the reports show."""

from __future__ import annotations

from flask import abort, render_template, request

from projections import queries
from projections.queries.review import get_review
from projections.queries.why import get_rating_story
from web.audit.support import Row, bp
from web.dashboards import canonical_period, db, programme_or_404
from web.permissions import requires_login


def why_page(database: queries.Db, slug: str, ref: str, period_text: str | None) -> Row:
    programme = programme_or_404(database, slug)
    item = queries.get_item(database, slug, ref)
    if item is None:
        abort(404)
    period = canonical_period(programme, period_text)
    if period is None:
        abort(404)
    steps = get_rating_story(database, slug, item["ref"], period)
    if not steps:
        abort(404)
    names = {a["username"]: a["display_name"] for a in queries.get_accounts(database)}
    return {
        "programme": programme,
        "item": item,
        "period": period,
        "steps": steps,
        "now": steps[-1],
        "review": get_review(database, slug, item["ref"], period),
        "people": names,
    }


@bp.route("/programmes/<programme>/items/<path:ref>/why")
@requires_login
def why(programme: str, ref: str) -> str:
    return render_template("audit/why.html", **why_page(db(), programme, ref, request.args.get("period")))
