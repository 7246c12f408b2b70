"""Git repositories as a source of desired state (docs/architecture.md, "The flow").

This layer fetches a repository with the ``git`` CLI into a cache, checks each new commit out
into its own folder and swaps it in atomically; the watcher then reads that folder with the
same loader as the watched directory. It also verifies push webhooks (pure) and reads commit
metadata. It never imports the database, the engine or the surfaces, never stores or logs a
credential, and never lets git run hooks, fsmonitor or a pager on its behalf.

- ``spec``: ``RepositorySpec`` (what to follow), ``redact_url`` and ``redact`` (the only way a
  URL or git's output reaches a message).
- ``fetcher``: ``Fetcher.fetch() -> FetchResult``: the mirror, one folder per checked-out
  commit, and the atomic ``current`` switch under ``state_dir/<name>/``.
- ``runner``: one hardened, time-bounded git call, its environment and credentials.
- ``errors``: ``FetchError`` (a ``TransientError``) and its kinds: timeout, auth, ref or path
  not found.
- ``webhooks``: push webhooks read and verified, without I/O.

From the rest of the controller it imports only ``controller.models.errors``.
"""
