"""Helpers of ``tools/tempest/run``: upstream's trove-tempest-plugin, unmodified,
against a private stack with a real Keystone (no pytest tests live here)."""
