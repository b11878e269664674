"""Routes of /du-thao: the draft page and each step (filled in by the page work)."""
