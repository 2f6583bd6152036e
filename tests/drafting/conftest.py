"""The code data every drafting test reads (tests/support/code_data.py)."""

from tests.support.code_data import code_data_url, services  # noqa: F401 (fixtures)
