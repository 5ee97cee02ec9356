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


def crawl(
    tmp_path: Path,
    *args: str,
    replay: str | Path | None = "peoplesdispatch",
    db_url: str | None = None,
    settings: dict[str, object] | None = None,
    timeout: float = 180,
) -> CrawlResult:
    """`scrapy crawl peru ARGS` from the repository root, items exported to a file."""
    run_number = len(list(tmp_path.glob("items-*.jsonl")))
    items_file = tmp_path / f"items-{run_number}.jsonl"
    stats_file = tmp_path / f"stats-{run_number}.json"
    command = [sys.executable, "-m", "scrapy", "crawl", "peru", "-O", str(items_file), *args]
    command += ["-s", f"PERUWIRE_STATS_FILE={stats_file}"]
    if replay is not None:
        replay_root = replay if Path(str(replay)).is_absolute() else FIXTURES / str(replay)
        command += ["-s", f"PERUWIRE_REPLAY={replay_root}"]
    command += ["-s", f"PERUWIRE_DB_URL={db_url or 'sqlite:///' + str(tmp_path / 'peruwire.db')}"]
    for name, value in (settings or {}).items():
        command += ["-s", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if k != "PERUWIRE_DB_URL"}
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    items = []
    if items_file.exists():
        items = [json.loads(line) for line in items_file.read_text("utf-8").splitlines() if line]
    stats = json.loads(stats_file.read_text("utf-8")) if stats_file.exists() else {}
    return CrawlResult(result.returncode, result.stderr + result.stdout, items, stats)
