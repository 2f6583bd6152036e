"""Roles of web app users (a module of its own: the CLI names them without the ORM)."""

from enum import StrEnum


class Role(StrEnum):
    MEMBER = "member"  # a coder: asks, sees their own cases, searches codes
    REVIEWER = "reviewer"
    ADMIN = "admin"
