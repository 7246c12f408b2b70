"""Git repositories as a source of desired state (DESIGN.md section 7, "Sources").

This layer fetches a repository with the ``git`` CLI into a cache, checks each new commit out
into its own folder and swaps it in atomically; the watcher then reads that folder with the
same loader as the watched directory. It also verifies push webhooks (pure) and reads commit
metadata. It never imports the database, the engine or the surfaces, never stores or logs a
credential, and never lets git run hooks, fsmonitor or a pager on its behalf.
"""
