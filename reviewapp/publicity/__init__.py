"""Publicity periods (公示) on the official working-day calendar, spot checks and objections (异议)."""
