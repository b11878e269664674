"""The job queue (Huey) with a row per job: what other features use.

``jobs.enqueue(kind, **args)`` writes the row in the caller's transaction (pushed to Huey when it
commits); ``@jobs.kind(name, max_attempts=…, on_failed=…)`` registers a handler; ``jobs.periodic(name,
function, **crontab)`` adds a periodic task. Models in ``models``, the registry in ``kinds``, Huey in
``queue``, claiming/heartbeat/retries/reaper in ``runner``, the scheduled tasks in ``periodic``,
the process in ``consumer``."""

from portal.jobs.kinds import KINDS, kind
from portal.jobs.models import Job, JobState
from portal.jobs.periodic import PERIODIC, periodic
from portal.jobs.queue import init_app
from portal.jobs.runner import enqueue, reap, run, run_due

__all__ = ["KINDS", "PERIODIC", "Job", "JobState", "enqueue", "init_app", "kind", "periodic", "reap", "run",
           "run_due"]
