"""Governance Ledger's entry points, above the three layers: the `govledger` command line
(`govledger.cli`, one module per command family in `govledger.commands`), the demo
(`govledger.demo`) and the composition root (`govledger.system`).

Nothing in `ledger`, `projections` or `web` imports this package.
"""
