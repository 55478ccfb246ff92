"""Every `govledger` command has working help and is documented in README.md.

Like sqlite-utils' documentation test: adding a command without documenting it fails
here, so the README can never silently fall behind the CLI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from govledger.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under `group`, subgroups included (and listed themselves)."""
    paths: list[tuple[str, ...]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = (*prefix, name)
        paths.append(path)
        if isinstance(command, click.Group):
            paths += _commands(command, path)
    return paths


COMMANDS = _commands(main)


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, name
        command = found
    return command


def test_there_are_commands() -> None:
    assert ("verify",) in COMMANDS
    assert ("checkpoint",) in COMMANDS


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "govledger")
def test_help_exits_0_and_says_something(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    help_text = (_command(path).help or "").strip()
    assert help_text, f"`govledger {' '.join(path)}` has no help text (add a docstring)"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_command_is_documented_in_the_readme(path: tuple[str, ...]) -> None:
    # A missing README fails rather than skips: it would otherwise hide every command.
    assert README.is_file(), f"{README} does not exist"
    usage = f"govledger {' '.join(path)}"
    assert usage in README.read_text(encoding="utf-8"), f"README.md never mentions `{usage}`"


def test_verify_loads_no_web_code() -> None:
    """`govledger verify` is the auditor's everyday command: it must not pay for Flask,
    Datasette or any web module, which the lazily loaded commands keep out."""
    probe = (
        "import sys\n"
        "from govledger.cli import main\n"
        "try:\n"
        "    main(['verify', '--help'], prog_name='govledger')\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'datasette', 'web'))\n"
        "print('LOADED', loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Check that the event log has not been altered." in result.stdout
    assert "LOADED []" in result.stdout, result.stdout.splitlines()[-1]
