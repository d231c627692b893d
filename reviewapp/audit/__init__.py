"""Append-only, hash-chained audit log of every state change."""

from reviewapp.audit.service import Actor, record, register_labels

__all__ = ["Actor", "record", "register_labels"]
