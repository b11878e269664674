"""The Văn phòng's published work schedule for the current week (SPEC §9), through the schedule
services: an editor composes it, the Chánh Văn phòng approves and publishes it."""

from __future__ import annotations

from collections import Counter
from datetime import time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.db import session
from portal.demo.organisations import VAN_PHONG, Node
from portal.timeutil import local_today

DEMO_SCHEDULE = [  # (weekday, start, end, content, location)
    (0, time(8), time(9, 30), "Giao ban lãnh đạo Văn phòng đầu tuần", "Phòng họp tầng 2"),
    (2, time(14), None, "Làm việc với Sở Nội vụ về chuyển đổi số trong công tác văn thư", "Sở Nội vụ"),
    (4, None, None, "Tiếp công dân định kỳ", "Trụ sở tiếp công dân tỉnh"),
]


def seed_schedule(nodes: dict[str, Node], created: Counter[str]) -> None:
    """Once a week: a week already there is kept."""
    from portal.schedules import services as schedules

    office = nodes[VAN_PHONG.organ_id].org
    cal = schedules.calendar_for(office)
    monday = schedules.monday_of(local_today())
    if schedules.find_week(cal, monday) is not None:
        return
    editor, leader = (session.execute(select(User).where(User.username == name)).scalar_one()
                      for name in ("laplich.vp", "lanhdao.vp"))
    editor.current_position, leader.current_position = editor.positions[0], leader.positions[0]
    for weekday, start, end, content, location in DEMO_SCHEDULE:
        schedules.add_entry(editor, cal, monday, schedules.EntryData(
            day=monday + timedelta(days=weekday), start=start, end=end, all_day=start is None, content=content,
            presiding_ids=[leader.id], location=location))
    week = schedules.submit(editor, cal, monday)
    schedules.approve(leader, week)
    schedules.publish(leader, week)
    created["schedule_entries"] += len(DEMO_SCHEDULE)
