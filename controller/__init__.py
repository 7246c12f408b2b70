"""stackctl: a reconciliation controller for Docker Compose stacks.

The layers, from the files to the engine (docs/architecture.md, "The layers and the contracts"):

- ``source``: files -> validated, normalized desired stacks with a digest (pure).
- ``db``: the only SQL speaker; schema, migrations, repositories, the durable queue.
- ``models``: the pydantic values every layer passes around.
- ``cli``: the ``stackctl`` command; thin, reads through repositories, writes commands.

Only ``runtime`` imports ``docker`` and only ``db`` imports ``sqlite3``; the import-linter
contracts in ``pyproject.toml`` check it.
"""

__version__ = "0.1.0"
