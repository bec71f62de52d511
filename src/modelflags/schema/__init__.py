"""The schema package."""
