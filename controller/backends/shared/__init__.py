"""What every backend shares: the connection to an engine (TLS, SSH), registry logins, the
circuit, decryption, the version's files, error translation, and the plan's vocabulary
(``steps``: ``Step``, ``Plan``)."""
