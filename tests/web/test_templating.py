"""What the pages' layout costs: the header (with its navigation) and the footer are
rendered once a page, and templates' globals behave as Jinja's own (web.templating)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import DictLoader
from web_helpers import AuthActions

from web import home
from web.templating import Environment


def test_a_page_renders_its_header_and_navigation_once(
    client: FlaskClient, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    navigation = home.navigation

    def counted() -> list[dict[str, Any]]:
        calls.append(1)
        return navigation()

    monkeypatch.setattr(home, "navigation", counted)
    auth.login("officer")
    html = client.get("/my-items").get_data(as_text=True)
    assert calls == [1]
    assert html.count('<header class="govuk-template__header">') == 1 and html.count("</header>") == 1
    assert html.count('<footer class="govuk-template__footer">') == 1 and html.count("</footer>") == 1
    assert "Signed in as </span>Demo officer" in html


def test_signed_out_pages_keep_the_header_and_footer(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    header = html.split('<header class="govuk-template__header">', 1)[1].split("</header>", 1)[0]
    assert "govuk-service-navigation__service-name" in header and "Sign out" not in header
    assert "every change is kept" in html.split('<footer class="govuk-template__footer">', 1)[1]


def test_template_globals_behave_as_jinjas(app: Flask) -> None:
    env = Environment(app, loader=DictLoader({"t.html": "{{ who }} {{ late }}", "m.html": "{{ late }}"}))
    env.globals["who"] = "environment"
    own = env.get_template("t.html", globals={"who": "template"})
    assert own.render(late="") == "template "
    env.globals["late"] = "added later"  # seen by templates loaded before
    assert own.render() == "template added later"
    assert env.get_template("m.html").render() == "added later"
    assert env.globals["who"] == "environment"  # a template's own never leak into the environment
    assert set(env.get_template("m.html").globals) == set(env.globals)
    assert type(app.jinja_env) is Environment
