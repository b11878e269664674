"""The portal's side of signing (SPEC §7), used by drafts (signing, issuance), incoming (the report on
what arrives) and auth (a person's signature image): which key, image, trust roots and boxes apply to a
person or an organisation (``service``), the registered certificates and where their keys are
(``certificates``), and their tables (``models``). ``portal.signing`` does the cryptography."""
