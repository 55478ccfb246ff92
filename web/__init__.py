"""Governance Ledger's web front end (Flask, GOV.UK Frontend).

`create_app` is the composition root for the web: configuration, then one `init_app`
per resource, then one blueprint per feature. It refuses to start if any view lacks a
declared permission (see `web.permissions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_wtf import CSRFProtect
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from web import (
    admin,
    audit,
    auth,
    backend,
    config,
    dashboards,
    dependencies,
    errors,
    home,
    jobs,
    leads,
    published,
    ratelimit,
    reports,
    scales,
    security,
    templating,
    transfer,
    updates,
)
from web.backend import System
from web.forms import error_summary
from web.permissions import ADMINISTRATOR, WRITER_ROLES, undeclared_endpoints

csrf = CSRFProtect()


def create_app(test_config: Mapping[str, Any] | None = None, *, system: System | None = None) -> Flask:
    """The Flask app. `system` is the opened ledger system (projections.system); without
    one, the app opens its own on `DATA_DIR` / $GOVLEDGER_DATA_DIR."""
    # No default static route: ours are declared views (web.home) like every other.
    app = Flask(__name__, static_folder=None)
    app.jinja_environment = templating.Environment  # before jinja_env is first made
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("web"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_global(error_summary)
    # Templates name roles as views do, from the one definition.
    app.jinja_env.globals.update(ADMINISTRATOR=ADMINISTRATOR, WRITER_ROLES=WRITER_ROLES)

    config.configure(app, test_config)
    security.init_app(app)  # its origin check runs before the CSRF token check
    csrf.init_app(app)
    ratelimit.init_app(app)
    backend.init_app(app, system)
    errors.init_app(app)
    auth.init_app(app)
    home.init_app(app)
    admin.init_app(app)
    leads.init_app(app)
    scales.init_app(app)
    reports.init_app(app)
    published.init_app(app)
    updates.init_app(app)
    dependencies.init_app(app)
    dashboards.init_app(app)
    audit.init_app(app)
    transfer.init_app(app)
    jobs.init_app(app)

    missing = undeclared_endpoints(app)
    if missing:
        raise RuntimeError(f"Views without a declared permission: {', '.join(missing)}")
    return app
