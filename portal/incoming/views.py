"""Routes of /van-ban-den (filled in by the lists, document page and forms)."""
