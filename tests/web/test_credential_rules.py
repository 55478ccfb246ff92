"""Password rules after NCSC guidance, and a credential store only its owner can read
(issue 16, item 5: ASVS V2.1, V8)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ledger.errors import InvalidValue
from web.credentials import CredentialStore, check_password_rules


@pytest.mark.parametrize("common", ["password1234", "Password 123", "QWERTYUIOP", "aaaaaaaaaaaaaa"])
def test_a_common_password_is_refused_whatever_its_case_or_spaces(common: str) -> None:
    with pytest.raises(InvalidValue, match="most commonly used") as refused:
        check_password_rules(common, 8)
    assert refused.value.field == "password"


@pytest.mark.parametrize(
    "fine",
    [
        "plum kettle orbit",  # three random words: no digits, capitals or symbols needed
        "lowercase only words here",
        "x" * 3 + "a long passphrase of sixty four characters or more is welcome here ok",
    ],
)
def test_passphrases_need_no_composition_rules(fine: str) -> None:
    check_password_rules(fine, 12)


def test_length_is_the_rule() -> None:
    with pytest.raises(InvalidValue, match="12 characters or more"):
        check_password_rules("plum kettle", 12)
    with pytest.raises(InvalidValue, match="or fewer"):
        check_password_rules("w" * 200 + "x" * 57, 12)


def test_the_credential_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "credentials.db"
    CredentialStore(path, method="pbkdf2:sha256:1000").set_password("jo", "plum kettle orbit", actor="t")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_store_left_open_to_others_is_closed_up(tmp_path: Path) -> None:
    path = tmp_path / "credentials.db"
    CredentialStore(path)
    path.chmod(0o644)
    CredentialStore(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
