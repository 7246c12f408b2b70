"""Helpers shared by the tests (servers they start, harnesses, views of the queue).

``pythonpath = ["tests"]`` in pyproject.toml makes them importable as ``helpers.<module>``
from every test folder, with no ``sys.path`` edits in conftests.
"""
