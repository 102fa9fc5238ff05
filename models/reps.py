"""Sales reps as the router sees them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Rep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    region: str = ""
    languages: list[str] = []
    industries: list[str] = []
    active: bool = True


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reps: list[Rep] = Field(min_length=1)

    def active(self) -> list[Rep]:
        return [rep for rep in self.reps if rep.active]
