"""The web-side `govledger` commands: account create / set-password, serve."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from web_helpers import DEMO_USERS

from govledger.cli import main
from govledger.commands.accounts import account
from govledger.commands.serve import serve
from govledger.system import open_system
from ledger.domain import Account
from web.credentials import CredentialStore

PASSWORD = "the first admin's password"


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path))
@click.pass_context
def cli(ctx: click.Context, data_dir: Path) -> None:
    """Stands in for `govledger`: sets ctx.obj the way govledger.cli does."""
    ctx.obj = {"data_dir": data_dir}


cli.add_command(account)
cli.add_command(serve)


def test_create_the_first_administrator(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path), "account", "create", "--username", "Ada",
         "--name", "Ada Admin", "--role", "administrator"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created administrator account 'ada'." in result.output
    assert PASSWORD not in result.output
    assert CredentialStore(tmp_path / "credentials.db").verify("ada", PASSWORD)
    with open_system(tmp_path) as system:
        assert system.ledger.get_account("ada")["roles"] == ["administrator"]
        opened = next(iter(system.ledger.events.get(Account.create_id("ada"))))
        assert opened.actor.endswith("(command line)")


def test_password_can_come_from_the_environment(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path), "account", "create", "--username", "bo", "--name", "Bo",
         "--role", "analyst"],
        env={"GOVLEDGER_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    assert CredentialStore(tmp_path / "credentials.db").verify("bo", PASSWORD)


def test_refusals_are_sentences_and_record_nothing(tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path), "account", "create", "--name", "X", "--role", "officer"]
    short = CliRunner().invoke(cli, [*args, "--username", "x"], env={"GOVLEDGER_PASSWORD": "short"})
    assert short.exit_code == 2
    assert "Password must be 12 characters or more" in short.output
    bad = CliRunner().invoke(cli, [*args, "--username", "no spaces"], env={"GOVLEDGER_PASSWORD": PASSWORD})
    assert "Usernames use letters" in bad.output
    with open_system(tmp_path) as system:
        assert system.ledger.get_log_position() == 0


def test_set_password(data_dir: Path) -> None:
    username = DEMO_USERS["administrator"]
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "account", "set-password", username],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert CredentialStore(data_dir / "credentials.db").verify(username, PASSWORD)
    unknown = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "account", "set-password", "nobody"],
        env={"GOVLEDGER_PASSWORD": PASSWORD},
    )
    assert unknown.exit_code == 2
    assert "There is no account 'nobody'." in unknown.output


@pytest.mark.parametrize("path", [["account"], ["account", "create"], ["account", "set-password"], ["serve"]])
def test_help(path: list[str]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_serve_defaults_to_loopback_port_8000() -> None:
    options = {p.name: p.default for p in serve.params}
    assert options["host"] == "127.0.0.1"
    assert options["port"] == 8000


def test_ledger_context_object_is_understood(tmp_path: Path) -> None:
    """`govledger` itself passes a LedgerContext with a .data_dir attribute."""
    from govledger.support import LedgerContext

    @click.group()
    @click.pass_context
    def real(ctx: click.Context) -> None:
        ctx.obj = LedgerContext(data_dir=tmp_path)

    real.add_command(account)
    result = CliRunner().invoke(
        real, ["account", "create", "--username", "cy", "--name", "Cy", "--role", "auditor"],
        env={"GOVLEDGER_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "credentials.db").exists()


def test_serve_refuses_a_data_dir_without_a_ledger(tmp_path: Path) -> None:
    """Serving an empty directory would start a server with nothing in it: it refuses,
    naming the commands that make a ledger, and creates nothing."""
    missing = tmp_path / "nothing-here"
    result = CliRunner().invoke(main, ["--data-dir", str(missing), "serve"])
    assert result.exit_code == 2, result.output
    assert f"No ledger at {missing}" in result.output
    assert "govledger --data-dir govledger-demo serve" in result.output
    assert "account create" in result.output
    assert not missing.exists()


def test_serve_starts_on_a_data_dir_with_a_ledger(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[Path, str, int, dict[str, object]]] = []
    monkeypatch.setattr(
        "web.serve.serve", lambda data, host, port, **options: started.append((data, host, port, options))
    )
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    defaults = {"secure_cookies": True, "workers": 1, "projector_service": False}
    assert started == [(data_dir.resolve(), "127.0.0.1", 8123, defaults)]
