"""`python -m govledger`: the same as the `govledger` command."""

from govledger.cli import main

main(prog_name="govledger")
