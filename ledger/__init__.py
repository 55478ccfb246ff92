"""Governance Ledger: the write side.

Domain model (`ledger.domain`), application commands and queries (`ledger.application`),
the hash-chained event store and its verification (`ledger.store`) and the `govledger` CLI.
"""
