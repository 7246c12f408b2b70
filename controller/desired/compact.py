"""``CompactStack``: a ``DesiredStack`` kept as text, for a controller that holds thousands.

The watcher keeps every stack of its root between passes (to tell an unchanged file from a
changed one and to record the changed ones). As models, a one-service stack is ~8 KB of
Python objects, 10,000 of them most of the controller's memory (issue 27). Kept compact, it is
the canonical JSON that the digest hashes (which is what a version stores), the Compose views
as JSON, and the few values read on every pass: its name, digest, source, base, files and
image-update policy. What recording a version reads (``canonical_data``, ``compose_views``,
the digest, the files, where it came from) is answered from the text; anything else asks for
the model back (``expand``), which is rebuilt from the text and checked against the digest.

Pure: no I/O; the values are never changed after they are made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from controller.desired.delivery import ImageUpdates
from controller.desired.desired_stack import DesiredStack
from controller.desired.digest import sha256_text


@dataclass(frozen=True, slots=True, eq=False)
class CompactStack:
    """One stack as its canonical JSON (``DesiredStack.canonical_json``) and the few fields a
    watcher's pass reads; ``expand()`` is the ``DesiredStack`` again (without
    ``disabled_services``, which only ``stackctl validate`` shows, and it loads its own)."""

    name: str
    digest: str
    source: str
    base: str
    canonical: str
    views: str  # ``compose_views`` as JSON ("" for none)
    files: dict[str, bytes]
    image_updates: ImageUpdates | None

    @classmethod
    def of(cls, desired: DesiredStack) -> CompactStack:
        """``desired`` as text: its canonical JSON made once (the digest is of it)."""
        canonical = desired.canonical_json()
        digest = desired.__dict__.get("digest") or sha256_text(canonical)
        views = json.dumps(desired.compose_views, separators=(",", ":"))
        return cls(
            name=desired.name,
            digest=digest,
            source=desired.source,
            base=desired.base,
            canonical=canonical,
            views=views if desired.compose_views else "",
            files=desired.files,
            image_updates=desired.image_updates,
        )

    def canonical_data(self) -> dict[str, Any]:
        """``DesiredStack.canonical_data``: what is digested, as plain data."""
        data: dict[str, Any] = json.loads(self.canonical)
        return data

    @property
    def compose_views(self) -> dict[str, dict[str, Any]]:
        """``DesiredStack.compose_views``."""
        views: dict[str, dict[str, Any]] = json.loads(self.views) if self.views else {}
        return views

    def expand(self) -> DesiredStack:
        """The model again, equal to the one this was made of (``DesiredStack.__eq__``)."""
        stack = DesiredStack.model_validate(
            {
                **self.canonical_data(),
                "source": self.source,
                "base": self.base,
                "files": self.files,
                "compose_views": self.compose_views,
            }
        )
        if stack.digest != self.digest:
            raise ValueError(f"stack {self.name!r} does not match its digest once expanded")
        return stack


Loaded = DesiredStack | CompactStack  # a stack as a load gives it: the model, or kept compact


def expanded(stack: Loaded) -> DesiredStack:
    """The model of ``stack``, however it is kept."""
    return stack.expand() if isinstance(stack, CompactStack) else stack
