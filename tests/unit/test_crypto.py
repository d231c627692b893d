"""SM3 and SM4 as the 国密 option uses them: known vectors, authenticated ciphertext, keyrings."""

import pytest

from reviewapp.crypto import core

KEY1 = "k1:00112233445566778899aabbccddeeff"
KEY2 = "k2:ffeeddccbbaa99887766554433221100"


def gm(keys: str) -> core.CryptoConfig:
    return core.CryptoConfig(mode="gm", keyring=core.Keyring.parse(keys))


def test_sm3_matches_the_standards_example():
    # GB/T 32905-2016, example 1
    assert core.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert core.hash_hex("sha256", b"abc").startswith("ba7816bf")


def test_sm4_gcm_round_trips_with_a_fresh_nonce_and_the_key_id_in_front():
    cfg = gm(KEY1)
    one, two = core.encrypt("张举报 13800000000", cfg), core.encrypt("张举报 13800000000", cfg)
    assert one.startswith("gm1:k1:") and one != two, "a random nonce: equal plaintexts do not show"
    assert "13800000000" not in one
    assert core.decrypt(one, cfg) == core.decrypt(two, cfg) == "张举报 13800000000"


def test_a_changed_ciphertext_or_the_wrong_key_is_refused_not_misread():
    cfg = gm(KEY1)
    value = core.encrypt("联系方式", cfg)
    head, body = value.rsplit(":", 1)
    flipped = body[:-6] + ("A" if body[-6] != "A" else "B") + body[-5:]
    with pytest.raises(core.CryptoError, match="校验失败"):
        core.decrypt(f"{head}:{flipped}", cfg)
    with pytest.raises(core.CryptoError, match="校验失败"):
        core.decrypt(value.replace("gm1:k1:", "gm1:k2:"), gm("k2:00112233445566778899aabbccddeeff"))
    with pytest.raises(core.CryptoError, match="找不到密钥 k1"):
        core.decrypt(value, gm(KEY2))


def test_an_old_key_still_reads_after_a_new_one_is_put_first():
    old = core.encrypt("旧值", gm(KEY1))
    both = gm(f"{KEY2}\n{KEY1}\n")
    assert both.keyring is not None and both.keyring.active_id == "k2"
    assert core.decrypt(old, both) == "旧值"
    assert core.encrypt("新值", both).startswith("gm1:k2:")


def test_plain_values_from_before_gm_read_back_as_they_are():
    assert core.decrypt("13800000000", gm(KEY1)) == "13800000000"


@pytest.mark.parametrize(
    "text", ["", "k1", "k1:xyz", "k1:0011", "bad id:00112233445566778899aabbccddeeff", f"{KEY1},{KEY1}"]
)
def test_malformed_keyrings_are_refused_in_chinese(text):
    with pytest.raises(core.CryptoError) as info:
        core.Keyring.parse(text)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(info.value))


def test_new_keys_are_random_and_parse():
    one, two = core.generate_key_line("a"), core.generate_key_line("a")
    assert one != two and core.Keyring.parse(one).active_id == "a"


def test_blind_index_is_keyed_and_stable():
    a, b = gm(KEY1), gm(KEY2)
    assert core.blind_index("1234", a) == core.blind_index(" 1234 ", a) != core.blind_index("1234", b)
    assert "1234" not in core.blind_index("1234", a)


def test_gm_without_a_key_or_an_unknown_mode_is_refused_at_start():
    from reviewapp.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="REVIEWAPP_CRYPTO_KEY"):
        load_settings({"REVIEWAPP_CRYPTO": "gm"})
    with pytest.raises(SettingsError, match="sha256' or 'gm"):
        load_settings({"REVIEWAPP_CRYPTO": "rsa"})
    assert load_settings({}).crypto == "sha256", "the default needs no key"
    assert load_settings({"REVIEWAPP_CRYPTO": "GM", "REVIEWAPP_CRYPTO_KEY": KEY1}).crypto == "gm"
