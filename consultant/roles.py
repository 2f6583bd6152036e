"""Roles of review web app users (a module of its own: the CLI names them without the ORM)."""

from enum import StrEnum


class Role(StrEnum):
    REVIEWER = "reviewer"
    ADMIN = "admin"
