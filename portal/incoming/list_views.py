"""Routes of the incoming lists and search (filled in by the lists work)."""
