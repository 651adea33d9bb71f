"""Redis engine manager."""
