"""PostgreSQL engine manager."""
