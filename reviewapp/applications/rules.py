"""Pure rules about enterprises and applications: the 统一社会信用代码 check (GB 32100-2015)."""

from __future__ import annotations

import unicodedata

# GB 32100-2015: 31 characters (digits and capitals without I, O, S, V, Z); position n weighs 3^(n-1) mod 31.
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalise_credit_code(raw: str | None) -> str:
    """Half-width, upper case, without spaces or hyphens: how codes are stored and compared."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text.upper() if not ch.isspace() and ch not in "-—")


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why a (normalised) code is not a valid 统一社会信用代码, in Chinese; None when it is valid."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位（现为 {len(code)} 位）。"
    bad = sorted({ch for ch in code if ch not in CREDIT_CODE_CHARS})
    if bad:
        return f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（不使用 I、O、S、V、Z）。"
    if credit_code_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确，请核对是否抄错。"
    return None
