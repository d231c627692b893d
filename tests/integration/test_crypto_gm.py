"""国密 (REVIEWAPP_CRYPTO=gm) through the app: confidential fields are SM4 ciphertext at rest and plain on the
pages, the audit chain hashes with SM3, lookups go through the blind index, and rotate-key re-encrypts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import select

from reviewapp import crypto
from reviewapp.audit.models import AuditEntry
from reviewapp.audit.service import verify_chain
from reviewapp.cli import main
from reviewapp.panels.models import Expert
from reviewapp.reports.models import Report
from tests.conftest import reread
from tests.factories import make_expert
from tests.integration.test_reports_public import file_report

KEY1 = "k1:00112233445566778899aabbccddeeff"
KEY2 = "k2:ffeeddccbbaa99887766554433221100"


@pytest.fixture
def settings(base_settings, engine):  # type: ignore[no-untyped-def]
    """This module's app, users and CLI run with 国密 on; the rest of the suite gets the default back."""
    gm = base_settings.with_(crypto="gm", crypto_key=KEY1)
    crypto.configure(gm)
    yield gm
    crypto.configure(base_settings)


def raw(db, table: str, column: str) -> list[str]:  # type: ignore[no-untyped-def]
    reread(db)
    return [row[0] for row in db.execute(sa.text(f"SELECT {column} FROM {table} ORDER BY id"))]


def cli(settings, args, **env):  # type: ignore[no-untyped-def]
    base = {
        "REVIEWAPP_DATABASE_URL": settings.database_url,
        "REVIEWAPP_DATA_DIR": str(settings.data_dir),
        "REVIEWAPP_CRYPTO": "gm",
        "REVIEWAPP_CRYPTO_KEY": KEY1,
    }
    base.update(env)
    return CliRunner().invoke(main, args, env=base)


def test_a_reporters_identity_is_ciphertext_in_the_database_and_the_chain_is_sm3(client, db, settings):
    assert file_report(client, reporter_name="张举报", reporter_contact="13800000000").status_code == 200
    names, contacts = raw(db, "report", "reporter_name"), raw(db, "report", "reporter_contact")
    assert names[0].startswith("gm1:k1:") and contacts[0].startswith("gm1:k1:")
    assert "张举报" not in names[0] and "13800000000" not in contacts[0]
    report = db.exec(select(Report)).one()
    assert (report.reporter_name, report.reporter_contact) == ("张举报", "13800000000")
    entries = db.exec(select(AuditEntry)).all()
    assert entries and {e.hash_alg for e in entries} == {"sm3"}
    assert verify_chain(db) == (len(entries), None)
    result = cli(settings, ["audit", "verify"])
    assert result.exit_code == 0 and "校验通过" in result.output, result.output


def test_expert_phone_and_id_digits_are_encrypted_and_still_found_exactly(db, staff_client, settings):
    form = {"name": "李建国", "employer": "某研究院", "phone": "13805310001", "id_number_hint": "1234"}
    assert staff_client.submit("/experts", form, follow_redirects=False).status_code == 303
    assert raw(db, "expert", "phone")[0].startswith("gm1:") and raw(db, "expert", "id_number_hint")[0].startswith(
        "gm1:"
    )
    expert = db.exec(select(Expert)).one()
    assert expert.phone == "13805310001" and expert.phone_index and "13805310001" not in expert.phone_index
    # the namesake check is an exact match on an encrypted column: through the blind index
    again = staff_client.submit("/experts", form)
    assert again.status_code == 200 and "已有同名专家" in again.text
    page = staff_client.get(f"/experts/{expert.id}")
    assert "13805310001" in page.text, "staff read the plain phone number"
    assert "李建国" in staff_client.get("/experts", params={"q": "13805310001"}).text
    assert "李建国" not in staff_client.get("/experts", params={"q": "gm1"}).text, "the ciphertext is not searchable"
    # nor does the audit log, which more people read, carry them in plain text
    for entry in db.exec(select(AuditEntry)):
        blob = entry.summary + entry.before_json + entry.after_json
        assert "13805310001" not in blob and "1234" not in blob, blob


