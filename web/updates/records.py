"""Dependencies, indicator values and the report narrative."""

from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ledger.domain import NARRATIVE_SECTIONS
from projections import queries
from web.backend import ledger
from web.permissions import PROGRAMME_MANAGER, may_view, requires_role
from web.updates.forms import (
    DEFINITION,
    IndicatorDefinitionForm,
    IndicatorValueForm,
    NarrativeForm,
    RegisterDependencyForm,
    ReviewDependencyForm,
)
from web.updates.support import (
    Programme,
    Row,
    actor,
    bp,
    db,
    fill,
    find,
    requested,
    submit,
    writable_programme,
    writers_only,
)

# ---------------------------------------------------------------- dependencies


@bp.route("/programmes/<programme>/dependencies")
@writers_only
def dependencies(programme: str) -> str:
    p = writable_programme(programme)
    return render_template(
        "updates/dependencies.html", programme=p, dependencies=queries.get_dependencies(db(), p.slug)
    )


@bp.route("/programmes/<programme>/dependencies/new", methods=["GET", "POST"])
@writers_only
def register_dependency(programme: str) -> tuple[str, int] | Response:
    p = writable_programme(programme)
    back = url_for("updates.dependencies", programme=p.slug)
    form = RegisterDependencyForm()
    form.period.choices = p.period_choices()
    fill(form, plan_agreed="", confidence="", period=p.current_period.label)
    return submit(
        form,
        lambda: ledger().register_dependency(
            p.slug,
            form.ref.data,
            description=form.description.data,
            plan_agreed=form.plan_agreed.data,
            confidence=form.confidence.data,
            owner=form.owner.data,
            period=form.period.data,
            actor=actor(),
        ),
        saved=lambda: f"Dependency {form.ref.data} registered.",
        back=back,
        template="updates/register_dependency.html",
        programme=p,
    )


@bp.route("/programmes/<programme>/dependencies/<ref>/review", methods=["GET", "POST"])
@writers_only
def review_dependency(programme: str, ref: str) -> tuple[str, int] | Response:
    p = writable_programme(programme)
    back = url_for("updates.dependencies", programme=p.slug)
    dependency = find(queries.get_dependencies(db(), p.slug), ref)
    form = ReviewDependencyForm()
    form.period.choices = p.period_choices(dependency["period"])
    fill(
        form,
        plan_agreed=dependency["plan_agreed"],
        confidence=dependency["confidence"],
        period=p.current_period.label,
        seen_version=str(dependency["version"]),
    )
    return submit(
        form,
        lambda: ledger().review_dependency(
            p.slug,
            dependency["ref"],
            plan_agreed=form.plan_agreed.data,
            confidence=form.confidence.data,
            period=form.period.data,
            reason=form.reason.data,
            actor=actor(),
            seen_version=form.seen,
        ),
        saved=lambda: f"Dependency {dependency['ref']} reviewed.",
        back=back,
        template="updates/review_dependency.html",
        current=lambda: find(queries.get_dependencies(db(), p.slug), ref),
        programme=p,
        dependency=dependency,
    )


# ---------------------------------------------------------------- indicators


@bp.route("/programmes/<programme>/indicators")
@writers_only
def indicators(programme: str) -> str:
    p = writable_programme(programme)
    period = p.current_period.label
    return render_template(
        "updates/indicators.html",
        programme=p,
        period=period,
        definitions=queries.get_indicator_definitions(db(), p.slug),
        values=queries.get_indicators(db(), p.slug, period),
        may_define=may_view(current_user, "updates.define_indicator"),
    )


def _value(p: Programme, ref: str, period: str, breakdown: str) -> Row | None:
    for row in queries.get_indicators(db(), p.slug, period):
        if row["ref"] == ref and row["breakdown"] == breakdown.strip():
            return row
    return None


