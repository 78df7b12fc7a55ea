"""Accounts and outputs of one run."""
