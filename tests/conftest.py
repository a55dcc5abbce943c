"""Fixtures for every test directory."""

from tests.migrated import template_database

__all__ = ["template_database"]
