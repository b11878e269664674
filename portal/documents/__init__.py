"""Documents: the catalogue of types, register books with gap-free counters, and the incoming
and outgoing records. The workflows on them arrive with issues 4 and 5."""
