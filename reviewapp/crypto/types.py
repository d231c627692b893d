"""The column type of confidential text, and the blind indexes kept beside the columns that are looked up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, event
from sqlalchemy.types import TypeDecorator

from reviewapp.crypto import core

# Every (table, column) of ConfidentialText, filled as models are declared: `crypto rotate-key` walks them.
CONFIDENTIAL_COLUMNS: list[tuple[str, str]] = []
# (model, source attribute, index attribute) for the blind indexes.
BLIND_INDEXES: list[tuple[type, str, str]] = []


class ConfidentialText(TypeDecorator[str]):
    """Text stored in plain by default and as SM4-GCM ciphertext under 国密 (REVIEWAPP_CRYPTO=gm).

    Reads accept both, so switching the setting on keeps old rows readable until `reviewapp crypto rotate-key`
    encrypts them. Stored as TEXT: the ciphertext is longer than the plaintext the form allows.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None or value == "" or not core.active().gm:
            return value
        return core.encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if value is None or value == "":
            return value
        return core.decrypt(value)


def confidential(table: str, column: str) -> ConfidentialText:
    """The column type, registered for key rotation under its table and column name."""
    CONFIDENTIAL_COLUMNS.append((table, column))
    return ConfidentialText()


def keep_blind_index(model: type, source: str, index: str) -> None:
    """Keep `model.index` = HMAC-SM3 of `model.source` under 国密 ('' by default) on every insert and update."""
    BLIND_INDEXES.append((model, source, index))

    def _fill(_mapper: Any, _connection: Any, target: Any) -> None:
        value = getattr(target, source) or ""
        setattr(target, index, core.blind_index(value) if core.active().gm and value else "")

    event.listen(model, "before_insert", _fill)
    event.listen(model, "before_update", _fill)
