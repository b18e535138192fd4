"""The base classes of every settings section (kept apart so subsystem configs can import them without cycles).

One base, :class:`Section`: unknown keys are errors, assignments are validated. Configs that are passed
around as values and must never change after construction (profiles, query understanding) use its frozen
variant :class:`FrozenSection` (assignment raises).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["FrozenSection", "Section"]


class Section(BaseModel):
    """Base of every settings section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class FrozenSection(Section):
    """A :class:`Section` whose values never change after construction (assignment raises)."""

    model_config = ConfigDict(frozen=True)
