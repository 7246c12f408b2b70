"""Backends: where stacks run. Each backend observes, plans (pure), carries a plan out,
judges health and removes; only this package imports ``docker``."""
