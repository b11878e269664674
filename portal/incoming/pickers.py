"""The people pickers of the incoming steps: which steps have one, the query strings of their
type-ahead (declared for ``portal.params``) and how a found person is described."""

from __future__ import annotations

from portal.auth.models import User
from portal.documents.models import IncomingDocument
from portal.params import Choice, Id, Ids, Text

PICKER_STEPS = {"present": "leader", "forward": "leader", "direct": "assignee", "assign_directly": "assignee",
                "unit_direct": "member"}
KINDS = ("unit", "person")

STEP = Choice("step", "Bước xử lý", tuple(PICKER_STEPS))
LOOKUP = (STEP, Text("q", "Từ khóa", 200))
LOOKUP_ROW = (STEP, Choice("kind", "Loại", KINDS), Id("id", "Đơn vị hoặc cá nhân"),
              Choice("a_kind", "Loại của dòng đã chọn", KINDS, many_values=True), Ids("a_id", "Dòng đã chọn"))


def post_of(user: User, doc: IncomingDocument) -> str:
    """"Trưởng phòng, Phòng Nghiệp vụ": the person's post in the document's organisation."""
    for pos in user.active_positions():
        if pos.organisation_id == doc.organisation_id:
            return pos.title + (f", {pos.unit.name}" if pos.unit else "")
    return ""
