"""Running `scrapy crawl peru` in a subprocess, as an operator would, for end-to-end tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


@dataclass
class CrawlResult:
    returncode: int
    log: str
    items: list[dict]
    stats: dict

    def stat(self, name: str, default=0):
        return self.stats.get(name, default)


@dataclass
class CrawlFiles:
    """Where one crawl of a test writes its items and its final stats."""

    items: Path
    stats: Path

    @classmethod
    def next_in(cls, tmp_path: Path) -> "CrawlFiles":
        tmp_path.mkdir(parents=True, exist_ok=True)
        run_number = len(list(tmp_path.glob("items-*.jsonl")))
        return cls(tmp_path / f"items-{run_number}.jsonl", tmp_path / f"stats-{run_number}.json")

    def result(self, returncode: int, log: str) -> CrawlResult:
        items = []
        if self.items.exists():
            items = [json.loads(line) for line in self.items.read_text("utf-8").splitlines() if line]
        stats = json.loads(self.stats.read_text("utf-8")) if self.stats.exists() else {}
        return CrawlResult(returncode, log, items, stats)


def replay_setting(*snapshots: str | Path) -> str:
    """PERUWIRE_REPLAY for fixture snapshots (names under fixtures/ or paths), overlay first."""
    return os.pathsep.join(str(s if Path(str(s)).is_absolute() else FIXTURES / str(s)) for s in snapshots)


def crawl_command(tmp_path: Path, files: CrawlFiles, *args: str, replay: tuple | None = ("peoplesdispatch",),
                  db_url: str | None = None, settings: dict[str, object] | None = None) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "peru", "-O", str(files.items), *args]
    all_settings = {
        "PERUWIRE_STATS_FILE": files.stats,
        "PERUWIRE_DB_URL": db_url or f"sqlite:///{tmp_path / 'peruwire.db'}",
        "PERUWIRE_DEAD_LETTER_FILE": tmp_path / "dead-letter.jsonl",
        "TELNETCONSOLE_ENABLED": False,
        # The listing-driven crawl alone, so that request counts are the sections' and the
        # articles'; tests of the change signals (tests/test_changes_e2e.py) turn them on.
        "PERUWIRE_CHANGE_SIGNALS": "",
    }
    if replay:
        all_settings["PERUWIRE_REPLAY"] = replay_setting(*replay)
    all_settings.update(settings or {})
    for name, value in all_settings.items():
        command += ["-s", f"{name}={value}"]
    return command


def crawl_env() -> dict[str, str]:
    """The environment, without a developer's database or cluster (tests name their own)."""
    return {k: v for k, v in os.environ.items() if k not in ("PERUWIRE_DB_URL", "PERUWIRE_REDIS_URL")}


def crawl(tmp_path: Path, *args: str, replay: str | tuple | None = "peoplesdispatch",
          db_url: str | None = None, settings: dict[str, object] | None = None,
          timeout: float = 180) -> CrawlResult:
    """`scrapy crawl peru ARGS` from the repository root, items exported to a file.

    ``replay``: a fixture snapshot, or a tuple of them (overlay first), or None for none.
    """
    files = CrawlFiles.next_in(tmp_path)
    snapshots = (replay,) if isinstance(replay, (str, Path)) else replay
    command = crawl_command(tmp_path, files, *args, replay=snapshots, db_url=db_url, settings=settings)
    result = subprocess.run(command, cwd=REPO, env=crawl_env(), capture_output=True, text=True,
                            timeout=timeout)
    return files.result(result.returncode, result.stderr + result.stdout)


def start_crawl(tmp_path: Path, *args: str, log_file: Path, **options) -> subprocess.Popen:
    """The same crawl, started and not waited for (for overlapping and killed runs)."""
    files = CrawlFiles.next_in(tmp_path)
    files.items.touch()  # reserve the run number
    command = crawl_command(tmp_path, files, *args, **options)
    with log_file.open("w") as log:
        return subprocess.Popen(command, cwd=REPO, env=crawl_env(), stdout=log, stderr=subprocess.STDOUT)
