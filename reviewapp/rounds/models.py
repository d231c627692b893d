"""Reference catalogues (scenarios by version, maturity levels, GB/T 4754 codes)."""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class Scenario(SQLModel, table=True):
    """One typical scenario (典型场景) of a versioned catalogue, with its 环节."""

    __tablename__ = "catalogue_scenario"
    __table_args__ = (UniqueConstraint("catalogue_version", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    catalogue_version: str = Field(max_length=16, index=True)
    stage_no: int
    stage: str = Field(max_length=32)
    number: int | None = None
    name: str = Field(max_length=64)
    source: str = Field(default="", max_length=64)
    sort_order: int = 0


class MaturityLevel(SQLModel, table=True):
    """GB/T 39116-2020 levels; the score bands are unverified and therefore editable data."""

    __tablename__ = "catalogue_maturity_level"

    level: int = Field(primary_key=True)
    name: str = Field(max_length=16)
    meaning: str = Field(default="", max_length=255)
    score_min: float
    score_max: float


class IndustryCode(SQLModel, table=True):
    """GB/T 4754-2017 codes: 门类 letters, and 大类 (2 digits) of manufacturing."""

    __tablename__ = "catalogue_industry_code"

    code: str = Field(primary_key=True, max_length=8)
    name: str = Field(max_length=64)
    section: str = Field(max_length=1)
    level: str = Field(max_length=8)  # 门类 / 大类
