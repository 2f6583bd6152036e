"""Code data for the tests that answer questions (tests/support/code_data.py), loaded only
when a test asks for it."""

from tests.support.code_data import (  # noqa: F401 (fixtures)
    code_data_url,
    writable_code_data_url,
    writable_services,
)
