"""Routes of the draft and outgoing lists (filled in by the lists work)."""
