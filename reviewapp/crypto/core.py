"""SM3 / SHA-256 digests, SM4-GCM encryption of single values, and the process's active crypto configuration.

A ciphertext is text: `gm1:<key id>:<base64(nonce | ciphertext | tag)>`. The prefix names the format version
and the key, so values written under an old key stay readable while `reviewapp crypto rotate-key` re-encrypts
them, and values written before 国密 was switched on (no prefix) read back as they are.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

if TYPE_CHECKING:
    from reviewapp.settings import Settings

PREFIX = "gm1"  # ciphertext format version: SM4-GCM, 12-byte nonce, 16-byte tag, AAD = "gm1:<key id>"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 16  # SM4 has 128-bit keys
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

MODES = ("sha256", "gm")


class CryptoError(RuntimeError):
    """A key is missing, malformed or wrong; the message is Chinese (operators read it)."""


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hash_hex(algorithm: str, data: bytes) -> str:
    """The audit chain's digest by the algorithm an entry records ("sha256" or "sm3")."""
    if algorithm == "sm3":
        return sm3_hex(data)
    if algorithm == "sha256":
        return hashlib.sha256(data).hexdigest()
    raise CryptoError(f"未知的哈希算法：{algorithm}")


@dataclass(frozen=True)
class Keyring:
    """SM4 keys by id; the first is the active one (new values are encrypted with it)."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def active_id(self) -> str:
        return self.keys[0][0]

    def key(self, key_id: str) -> bytes:
        for kid, key in self.keys:
            if kid == key_id:
                return key
        raise CryptoError(f"找不到密钥 {key_id}：请把该密钥保留在 REVIEWAPP_CRYPTO_KEY 或密钥文件中。")

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """Lines or comma-separated items `<id>:<32 hex digits>`; `#` starts a comment; the first is active."""
        keys: list[tuple[str, bytes]] = []
        for raw in re.split(r"[,\n]", text):
            item = raw.split("#", 1)[0].strip()
            if not item:
                continue
            kid, sep, hexkey = item.partition(":")
            if not sep or not _KEY_ID.match(kid.strip()):
                raise CryptoError(
                    "密钥格式应为“密钥编号:32 位十六进制”，例如 k20260101:00112233445566778899aabbccddeeff。"
                )
            try:
                key = bytes.fromhex(hexkey.strip())
            except ValueError as exc:
                raise CryptoError(f"密钥 {kid} 不是十六进制。") from exc
            if len(key) != KEY_BYTES:
                raise CryptoError(f"密钥 {kid} 长度应为 128 位（32 位十六进制）。")
            if any(k == kid.strip() for k, _ in keys):
                raise CryptoError(f"密钥编号 {kid} 重复。")
            keys.append((kid.strip(), key))
        if not keys:
            raise CryptoError("未提供密钥。")
        return cls(tuple(keys))


def generate_key_line(key_id: str | None = None) -> str:
    """A fresh random SM4 key as one keyring line."""
    from reviewapp.clock import utcnow

    kid = key_id or "k" + utcnow().strftime("%Y%m%d%H%M%S")
    if not _KEY_ID.match(kid):
        raise CryptoError("密钥编号只能包含字母、数字、下划线和连字符（最多 32 个字符）。")
    return f"{kid}:{secrets.token_hex(KEY_BYTES)}"


@dataclass(frozen=True)
class CryptoConfig:
    mode: str = "sha256"  # "sha256": SHA-256 audit chain, confidential columns in plain; "gm": SM3 + SM4
    keyring: Keyring | None = None
    _index_keys: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def gm(self) -> bool:
        return self.mode == "gm"

    @property
    def audit_algorithm(self) -> str:
        return "sm3" if self.gm else "sha256"

    def index_key(self) -> bytes:
        """The blind index's HMAC key, derived from the active data key (rotation recomputes every index)."""
        assert self.keyring is not None
        kid = self.keyring.active_id
        if kid not in self._index_keys:
            mac = crypto_hmac.HMAC(self.keyring.key(kid), hashes.SM3())
            mac.update(b"reviewapp blind index")
            self._index_keys[kid] = mac.finalize()
        return self._index_keys[kid]


_active = CryptoConfig()