@bp.route("/programmes/<programme>/indicators/<ref>/record", methods=["GET", "POST"])
@writers_only
def record_indicator(programme: str, ref: str) -> tuple[str, int] | Response:
    p = writable_programme(programme)
    back = url_for("updates.indicators", programme=p.slug)
    indicator = find(queries.get_indicator_definitions(db(), p.slug), ref)
    form = IndicatorValueForm()
    form.period.choices = p.period_choices()
    period = p.choice_or_current(requested("period"), form.period.choices)
    breakdown = requested("breakdown") or ""
    recorded = _value(p, indicator["ref"], period, breakdown)
    fill(
        form,
        period=period,
        breakdown=breakdown,
        value=recorded["value_text"] if recorded else "",
        seen_version=str(indicator["version"]),
    )
    return submit(
        form,
        lambda: ledger().record_indicator_value(
            p.slug,
            indicator["ref"],
            period=form.period.data,
            value=form.value.data,
            breakdown=form.breakdown.data,
            reason=form.reason.data,
            actor=actor(),
            seen_version=form.seen,
        ),
        saved=lambda: f"{indicator['name']}: value saved for {form.period.data}.",
        back=back,
        template="updates/record_indicator.html",
        current=lambda: _value(p, indicator["ref"], form.period.data, form.breakdown.data or ""),
        programme=p,
        indicator=indicator,
    )


@bp.route("/programmes/<programme>/indicators/<ref>/definition", methods=["GET", "POST"])
@requires_role(PROGRAMME_MANAGER)
def define_indicator(programme: str, ref: str) -> tuple[str, int] | Response:
    """Correct an indicator's definition: a restatement of every value's direction."""
    p = writable_programme(programme)
    indicator = find(queries.get_indicator_definitions(db(), p.slug), ref)
    form = IndicatorDefinitionForm()
    form.now = {k: indicator[k] for k in DEFINITION}
    fill(form, **form.now, seen_version=str(indicator["version"]))
    return submit(
        form,
        lambda: ledger().redefine_indicator(
            p.slug, indicator["ref"], **{k: getattr(form, k).data or "" for k in DEFINITION},
            reason=form.reason.data, actor=actor(), seen_version=form.seen,
        ),
        saved=lambda: f"{indicator['ref']}: definition saved. Every value's direction of travel follows it.",
        back=url_for("updates.indicators", programme=p.slug),
        template="updates/define_indicator.html",
        current=lambda: find(queries.get_indicator_definitions(db(), p.slug), indicator["ref"]),
        programme=p,
        indicator=indicator,
    )


# ---------------------------------------------------------------- report narrative


def _sections(p: Programme, period: str) -> dict[str, Row]:
    return {row["section"]: row for row in queries.get_sections(db(), p.slug, period)}


@bp.route("/programmes/<programme>/narrative", methods=["GET", "POST"])
@writers_only
def narrative(programme: str) -> tuple[str, int] | Response:
    p = writable_programme(programme)
    choices = p.period_choices()
    form = NarrativeForm()
    posted = form.period.data if form.is_submitted() else None
    period = posted or p.choice_or_current(requested("period"), choices)
    sections = _sections(p, period)
    # A narrative not yet written is created at version 1 by the first write, so 1 is
    # the version "seen" of an empty one; anyone writing first moves it past that.
    seen = max((row["version"] for row in sections.values()), default=1)
    fill(form, period=period, seen_version=str(seen), **{k: row["text"] for k, row in sections.items()})

    def write_all() -> None:
        if not sections and not any((form[key].data or "").strip() for key in NARRATIVE_SECTIONS):
            return  # nothing written, nothing to record
        with ledger().batch() as batch:
            for i, key in enumerate(NARRATIVE_SECTIONS):
                ledger().write_narrative(
                    p.slug,
                    period=form.period.data,
                    section=key,
                    text=form[key].data,
                    actor=actor(),
                    # One check for the whole page: later sections are in the same batch.
                    seen_version=form.seen if i == 0 else None,
                    batch=batch,
                )

    return submit(
        form,
        write_all,
        saved=lambda: f"Report narrative for {form.period.data} saved.",
        back=url_for("updates.my_items"),
        template="updates/narrative.html",
        current=lambda: _sections(p, form.period.data),
        programme=p,
        period=period,
        choices=choices,
        headings=NARRATIVE_SECTIONS,
    )
