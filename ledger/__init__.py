"""Governance Ledger: the write side.

Domain model (`ledger.domain`), application commands and queries (`ledger.application`),
the hash-chained event store (`ledger.store`, `ledger.integrity`) and the `govledger` CLI.
"""
