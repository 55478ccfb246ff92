"""The select and radios widgets keep their HTML for the same input (web.widgets), and
never show one field's state for another's."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from govuk_frontend_wtf.gov_form_base import GovFormBase
from markupsafe import Markup
from wtforms import Form, RadioField, SelectField

from web import widgets


class PeriodForm(Form):
    period = SelectField("Period", widget=widgets.Select())
    status = RadioField("Status", widget=widgets.RadioInput(), validate_choice=False)


def form(period: str, status: str, choices: int = 40) -> PeriodForm:
    made = PeriodForm(data={"period": period, "status": status})
    made.period.choices = [(f"P{n}", f"Period {n}") for n in range(choices)]
    made.status.choices = [("Green", "Green"), ("Red", "Red")]
    return made


@pytest.fixture
def rendered(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Templates actually rendered (not kept), in order; starts with an empty store."""
    done: list[str] = []
    render = GovFormBase.render

    def counted(self: GovFormBase, params: dict[str, Any]) -> Markup:
        done.append(self.template)
        return render(self, params)

    monkeypatch.setattr(GovFormBase, "render", counted)
    monkeypatch.setattr(widgets, "RENDERINGS", widgets._Renderings(widgets.KEPT))
    with app.test_request_context():
        yield done


def test_the_same_field_state_is_rendered_once(rendered: list[str]) -> None:
    first = form("P3", "Red")
    html = (str(first.period()), str(first.status()))
    again = form("P3", "Red")
    assert (str(again.period()), str(again.status())) == html
    assert len(rendered) == 2  # the select and the radios, once each
    assert '<option value="P3" selected>Period 3</option>' in html[0]
    assert 'value="Red" checked' in html[1]


def test_another_state_is_rendered_afresh(rendered: list[str]) -> None:
    assert 'value="P3" selected' in str(form("P3", "Red").period())
    other = form("P7", "Green")
    select, radios = str(other.period()), str(other.status())
    assert 'value="P7" selected' in select and 'value="P3" selected' not in select
    assert 'value="Green" checked' in radios and 'value="Red" checked' not in radios
    shorter = str(form("P7", "Green", choices=10).period())
    assert "Period 20" in select and "Period 20" not in shorter
    failed = form("P7", "Green")
    failed.period.errors = ["Select a period from the list"]
    assert "Select a period from the list" in str(failed.period())
    assert len(rendered) == 5  # P3, P7 and its radios, ten choices, the error: none kept


def test_markup_and_text_are_kept_apart(rendered: list[str]) -> None:
    text = str(form("P1", "Red").period(params={"hint": {"text": "<b>Q1</b>"}}))
    html = str(form("P1", "Red").period(params={"hint": {"html": Markup("<b>Q1</b>")}}))
    assert "&lt;b&gt;Q1&lt;/b&gt;" in text and "<b>Q1</b>" in html


def test_the_store_is_bounded(rendered: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widgets, "RENDERINGS", widgets._Renderings(3))
    for n in range(5):
        form(f"P{n}", "Red").period()
    assert len(widgets.RENDERINGS._kept) == 3
    form("P0", "Red").period()  # the oldest was let go: rendered again
    assert len(rendered) == 6
