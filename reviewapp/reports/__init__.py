"""Certifications (认定) with validity and re-review, revocations with bans, and whistle-blower reports (举报)."""
