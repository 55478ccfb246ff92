"""Review and sign-off on the web (issue 12, items 4 and 5): the reviewer's queue, one
update approved or returned with a comment, the officer resubmitting, the review state
in words on the item, the update form, the dashboard and the committee report, and
publishing with the approvals relied on (or an override with a reason).

Reviewers are the programme managers of the programme: the demo one and Max."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any
from urllib.parse import quote

import pytest
from docx import Document
from flask.testing import FlaskClient
from openpyxl import load_workbook
from web_helpers import DEMO_PASSWORD, DEMO_USERS, FAST_HASH, PROGRAMME, AuthActions

from ledger.domain import content_sha256
from projections.reports.build import build_report, report_html, report_xlsx
from projections.reports.word import render_docx
from web.accounts import create_account
from web.backend import System
from web.credentials import CredentialStore

Q1 = "2024/25 Q1"
OFFICER, MANAGER = DEMO_USERS["officer"], DEMO_USERS["programme manager"]
QUEUE = "/review"
PUBLISH = f"/reports/{PROGRAMME}/committee/publish?period={quote(Q1)}"


def review_url(ref: str) -> str:
    return f"/programmes/{PROGRAMME}/items/{ref}/review?period={quote(Q1)}"


def update_url(ref: str) -> str:
    return f"/programmes/{PROGRAMME}/items/{ref}/update?period={quote(Q1)}"


@pytest.fixture
def plan(system: System, data_dir: Any) -> System:
    """A1 saved (so submitted) by the demo officer, A2 by the demo programme manager;
    Max, a second programme manager of the programme; Una manages none of it. Q1 opened."""
    ledger = system.ledger
    credentials = CredentialStore(data_dir / "credentials.db", method=FAST_HASH)
    for username, name in (("max", "Max Manager"), ("una", "Una Elsewhere")):
        create_account(
            ledger,
            credentials,
            username=username,
            display_name=name,
            role="programme manager",
            password=DEMO_PASSWORD,
            actor="setup",
        )
    ledger.assign_programme("max", PROGRAMME, actor="setup")
    for ref in ("A1", "A2"):
        ledger.register_item(PROGRAMME, ref, kind="action", title=f"Action {ref}", actor="setup")
    ledger.open_period(PROGRAMME, Q1, due_date="2024-07-15", actor="setup")
    ledger.save_update(PROGRAMME, "A1", period=Q1, status="Green", update="Roads resurfaced.", actor=OFFICER)
    ledger.save_update(
        PROGRAMME, "A2", period=Q1, status="Amber", update="Late.", mitigation="Extra crew.", actor=MANAGER
    )
    return system


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def errors(page: str) -> str:
    assert "There is a problem" in page, page[:3000]
    return page.split('class="govuk-error-summary"')[1].split("</ul>")[0]


def shown_sha256(page: str) -> str:
    return re.search(r'name="seen_sha256" value="([0-9a-f]{64})"', page)[1]


def state(system: System, ref: str) -> str:
    return system.ledger.get_review(PROGRAMME, ref, Q1)["state"]  # type: ignore[index]


def stored_sha256(system: System, ref: str) -> str:
    rating = system.ledger.get_item(PROGRAMME, ref)["ratings"][Q1]
    return content_sha256(rating["status"], rating["update"], rating["mitigation"])


# ---------------------------------------------------------------- the queue


def test_the_queue_lists_what_awaits_the_reviewer_and_not_their_own(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    page = text(client.get(QUEUE))
    assert "Test plan, 2024/25 Q1" in page
    assert f"/programmes/{PROGRAMME}/items/A1/review?period=" in page
    assert "Action A1" in page
    assert "Action A2" not in page  # their own: left to another reviewer
    auth.logout()
    auth.login("max")
    page = text(client.get(QUEUE))
    assert "Action A1" in page and "Action A2" in page


def test_the_queue_is_in_the_navigation_for_reviewers_only(client: FlaskClient, auth: AuthActions) -> None:
    for role, shown in (("programme manager", True), ("officer", False), ("auditor", False)):
        auth.login(role)
        nav = text(client.get("/")).split('id="navigation"')[1].split("</ul>")[0]
        assert ('href="/review"' in nav) is shown, role
        auth.logout()


# ---------------------------------------------------------------- approve and return


def test_approving_records_the_hash_of_exactly_what_was_read(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    page = text(client.get(review_url("A1")))
    assert "Roads resurfaced." in page and "Submitted: awaiting review" in page
    assert f"<code>{shown_sha256(page)}</code>" in page  # shown as code, not escaped markup
    response = client.post(review_url("A1"), data={"decision": "approve", "seen_sha256": shown_sha256(page)})
    assert response.status_code == 302 and response.headers["Location"] == QUEUE
    review = plan.ledger.get_review(PROGRAMME, "A1", Q1)
    assert review["state"] == "approved"  # type: ignore[index]
    assert review["approved_sha256"] == stored_sha256(plan, "A1") == shown_sha256(page)  # type: ignore[index]
    assert review["approved_by"] == MANAGER  # type: ignore[index]
    assert "A1&#39;s update for 2024/25 Q1 approved." in text(client.get(QUEUE))


def test_returning_needs_a_comment_and_every_error_shows_at_once(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    sha = shown_sha256(text(client.get(review_url("A1"))))
    before = plan.ledger.get_log_position()

    page = text(client.post(review_url("A1"), data={"seen_sha256": sha, "comment": "x" * 10_001}))
    summary = errors(page)
    assert "Select whether to approve or return the update" in summary and 'href="#decision"' in summary
    assert 'href="#comment"' in summary  # too long, said in the same summary

    page = text(
        client.post(review_url("A1"), data={"decision": "return", "seen_sha256": sha, "comment": " "})
    )
    assert "Give a comment" in errors(page) and 'href="#comment"' in errors(page)
    assert plan.ledger.get_log_position() == before and state(plan, "A1") == "submitted"

    response = client.post(
        review_url("A1"), data={"decision": "return", "seen_sha256": sha, "comment": "Say which roads."}
    )
    assert response.status_code == 302
    assert state(plan, "A1") == "returned"


def test_nobody_approves_their_own_update(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("programme manager")
    page = text(client.get(review_url("A2")))
    assert "You wrote or submitted this update, so you can't approve or return it" in page
    assert 'name="decision"' not in page
    before = plan.ledger.get_log_position()
    page = text(
        client.post(review_url("A2"), data={"decision": "approve", "seen_sha256": stored_sha256(plan, "A2")})
    )
    assert "so you can&#39;t approve it" in errors(page)
    assert plan.ledger.get_log_position() == before and state(plan, "A2") == "submitted"


def test_a_stale_form_is_refused_the_comment_kept_and_the_update_shown_as_it_is_now(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("max")
    old = shown_sha256(text(client.get(review_url("A1"))))
    # The officer changes the update after Max opened it.
    plan.ledger.save_update(
        PROGRAMME, "A1", period=Q1, status="Green", update="Two roads left.", actor=OFFICER
    )
    before = plan.ledger.get_log_position()
    page = text(
        client.post(
            review_url("A1"), data={"decision": "approve", "seen_sha256": old, "comment": "Fine by me"}
        )
    )
    assert "has changed since you opened it" in errors(page)
    assert "Two roads left." in page and ">Fine by me</textarea>" in page
    assert plan.ledger.get_log_position() == before and state(plan, "A1") == "submitted"
    # The page now carries the hash of what it shows: approving that goes through.
    assert (
        client.post(
            review_url("A1"), data={"decision": "approve", "seen_sha256": shown_sha256(page)}
        ).status_code
        == 302
    )
    assert plan.ledger.get_review(PROGRAMME, "A1", Q1)["approved_sha256"] == stored_sha256(plan, "A1")  # type: ignore[index]


@pytest.mark.parametrize(("who", "status"), [("officer", 403), ("auditor", 403), ("una", 403)])
def test_only_the_programmes_managers_may_review(
    client: FlaskClient, auth: AuthActions, plan: System, who: str, status: int
) -> None:
    auth.login(who)
    assert client.get(review_url("A1")).status_code == status
    before = plan.ledger.get_log_position()
    data = {"decision": "approve", "seen_sha256": stored_sha256(plan, "A1")}
    assert client.post(review_url("A1"), data=data).status_code == status
    assert plan.ledger.get_log_position() == before


def test_an_update_never_submitted_or_an_unknown_period_is_not_found(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    assert client.get(f"/programmes/{PROGRAMME}/items/A1/review?period=2024/25%20Q2").status_code == 404
    assert client.get(f"/programmes/{PROGRAMME}/items/A1/review?period=nonsense").status_code == 404
    assert client.get(f"/programmes/{PROGRAMME}/items/A1/review").status_code == 404


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_decision_without_the_token_is_refused_and_records_nothing(
        self, client: FlaskClient, plan: System
    ) -> None:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/login")))[1]
        client.post("/login", data={"username": MANAGER, "password": DEMO_PASSWORD, "csrf_token": token})
        page = text(client.get(review_url("A1")))
        data = {"decision": "approve", "seen_sha256": shown_sha256(page)}
        before = plan.ledger.get_log_position()
        assert client.post(review_url("A1"), data=data).status_code == 400
        assert plan.ledger.get_log_position() == before
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
        assert client.post(review_url("A1"), data={**data, "csrf_token": token}).status_code == 302
        assert state(plan, "A1") == "approved"


# ---------------------------------------------------------------- the officer's side


def test_the_officer_sees_the_return_and_its_comment_then_resubmits_by_saving(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    plan.ledger.return_update(PROGRAMME, "A1", period=Q1, comment="Say which roads.", actor=MANAGER)
    plan.ledger.link_lead(PROGRAMME, "A1", OFFICER, actor="setup", reason="Leads it")
    auth.login("officer")
    returned = text(client.get("/my-items")).split(f'id="returned-{PROGRAMME}"')[1].split("</div>")[0]
    assert "A1 Action A1" in returned and "Say which roads." in returned
    assert f"/programmes/{PROGRAMME}/items/A1/update?period=" in returned
    page = text(client.get(update_url("A1")))
    assert "Review for 2024/25 Q1:" in page and ">Returned<" in page.replace("\n", "").replace("  ", "")
    assert "Say which roads." in page
    timeline = text(client.get(f"/programmes/{PROGRAMME}/items/A1/timeline"))
    assert "Say which roads." in timeline.split('id="reviews"')[1]
    version = re.search(r'name="seen_version"[^>]*value="(\d+)"', page)[1]
    response = client.post(
        update_url("A1"),
        data={"period": Q1, "status": "Green", "update": "Roads resurfaced.", "seen_version": version},
    )
    assert response.status_code == 302
    assert "Submitted for review." in text(client.get(response.headers["Location"]))
    assert state(plan, "A1") == "submitted"
    assert f'id="returned-{PROGRAMME}"' not in text(client.get("/my-items"))


def test_saving_an_approved_update_changed_supersedes_the_approval_and_says_so(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    plan.ledger.approve_update(PROGRAMME, "A1", period=Q1, actor=MANAGER)
    auth.login("officer")
    page = text(client.get(update_url("A1")))
    assert "Approved by " + MANAGER in page
    # A correction changes the approved content: the approval is superseded, and the
    # form and the item page say so in words.
    plan.ledger.correct_status(
        PROGRAMME,
        "A1",
        period=Q1,
        status="Green",
        update="Resurfaced, one lane.",
        actor=OFFICER,
        reason="Typo",
    )
    assert state(plan, "A1") == "superseded"
    for url in (update_url("A1"), f"/programmes/{PROGRAMME}/items/A1/timeline"):
        assert "Approval superseded" in text(client.get(url)), url


def test_saving_an_approved_update_unchanged_says_it_is_still_approved(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    plan.ledger.approve_update(PROGRAMME, "A1", period=Q1, actor=MANAGER)
    auth.login("officer")
    page = text(client.get(update_url("A1")))
    version = re.search(r'name="seen_version"[^>]*value="(\d+)"', page)[1]
    before = plan.ledger.get_log_position()
    data = {"period": Q1, "status": "Green", "update": "Roads resurfaced.", "seen_version": version}
    response = client.post(update_url("A1"), data=data)
    assert "A1: Green for 2024/25 Q1 is unchanged and still approved." in text(
        client.get(response.headers["Location"])
    )
    assert plan.ledger.get_log_position() == before and state(plan, "A1") == "approved"


# ---------------------------------------------------------------- dashboard and report


def test_the_dashboard_and_the_committee_report_say_approved_and_superseded_in_words(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    plan.ledger.approve_update(PROGRAMME, "A1", period=Q1, actor=MANAGER)
    plan.ledger.approve_update(PROGRAMME, "A2", period=Q1, actor="max")
    plan.ledger.correct_status(
        PROGRAMME,
        "A2",
        period=Q1,
        status="Amber",
        update="Later.",
        mitigation="Extra crew.",
        actor=MANAGER,
        reason="Slipped",
    )
    auth.login("auditor")
    dashboard = text(client.get(f"/programmes/{PROGRAMME}/dashboard?period={quote(Q1)}"))
    review = dashboard.split('id="review-summary"')[1].split("</table>")[0]
    assert "Approved" in review and "Approval superseded" in review
    exceptions = dashboard.split('id="exceptions-table"')[1].split("</table>")[0]
    assert "Approval superseded" in exceptions  # A2, Amber
    html = report_html(plan.projections_db, PROGRAMME, "committee", Q1).decode()
    appendix = html.split('id="appendix"')[1]
    a1 = appendix.split('<th scope="row">A1</th>')[1].split("</tr>")[0]
    a2 = appendix.split('<th scope="row">A2</th>')[1].split("</tr>")[0]
    assert ">Approved<" in a1 and ">Approval superseded<" in a2
    sheet = load_workbook(BytesIO(report_xlsx(plan.projections_db, PROGRAMME, "committee", Q1)))["Appendix"]
    rows = list(sheet.iter_rows(values_only=True))
    review = rows[0].index("Review")
    assert {row[2]: row[review] for row in rows[1:]} == {"A1": "Approved", "A2": "Approval superseded"}


@pytest.mark.parametrize(
    ("kind", "sheet_name", "ref_column"), [("highlight", "Workstreams", 0), ("partnership", "Core areas", 1)]
)
def test_the_highlight_and_partnership_reports_have_the_review_column_in_every_format(
    plan: System, kind: str, sheet_name: str, ref_column: int
) -> None:
    plan.ledger.approve_update(PROGRAMME, "A1", period=Q1, actor=MANAGER)  # A2 left submitted
    html = report_html(plan.projections_db, PROGRAMME, kind, Q1).decode()
    table = html.split("Progress update" if kind == "highlight" else "Activity this period")[0]
    assert '<th scope="col">Review</th>' in table.rsplit("<table", 1)[1]
    for ref, words in (("A1", "Approved"), ("A2", "Submitted: awaiting review")):
        row = html.split(f"Action {ref}</t")[1].split("</tr>")[0]  # the title's cell, then on
        assert f'<td class="review">{words}</td>' in row
    workbook = load_workbook(BytesIO(report_xlsx(plan.projections_db, PROGRAMME, kind, Q1)))
    rows = list(workbook[sheet_name].values)
    review = rows[0].index("Review")
    assert {r[ref_column]: r[review] for r in rows[1:]} == {
        "A1": "Approved", "A2": "Submitted: awaiting review"
    }  # fmt: skip
    doc = Document(BytesIO(render_docx(build_report(plan.projections_db, PROGRAMME, kind, Q1))))
    (table,) = [t for t in doc.tables if "Review" in [c.text for c in t.rows[0].cells]]
    review = [c.text for c in table.rows[0].cells].index("Review")
    assert [r.cells[review].text for r in table.rows[1:]] == ["Approved", "Submitted: awaiting review"]


# ---------------------------------------------------------------- publishing


def test_publishing_lists_what_is_not_approved_needs_a_reason_and_records_the_override(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    plan.ledger.approve_update(PROGRAMME, "A1", period=Q1, actor=MANAGER)
    auth.login("programme manager")
    page = text(client.get(PUBLISH))
    not_approved = page.split('id="not-approved"')[1].split("</table>")[0]
    assert "A2" in not_approved and "Awaiting review" in not_approved and "A1" not in not_approved
    position = re.search(r'name="position"[^>]*value="(\d+)"', page)[1]
    before = plan.ledger.get_log_position()
    page = text(client.post(PUBLISH, data={"position": position}))
    assert "not approved" in errors(page) and 'href="#override_reason"' in errors(page)
    assert plan.ledger.get_log_position() == before
    response = client.post(PUBLISH, data={"position": position, "override_reason": "Committee meets today."})
    assert response.status_code == 302
    record = text(client.get(f"/reports/{PROGRAMME}/committee/record?period={quote(Q1)}"))
    override = record.split('id="override"')[1].split("</div>")[0]
    assert "A2" in override and "Committee meets today." in override
    approvals = record.split('id="approvals"')[1].split("</table>")[0]
    digest = stored_sha256(plan, "A1")
    assert "A1" in approvals and MANAGER in approvals
    assert digest == "".join(re.findall(r"<code>(.*?)</code>", approvals, re.S)[0].split("<wbr>"))
    publications = text(client.get(f"/reports/{PROGRAMME}/publications"))
    assert "Committee meets today." in publications and "Record and approvals" in publications


def test_publishing_with_everything_approved_needs_no_override(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    plan.ledger.approve_update(PROGRAMME, "A1", period=Q1, actor=MANAGER)
    plan.ledger.approve_update(PROGRAMME, "A2", period=Q1, actor="max")
    auth.login("programme manager")
    page = text(client.get(PUBLISH))
    assert "Every item in the report is approved as it stands" in page and 'id="override_reason"' not in page
    position = re.search(r'name="position"[^>]*value="(\d+)"', page)[1]
    assert client.post(PUBLISH, data={"position": position}).status_code == 302
    record = text(client.get(f"/reports/{PROGRAMME}/committee/record?period={quote(Q1)}&edition=1"))
    assert "no override" in record
    assert record.split('id="approvals"')[1].count('<th scope="row"') == 2
    # The hash as code, not as escaped markup (it showed "&lt;code&gt;" around it).
    assert re.search(r"<code>[0-9a-f]{64}</code>", record) and "&lt;code&gt;" not in record
    assert (
        client.get(f"/reports/{PROGRAMME}/committee/record?period={quote(Q1)}&edition=2").status_code == 404
    )


def test_an_edition_of_a_period_never_opened_says_review_was_not_checked(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    q2 = "2024/25 Q2"
    plan.ledger.record_status(PROGRAMME, "A1", period=q2, status="Green", update="Done.", actor=OFFICER)
    auth.login("programme manager")
    publish = f"/reports/{PROGRAMME}/committee/publish?period={quote(q2)}"
    page = text(client.get(publish))
    assert "was not opened for updates" in page and 'id="not-approved"' not in page
    position = re.search(r'name="position"[^>]*value="(\d+)"', page)[1]
    assert client.post(publish, data={"position": position}).status_code == 302
    record = text(client.get(f"/reports/{PROGRAMME}/committee/record?period={quote(q2)}"))
    assert "Review was not checked for this edition" in record and 'id="approvals"' not in record
