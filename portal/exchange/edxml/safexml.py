"""Reading XML from outside without being hurt by it (SPEC §11.3, §13.6).

No DTD, hence no entities (billion laughs, external entities): a document that declares a DOCTYPE is refused
before lxml sees it, by an expat scan of the prolog that stops at the root element (what defusedxml does,
without the dependency); lxml then parses with entities, DTD loading and the network off, and the tree is
checked again. Size, element depth, element count and attachment count are capped (``Limits``).

Elements are found by local name: peers write the QCVN 102 elements with the ``edXML:`` prefix, in the default
namespace, or (rarely) in no namespace, and put the children in any order.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.parsers import expat

from lxml import etree

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps on one package. Attachments are 50 MB each at most (SPEC §3.7), base64 adds a third."""

    max_bytes: int = 160 * MB
    max_depth: int = 40
    max_elements: int = 50_000
    max_attachments: int = 100
    max_file_bytes: int = 50 * MB          # one file, as received or as unpacked
    max_unpacked_bytes: int = 200 * MB     # every file unpacked from one package
    max_unpacked_files: int = 500
    max_archive_depth: int = 3             # a ZIP in a ZIP in a ZIP
    max_ratio: int = 200                   # unpacked / packed size of one entry


DEFAULT_LIMITS = Limits()


class ParseError(ValueError):
    """The bytes are not an edXML package that can be read; ``str()`` is the Vietnamese reason, carrying the
    XML parser's own message and line when there is one."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 detail: str | None = None) -> None:
        self.line = line
        self.column = column
        self.detail = detail
        super().__init__(message)


class _RootReached(Exception):
    pass


class _DoctypeFound(Exception):
    pass


def _refuse_doctype(data: bytes) -> None:
    """Scan the prolog with expat; a DOCTYPE (with or without entities) is refused. Syntax errors are left
    to lxml, whose message the clerk then sees."""
    parser = expat.ParserCreate()

    def doctype(*_args) -> None:
        raise _DoctypeFound

    def root(*_args) -> None:
        raise _RootReached

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = root
    chunk = 64 * 1024
    try:
        for start in range(0, len(data), chunk):
            parser.Parse(data[start:start + chunk], False)
        parser.Parse(b"", True)
    except _RootReached:
        return
    except _DoctypeFound:
        raise ParseError("Gói edXML khai báo DTD (DOCTYPE): không được chấp nhận vì có thể chứa thực thể "
                         "nguy hiểm (billion laughs, thực thể ngoài).") from None
    except expat.ExpatError:
        return


def load(data: bytes, limits: Limits = DEFAULT_LIMITS) -> etree._Element:
    """The root element of ``data``, or ParseError."""
    if len(data) > limits.max_bytes:
        raise ParseError(f"Gói edXML quá lớn: {len(data):,} byte, tối đa {limits.max_bytes:,} byte."
                         .replace(",", "."))
    if not data.strip():
        raise ParseError("Gói edXML rỗng.")
    _refuse_doctype(data)
    depth = count = attachments = 0
    etree.clear_error_log()  # the log is per thread and accumulates: keep only this parse's errors
    events = etree.iterparse(io.BytesIO(data), events=("start", "end"), resolve_entities=False, load_dtd=False,
                             no_network=True, dtd_validation=False, huge_tree=True, remove_blank_text=False)
    try:
        for event, element in events:
            if event == "end":
                depth -= 1
                continue
            depth += 1
            count += 1
            if depth > limits.max_depth:
                raise ParseError(f"Gói edXML lồng phần tử quá sâu (quá {limits.max_depth} cấp): không đọc.")
            if count > limits.max_elements:
                raise ParseError(f"Gói edXML có quá nhiều phần tử (quá {limits.max_elements:,}): không đọc."
                                 .replace(",", "."))
            attachments += local(element) == "Attachment"
            if attachments > limits.max_attachments:
                raise ParseError(f"Gói edXML có quá nhiều tệp đính kèm (tối đa {limits.max_attachments}).")
        root = events.root
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or next(root.iter(etree.Entity), None) is not None:
        raise ParseError("Gói edXML khai báo DTD hoặc thực thể: không được chấp nhận.")
    return root


def _syntax_error(exc: etree.XMLSyntaxError) -> ParseError:
    """The parser's first error with its line: iterparse's own message is sometimes only the last symptom
    ("no element found" for an undefined entity)."""
    first = next((e for e in exc.error_log if e.level >= etree.ErrorLevels.ERROR), None)
    if first is not None:
        line, column, message = first.line, first.column, first.message
    else:
        (line, column), message = exc.position or (0, 0), exc.msg
    where = f" (dòng {line}, cột {column})" if line else ""
    return ParseError(f"Tệp không phải XML hợp lệ{where}: {message}", line=line or None, column=column or None,
                      detail=message)


def local(element: etree._Element) -> str:
    """Local name of an element ('' for comments and processing instructions)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def children(parent: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if parent is None else [c for c in parent if local(c) == name]


def child(parent: etree._Element | None, name: str) -> etree._Element | None:
    return next((c for c in parent if local(c) == name), None) if parent is not None else None


def descend(parent: etree._Element | None, *path: str) -> etree._Element | None:
    for name in path:
        parent = child(parent, name)
    return parent
