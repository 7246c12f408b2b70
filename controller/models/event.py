"""Events: what happened to a stack (or to the controller, with no stack), for people to read."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, field_validator

from controller.models.enums import LogLevel
from controller.models.timestamps import UtcDateTime, utc_now

_CAMEL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*$")


class Event(BaseModel):
    event_id: int | None = None
    stack_id: str | None = None
    ts: UtcDateTime = Field(default_factory=utc_now)
    level: LogLevel = LogLevel.INFO
    reason: str
    message: str
    data: dict[str, Any] | None = None

    @field_validator("reason")
    @classmethod
    def _camel_case(cls, value: str) -> str:
        if not _CAMEL_CASE.match(value):
            raise ValueError(f"event reason {value!r} must be CamelCase, like ManifestInvalid")
        return value
