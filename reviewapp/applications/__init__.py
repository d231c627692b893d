"""Enterprises, applications (申报), Excel import and formal review (形式审查)."""
