"""An item's timeline: who changed what, when and why, each text diffed against the one
truly before it, restatements and changes after publication said in words; and, for
any event on it (or a report's publication), an inclusion proof to download."""

from __future__ import annotations

import json
from datetime import date

from flask import abort, current_app, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ledger.store import event_store
from ledger.store import signed_checkpoints as signed
from ledger.store.merkle import TreeNotBuilt, merkle_log
from ledger.store.proofs import NoSuchEvent, ProofUnavailable, inclusion_proof
from projections import queries
from projections.queries.review import get_item_reviews
from web.audit.diffs import diff_html
from web.audit.support import AUDIT_ROLES, PAGE_SIZE, Row, bp, data_dir, position_arg
from web.audit.verify import signing_key
from web.backend import ledger
from web.dashboards import db, programme_or_404, url_if_allowed
from web.permissions import can_write, requires_login, requires_role


def _restatement(event: Row, period_ends: dict[str, str]) -> str | None:
    """Words for a correction or re-rating of a period already recorded (the projections'
    rule for `restated`), saying whether the period had ended."""
    corrected = event["event_type"].endswith("Corrected")
    rerated = event["event_type"] == "StatusRecorded" and event["from_value"] not in (None, event["to_value"])
    if not (corrected or rerated) or not event["period"]:
        return None
    what = "corrects" if corrected else "re-rates"
    end = period_ends.get(event["period"])
    if end and event["recorded_at"][:10] > end:
        ended = date.fromisoformat(end)
        return f"Restatement: {what} {event['period']} after the period ended (on {ended.day} {ended:%B %Y})."
    return f"Restatement: {what} {event['period']} while the period was still open."


def _after_publication(event: Row, publications: list[Row]) -> list[str]:
    return [
        f"Recorded after {p['title']} (edition {p['edition']}) was published from log position "
        f"{p['log_position']}: the published report does not show this."
        for p in publications
        if event["period"] and p["period"] == event["period"] and p["log_position"] < event["position"]
    ]


def timeline_page(database: queries.Db, slug: str, ref: str, before: int | None = None) -> Row:
    """The item's events, oldest first, a page at a time: the newest PAGE_SIZE recorded
    before the position `before` (default: the newest of all), with the status texts,
    restatements in words, and each update diffed against the text truly before it (on
    this page or not)."""
    programme = programme_or_404(database, slug)
    item = queries.get_item(database, slug, ref)
    if item is None:
        abort(404)
    events = queries.get_item_timeline(database, slug, item["ref"], limit=PAGE_SIZE + 1, before=before)
    older = len(events) > PAGE_SIZE
    events = events[-PAGE_SIZE:]
    # The whole text history is cheap to read (one row per text); diffing it is not, so
    # only the texts on this page are diffed, each against the one before it.
    history = queries.get_item_history(database, slug, item["ref"])
    shown = {event["position"] for event in events}
    periods = queries.get_periods(database, slug)
    publications = queries.get_publications(database, slug)
    period_ends = {p["period"]: p["period_end"] for p in periods}

    # Each text is compared with the one before it: in the same period, the text it
    # replaced; otherwise the last text of the period before.
    texts: dict[int, Row] = {}
    previous: Row | None = None
    for row in history:
        if row["position"] not in shown:
            previous = row
            continue
        if previous is None:
            against = None
        elif previous["period"] == row["period"]:
            against = "the text it replaced"
        else:
            against = f"the {previous['period']} update"
        texts[row["position"]] = {
            **row,
            "against": against,
            "update_diff": diff_html(previous["update"], row["update"]) if previous else None,
            "mitigation_diff": diff_html(previous["mitigation"], row["mitigation"]) if previous else None,
            "changed": previous is not None
            and (previous["update"], previous["mitigation"]) != (row["update"], row["mitigation"]),
        }
        previous = row

    entries = [
        {
            **event,
            "text": texts.get(event["position"]),
            "restatement": _restatement(event, period_ends),
            "after_publication": _after_publication(event, publications),
        }
        for event in events
    ]
    return {
        "programme": programme,
        "item": item,
        "entries": entries,
        "reviews": get_item_reviews(database, slug, item["ref"]),
        "newer_url": _newer_timeline_url(database, slug, item["ref"], events) if before is not None else None,
        "older_url": (
            url_for("audit.timeline", programme=slug, ref=item["ref"], before=events[0]["position"])
            if older
            else None
        ),
    }


def _newer_timeline_url(database: queries.Db, slug: str, ref: str, events: list[Row]) -> str:
    """The page after this one: the next PAGE_SIZE events, i.e. those before the event
    PAGE_SIZE + 1 places after this page's newest (or the newest page, if there are fewer)."""
    newest = events[-1]["position"] if events else 0
    before = queries.get_timeline_position_after(database, slug, ref, newest, PAGE_SIZE)
    if before is None:
        return url_for("audit.timeline", programme=slug, ref=ref)
    return url_for("audit.timeline", programme=slug, ref=ref, before=before)


@bp.route("/programmes/<programme>/items/<path:ref>/timeline")
@requires_login
def timeline(programme: str, ref: str) -> str:
    page = timeline_page(db(), programme, ref, position_arg("before"))
    slug, item_ref = page["programme"]["programme"], page["item"]["ref"]
    measures_url = url_if_allowed("updates.item_measures", programme=slug, ref=item_ref)
    page["measures_url"] = measures_url if can_write(current_user, slug) else None
    spans = [s for s in queries.get_retirements(db(), slug) if s["ref"] == item_ref]
    retired = spans[-1] if spans and not spans[-1]["reinstated_from"] else None
    page["off_register"] = f"{retired['words']} from {retired['retired_from']}" if retired else None
    writer = can_write(current_user, slug)
    for name, endpoint in (
        ("retire_url", "updates.retire_item"), ("move_url", "updates.move_item"),
        ("kind_url", "updates.change_item_kind"),
    ):  # the programme managers' changes to the item, for those who may make them
        url = url_if_allowed(endpoint, programme=slug, ref=item_ref)
        page[name] = url if writer else None
    return render_template("audit/timeline.html", **page)


@bp.route("/audit/proofs/<int:position>.json")
@requires_role(*AUDIT_ROLES)
def inclusion_proof_download(position: int) -> Response:
    """The proof that the event at `position` is in the log, against the log's checkpoint
    now (signed where a key is configured), which the proof carries; check it offline
    with `govledger proof check` and that checkpoint (or the public key)."""
    log = merkle_log(ledger().recorder)
    if log is None:
        abort(404)
    try:
        checkpoint = signed.tree_checkpoint(log, event_store(data_dir()), signing_key([]))
        proof = inclusion_proof(log, checkpoint, position)
    except NoSuchEvent:
        abort(404)
    except ProofUnavailable as error:  # the stored event disagrees with the tree: say so
        current_app.logger.warning("inclusion proof refused: %s", error)
        return Response(f"No proof: {error}. See the verify page.\n", status=409, mimetype="text/plain")
    except TreeNotBuilt as error:
        current_app.logger.warning("inclusion proof refused: %s", error)
        message = (
            "The log's Merkle tree is not built yet: an administrator runs `govledger merkle-backfill`.\n"
        )
        return Response(message, status=503, mimetype="text/plain")
    return Response(
        json.dumps(proof, indent=2, ensure_ascii=False) + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="proof-position-{position}.json"'},
    )