def test_rotate_key_re_encrypts_every_confidential_value_and_old_plain_rows(client, db, settings):
    file_report(client, reporter_name="王某", reporter_contact="wang@example.cn")
    make_expert(db, name="张伟", phone="13900000000", id_number_hint="5678")
    # a row written before 国密 was switched on stays plain until rotation
    db.execute(sa.text("UPDATE expert SET phone = '13911112222', phone_index = ''"))
    db.commit()

    status = cli(settings, ["crypto", "status"])
    assert status.exit_code == 0 and "国密" in status.output and "expert.phone：明文 1 条" in status.output

    result = cli(settings, ["crypto", "rotate-key"], REVIEWAPP_CRYPTO_KEY=f"{KEY2},{KEY1}")
    assert result.exit_code == 0, result.output
    for table, column in [("report", "reporter_name"), ("report", "reporter_contact"), ("expert", "phone")]:
        assert all(v.startswith("gm1:k2:") for v in raw(db, table, column)), (table, column)

    # The old key can go now: everything reads with k2 alone, the blind index follows the new key.
    crypto.configure(settings.with_(crypto_key=KEY2))
    reread(db)
    assert db.exec(select(Report)).one().reporter_contact == "wang@example.cn"
    expert = db.exec(select(Expert)).one()
    assert expert.phone == "13911112222"
    assert expert.phone_index == crypto.blind_index("13911112222")
    rotated = [e for e in db.exec(select(AuditEntry)) if e.action == "crypto.rotate"]
    assert len(rotated) == 1 and "k2" in rotated[0].summary
    assert verify_chain(db)[1] is None

    crypto.configure(settings.with_(crypto_key="k3:00000000000000000000000000000000"))
    reread(db)
    with pytest.raises(crypto.CryptoError, match="找不到密钥 k2"):
        db.exec(select(Report)).one()


def test_rotate_key_in_default_mode_turns_the_values_back_into_plain_text(client, db, settings):
    file_report(client, reporter_name="王某", reporter_contact="wang@example.cn")
    result = cli(settings, ["crypto", "rotate-key"], REVIEWAPP_CRYPTO="sha256")
    assert result.exit_code == 0 and "明文" in result.output, result.output
    assert raw(db, "report", "reporter_contact") == ["wang@example.cn"]


def test_gm_without_a_key_refuses_to_start_and_new_key_writes_a_private_key_file(settings, tmp_path):
    result = cli(settings, ["audit", "verify"], REVIEWAPP_CRYPTO_KEY="")
    assert result.exit_code != 0 and "REVIEWAPP_CRYPTO_KEY" in result.output
    key_file = tmp_path / "sm4.keys"
    assert cli(settings, ["crypto", "new-key", "--id", "old", "--file", str(key_file)]).exit_code == 0
    assert cli(settings, ["crypto", "new-key", "--id", "new", "--file", str(key_file)]).exit_code == 0
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    ring = crypto.Keyring.parse(key_file.read_text())
    assert [kid for kid, _ in ring.keys] == ["new", "old"]
    status = cli(settings, ["crypto", "status"], REVIEWAPP_CRYPTO_KEY="", REVIEWAPP_CRYPTO_KEY_FILE=str(key_file))
    assert status.exit_code == 0 and "当前密钥：new" in status.output, status.output


def test_one_chain_holds_sha256_then_sm3_entries_and_verify_catches_a_change_in_either(db, make_user, settings):
    crypto.configure(settings.with_(crypto="sha256"))
    make_user("before")
    crypto.configure(settings)
    make_user("after")
    reread(db)
    algs = [e.hash_alg for e in db.exec(select(AuditEntry).order_by(AuditEntry.seq))]
    assert algs[0] == "sha256" and algs[-1] == "sm3"
    assert verify_chain(db)[1] is None
    for alg in ("sha256", "sm3"):
        entry = db.exec(select(AuditEntry).where(AuditEntry.hash_alg == alg)).first()
        original = entry.summary
        db.execute(sa.update(AuditEntry).where(AuditEntry.id == entry.id).values(summary=original + "改"))
        db.commit()
        problem = verify_chain(db)[1]
        assert problem is not None and problem.seq == entry.seq
        result = cli(settings, ["audit", "verify"])
        assert result.exit_code == 1 and "被改动" in result.output
        db.execute(sa.update(AuditEntry).where(AuditEntry.id == entry.id).values(summary=original))
        db.commit()