def keyring_from_settings(settings: Settings) -> Keyring | None:
    """The keyring from REVIEWAPP_CRYPTO_KEY, else the file REVIEWAPP_CRYPTO_KEY_FILE names; None if neither."""
    if settings.crypto_key:
        return Keyring.parse(settings.crypto_key)
    if settings.crypto_key_file:
        path = Path(settings.crypto_key_file)
        try:
            return Keyring.parse(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CryptoError(f"无法读取密钥文件 {path}：{exc.strerror}") from exc
    return None


def configure(settings: Settings) -> CryptoConfig:
    """Make the settings' crypto the process's (create_app and the CLI call this); gm without a key is refused."""
    global _active
    if settings.crypto not in MODES:
        raise CryptoError(f"REVIEWAPP_CRYPTO 只能是 sha256 或 gm，而不是 {settings.crypto!r}。")
    keyring = keyring_from_settings(settings)
    if settings.crypto == "gm" and keyring is None:
        raise CryptoError(
            "已启用国密（REVIEWAPP_CRYPTO=gm），但未提供 SM4 密钥：请设置 REVIEWAPP_CRYPTO_KEY 或 REVIEWAPP_CRYPTO_KEY_FILE。"
        )
    _active = CryptoConfig(mode=settings.crypto, keyring=keyring)
    return _active


def active() -> CryptoConfig:
    return _active


def audit_digest(data: bytes, algorithm: str | None = None) -> tuple[str, str]:
    """(algorithm, hex digest) for a new audit entry: the configured algorithm unless one is given."""
    alg = algorithm or _active.audit_algorithm
    return alg, hash_hex(alg, data)


def is_ciphertext(value: str) -> bool:
    return value.startswith(PREFIX + ":")


def key_id_of(value: str) -> str | None:
    if not is_ciphertext(value):
        return None
    return value.split(":", 2)[1]


def encrypt(plaintext: str, config: CryptoConfig | None = None) -> str:
    """SM4-GCM under the active key with a random nonce; the key id is authenticated with the data."""
    cfg = config or _active
    if cfg.keyring is None:
        raise CryptoError("未配置 SM4 密钥，无法加密。")
    kid = cfg.keyring.active_id
    header = f"{PREFIX}:{kid}"
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(cfg.keyring.key(kid)), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header.encode())
    body = encryptor.update(plaintext.encode("utf-8")) + encryptor.finalize()
    return f"{header}:{base64.b64encode(nonce + body + encryptor.tag).decode('ascii')}"


def decrypt(value: str, config: CryptoConfig | None = None) -> str:
    """The plaintext of a stored value; a value without the prefix was stored in plain and is returned as it is."""
    if not is_ciphertext(value):
        return value
    cfg = config or _active
    _prefix, kid, payload = value.split(":", 2)
    if cfg.keyring is None:
        raise CryptoError(
            "数据库中有 SM4 加密的数据，但未配置密钥：请设置 REVIEWAPP_CRYPTO_KEY 或 REVIEWAPP_CRYPTO_KEY_FILE。"
        )
    try:
        raw = base64.b64decode(payload, validate=True)
    except ValueError as exc:
        raise CryptoError(f"密文格式错误（密钥 {kid}）。") from exc
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(cfg.keyring.key(kid)), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(f"{PREFIX}:{kid}".encode())
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode("utf-8")
    except InvalidTag as exc:
        raise CryptoError(f"密文校验失败（密钥 {kid} 不对，或数据被改动）。") from exc


def blind_index(value: str, config: CryptoConfig | None = None) -> str:
    """HMAC-SM3 of a normalised value: equal plaintexts give equal indexes, and the index reveals nothing else
    without the key."""
    cfg = config or _active
    return _hmac_sm3(cfg.index_key(), value.strip().encode("utf-8"))


def _hmac_sm3(key: bytes, data: bytes) -> str:
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


def equals_query(column: Any, index_column: Any, value: str) -> Any:
    """The WHERE clause for `column == value` on a confidential column: the plain comparison by default, the
    blind index under 国密 (a random-nonce ciphertext never equals another)."""
    if _active.gm:
        return index_column == blind_index(value)
    return column == value


def contains_query(column: Any, index_column: Any, text: str) -> Any:
    """A search box's clause on a confidential column: substring by default; under 国密 only the whole value
    matches (through the blind index), since the stored text is ciphertext."""
    if _active.gm:
        return index_column == blind_index(text)
    return column.like(f"%{text}%")
