"""scripts/setup.sh on a bare Debian: what it lacks (Python's venv, npm) it installs with
apt, as it installs Chromium; without root it says what is missing. Run against a
sandbox whose PATH holds only stand-ins for apt-get, id and Python, so nothing is
installed for real."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = ("bash", "dirname", "basename", "cat", "mktemp", "rm", "mkdir", "cp", "tar", "chmod")


def _stand_in(path: Path, body: str) -> None:
    path.write_text("#!/bin/bash\n" + body + "\n")
    path.chmod(0o755)


def _bare_debian(tmp_path: Path, uid: int) -> tuple[Path, dict[str, str], Path]:
    """A copy of the repository's scripts on a machine with no npm and a Python without
    venv; apt-get only writes down what it was asked for."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup.sh", repo / "scripts" / "setup.sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found is None:
            pytest.skip(f"{tool} is not installed")
        (bin_dir / tool).symlink_to(found)
    log = tmp_path / "apt.log"
    _stand_in(bin_dir / "apt-get", f'echo "$*" >> {log}')
    _stand_in(bin_dir / "id", f"echo {uid}")
    _stand_in(bin_dir / "chromium", "exit 0")
    # A Python whose venv module is missing, as on a bare Debian.
    _stand_in(bin_dir / "python3", 'case "$*" in *ensurepip*) exit 1;; *) exit 3;; esac')
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    return repo, env, log


def test_as_root_it_installs_python_venv_and_npm_with_apt(tmp_path: Path) -> None:
    repo, env, log = _bare_debian(tmp_path, uid=0)
    result = subprocess.run(
        ["bash", "scripts/setup.sh"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    # The stand-in Python can't make a venv, so the script stops there, having asked apt.
    assert result.returncode != 0
    calls = log.read_text().splitlines()
    assert calls[0] == "update -qq"
    assert calls.count("update -qq") == 1  # apt's lists fetched once however many packages
    assert "install -y -qq python3-venv" in calls
    assert "Installing python3-venv" in result.stdout


def test_as_root_it_installs_npm_when_fetching_the_frontend(tmp_path: Path) -> None:
    repo, env, log = _bare_debian(tmp_path, uid=0)
    # A venv that exists already, with a pip that does nothing: setup goes on to the assets.
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    _stand_in(venv_bin / "python", "exit 0")
    result = subprocess.run(
        ["bash", "scripts/setup.sh"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    calls = log.read_text().splitlines()
    assert "install -y -qq nodejs npm" in calls, result.stderr
    assert "Installing nodejs npm" in result.stdout


def test_without_root_it_says_what_is_missing(tmp_path: Path) -> None:
    repo, env, log = _bare_debian(tmp_path, uid=1000)
    result = subprocess.run(
        ["bash", "scripts/setup.sh"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "python3-venv not installed and this is not root" in result.stderr
    assert not log.exists() or "install" not in log.read_text()
    assert not os.path.exists(repo / ".venv")
