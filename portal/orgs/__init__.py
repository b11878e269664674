"""Organisations: the province's tree of organisations and their units (SPEC §1)."""
