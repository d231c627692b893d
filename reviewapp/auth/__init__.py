"""Accounts, password hashing, database-backed sessions, login throttling and route guards."""
