"""Status scales on the administrator's pages: the scales in use, defining and revising a
council's scale, and changing the scale a programme rates on (with a mapping from old
statuses to new). Every change is a ledger command with who and why."""

from __future__ import annotations

import csv

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ledger.errors import InvalidValue, LedgerError, UnknownRef
from ledger.scales import BUILT_IN_SCALES, Scale, Status
from ledger.transfer.kinds.scales import ALIAS_SEPARATOR, STATUS_CELLS, make_status
from projections import queries
from web.backend import backend, read_model
from web.dashboards import programme_or_404
from web.forms import ProgrammeScaleForm, ScaleForm, add_error
from web.permissions import ADMINISTRATOR, requires_role

bp = Blueprint("scales", __name__, url_prefix="/admin")


def parse_statuses(text: str) -> list[Status]:
    """The form's lines as statuses; a bad line is named by its number."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    statuses = []
    for number, cells in enumerate(csv.reader(lines, skipinitialspace=True), start=1):
        try:
            statuses.append(make_status(dict(zip(STATUS_CELLS, (c.strip() for c in cells), strict=False))))
        except LedgerError as error:
            raise InvalidValue(f"Line {number}: {error.message}", field="statuses") from None
    return statuses


def statuses_text(scale: Scale) -> str:
    """A scale's statuses in the form's lines (the inverse of parse_statuses)."""
    lines = []
    for s in scale.statuses:
        mitigation = "" if s.needs_mitigation is None else ("yes" if s.needs_mitigation else "no")
        aliases = f"{ALIAS_SEPARATOR} ".join(s.aliases)
        cells = [s.name, s.category.value, s.colour, aliases, mitigation, s.group, s.description]
        while cells and not cells[-1]:
            cells.pop()
        lines.append(", ".join(_quoted(c) for c in cells))
    return "\n".join(lines)


def _quoted(cell: str) -> str:
    """A cell as csv.reader reads it back (quoted only when it holds a comma or quote)."""
    return '"' + cell.replace('"', '""') + '"' if "," in cell or '"' in cell else cell


def parse_mapping(text: str) -> dict[str, str] | None:
    """'old = new' lines as a mapping; None when there are none (no comparison)."""
    mapping: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        old, equals, new = line.partition("=")
        if not equals or not old.strip() or not new.strip():
            raise InvalidValue(f"Line {number}: write it as old status = new status.", field="mapping")
        mapping[old.strip()] = new.strip()
    return mapping or None


def _scale_or_404(key: str) -> Scale:
    try:
        return backend().ledger.find_scale(key)
    except LedgerError:
        abort(404)


@bp.route("/scales")
@requires_role(ADMINISTRATOR)
def scales() -> str:
    database = read_model()
    defined = {s["scale"]: s for s in queries.get_scales(database)}
    built_in = [
        {"scale": key, "name": scale.name, "statuses": [s.to_dict() for s in scale.statuses]}
        for key, scale in BUILT_IN_SCALES.items()
        if key not in defined
    ]
    programmes = queries.get_programmes(database)
    return render_template("admin/scales.html", scales=[*defined.values(), *built_in], programmes=programmes)


@bp.route("/scales/new", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def new_scale() -> str | Response:
    form = ScaleForm()
    if form.validate_on_submit():
        try:
            backend().ledger.define_scale(
                form.scale.data, form.name.data, parse_statuses(form.statuses.data),
                actor=current_user.username, reason=form.reason.data,
            )
        except LedgerError as error:
            add_error(form, error)
        else:
            flash(f"Scale {form.name.data.strip()} defined.", "success")
            return redirect(url_for("scales.scales"))
    return render_template("admin/scale_form.html", form=form, title="Define a status scale", key=None)


@bp.route("/scales/<key>/revise", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def revise_scale(key: str) -> str | Response:
    scale = _scale_or_404(key)
    form = ScaleForm()
    del form.scale  # the id never changes
    if not form.is_submitted():
        form.name.data, form.statuses.data = scale.name, statuses_text(scale)
    if form.validate_on_submit():
        try:
            ledger = backend().ledger
            statuses = parse_statuses(form.statuses.data)
            kwargs = {"actor": current_user.username, "reason": form.reason.data}
            if key in BUILT_IN_SCALES and scale is BUILT_IN_SCALES[key]:
                # A built-in scale's first revision defines it in the ledger; a reason is still due.
                if not (form.reason.data or "").strip():
                    raise InvalidValue("Give a reason: revising a scale.", field="reason")
                ledger.define_scale(key, form.name.data, statuses, **kwargs)
            else:
                ledger.revise_scale(key, form.name.data, statuses, **kwargs)
        except LedgerError as error:
            add_error(form, error)
        else:
            flash(f"Scale {form.name.data.strip()} revised. Programmes keep their copy until their scale "
                  "is changed.", "success")
            return redirect(url_for("scales.scales"))
    return render_template("admin/scale_form.html", form=form, title=f"Revise {scale.name}", key=key)


@bp.route("/programmes/<programme>/scale", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def programme_scale(programme: str) -> str | Response:
    database = read_model()
    found = programme_or_404(database, programme)
    keys = sorted({*BUILT_IN_SCALES, *(s["scale"] for s in queries.get_scales(database))})
    form = ProgrammeScaleForm()
    form.scale.choices = [(k, k) for k in keys]
    if form.validate_on_submit():
        try:
            backend().ledger.change_scale(
                programme, form.scale.data, actor=current_user.username, reason=form.reason.data,
                mapping=parse_mapping(form.mapping.data), from_period=form.from_period.data or "",
            )
        except UnknownRef:
            abort(404)
        except LedgerError as error:
            add_error(form, error)
        else:
            start = (form.from_period.data or "").strip()
            flash(f"{found['name']} rates on the {form.scale.data} scale"
                  + (f" from {start}; earlier periods keep the old scale." if start else " from now on."),
                  "success")
            return redirect(url_for("scales.scales"))
    return render_template("admin/programme_scale.html", form=form, programme=found)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
