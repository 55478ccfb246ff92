"""`govledger demo` from a newcomer's side (issue 10 part 6): it builds where it is told,
in the documented order, asks before replacing an earlier demo, and says what every event
in the log is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govledger.cli import main
from govledger.demo.load import DEMO_ACCOUNTS, MARKER
from ledger.config import DATA_DIR_ENV
from ledger.store import event_store, verify

ACCOUNTS = "demo-accounts.txt"


def _demo(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(main, [*args], env=env, input=input)


def _earlier_demo(directory: Path) -> Path:
    """A directory an earlier demo left: its marker and its accounts file."""
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("Created by `govledger demo`.\n")
    accounts = directory / ACCOUNTS
    accounts.write_text("admin  earlier-password  administrator\n")
    return accounts


@pytest.fixture(autouse=True)
def _in_a_scratch_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default ./govledger-demo lands in tmp_path, never in the repository."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def _interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("govledger.commands.demo._stdin_is_terminal", lambda: True)


def test_the_group_data_dir_is_where_the_demo_goes(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen"
    result = _demo("--data-dir", str(chosen), "demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert (chosen / "events.db").is_file() and (chosen / ACCOUNTS).is_file()
    assert not (tmp_path / "govledger-demo").exists()
    assert f"govledger --data-dir {chosen} serve" in result.output  # how to serve it again
    # Every event is accounted for: the import's, then the accounts' and the publication's.
    imported = int(result.output.split("Recorded ")[1].split(" events")[0])
    said = next(line for line in result.output.splitlines() if line.startswith("Plus "))
    others = int(said.split()[1])
    total = int(said.split(": ")[1].split()[0])
    assert f"{len(DEMO_ACCOUNTS)} demo accounts" in said
    assert imported + others == total
    assert verify(event_store(chosen)).events == total
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"The import records {imported} events; the log then holds {total}" in readme


def test_the_environment_variable_is_where_the_demo_goes(tmp_path: Path) -> None:
    chosen = tmp_path / "from-env"
    result = _demo("demo", "--no-serve", env={DATA_DIR_ENV: str(chosen)})
    assert result.exit_code == 0, result.output
    assert (chosen / "events.db").is_file()
    assert not (tmp_path / "govledger-demo").exists()


def test_without_a_choice_the_demo_goes_to_govledger_demo(tmp_path: Path) -> None:
    result = _demo("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "govledger-demo" / "events.db").is_file()
    assert f"Demo data loaded into {tmp_path / 'govledger-demo'}" in result.output


def test_without_a_terminal_an_earlier_demo_is_kept(tmp_path: Path) -> None:
    accounts = _earlier_demo(tmp_path / "govledger-demo")
    result = _demo("demo", "--no-serve")
    assert result.exit_code == 1
    assert "already holds a demo" in result.output
    assert "--yes" in result.output
    assert "earlier-password" in accounts.read_text()
    assert not (tmp_path / "govledger-demo" / "events.db").exists()


def test_answering_no_keeps_the_earlier_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _interactive(monkeypatch)
    accounts = _earlier_demo(tmp_path / "govledger-demo")
    result = _demo("demo", "--no-serve", input="n\n")
    assert result.exit_code == 1
    assert "Replace it, with new accounts and passwords?" in result.output
    assert "The demo was left as it was." in result.output
    assert "earlier-password" in accounts.read_text()


def test_answering_yes_replaces_the_earlier_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _interactive(monkeypatch)
    accounts = _earlier_demo(tmp_path / "govledger-demo")
    result = _demo("demo", "--no-serve", input="y\n")
    assert result.exit_code == 0, result.output
    assert "earlier-password" not in accounts.read_text()
    assert (tmp_path / "govledger-demo" / "events.db").is_file()


def test_yes_replaces_an_earlier_demo_without_asking(tmp_path: Path) -> None:
    accounts = _earlier_demo(tmp_path / "elsewhere")
    result = _demo("demo", "--no-serve", "--yes", "--data-dir", str(tmp_path / "elsewhere"))
    assert result.exit_code == 0, result.output
    assert "Replace it" not in result.output
    assert "earlier-password" not in accounts.read_text()


def test_data_the_demo_did_not_make_is_refused_even_with_yes(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "events.db").write_bytes(b"a council's own ledger")
    result = _demo("--data-dir", str(real), "demo", "--no-serve", "--yes")
    assert result.exit_code == 1
    assert "the demo never overwrites real data" in result.output
    assert (real / "events.db").read_bytes() == b"a council's own ledger"


@pytest.mark.parametrize(
    "path", ["govledger-demo/demo-accounts.txt", "govledger-demo/secret_key", "govledger-data/secret_key"]
)
def test_demo_passwords_and_keys_are_never_committed(path: str) -> None:
    repo = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=repo, check=False)
    assert ignored.returncode == 0, f"{path} is not in .gitignore"
