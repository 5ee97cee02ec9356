"""Exit statuses of `scrapy crawl peru`, for cron and systemd (docs/operations.md).

The crawl's extensions put the status they decide on in the crawler stats under
``EXIT_CODE_STAT``; the project's ``crawl`` command turns it into the process exit status.
"""

OK = 0  # the run finished and every health check passed
UNHEALTHY = 1  # the run finished but a health check failed, or it did not finish
ALREADY_RUNNING = 75  # another run holds this database, or it is locked (EX_TEMPFAIL): skipped, try later
CONFIG_ERROR = 78  # the database URL is wrong or the database unreachable (EX_CONFIG)

EXIT_CODE_STAT = "peruwire/exit_code"

# Finish reasons of runs that stopped before crawling, with the statuses above.
ALREADY_RUNNING_REASON = "already_running"
STORAGE_UNAVAILABLE_REASON = "storage_unavailable"
DATABASE_BUSY_REASON = "database_busy"
RUN_LOCK_LOST_REASON = "run_lock_lost"  # a run that lost its lock stops writing (UNHEALTHY)
# Runs that never started crawling: nothing to judge.
NOT_STARTED_REASONS = (ALREADY_RUNNING_REASON, DATABASE_BUSY_REASON)
