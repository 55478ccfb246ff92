"""Accessibility (issue 16, item 6): every Flask page type, each as the role that can see
it and every form also in its error state, has no WCAG 2.2 AA violation that axe-core
finds in real Chromium, and fits a 320px-wide screen without scrolling sideways; and an
officer completes the update form with the keyboard alone.

axe-core comes bundled in the `axe-playwright-python` package (the test extra), so
nothing is downloaded while testing. Datasette's main pages (/data/...: index, database,
table, row, SQL and canned queries, dashboard) are checked the same way, in the app's look
(projections.datasette_look). One browser and one live server serve the whole module; each role keeps one
signed-in browser context.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import launch_chromium, live_server, new_page, sign_in
from test_dashboards_seed import seed_plan
from test_updates import Q1, record_items
from web_helpers import DEMO_PASSWORD, DEMO_USERS, PROGRAMME

from govledger.demo.load import SEED_DIR
from ledger.transfer.importing import import_file
from projections.reports import publish
from web.backend import System, open_system

pytestmark = pytest.mark.browser

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
NARROW = 320  # px: WCAG 1.4.10 Reflow's width
WIDE = {"width": 1280, "height": 800}
P = f"/programmes/{PROGRAMME}"
R = f"/reports/{PROGRAMME}"
OFFICER, MANAGER, AUDITOR, ADMIN = "officer", "programme manager", "auditor", "administrator"
ANALYST = "analyst"
FORM_LIMIT = 16 * 1024  # bytes: a form body over this gets the 413 page
DEMO_PLAN = "cheshire-east-plan-2024-25"  # from the demo's seed reports


def submit(button: str, **fields: str) -> Callable[[Any], None]:
    """Fill the fields (by label: a radio is checked, anything else typed over) and
    press `button`."""

    def act(page: Any) -> None:
        main = page.locator("main")
        for label, value in fields.items():
            field = main.get_by_label(label.replace("_", " "), exact=True)
            if value is True:
                field.check()
            else:
                field.fill(value)
        main.get_by_role("button", name=button, exact=True).click()

    return act


def upload(name: str, content: bytes | None = None, *, export: bool = False) -> Callable[[Any], None]:
    """Upload a file (or, with `export`, the service's own export) on the import page."""

    def act(page: Any) -> None:
        body = page.request.get("/export.xlsx").body() if export else content
        page.locator("main input[type=file]").set_input_files(
            {"name": name, "mimeType": "application/octet-stream", "buffer": body}
        )
        page.locator("main").get_by_role("button", name="Check the file").click()

    return act


def overlong(field_id: str, button: str, length: int) -> Callable[[Any], None]:
    """Put `length` characters in the field (faster than typing them) and press `button`."""

    def act(page: Any) -> None:
        page.locator(f"#{field_id}").evaluate("(el, n) => { el.value = 'x'.repeat(n) }", length)
        page.locator("main").get_by_role("button", name=button, exact=True).click()

    return act


@dataclass(frozen=True)
class Case:
    name: str
    role: str | None  # None: not signed in
    path: str
    act: Callable[[Any], None] | None = None  # brings the page to the state checked
    status: int = 200
    errors: bool = False  # the page must show GOV.UK's error summary
    document: bool = False  # a report document: its CSP (sandbox) forbids axe's script

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("sign-in", None, "/login"),
    Case("sign-in error", None, "/login", submit("Sign in", Username="nobody", Password="wrong"),
         errors=True),
    Case("home", OFFICER, "/"),
    Case("my items", OFFICER, "/my-items"),
    Case("update form", OFFICER, f"{P}/items/A1.2/update"),
    Case("update form error", OFFICER, f"{P}/items/A1.2/update", submit("Save update", Amber=True),
         errors=True),
    Case("correction form", OFFICER, f"{P}/items/A1.1/correct"),
    Case("correction form error", OFFICER, f"{P}/items/A1.1/correct", submit("Save correction"),
         errors=True),
    Case("risks", OFFICER, f"{P}/risks"),
    Case("risk form", OFFICER, f"{P}/risks/new"),
    Case("risk form error", OFFICER, f"{P}/risks/new", submit("Raise it"), errors=True),
    Case("risk re-rating form", OFFICER, f"{P}/risks/risk/R1/rerate"),
    Case("risk close form", OFFICER, f"{P}/risks/risk/R1/close"),
    Case("dependencies", OFFICER, f"{P}/dependencies"),
    Case("dependency form", OFFICER, f"{P}/dependencies/new"),
    Case("dependency form error", OFFICER, f"{P}/dependencies/new", submit("Register it"), errors=True),
    Case("dependency review form", OFFICER, f"{P}/dependencies/D1/review"),
    Case("indicators", OFFICER, f"{P}/indicators"),
    Case("indicators, with the definitions' links", MANAGER, f"{P}/indicators"),
    Case("indicator definition form", MANAGER, f"{P}/indicators/FTE/definition"),
    Case("indicator definition error", MANAGER, f"{P}/indicators/FTE/definition", submit("Save definition"),
         errors=True),
    Case("indicator form", OFFICER, f"{P}/indicators/FTE/record"),
    Case("indicator form error", OFFICER, f"{P}/indicators/FTE/record", submit("Save value", Value=""),
         errors=True),
    Case("narrative form", OFFICER, f"{P}/narrative"),
    Case("narrative form error", OFFICER, f"{P}/narrative", overlong("summary", "Save narrative", 10_001),
         errors=True),
    Case("programmes", OFFICER, "/programmes"),
    Case("dashboard summary and exceptions", OFFICER, f"{P}/dashboard?period={Q1}"),
    Case("quarter-over-quarter grid", OFFICER, f"{P}/history"),
    Case("search", OFFICER, "/search?q=savings"),
    Case("403", OFFICER, "/admin/accounts", status=403),
    Case("404", OFFICER, "/no-such-page", status=404),
    Case("413", OFFICER, f"{P}/items/A1.2/update", overlong("update", "Save update", FORM_LIMIT * 2),
         status=413),
    Case("change password error", OFFICER, "/account/password", submit("Change password"), errors=True),
    Case("item timeline", AUDITOR, f"{P}/items/A1.2.1/timeline"),
    Case("as-at", AUDITOR, f"{P}/as-at?when=2099-01-01"),
    # Issue 13: why an item has its rating, its due date and indicators, the as-at form.
    Case("why is this red", AUDITOR, f"{P}/items/A1.2.1/why?period={Q1}"),
    Case("as-at form", AUDITOR, f"{P}/as-at"),
    Case("as-at before the record", AUDITOR, f"{P}/as-at?when=2001-01-01", status=404),
    Case("due date and indicators form", MANAGER, f"{P}/items/A1.2.1/measures"),
    Case("due date and indicators error", MANAGER, f"{P}/items/A1.2.1/measures",
         submit("Save", Day="31", Month="2", Year="2024"), errors=True),
    Case("move form", MANAGER, f"{P}/items/A1.2.1/move"),
    Case("move form error", MANAGER, f"{P}/items/A1.2.1/move", submit("Move it"), errors=True),
    Case("programme details form", MANAGER, f"{P}/details"),
    Case("programme details error", MANAGER, f"{P}/details", submit("Save details", Name=""), errors=True),
    Case("kind form", MANAGER, f"{P}/items/A1.2.1/kind"),
    Case("kind form error", MANAGER, f"{P}/items/A1.2.1/kind", submit("Save kind"), errors=True),
    Case("changed after publication", AUDITOR, f"{P}/changed-after-publication"),
    Case("narrative compared", AUDITOR, f"{P}/narrative-diff"),
    Case("verify", AUDITOR, "/audit/verify"),
    Case("audit log", AUDITOR, "/audit/log"),
    Case("reports", MANAGER, "/reports/"),
    Case("programme reports", MANAGER, f"{R}/"),
    Case("committee report options", MANAGER, f"{R}/committee?period={Q1}"),
    Case("committee report", MANAGER, f"{R}/committee/document?period={Q1}", document=True),
    Case("highlight report", MANAGER, f"{R}/highlight/document?period={Q1}", document=True),
    Case("partnership report", MANAGER, f"{R}/partnership/document?period={Q1}", document=True),
    Case("publish form", MANAGER, f"{R}/committee/publish?period={Q1}"),
    Case("publications", MANAGER, f"{R}/publications"),
    Case("report changes", MANAGER, f"{R}/committee/changes?period={Q1}"),
    Case("publication record", MANAGER, f"{R}/committee/record?period={Q1}"),
    Case("review queue", MANAGER, "/review"),
    Case("review form", MANAGER, f"{P}/items/A1.1/review?period={Q1}"),
    Case("review form error", MANAGER, f"{P}/items/A1.1/review?period={Q1}", submit("Save decision"),
         errors=True),
    Case("periods", MANAGER, f"{P}/periods"),
    Case("import and export", MANAGER, "/import-export"),
    Case("import upload", MANAGER, "/import"),
    Case("import upload error", MANAGER, "/import", submit("Check the file"), errors=True),
    Case("import problems", MANAGER, "/import", upload("statuses.csv", b"nonsense,columns\n1,2\n")),
    Case("import check", MANAGER, "/import", upload("export.xlsx", export=True)),
    Case("accounts", ADMIN, "/admin/accounts"),
    Case("account", ADMIN, f"/admin/accounts/{DEMO_USERS[OFFICER]}"),
    Case("new account form", ADMIN, "/admin/accounts/new"),
    Case("new account form error", ADMIN, "/admin/accounts/new", submit("Create account"), errors=True),
    Case("grant role form", ADMIN, f"/admin/accounts/{DEMO_USERS[OFFICER]}/grant-role"),
    Case("assign programme form", ADMIN, f"/admin/accounts/{DEMO_USERS[OFFICER]}/assign-programme"),
    Case("set password form", ADMIN, f"/admin/accounts/{DEMO_USERS[OFFICER]}/password"),
    Case("scales", ADMIN, "/admin/scales"),
    Case("leads", ADMIN, "/admin/leads"),
    # Open data (issue 13): public, no sign-in.
    Case("published reports (public)", None, "/published/"),
    Case("a published period (public)", None, f"/published/{PROGRAMME}/2024-25-Q1"),
    # 320px with a real programme's volume: the demo's seed reports (99 items, long titles).
    Case("dashboard, demo data", MANAGER, f"/programmes/{DEMO_PLAN}/dashboard?period={Q1}"),
    Case("my items, demo data", MANAGER, "/my-items"),
    # Datasette's main pages at /data/, with the app's header, labels and colours over them.
    Case("data: index", ANALYST, "/data/"),
    Case("data: database", ANALYST, "/data/projections"),
    Case("data: table with facets", ANALYST, "/data/projections/status_history?_facet=category"),
    Case("data: row", ANALYST, f"/data/projections/items/{PROGRAMME},A1~2E2"),
    Case("data: SQL query", ANALYST, "/data/projections?sql=select+programme,+ref,+title+from+items"),
    Case("data: canned query", ANALYST, f"/data/projections/exceptions?programme={PROGRAMME}&period={Q1}"),
    Case("data: dashboard", ANALYST, "/data/-/dashboards/statuses-by-period"),
    Case("data: table as an auditor", AUDITOR, "/data/projections/audit_log"),
    Case("data: flags", AUDITOR, "/data/projections/flags"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, seeded_data_dir: Path) -> Iterator[tuple[str, System]]:
    """The whole service (conftest's `server`, for the module) over a plan with something
    on every page: ratings for two quarters, a risk, a dependency, an indicator,
    narratives, a published report and a change made after it."""
    data_dir = Path(shutil.copytree(seeded_data_dir, tmp_path_factory.mktemp("a11y") / "data"))
    system = open_system(data_dir)
    record_items(system.ledger)
    seed_plan(system.ledger)
    import_file(system.ledger, SEED_DIR, actor="loader")
    system.ledger.assign_programme(DEMO_USERS[MANAGER], DEMO_PLAN, actor="admin", reason="Demo data")
    publish.publish(system, PROGRAMME, "committee", Q1, actor=DEMO_USERS[MANAGER])
    system.ledger.correct_status(
        PROGRAMME, "A1.2.1", period=Q1, status="Amber", update="Savings found after the report.",
        mitigation="Weekly board reviews each proposal.", reason="Late figures", actor=DEMO_USERS[OFFICER],
    )
    # An update awaiting review, for the review pages (and the dashboard's review summary).
    system.ledger.submit_update(PROGRAMME, "A1.1", period=Q1, actor=DEMO_USERS[OFFICER])
    from web.serve import make_asgi_app

    config = {"SECRET_KEY": "browser-test", "MAX_CONTENT_LENGTH": FORM_LIMIT}
    with live_server(make_asgi_app(data_dir, config=config, system=system)) as url:
        yield url, system


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def pages(browser: Any, site: tuple[str, System]) -> Callable[[str | None, bool], Any]:
    """One page per role (signed in once), and per role a second whose browser context
    ignores CSP, for the report documents."""
    url, _ = site
    opened: dict[tuple[str | None, bool], Any] = {}

    def page_for(role: str | None, bypass_csp: bool = False) -> Any:
        if (role, bypass_csp) not in opened:
            if bypass_csp:
                page = browser.new_context(base_url=url, bypass_csp=True).new_page()
            else:
                page = new_page(browser, url)
            if role:
                sign_in(page, DEMO_USERS[role], DEMO_PASSWORD)
            opened[role, bypass_csp] = page
        return opened[role, bypass_csp]

    return page_for


@pytest.fixture(scope="module")
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, int]]:
    """Counts for docs/assurance.md, printed at the end of the module's run."""
    counts = {"pages": 0, "rules": 0, "checks": 0, "violations": 0, "too wide": 0}
    yield counts
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and counts["pages"]:
        reporter.write_line(
            "accessibility: {pages} pages x {rules} WCAG 2.2 AA rules ({checks} rule runs), "
            "{violations} violations, {too wide} pages wider than 320px".format(**counts)
        )


