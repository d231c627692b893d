"""Cryptography of the data at rest: the audit chain's hash (SHA-256, or SM3 under 国密) and the confidential
columns (plain, or SM4-GCM under 国密), selected by REVIEWAPP_CRYPTO and keyed from outside the database."""

from reviewapp.crypto.core import (
    CryptoError,
    Keyring,
    active,
    audit_digest,
    blind_index,
    configure,
    contains_query,
    decrypt,
    encrypt,
    equals_query,
    generate_key_line,
    keyring_from_settings,
)
from reviewapp.crypto.types import ConfidentialText, confidential, keep_blind_index

__all__ = [
    "ConfidentialText",
    "confidential",
    "CryptoError",
    "Keyring",
    "active",
    "audit_digest",
    "keep_blind_index",
    "blind_index",
    "configure",
    "contains_query",
    "decrypt",
    "encrypt",
    "equals_query",
    "generate_key_line",
    "keyring_from_settings",
]
