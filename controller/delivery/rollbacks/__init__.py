"""Rollbacks: the automatic decision, the watch over a new version, and recording one."""
