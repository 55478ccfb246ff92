"""The writing half of a rebuild, in a process of its own (projections.pipeline).

Run as a script (`python page_writer.py FILE SPOOL_FD`), so it imports nothing but the
standard library. Told on stdin ("page", last position, size), it reads the page from
the start of the spool file it inherited: a pickled list of (statement, values, many),
runs them in one transaction on FILE and answers on stdout ("ok", last position), or
("error", message) and stops. ("close",) closes FILE and ends it.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import sys
from typing import Any, BinaryIO


def serve(path: str, spool: int, pages: BinaryIO, answers: BinaryIO) -> int:
    """Write the pages read from `pages` into `path`; 0 once closed, 1 after an error."""
    sqlite3.register_adapter(type(None), _same)  # as projections.state.bind_none_quickly
    try:
        # The build's scratch file, which must exist: a writer outliving a killed build
        # must not create it again after a sweep removed it (projections.scratch).
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30, isolation_level=None)
    except sqlite3.Error as error:
        _answer(answers, ("error", f"{error}"))
        return 1
    try:
        # As the build's own connection: a scratch file, no journal, no fsyncs.
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-65536"):
            conn.execute(f"PRAGMA {pragma}")
        while True:
            try:
                message: tuple[Any, ...] = pickle.load(pages)
            except EOFError:  # the build has gone: nothing to finish
                return 1
            if message[0] == "close":
                return 0
            _, last, size = message
            try:
                _write(conn, pickle.loads(os.pread(spool, size, 0)))
            except Exception as error:  # every failure is the build's, told to it
                _answer(answers, ("error", f"{error}"))
                return 1
            if not _answer(answers, ("ok", last)):
                return 1
    finally:
        conn.close()


def _write(conn: sqlite3.Connection, statements: list[tuple[str, Any, bool]]) -> None:
    """One page, in one transaction."""
    conn.execute("BEGIN")
    for sql, values, many in statements:
        if many:
            conn.executemany(sql, values)
        else:
            conn.execute(sql, values)
    conn.execute("COMMIT")


def _answer(answers: BinaryIO, message: tuple[Any, ...]) -> bool:
    """Tell the build; False if it has gone (killed: nobody to tell)."""
    try:
        pickle.dump(message, answers)
        answers.flush()
    except BrokenPipeError:
        return False
    return True


def _same(value: None) -> None:
    return value


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], int(sys.argv[2]), sys.stdin.buffer, sys.stdout.buffer))
