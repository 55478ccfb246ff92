"""Issue 14: the projector as its own service on SQLite (polling), and a reader process
that waits for its own write (`System.wait_for`)."""

from __future__ import annotations

import threading
from pathlib import Path

from projections.follow import follow
from projections.system import open_system


def test_a_follower_projects_what_a_reading_only_system_saves(tmp_path: Path) -> None:
    follower = open_system(tmp_path)
    writer = open_system(tmp_path, catch_up=False)  # as a web worker with --projector-service
    stop = threading.Event()
    thread = threading.Thread(target=follow, args=(follower, stop), kwargs={"idle_max": 0.05})
    thread.start()
    try:
        assert not writer.catches_up
        writer.ledger.open_account("ada", display_name="Ada", role="officer", actor="admin")
        head = writer.ledger.get_log_position()
        assert head > 0
        assert writer.wait_for(head, timeout=30)  # bounded: the follower polled and applied it
        assert writer.projector.position == head
    finally:
        stop.set()
        thread.join(timeout=30)
        writer.close()
        follower.close()
    assert not thread.is_alive()


def test_waiting_for_a_position_nobody_projects_times_out(tmp_path: Path) -> None:
    with open_system(tmp_path, catch_up=False) as reader:
        reader.ledger.open_account("ada", display_name="Ada", role="officer", actor="admin")
        assert reader.projector.position == 0
        assert not reader.wait_for(reader.ledger.get_log_position(), timeout=0.05)
