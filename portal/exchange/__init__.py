"""Exchange (SPEC §11, issue 17): every way a document leaves or reaches an organisation — delivery
inside the portal, the national document axis or a provincial LGSP (edXML, QCVN 102), e-mail, and
recorded paper/post.

Sub-packages: ``edxml`` (build, parse, validate and sign packages: bytes in, bytes out), ``agencies``
(the national agency directory, QĐ 20 codes).
"""
