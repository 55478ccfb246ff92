"""A throwaway PostgreSQL server for the test session, and a database per test.

`initdb` into a fresh temporary directory, `pg_ctl start` on a free loopback port with
its unix socket in the same directory, fsync off (nothing here needs to survive a
crash), and everything removed on `stop()`. Nothing touches the machine's own cluster.

initdb and postgres refuse to run as root, so as root the server runs as the
`postgres` system user (created by Debian's postgresql package) through `runuser`,
and the temporary directory is handed to that user. As anyone else it runs as you.

Connections go over TCP with passwords (scram-sha-256), as the application's would:
a superuser for setting up and tampering, and an ordinary role that owns each test
database, as a deployment's application role would.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

SERVER_USER = "postgres"  # the OS user that runs the server when we are root
SUPERUSER = "govledger_admin"
APP_ROLE = "govledger_app"


def find_pg_bin() -> Path | None:
    """The directory holding initdb/pg_ctl: on PATH, else Debian's versioned directory.

    Debian's postgresql package puts them in /usr/lib/postgresql/<major>/bin, not on
    PATH; the newest major wins.
    """
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not candidates:
        return None
    newest = max(candidates, key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(newest).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Database:
    """Connection settings for one database, as the ledger reads them from POSTGRES_*."""

    dbname: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)

    def env(self) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
        }

    def connect(self, **kwargs: object) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            dbname=self.dbname,
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            connect_timeout=10,
            **kwargs,  # type: ignore[arg-type]
        )


class PostgresServer:
    """One PostgreSQL server in a temporary directory. `start()`, then `stop()`."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.superuser_password = secrets.token_urlsafe(16)
        self.app_password = secrets.token_urlsafe(16)
        self.port = 0
        self.root: Path | None = None
        self._run_as: list[str] = []
        self._databases = 0

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="govledger-pg-"))
        if os.geteuid() == 0:
            # initdb: "cannot be run as root". Hand the directory to the server's user.
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root, and there is no '{SERVER_USER}' user to run PostgreSQL as "
                    "(install the postgresql package, which creates it)"
                ) from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._run_as = ["runuser", "-u", SERVER_USER, "--"]
        atexit.register(self.stop)  # a crashed session must not leave a server behind
        pwfile = self.root / "pwfile"
        self._as_server_user(["sh", "-c", f"umask 077 && cat > {pwfile}"], self.root, self.superuser_password)
        self._run(
            "initdb",
            "--pgdata", str(self.root / "data"),
            "--username", SUPERUSER,
            "--pwfile", str(pwfile),
            "--auth-local", "trust",
            "--auth-host", "scram-sha-256",
            "--encoding", "UTF8",
            "--no-locale",
            "--no-sync",
        )  # fmt: skip
        options = " ".join(
            (
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",  # throwaway data: durability only costs time here
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            )
        )
        for attempt in range(3):  # the free port can be taken between choosing and binding
            self.port = _free_port()
            try:
                self._run(
                    "pg_ctl",
                    "--pgdata", str(self.root / "data"),
                    "--log", str(self.root / "server.log"),
                    "--options", f"{options} -p {self.port}",
                    "--wait", "--timeout", "60",
                    "start",
                )  # fmt: skip
                break
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise
        with self.superuser().connect(autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(APP_ROLE), sql.Literal(self.app_password)
                )
            )

    def stop(self) -> None:
        """Stop the server and delete its directory. Safe to call twice."""
        root, self.root = self.root, None
        if root is None:
            return
        if (root / "data" / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                # immediate: nothing to flush, and it ends clients still connected.
                stop = ["pg_ctl", "--pgdata", str(root / "data"), "--mode", "immediate", "--wait", "stop"]
                self._as_server_user([str(self.bin_dir / stop[0]), *stop[1:]], root)
        shutil.rmtree(root, ignore_errors=True)

    def log(self) -> str:
        """The server's log so far (for failure messages)."""
        log = self.root / "server.log" if self.root is not None else None
        return log.read_text(errors="replace") if log is not None and log.is_file() else ""

    # --- databases ---------------------------------------------------------------------

    def superuser(self, dbname: str = "postgres") -> Database:
        return Database(dbname, "127.0.0.1", self.port, SUPERUSER, self.superuser_password)

    def create_database(self) -> Database:
        """A new empty database owned by the application role (not a superuser)."""
        self._databases += 1
        name = f"ledger_{os.getpid()}_{self._databases}"
        with self.superuser().connect(autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(APP_ROLE))
            )
        return Database(name, "127.0.0.1", self.port, APP_ROLE, self.app_password)

    def drop_database(self, database: Database) -> None:
        with self.superuser().connect(autocommit=True) as conn:
            # FORCE: an application's pool may still hold idle connections.
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database.dbname))
            )

    @contextlib.contextmanager
    def database(self) -> Iterator[Database]:
        database = self.create_database()
        try:
            yield database
        finally:
            self.drop_database(database)

    # --- running the server's tools ----------------------------------------------------

    def _run(self, tool: str, *args: str) -> None:
        assert self.root is not None
        self._as_server_user([str(self.bin_dir / tool), *args], self.root)

    def _as_server_user(self, argv: Sequence[str], cwd: Path, input: str | None = None) -> None:
        completed = subprocess.run(
            [*self._run_as, *argv],
            input=input,
            cwd=cwd,  # the server user may not be able to read our working directory
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if completed.returncode != 0:
            log = self.log()
            raise subprocess.CalledProcessError(
                completed.returncode,
                argv,
                completed.stdout,
                f"{completed.stderr}\n--- server log ---\n{log[-4000:]}",
            )
