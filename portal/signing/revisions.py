"""What was appended after the last signature (issue 16.3), judged object by object.

pyHanko's diff policy can call an appended unreferenced object harmless validation data, so after its own
verdict the revisions after the last signed revision are read here: every object written or freed in them
must belong to signature data — the /DSS (its /Certs, /CRLs, /OCSPs streams and /VRI), a document timestamp
(/Type /DocTimeStamp, its field and widget and their appearance), or a form-field value the signatures'
/DocMDP permits (value, appearance state, appearance). Anything else is named in Vietnamese with its object
number ("thêm đối tượng không được tham chiếu (đối tượng 12)", "sửa nội dung trang 1 …", "thêm chú thích …").
Bytes in, list of strings out; no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm

HEADING = "Có dữ liệu được thêm sau khi ký"
CATALOG_KEYS = frozenset({"/DSS", "/AcroForm", "/Extensions", "/Version"})  # signature data in the catalog
FIELD_FILL_KEYS = frozenset({"/V", "/AS", "/AP"})  # what filling a form field changes
Key = tuple[int, int]


def _key(ref) -> Key:
    return (ref.idnum, ref.generation)


def _children(obj) -> Iterable:
    if isinstance(obj, generic.DictionaryObject):  # streams are dictionaries too
        return (obj.raw_get(k) for k in obj)
    if isinstance(obj, generic.ArrayObject):
        return (obj.raw_get(i) for i in range(len(obj)))
    return ()


def _reach(resolver, starts: Iterable, *, inside: set[Key] | None = None) -> set[Key]:
    """Indirect objects reachable from ``starts`` (objects or references); with ``inside``, only through
    objects of that set."""
    seen: set[Key] = set()
    todo = list(starts)
    while todo:
        item = todo.pop()
        if isinstance(item, generic.IndirectObject | generic.Reference):
            key = _key(item)
            if key in seen or (inside is not None and key not in inside):
                continue
            seen.add(key)
            item = _safe(resolver, key)  # a dangling reference leads nowhere
        todo.extend(_children(item))
    return seen


def _norm(obj):
    if isinstance(obj, generic.IndirectObject | generic.Reference):
        return ("ref", obj.idnum, obj.generation)
    if isinstance(obj, generic.StreamObject):
        return ("stream", {k: _norm(obj.raw_get(k)) for k in obj}, bytes(obj.encoded_data or b""))
    if isinstance(obj, generic.DictionaryObject):
        return {k: _norm(obj.raw_get(k)) for k in obj}
    if isinstance(obj, generic.ArrayObject):
        return [_norm(v) for v in _children(obj)]
    return (type(obj).__name__, repr(obj))


def _changed_keys(old, new) -> set[str]:
    if not (isinstance(old, generic.DictionaryObject) and isinstance(new, generic.DictionaryObject)):
        return {"*"}
    if isinstance(old, generic.StreamObject) != isinstance(new, generic.StreamObject):
        return {"*"}
    keys = {k for k in set(old) | set(new)
            if (_norm(old.raw_get(k)) if k in old else None) != (_norm(new.raw_get(k)) if k in new else None)}
    if isinstance(old, generic.StreamObject) and bytes(old.encoded_data or b"") != bytes(new.encoded_data or b""):
        keys.add("<stream>")
    return keys


def _pages(resolver) -> list[Key]:
    """Page object keys in page order."""
    out: list[Key] = []
    seen: set[Key] = set()

    def walk(ref) -> None:
        if not isinstance(ref, generic.IndirectObject) or _key(ref) in seen:
            return
        seen.add(_key(ref))
        node = resolver(generic.Reference(ref.idnum, ref.generation))
        if node.get("/Type") == "/Pages" and "/Kids" in node:
            for kid in _children(node["/Kids"]):
                walk(kid)
        else:
            out.append(_key(ref))

    root = resolver.root
    if "/Pages" in root:
        walk(root.raw_get("/Pages"))
    return out


def _annot_refs(resolver, page) -> list[Key]:
    if "/Annots" not in page:
        return []
    annots = page.raw_get("/Annots")
    if isinstance(annots, generic.IndirectObject):
        annots = resolver(generic.Reference(annots.idnum, annots.generation))
    return [_key(a) for a in _children(annots) if isinstance(a, generic.IndirectObject)]


def _contents(resolver, page) -> set[Key]:
    if "/Contents" not in page:
        return set()
    return _reach(resolver, [page.raw_get("/Contents")])


def _fields(resolver, root) -> list[Key]:
    """Every field and widget of the form, with its kids."""
    if "/AcroForm" not in root:
        return []
    form = root["/AcroForm"]
    out: list[Key] = []
    todo = list(_children(form["/Fields"])) if "/Fields" in form else []
    while todo:
        ref = todo.pop()
        if not isinstance(ref, generic.IndirectObject) or _key(ref) in out:
            continue
        out.append(_key(ref))
        node = resolver(generic.Reference(ref.idnum, ref.generation))
        if "/Kids" in node:
            todo.extend(_children(node["/Kids"]))
    return out


def _type_of(obj) -> str:
    if isinstance(obj, generic.DictionaryObject):
        if obj.get("/Type") == "/Annot" and "/Subtype" in obj:
            return str(obj["/Subtype"])
        for key in ("/Type", "/Subtype", "/FT"):
            if key in obj:
                return str(obj[key])
    return type(obj).__name__.replace("Object", "").lower()


def _docmdp_allows_forms(signatures) -> bool:
    return not any(getattr(s, "docmdp_level", None) == MDPPerm.NO_CHANGES for s in signatures)


def added_after_signing(reader: PdfFileReader) -> list[str]:
    """Vietnamese descriptions of what the revisions after the last signature added or changed besides
    signature data; ``[]`` when there is nothing (or no signature)."""
    signatures = list(reader.embedded_signatures)
    regular = [s for s in signatures if s.sig_object_type != "/DocTimeStamp"]
    if not regular:
        return []
    base = max(s.signed_revision for s in regular)
    last = reader.xrefs.total_revisions - 1
    if last <= base:
        return []
    old = reader.get_historical_resolver(base)
    new = reader.get_historical_resolver(last)
    written: dict[Key, int] = {}
    freed: set[Key] = set()
    containers: set[Key] = set()  # the object and xref streams that store a revision: how, not what
    for revision in range(base + 1, last + 1):
        for ref in reader.xrefs.explicit_refs_in_revision(revision):
            written[_key(ref)] = revision
        freed |= {_key(r) for r in reader.xrefs.refs_freed_in_revision(revision)}
        containers |= {_key(r) for r in reader.xrefs.object_streams_used_in(revision)}
        stream_ref = reader.xrefs.get_xref_container_info(revision).stream_ref
        if stream_ref is not None:
            containers.add(_key(stream_ref))
    existed = {k for k in written if _existed(reader, k, base)}
    added = set(written) - existed

    root = new.root
    trailer = new.trailer_view
    starts = [new.root_ref] + [trailer.raw_get(k) for k in ("/Info", "/Encrypt") if k in trailer]
    reachable = _reach(new, starts)

    # signature data: the DSS, document timestamps (field, widget, signature, appearance), permitted form fills
    allowed: set[Key] = set()
    if "/DSS" in root:
        allowed |= _reach(new, [root.raw_get("/DSS")])
    if "/AcroForm" in root:
        form = root.raw_get("/AcroForm")
        if isinstance(form, generic.IndirectObject):
            allowed.add(_key(form))
    old_fields = set(_fields(old, old.root))
    forms_ok = _docmdp_allows_forms(signatures)
    for key in _fields(new, root):
        node = new(generic.Reference(*key))
        value = node["/V"] if node.get("/FT") == "/Sig" and "/V" in node else None
        if isinstance(value, generic.DictionaryObject) and value.get("/Type") == "/DocTimeStamp":
            if key in added:
                allowed |= {key} | _reach(new, [node], inside=added)
        elif (forms_ok and key in old_fields and key in existed
              and _changed_keys(old(generic.Reference(*key)), node) <= FIELD_FILL_KEYS):
            allowed |= {key} | _reach(new, [node.raw_get(k) for k in FIELD_FILL_KEYS if k in node], inside=added)
    if "/Info" in trailer and isinstance(trailer.raw_get("/Info"), generic.IndirectObject):
        info_key = _key(trailer.raw_get("/Info"))
        if info_key in written and _only_dates_changed(old, new, info_key, info_key in existed):
            allowed.add(info_key)

    old_pages = _pages(old)
    page_no = {key: i + 1 for i, key in enumerate(_pages(new))}
    old_contents = {key: _contents(old, old(generic.Reference(*key))) for key in old_pages}
    named: list[str] = []
    covered: set[Key] = set()

    for key, number in page_no.items():
        if key not in written:
            continue
        page = new(generic.Reference(*key))
        if key not in existed:
            named.append(f"thêm trang {number} (đối tượng {key[0]})")
            covered |= _reach(new, [page], inside=added)
            continue
        before = old(generic.Reference(*key))
        changed = _changed_keys(before, page)
        if "/Contents" in changed:
            named.append(f"sửa nội dung trang {number} (đối tượng {key[0]})")
            covered |= _contents(new, page) & added
        new_annots = [a for a in _annot_refs(new, page) if a not in set(_annot_refs(old, before))]
        for annot in new_annots:
            if annot in allowed:
                continue
            obj = new(generic.Reference(*annot))
            named.append(f"thêm chú thích {_type_of(obj)} trên trang {number} (đối tượng {annot[0]})")
            covered |= {annot} | _reach(new, [obj], inside=added)
        if any(a not in _annot_refs(new, page) for a in _annot_refs(old, before)):
            named.append(f"xóa chú thích trên trang {number}")
        rest = changed - {"/Contents", "/Annots"}
        if rest:
            named.append(f"sửa trang {number} ({', '.join(sorted(rest))}; đối tượng {key[0]})")
        covered.add(key)

    content_of = {k: page_no.get(p, 0) for p, ks in old_contents.items() for k in ks}
    catalog = _key(new.root_ref)
    for key in sorted(written):
        if key in allowed or key in covered or key in containers:
            continue
        obj = _safe(new, key)
        kind = _type_of(obj)
        if key == catalog:
            rest = _changed_keys(old.root, root) - CATALOG_KEYS if key in existed else set()
            if rest:
                named.append(f"sửa danh mục tài liệu ({', '.join(sorted(rest))})")
        elif key in content_of:
            named.append(f"sửa nội dung trang {content_of[key]} (đối tượng {key[0]})")
        elif key not in reachable:
            named.append(f"thêm đối tượng không được tham chiếu (đối tượng {key[0]}, {kind})")
        elif key in existed:
            named.append(f"sửa đối tượng {key[0]} ({kind})")
        else:
            named.append(f"thêm đối tượng {key[0]} ({kind})")
    named += [f"xóa đối tượng {key[0]}" for key in sorted(freed) if key not in written]
    return named


def _existed(reader: PdfFileReader, key: Key, base: int) -> bool:
    try:
        return reader.xrefs.get_introducing_revision(generic.Reference(*key)) <= base
    except KeyError:
        return False


def _safe(resolver, key: Key):
    try:
        return resolver(generic.Reference(*key))
    except Exception:
        return generic.NullObject()


def _only_dates_changed(old, new, key: Key, existed: bool) -> bool:
    """/Info rewritten by a signing tool (modification date, producer) is not content."""
    if not existed:
        return False
    return _changed_keys(old(generic.Reference(*key)), new(generic.Reference(*key))) <= {"/ModDate", "/Producer"}
