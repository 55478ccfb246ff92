"""Auditors' pages: item timelines, narrative diffs, as-at, changes after publication,
verification with checkpoints, and the audit log with its CSV export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import re
import shutil
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_dashboards import page, section, text
from test_dashboards_seed import OFFICER, Q1, Q4, seed_plan
from web_helpers import DEMO_PASSWORD, DEMO_USERS, OTHER_PROGRAMME, PROGRAMME, AuthActions, app_test_config

import projections.asat
import web.audit.as_at
from ledger.store import verify
from projections import queries
from tests.helpers_store import guards_dropped
from web import create_app
from web.audit import diff_html, neutralise
from web.backend import System
from web.dashboards import db as dashboards_db
from web.times import LONDON
from web.updates.support import db as updates_db

TIMELINE = f"/programmes/{PROGRAMME}/items/A1.1.1/timeline"
AS_AT = f"/programmes/{PROGRAMME}/as-at"
CHANGED = f"/programmes/{PROGRAMME}/changed-after-publication"
MANAGER = DEMO_USERS["programme manager"]


@pytest.fixture
def plan(system: System) -> System:
    seed_plan(system.ledger)
    return system


def correct_a111(system: System, reason: str = "Wrong month in the update") -> int:
    """Correct A1.1.1's Q1 rating from Green to Amber; returns the log position before."""
    before = system.ledger.get_log_position()
    system.ledger.correct_status(
        PROGRAMME,
        "A1.1.1",
        period=Q1,
        status="Amber",
        update="On track for December.",
        mitigation="Weekly check-ins.",
        actor=MANAGER,
        reason=reason,
    )
    return before


def publish_q1(system: System) -> int:
    position = system.ledger.get_log_position()
    system.ledger.publish_report(
        PROGRAMME,
        report="committee-pack",
        period=Q1,
        log_position=position,
        content_sha256=hashlib.sha256(b"pack").hexdigest(),
        title="Committee pack",
        actor=MANAGER,
    )
    return position


# ---------------------------------------------------------------- timeline


