"""Reconciliation: what one command does to its stack, from plan to recorded status, and the
resync."""
