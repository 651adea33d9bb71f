"""Continuous archiving for point-in-time recovery (see base.py)."""
