"""Code reference data: release tables, one importer per official file format, lookups."""