def axe_violations(page: Any) -> tuple[list[dict[str, Any]], int]:
    """axe-core's WCAG 2.2 AA violations on the page as it stands, and how many rules ran."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options).response
    rules = sum(len(results[kind]) for kind in ("violations", "passes", "incomplete", "inapplicable"))
    return results["violations"], rules


def width_at(page: Any, width: int) -> int:
    """The document's width with the viewport `width` pixels wide (sideways scrolling if
    more)."""
    page.set_viewport_size({"width": width, "height": 800})
    try:
        return page.evaluate("document.documentElement.scrollWidth")
    finally:
        page.set_viewport_size(WIDE)


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
    )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_page_meets_wcag_22_aa_and_fits_320px(
    case: Case, pages: Callable[[str | None, bool], Any], figures: dict[str, int]
) -> None:
    page = pages(case.role, case.document)
    page.set_viewport_size(WIDE)
    response = page.goto(case.path)
    if case.act:
        with page.expect_navigation() as navigation:
            case.act(page)
        response = navigation.value
    assert response is not None and response.status == case.status, (case.path, response and response.status)
    if case.errors:
        assert page.locator(".govuk-error-summary").is_visible(), "the page is not in its error state"

    violations, rules = axe_violations(page)
    width = width_at(page, NARROW)
    figures["pages"] += 1
    figures["rules"] = max(figures["rules"], rules)
    figures["checks"] += rules
    figures["violations"] += sum(len(v["nodes"]) for v in violations)
    figures["too wide"] += width > NARROW
    assert violations == [], describe(violations)
    assert width <= NARROW, f"{case.path} is {width}px wide at {NARROW}px"


def test_the_checks_find_what_they_look_for(pages: Callable[[str | None, bool], Any]) -> None:
    """The harness itself: a field with no label and a box wider than the screen are found."""
    page = pages(OFFICER, False)
    page.goto("/")
    page.locator("main").evaluate(
        "main => { main.insertAdjacentHTML('beforeend', '<input type=\"text\">'); }"
    )
    assert "label" in {v["id"] for v in axe_violations(page)[0]}
    wide = "main => { main.insertAdjacentHTML('beforeend', '<pre>' + 'x'.repeat(200)); }"
    page.locator("main").evaluate(wide)
    assert width_at(page, NARROW) > NARROW


def tab_to(page: Any, selector: str, *, backwards: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the element matching `selector` has the focus."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}")


def test_an_officer_completes_the_update_form_with_the_keyboard_alone(
    pages: Callable[[str | None, bool], Any], site: tuple[str, System]
) -> None:
    page = pages(OFFICER, False)
    page.goto(f"{P}/items/A1.2/update")
    assert page.get_by_label("Green").is_checked() is False

    tab_to(page, "input[name=status]")  # the first status: Green
    page.keyboard.press("Space")
    tab_to(page, "#update")
    page.keyboard.type("Five carers approved; two in assessment.")
    tab_to(page, "#mitigation")
    page.keyboard.type("A second assessment panel meets in June.")
    tab_to(page, "#update", backwards=True)  # back to check what was typed, then on
    assert page.locator("#update").input_value() == "Five carers approved; two in assessment."
    tab_to(page, "main button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert "A1.2: Green saved for 2024/25 Q1." in page.locator("main").inner_text()
    _, system = site
    rating = system.ledger.get_item(PROGRAMME, "A1.2")["ratings"][Q1]
    assert (rating["status"], rating["update"], rating["mitigation"]) == (
        "Green", "Five carers approved; two in assessment.", "A second assessment panel meets in June."
    )
