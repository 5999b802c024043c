"""Checks where the target opens the connection (to be filled)."""
