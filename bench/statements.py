"""Counting a request's SQL statements and their time (database + driver) for the bench scripts (they run with
bench/ on the path): per statement text too, with the slowest run's parameters (bench/inbox.py --explain)."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, event


class Statements:
    """Statements per request, the time spent in them (database + driver) and, per statement text, its
    slowest run with its parameters (for --explain)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reset()
        self.slowest: dict[str, tuple[float, str, Any]] = {}
        self.by_text: dict[str, list[float]] = defaultdict(list)  # of one page, all its requests
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        took = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        self.count += 1
        self.seconds += took
        self.by_text[statement].append(took)
        if took > self.slowest.get(statement, (0.0,))[0]:
            self.slowest[statement] = (took, statement, parameters)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
