"""Shared incoming fixtures: an office with a clerk, an agency leader, a unit head, two officers
and an outsider clerk of another organisation; document metadata to register."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.auth.models import Role
from portal.documents.models import Urgency
from portal.incoming import services
from portal.timeutil import local_today

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def act(user):
    user.current_position = user.positions[0]
    return user


@pytest.fixture
def office(factory):
    org = factory.organisation(name="Sở Văn Hóa Thử", short_name="SVHT")
    unit = factory.unit(org, name="Phòng Nghiệp vụ Văn hóa")
    people = {
        "clerk": act(factory.person(Role.CLERK, organisation=org, title="Văn thư")),
        "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc")),
        "head": act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng")),
        "officer": act(factory.person(Role.OFFICER, organisation=org, unit=unit)),
        "other": act(factory.person(Role.OFFICER, organisation=org, unit=unit)),
        "outsider": act(factory.person(Role.CLERK)),
    }
    return org, unit, people


def metadata(**kw) -> services.Metadata:
    base = {"type_name": "Quyết định", "code_number": "15", "code_notation": "QĐ-UBND",
            "issued_date": local_today() - timedelta(days=2), "organ_name": "Ủy ban nhân dân tỉnh Hà Nam",
            "subject": "Quyết định về công tác văn thư năm 2026", "urgency": Urgency.NORMAL}
    base.update(kw)
    return services.Metadata(**base)
