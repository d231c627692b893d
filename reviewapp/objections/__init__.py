"""Objections (异议) raised during a round's publicity period: the register, acceptance and verification."""
