"""A rebuild's second core: each page's rows written by another process while this one
applies the next page.

Python's sqlite3 lets go of the GIL only inside sqlite3_step (CPython's
Modules/_sqlite/util.c, pysqlite_step), so a writer *thread* running `executemany`
needs the GIL back between rows and the two threads take turns: measured, the main
thread's CPU fell by ~7 µs an event but the wall clock rose (BENCHMARKS.md). A process
of its own (projections.page_writer) has its own interpreter: the main process pickles
a page's writes (a fraction of a µs a row) and goes on to the next page while the
writer inserts them, commits and indexes their text for search.

One page in flight: before sending a page the main process waits for the one before
(so one spool file holds the page being written),
and before reading the file (a row evicted from the cache, the end of the build) it
waits for every page sent (`settle`). A failure in the writer fails the build at the
next wait, with its message; the writer is stopped whatever happens (`close`).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from projections.schema import PROJECTION, TABLES_BY_NAME, search_fill, search_index_sql

_AUDIT_LOG = TABLES_BY_NAME["audit_log"]
_SCRIPT = Path(__file__).with_name("page_writer.py")
_POSITION = "UPDATE projection_position SET position = ? WHERE projection = ?"
# (statement, values, many): a page's writes as projections.page_writer runs them.
Write = tuple[str, Any, bool]


def spare_core() -> bool:
    """Whether this process may run on more than one CPU: with one, a writer process
    would only take turns with the build."""
    return len(os.sched_getaffinity(0)) > 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) > 1


class PageWriteFailed(Exception):
    """The writer process could not write a page: the build fails with this message."""


class PageWriter:
    """Writes a build's pages into `path` from a process of its own, and (`search`)
    fills audit_log's full-text index as it goes; schema.enable_search adds its
    triggers at the end. audit_log's rowid is its position."""

    def __init__(self, path: Path, *, search: bool) -> None:
        self._search = search
        self._fill = search_fill(_AUDIT_LOG, by_rowid=True)
        self._created = False
        self._sent: list[tuple[int, int]] = []  # (after, last) of each page not yet answered
        # A page (~2 MB pickled) goes through a file, not the pipe: a pipe holds 64 KB, so
        # writing a page into it waited while the writer read it. The file has no name
        # (gone when closed, even after a crash); the writer inherits it.
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        fd = self._spool.fileno()
        self._process = subprocess.Popen(
            [sys.executable, "-I", str(_SCRIPT), str(path), str(fd)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(fd,),
        )  # fmt: skip

    def page_ready(self, writes: list[Write], after: int, last: int) -> None:
        """Send the positions after `after` up to `last`: their rows (`writes`, pickled
        before this returns, so the caller may reuse the lists), position and index."""
        self.settle()  # the page before written: one page in flight, memory flat
        statements = list(writes)
        statements.append((_POSITION, (last, PROJECTION), False))
        if self._search:
            if not self._created:
                statements.append((search_index_sql(_AUDIT_LOG), (), False))
                self._created = True
            statements.append((self._fill, (after, last), False))
        page = pickle.dumps(statements, protocol=pickle.HIGHEST_PROTOCOL)
        os.pwrite(self._spool.fileno(), page, 0)  # the writer has read the page before
        self._sent.append((after, last))
        try:
            pickle.dump(("page", last, len(page)), self._process.stdin)  # type: ignore[arg-type]
            self._process.stdin.flush()  # type: ignore[union-attr]
        except BrokenPipeError:
            self.settle()  # it stopped: say why
            raise PageWriteFailed("The page writer stopped.") from None

    def settle(self) -> None:
        """Wait until every page sent is written: the file is the caller's to read."""
        while self._sent:
            self._answer()

    def _answer(self) -> None:
        after, last = self._sent.pop(0)
        try:
            answer = pickle.load(self._process.stdout)  # type: ignore[arg-type]
        except EOFError:
            code = self._process.wait()
            raise PageWriteFailed(
                f"Writing positions {after + 1} to {last} failed: the page writer stopped (exit code {code})."
            ) from None
        if answer[0] != "ok":
            self._sent.clear()
            raise PageWriteFailed(f"Writing positions {after + 1} to {last} failed: {answer[1]}")

    def close(self) -> None:
        """Stop the writer: asked to, once it has written everything; killed otherwise."""
        process = self._process
        if process.poll() is None:
            try:
                if self._sent:
                    raise PageWriteFailed("pages still unwritten")
                pickle.dump(("close",), process.stdin)  # type: ignore[arg-type]
                process.stdin.close()  # type: ignore[union-attr]
                process.wait(timeout=60)
            except (OSError, PageWriteFailed, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        for pipe in (process.stdin, process.stdout, self._spool):
            if pipe is not None and not pipe.closed:
                pipe.close()
