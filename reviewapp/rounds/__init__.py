"""Rounds (批次), criteria templates (要素条件) and the reference catalogues."""