def test_the_timeline_shows_who_when_which_period_from_to_and_why(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    correct_a111(plan)
    auth.login("auditor")
    html = page(client, TIMELINE)
    entries = re.findall(r'<li class="app-timeline__entry[^"]*" id="position-(\d+)">(.*?)</li>', html, re.S)
    assert [text(body).split(" Who ")[0] for _, body in entries] == [
        "Registered",
        f"Status recorded for {Q4}",
        f"Status recorded for {Q1}",
        f"Status corrected for {Q1} Restatement "
        f"Restatement: corrects {Q1} after the period ended (on 30 June 2024).",
    ]
    last = text(entries[-1][1])
    assert f"Who {MANAGER}" in last
    assert f"log position {entries[-1][0]}" in last
    assert f"For period {Q1}" in last
    assert "What changed Status: Green → changed to Amber corrected to Amber for 2024/25 Q1" in last
    assert "Why Wrong month in the update" in last
    assert "Update On track for December. Mitigation Weekly check-ins." in last
    first_rating = text(entries[1][1])
    assert f"Who {OFFICER}" in first_rating and "Status: Green (new)" in first_rating
    assert "Why No reason given" in first_rating and "Restatement" not in first_rating


def test_the_timeline_diffs_each_update_against_the_one_before(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    correct_a111(plan)
    auth.login("auditor")
    html = page(client, TIMELINE)
    corrected = html[html.rindex('<li class="app-timeline__entry') :]
    assert "Changes from the text it replaced" in corrected
    assert (
        'On track for <del><span class="govuk-visually-hidden">[deleted: </span>October.'
        '<span class="govuk-visually-hidden">]</span></del><ins><span class="govuk-visually-hidden">'
        '[inserted: </span>December.<span class="govuk-visually-hidden">]</span></ins>'
    ) in corrected
    q1 = html.split(f"Status recorded for {Q1}")[1].split("</li>")[0]
    assert f"Changes from the {Q4} update" in q1
    assert "[deleted: </span>Decisions are published weekly." in q1
    assert "[inserted: </span>On track for October." in q1


def test_a_rerating_is_a_restatement_and_a_change_after_publication_says_so(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    published_from = publish_q1(plan)
    plan.ledger.record_status(
        PROGRAMME,
        "A1.1.1",
        period=Q1,
        status="Red",
        update="Stalled.",
        mitigation="Escalated.",
        actor=OFFICER,
        reason="The supplier withdrew",
    )
    auth.login("analyst")
    last = text(page(client, TIMELINE).rsplit('<li class="app-timeline__entry', 1)[1])
    assert f"Restatement: re-rates {Q1} after the period ended (on 30 June 2024)." in last
    assert (
        f"Recorded after Committee pack (edition 1) was published from log position {published_from}: "
        "the published report does not show this."
    ) in last
    assert "Status: Green → changed to Red" in last and "Why The supplier withdrew" in last


def test_the_timeline_escapes_what_people_typed(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    correct_a111(plan, reason='<script>alert("reason")</script>')
    auth.login("auditor")
    html = page(client, TIMELINE)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;reason&#34;)&lt;/script&gt;" in html


def timeline_positions(html: str) -> list[int]:
    return [int(p) for p in re.findall(r'<li class="app-timeline__entry[^"]*" id="position-(\d+)">', html)]


def pagination_link(html: str, label: str) -> str | None:
    """The href of the pagination link labelled `label`, if there is one."""
    links = re.findall(
        r'<a class="govuk-link govuk-pagination__link" href="([^"]+)"[^>]*>(.*?)</a>', html, re.S
    )
    for href, body in links:
        if label in text(body):
            return href.replace("&amp;", "&")
    return None


def test_the_timeline_shows_the_newest_50_events_and_pages_to_older_ones(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    for n in range(55):
        plan.ledger.record_status(
            PROGRAMME,
            "A1.1.1",
            period=Q1,
            status="Green",
            update=f"Weekly note {n}.",
            actor=OFFICER,
            reason="Weekly note",
        )
    every = [e["position"] for e in queries.get_item_timeline(plan.projections_db, PROGRAMME, "A1.1.1")]
    assert len(every) == 58
    auth.login("officer")
    newest = page(client, TIMELINE)
    assert timeline_positions(newest) == every[-50:]
    older_url = pagination_link(newest, "Older events")
    assert older_url == f"{TIMELINE}?before={every[-50]}"
    assert pagination_link(newest, "Newer events") is None
    # The first entry on the page is diffed against the text before it, on the older page.
    first = newest.split('<li class="app-timeline__entry', 2)[1]
    assert "Changes from the text it replaced" in first
    assert "[deleted: </span>4.<span" in first and "[inserted: </span>5.<span" in first

    older = page(client, older_url)
    assert timeline_positions(older) == every[:-50]
    assert pagination_link(older, "Older events") is None
    assert pagination_link(older, "Newer events") == TIMELINE
    assert "Registered" in text(older.split('<li class="app-timeline__entry', 2)[1])
    page(client, f"{TIMELINE}?before=soon", 400)


def test_the_timeline_pages_forward_by_the_events_after_the_page(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    for n in range(120):
        plan.ledger.retitle_item(PROGRAMME, "A1.1.1", f"Publish decisions {n}", actor=MANAGER)
    every = [e["position"] for e in queries.get_item_timeline(plan.projections_db, PROGRAMME, "A1.1.1")]
    auth.login("auditor")
    pages = [page(client, TIMELINE)]
    while url := pagination_link(pages[-1], "Older events"):
        pages.append(page(client, url))
    assert [timeline_positions(p) for p in pages] == [every[-50:], every[-100:-50], every[:-100]]
    # Newer events leads back through the same pages.
    newer = page(client, pagination_link(pages[2], "Newer events") or "")
    assert timeline_positions(newer) == timeline_positions(pages[1])
    assert pagination_link(pages[1], "Newer events") == TIMELINE


def test_a_request_reads_through_one_connection_that_sees_its_own_writes(app: Flask, plan: System) -> None:
    with app.test_request_context():
        conn = dashboards_db()
        assert updates_db() is conn and dashboards_db() is conn
        before = queries.get_item_history(conn, PROGRAMME, "A1.1.1")
        correct_a111(plan)  # the projector commits projections.db on its own connection
        assert len(queries.get_item_history(conn, PROGRAMME, "A1.1.1")) == len(before) + 1
    with app.test_request_context():
        assert dashboards_db() is conn  # kept for the thread's next request (web.backend)


def test_an_unknown_item_is_not_found(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("auditor")
    page(client, f"/programmes/{PROGRAMME}/items/NOPE/timeline", 404)
    page(client, "/programmes/nope/items/A1.1.1/timeline", 404)


def test_refs_with_spaces_have_timelines(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("officer")
    html = page(client, f"/programmes/{PROGRAMME}/history")
    assert f'href="/programmes/{PROGRAMME}/items/Aim%201/timeline"' in html
    assert "Aim 1: An open organisation" in page(client, f"/programmes/{PROGRAMME}/items/Aim%201/timeline")


# ---------------------------------------------------------------- narrative diff


def test_the_narrative_diff_marks_insertions_and_deletions(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    html = page(client, f"/programmes/{PROGRAMME}/narrative-diff")
    assert f"The report narrative for <strong>{Q1}</strong> against <strong>{Q4}</strong>." in html
    summary = section(html, "section-summary")
    assert "Most actions are on track.\n<del>" in summary
    assert "[deleted: </span>The budget is a concern.<span" in summary
    assert "[inserted: </span>Two need attention.<span" in summary
    challenges = section(html, "section-challenges")
    assert f"New in {Q1}" in challenges and "[inserted: </span>Recruiting trainers." in challenges


def test_the_narrative_diff_compares_the_periods_asked_for(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    backwards = page(client, f"/programmes/{PROGRAMME}/narrative-diff?from={quote(Q1)}&to={quote(Q4)}")
    assert "[inserted: </span>The budget is a concern." in section(backwards, "section-summary")
    assert f"Not written for {Q4}" in section(backwards, "section-challenges")
    same = page(client, f"/programmes/{PROGRAMME}/narrative-diff?from={quote(Q1)}&to={quote(Q1)}")
    assert "No change" in section(same, "section-summary") and "<ins>" not in section(same, "section-summary")
    page(client, f"/programmes/{PROGRAMME}/narrative-diff?from=2031/32+Q1", 404)


def test_diff_html_escapes_and_groups_changes() -> None:
    html = str(diff_html("keep <b>old words</b> here", "keep <i>new words</i> here"))
    assert "<b>" not in html and "<i>" not in html
    assert html.startswith("keep <del>")
    assert html.count("<del>") == 1 and html.count("<ins>") == 1
    assert "&lt;b&gt;old" in html and "&lt;i&gt;new" in html
    assert str(diff_html("same", "same")) == "same"


HIDDEN = '<span class="govuk-visually-hidden">'
DELETED = re.compile(rf"<del>{HIDDEN}\[deleted: </span>(.*?){HIDDEN}\]</span></del>", re.S)
INSERTED = re.compile(rf"<ins>{HIDDEN}\[inserted: </span>(.*?){HIDDEN}\]</span></ins>", re.S)
# The seed texts sit beside a clean clone, as tests/test_demo_seed_files.py finds them.
SEED_PROSE = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "004_24ac9c2f7cbe139b.txt"


def prose_paragraphs() -> list[str]:
    """Long real prose (a council performance report) if the seed files are here, else a
    generated paragraph of the same kind."""
    if SEED_PROSE.exists():
        paragraphs = [p.strip() for p in SEED_PROSE.read_text(encoding="utf-8").split("\n\n")]
        paragraphs = [p for p in paragraphs if len(p.split()) >= 40]
        if len(paragraphs) >= 5:
            return paragraphs
    sentences = (
        "The council delivered 92% of its savings plan in the quarter.",
        "Partners agreed a recovery plan for children's services, with 12.5% more placements.",
        "Risks remain (recruitment, the budget) and are reported to the committee.",
        "The committee will review progress in Q3 2024/25 against the corporate plan.",
        "Two actions are delayed: the new website and the review of fees & charges.",
    )
    rng = random.Random(4)
    return [" ".join(rng.choice(sentences) for _ in range(12)) for _ in range(8)]


def diff_sides(html: str) -> tuple[str, str]:
    """(old, new) read back from diff_html's output: kept text with the deletions, kept
    text with the insertions."""
    old = DELETED.sub(lambda m: m[1], INSERTED.sub("", html))
    new = INSERTED.sub(lambda m: m[1], DELETED.sub("", html))
    return unescape(old), unescape(new)


def test_diff_html_round_trips_long_prose() -> None:
    paragraphs = prose_paragraphs()
    rng = random.Random(20241003)
    for n in range(40):
        before = "\n\n".join(rng.sample(paragraphs, 2))
        words = re.findall(r"\S+\s*", before)
        for _ in range(rng.randrange(1, 8)):  # deletions, insertions, replacements, respacing
            at = rng.randrange(len(words))
            edit = rng.choice(("delete", "insert", "replace", "space"))
            if edit == "delete":
                del words[at : at + rng.randrange(1, 6)]
            elif edit == "insert":
                words[at:at] = re.findall(r"\S+\s*", rng.choice(paragraphs))[: rng.randrange(1, 12)]
            elif edit == "replace":
                words[at] = rng.choice(("delayed ", "on track ", "<b>Red</b> ", "risk & issue "))
            else:
                words[at] = words[at].rstrip() + rng.choice(("  ", "\n", " "))
        after = "".join(words)
        if n % 5 == 0:
            after = after.rstrip()
        html = str(diff_html(before, after))
        old, new = diff_sides(html)
        assert new == after  # kept and inserted: the new text exactly
        assert old.split() == before.split()  # kept and deleted: the old words, in order
        assert "<b>" not in html
    # A change of spacing alone is not a change.
    assert str(diff_html("On  track\nfor October.", "On track for  October.")) == "On track for  October."


# ---------------------------------------------------------------- as at


def test_as_at_a_position_before_a_change_shows_the_old_status(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    before = correct_a111(plan)
    auth.login("auditor")
    now = page(client, f"/programmes/{PROGRAMME}/dashboard")
    assert "Green: 0, Amber: 2" in now
    html = page(client, f"{AS_AT}?when={before}")
    recorded = queries.get_audit_log(plan.projections_db, limit=1, before=before + 1)[0]["recorded_at"]
    assert recorded.endswith("+00:00")  # recorded in UTC, shown in UK time
    moment = datetime.fromisoformat(recorded).astimezone(LONDON)
    banner = f"As recorded at {moment:%H:%M:%S %Z} on {moment.day} {moment:%B %Y}, log position {before}</p>"
    assert banner in html
    assert "Green: 1, Amber: 1, Red: 1" in html
    assert "A1.1.1" not in text(section(html, "exceptions-table"))  # it was Green then
    assert f'value="{before}"' in html  # the question stays on the page


def test_as_at_a_time_before_a_change_shows_the_old_status(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    last = queries.get_audit_log(plan.projections_db, limit=1)[0]
    time.sleep(0.01)  # the correction is recorded strictly later
    correct_a111(plan)
    auth.login("auditor")
    html = page(client, f"{AS_AT}?when={quote(last['recorded_at'])}")
    assert f"log position {last['position']}" in html
    assert "Green: 1, Amber: 1, Red: 1" in html


def test_as_at_a_date_before_the_programme_existed(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    auth.login("auditor")
    html = page(client, f"{AS_AT}?when={yesterday}", 404)
    assert "Test plan had not been registered at the end of" in html
    assert "log position 0" in html


def test_as_at_rejects_what_it_cannot_read(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("auditor")
    html = page(client, f"{AS_AT}?when=last+tuesday", 400)
    assert "There is a problem" in html and "is neither a log position" in html
    assert html.startswith("<!DOCTYPE html>") and "<title>Error:" in html
    beyond = page(client, f"{AS_AT}?when=99999", 400)
    assert "The log has" in beyond
    assert "As it stood on" in page(client, AS_AT)  # no question yet: just the form


def test_as_at_snapshots_are_cached_by_log_position(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    position = correct_a111(plan)
    auth.login("auditor")
    page(client, f"{AS_AT}?when={position}")
    cached = list((data_dir / "cache" / "as-at").glob("*.db"))
    assert len(cached) == 1 and cached[0].name.startswith("programme-")
    assert f"-position-{position}-" in cached[0].name

    def no_rebuild(*args: object, **kwargs: object) -> None:
        raise AssertionError("the snapshot should come from the cache")

    monkeypatch.setattr(projections.asat, "programme_snapshot_with", no_rebuild)
    # The same position asked for as a time: the same file.
    recorded_at = queries.get_audit_log(plan.projections_db, limit=1, before=position + 1)[0]["recorded_at"]
    html = page(client, f"{AS_AT}?when={quote(recorded_at)}&period={quote(Q4)}")
    assert "Green: 3, Amber: 1" in html
    assert list((data_dir / "cache" / "as-at").glob("*.db")) == cached


def test_as_at_snapshots_are_one_programme_and_the_cache_is_bounded(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web.audit.as_at, "AS_AT_CACHE_FILES", 2)
    cache = data_dir / "cache" / "as-at"
    cache.mkdir(parents=True)
    (cache / "position-5-abc-schema1.db").write_bytes(b"x" * 1000)  # an old whole-log file
    os.utime(cache / "position-5-abc-schema1.db", (1, 1))
    auth.login("auditor")
    last = plan.ledger.get_log_position()
    for position in (last - 2, last - 1, last):
        assert "As it stood" in page(client, f"{AS_AT}?when={position}")
    kept = sorted(p.name for p in cache.glob("*.db"))
    assert len(kept) == 2 and all(f"-position-{n}-" in " ".join(kept) for n in (last - 1, last))
    # Only the programme's records were replayed: nothing of another programme is there
    # but its own record (its name, which a dependency's side shows).
    with closing(sqlite3.connect(cache / kept[0])) as conn:
        assert {r[0] for r in conn.execute("SELECT programme FROM items")} == {PROGRAMME}
        others = "SELECT programme FROM subjects WHERE aggregate_kind != 'Programme'"
        assert {r[0] for r in conn.execute(others)} <= {PROGRAMME, None}


def test_a_later_as_at_is_caught_up_from_the_earlier_cached_snapshot(
    client: FlaskClient, auth: AuthActions, plan: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    position = correct_a111(plan)
    auth.login("auditor")
    assert "Green: 1, Amber: 1, Red: 1" in page(client, f"{AS_AT}?when={position}")
    built = projections.asat.programme_snapshot_with
    bases: list[object] = []

    def recording(*args: object, **kwargs: object) -> object:
        bases.append(kwargs.get("base"))
        return built(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(projections.asat, "programme_snapshot_with", recording)
    # A later change, so the live read model no longer holds the programme as at position + 1.
    plan.ledger.correct_status(
        PROGRAMME, "A1.1.1", period=Q1, status="Red", update="Late.", mitigation="Escalated.",
        actor=MANAGER, reason="Slipped after all",
    )  # fmt: skip
    html = page(client, f"{AS_AT}?when={position + 1}")
    assert "Green: 0, Amber: 2" in html  # the correction, replayed onto the earlier file
    assert len(bases) == 1 and f"-position-{position}-" in str(bases[0])
    # As at the live read model's position: its rows copied, nothing replayed.
    html = page(client, f"{AS_AT}?when={plan.ledger.get_log_position()}")
    assert "Green: 0, Amber: 1, Red: 2" in html
    assert len(bases) == 1


# ---------------------------------------------------------------- changed after publication


def test_changes_after_publication_are_listed(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("auditor")
    assert "No report has been published" in page(client, CHANGED)
    published_from = publish_q1(plan)
    assert "Nothing has been recorded since" in page(client, CHANGED)
    correct_a111(plan)
    html = page(client, CHANGED)
    assert "1 change" in html
    row = text(section(html, "changes").split("<tbody")[1])
    assert f"Committee pack, {Q1} Edition 1" in row
    assert f"from log position {published_from}" in row
    assert "A1.1.1" in row and "status: Green → Amber" in row
    assert "Wrong month in the update" in row and MANAGER in row
    other_period = page(client, f"{CHANGED}?period={quote(Q4)}")
    assert f"Nothing has been recorded for {Q4} since the published reports were built." in other_period


# ---------------------------------------------------------------- verify and checkpoints


def test_verify_shows_intact_with_the_event_count_and_head(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path
) -> None:
    expected = verify(data_dir / "events.db")
    auth.login("auditor")
    html = page(client, "/audit/verify")
    assert "Intact" in text(section(html, "result"))
    assert f"All {expected.events} events verify." in text(section(html, "result"))
    assert text(section(html, "events")) == str(expected.events) == str(plan.ledger.get_log_position())
    assert text(section(html, "head")) == expected.head_hex
    assert "No checkpoint has been taken." in html


def test_taking_a_checkpoint_records_the_head_and_shows_it(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path
) -> None:
    auth.login("auditor")
    response = client.post("/audit/verify/checkpoint")
    assert response.status_code == 302 and response.headers["Location"] == "/audit/verify"
    files = list((data_dir / "checkpoints").glob("*.json"))
    assert len(files) == 1
    saved = json.loads(files[0].read_text())
    assert saved["events"] == plan.ledger.get_log_position()
    html = page(client, "/audit/verify")
    assert f"Checkpoint taken: {saved['events']} events" in html
    checkpoint = text(section(html, "checkpoint"))
    assert f"Events covered {saved['events']}" in checkpoint and saved["head"] in checkpoint
    assert "and the log still extends the latest checkpoint unchanged" in html


def test_verify_shows_broken_at_the_tampered_position(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path, tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(data_dir, tmp_path / "tampered"))
    with guards_dropped(copy / "events.db") as conn:
        conn.execute("UPDATE stored_events SET topic = 'ledger.domain:Forged' WHERE rowid = 7")
    tampered = create_app(app_test_config(copy), system=plan)
    with tampered.test_client() as other:
        AuthActions(other).login("auditor")
        html = page(other, "/audit/verify")
    result = text(section(html, "result"))
    assert result.startswith("Broken at position 7")
    assert "The event at position 7 is not the event that was recorded there" in result
    assert text(section(html, "events")) == "6"
    # The untouched original still verifies.
    auth.login("auditor")
    assert "Intact" in text(section(page(client, "/audit/verify"), "result"))


def test_verify_reports_a_history_rewritten_since_the_checkpoint(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path
) -> None:
    (data_dir / "checkpoints").mkdir()
    (data_dir / "checkpoints" / "forged.json").write_text(
        json.dumps({"events": 3, "head": "ab" * 32, "taken_at": "2030-01-01T00:00:00+00:00"})
    )
    (data_dir / "checkpoints" / "junk.json").write_text("not json")
    auth.login("auditor")
    html = page(client, "/audit/verify")
    assert "Broken at position 3" in text(section(html, "result"))
    assert "differs from the checkpoint" in html
    assert "is not a ledger checkpoint" in html  # the unreadable file is reported, not ignored


def test_checkpoints_are_for_auditors_and_administrators_only(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path
) -> None:
    auth.login("analyst")
    assert "Take a checkpoint now" not in page(client, "/audit/verify")
    assert client.post("/audit/verify/checkpoint").status_code == 403
    assert not (data_dir / "checkpoints").exists()


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_checkpoint_needs_the_forms_csrf_token(
        self, client: FlaskClient, plan: System, data_dir: Path
    ) -> None:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page(client, "/login"))[1]
        client.post(
            "/login",
            data={"username": DEMO_USERS["administrator"], "password": DEMO_PASSWORD, "csrf_token": token},
        )
        html = page(client, "/audit/verify")
        assert client.post("/audit/verify/checkpoint").status_code == 400
        assert not (data_dir / "checkpoints").exists()
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', html.split("Take a checkpoint")[0])[1]
        assert client.post("/audit/verify/checkpoint", data={"csrf_token": form_token}).status_code == 302
        assert len(list((data_dir / "checkpoints").glob("*.json"))) == 1


# ---------------------------------------------------------------- audit log


def log_rows(html: str) -> list[list[str]]:
    body = section(html, "audit-log").split("<tbody")[1]
    return [
        [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_the_audit_log_lists_events_newest_first(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    correct_a111(plan)
    auth.login("auditor")
    rows = log_rows(page(client, "/audit/log"))
    total = plan.ledger.get_log_position()
    assert [int(r[0]) for r in rows] == list(range(total, 0, -1))
    newest = rows[0]
    assert newest[2] == MANAGER
    assert newest[3] == f"A1.1.1 {PROGRAMME}"
    assert newest[4] == f"Status corrected, {Q1} corrected to Amber for {Q1} status: Green → Amber"
    assert newest[5] == "Wrong month in the update"


@pytest.mark.parametrize(
    ("query", "count"),
    [
        (f"programme={OTHER_PROGRAMME}", 1),
        (f"actor={OFFICER}", 8),
        (f"actor={OFFICER.upper()}", 8),
        ("event=Item.StatusRecorded", 8),
        ("event=Item.Registered", 11),
        (f"event=Item.StatusRecorded&actor={OFFICER}&programme={PROGRAMME}", 8),
        ("event=Narrative.SectionWritten", 3),
    ],
)
def test_the_audit_log_filters(
    client: FlaskClient, auth: AuthActions, plan: System, query: str, count: int
) -> None:
    auth.login("administrator")
    html = page(client, f"/audit/log?{query}")
    assert len(log_rows(html)) == count
    # The CSV of the same filter holds the same rows.
    rows = list(csv.DictReader(io.StringIO(page(client, f"/audit/log.csv?{query}"))))
    assert [int(r["position"]) for r in rows] == sorted(int(r[0]) for r in log_rows(html))


def test_the_audit_log_filters_by_date(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    today = datetime.now(UTC).date()
    auth.login("auditor")
    total = plan.ledger.get_log_position()
    assert len(log_rows(page(client, f"/audit/log?since={today}&until={today}"))) == total
    assert "No events match these filters." in page(client, f"/audit/log?since={today + timedelta(days=1)}")
    assert "No events match these filters." in page(client, f"/audit/log?until={today - timedelta(days=1)}")


def test_a_bad_date_is_an_error_on_its_field(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("auditor")
    html = page(client, "/audit/log?since=yesterday", 400)
    assert "There is a problem" in html
    assert 'href="#since">Recorded from must be a date like 2024-10-03' in html
    assert client.get("/audit/log.csv?since=yesterday").status_code == 400


def test_the_audit_log_pages_by_position(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    for n in range(25):
        plan.ledger.retitle_item(PROGRAMME, "V", f"Vision {n}", actor=MANAGER)
    total = plan.ledger.get_log_position()
    assert total > 50
    auth.login("auditor")
    first = page(client, "/audit/log")
    assert [int(r[0]) for r in log_rows(first)] == list(range(total, total - 50, -1))
    older = re.search(r'href="([^"]+)"[^>]*rel="next"|rel="next"[^>]*href="([^"]+)"', first)
    older_url = (older[1] or older[2]).replace("&amp;", "&")
    assert older_url == f"/audit/log?before={total - 49}"
    assert "Newer events" not in first
    second = page(client, older_url)
    assert [int(r[0]) for r in log_rows(second)] == list(range(total - 50, 0, -1))
    newer = re.search(r'href="([^"]+)"[^>]*rel="prev"|rel="prev"[^>]*href="([^"]+)"', second)
    back = page(client, (newer[1] or newer[2]).replace("&amp;", "&"))
    assert log_rows(back) == log_rows(first)
    # Filters travel with the pages.
    filtered = page(client, f"/audit/log?actor={MANAGER}&event=Item.Retitled")
    assert len(log_rows(filtered)) == 25 and "Older events" not in filtered


def test_the_csv_export_holds_every_column_and_neutralises_formulas(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    correct_a111(plan, reason='=HYPERLINK("http://evil.example","click")')
    plan.ledger.retitle_item(PROGRAMME, "V", "+SUM(A1:A9)", actor=MANAGER, reason="@cmd|' /C calc'!A0")
    plan.ledger.retitle_item(PROGRAMME, "V", "-2+3", actor=MANAGER, reason="-x")
    auth.login("auditor")
    response = client.get(f"/audit/log.csv?programme={PROGRAMME}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == [
        "position",
        "recorded_at",
        "actor",
        "programme",
        "aggregate_kind",
        "subject_ref",
        "event_type",
        "summary",
        "field",
        "from_value",
        "to_value",
        "reason",
        "period",
        "version",
        "chain_head",
    ]
    assert all(r["programme"] == PROGRAMME for r in rows)
    positions = [int(r["position"]) for r in rows]
    assert positions == sorted(positions)  # log order
    by_reason = {r["reason"] for r in rows}
    assert '\'=HYPERLINK("http://evil.example","click")' in by_reason
    assert "'@cmd|' /C calc'!A0" in by_reason
    assert "'-x" in by_reason
    titles = [r["to_value"] for r in rows if r["event_type"] == "Retitled"]
    assert titles == ["'+SUM(A1:A9)", "'-2+3"]
    assert not any(
        value[:1] in "=+-@\t\r"
        for r in rows
        for value in r.values()
        if value and not re.match(r"^-?\d", value)
    )


def test_neutralise_leaves_numbers_and_plain_text() -> None:
    assert neutralise("-5") == "-5" and neutralise("+1.5") == "+1.5" and neutralise("-12.16%") == "-12.16%"
    assert neutralise(7) == 7 and neutralise(None) is None and neutralise("") == ""
    assert neutralise("plain") == "plain"
    assert neutralise("-1+2") == "'-1+2" and neutralise("=1") == "'=1" and neutralise("\r=1") == "'\r=1"


def test_the_log_escapes_script_payloads(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    plan.ledger.retitle_item(PROGRAMME, "V", "<script>alert(1)</script>", actor=MANAGER, reason="<b>bold</b>")
    auth.login("auditor")
    html = page(client, "/audit/log")
    assert "<script>alert(1)" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
