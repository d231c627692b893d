"""Experts, panels (专家组), conflict-of-interest rules (回避) and assignment."""
