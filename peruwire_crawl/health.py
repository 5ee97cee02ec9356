"""Was a run healthy? Checks on the crawl's final stats, with thresholds from settings.

Each check returns the reason it failed, in one sentence an operator can act on, or None.
The most common silent failure of a scraper is a changed layout: the site still answers
200, but a section suddenly lists nothing, or articles stop yielding a date or a body.
"""

from __future__ import annotations

from dataclasses import dataclass

# Item fields whose coverage on fetched article pages is checked (setting
# PERUWIRE_HEALTH_MIN_COVERAGE maps field -> minimum share of complete articles having it).
COVERAGE_STAT = "peruwire/health/coverage/{field}"
COMPLETE_ITEMS_STAT = "peruwire/health/complete_items"


@dataclass(frozen=True)
class HealthThresholds:
    min_coverage: dict[str, float]
    max_error_rate: float
    max_storage_failures: int

    @classmethod
    def from_settings(cls, settings) -> "HealthThresholds":
        return cls(
            min_coverage={k: float(v) for k, v in settings.getdict("PERUWIRE_HEALTH_MIN_COVERAGE").items()},
            max_error_rate=settings.getfloat("PERUWIRE_HEALTH_MAX_ERROR_RATE"),
            max_storage_failures=settings.getint("PERUWIRE_HEALTH_MAX_STORAGE_FAILURES"),
        )


def failed_checks(stats: dict, empty_sections: list[str], thresholds: HealthThresholds) -> list[str]:
    """Every failed check's reason; an empty list means the run was healthy."""
    reasons = [_finish_reason(stats), _read_no_section(stats)]
    reasons += [f"section {url} lists no article on its first page" for url in empty_sections]
    reasons += _coverage(stats, thresholds.min_coverage)
    reasons.append(_error_rate(stats, thresholds.max_error_rate))
    reasons.append(_storage_failures(stats, thresholds.max_storage_failures))
    return [reason for reason in reasons if reason]


def _finish_reason(stats: dict) -> str | None:
    reason = stats.get("finish_reason", "finished")
    return None if reason == "finished" else f"the crawl ended with reason {reason!r}, not 'finished'"


def _read_no_section(stats: dict) -> str | None:
    """A run that read no section page at all (a reused JOBDIR, every section failing)
    collected nothing, however cleanly it finished."""
    read = stats.get("peruwire/sections/pages", 0) + stats.get("peruwire/sections/not_modified", 0)
    return None if read else "the run read no section page"


def _coverage(stats: dict, min_coverage: dict[str, float]) -> list[str]:
    complete = stats.get(COMPLETE_ITEMS_STAT, 0)
    if not complete:
        return []  # nothing fetched (an incremental run with nothing new) covers nothing
    reasons = []
    for field, minimum in sorted(min_coverage.items()):
        share = stats.get(COVERAGE_STAT.format(field=field), 0) / complete
        if share < minimum:
            reasons.append(
                f"only {share:.0%} of {complete} fetched articles have {field} (minimum {minimum:.0%})"
            )
    return reasons


def _error_rate(stats: dict, maximum: float) -> str | None:
    responses = stats.get("downloader/response_count", 0)
    failed = stats.get("peruwire/sections/failed", 0) + stats.get("peruwire/articles/incomplete", 0)
    requests = max(responses, failed, 1)
    rate = failed / requests
    if rate > maximum:
        return f"{failed} of {requests} pages failed ({rate:.0%}, maximum {maximum:.0%})"
    return None


def _storage_failures(stats: dict, maximum: int) -> str | None:
    lost = stats.get("peruwire/store/items_failed", 0)
    if lost > maximum:
        return f"{lost} items could not be stored (see the dead-letter file named in the log)"
    return None


def run_errors(stats: dict) -> int:
    """Errors of a run, as the summary line and ``crawl_runs.errors`` report them: ERROR log
    lines plus items that could not be stored as they were."""
    return stats.get("log_count/ERROR", 0) + stats.get("peruwire/store/item_errors", 0)
