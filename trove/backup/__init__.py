"""Backups shared by the API, taskmanager, conductor and guest: stores and helpers."""
