"""Scrapyd: the project deploys with `scrapyd-deploy` and runs from Scrapyd into the database.

The test starts a real Scrapyd on 127.0.0.1 (a free port, its own directories), deploys a
copy of the project with `scrapyd-deploy` exactly as an operator would (scrapyd-deploy
writes a setup.py next to scrapy.cfg, so it must not run in the checkout), schedules a
replayed crawl with `setting=` and spider arguments, and reads the database it filled.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.crawling import FIXTURES, REPO, crawl_env

pytestmark = pytest.mark.slow

IMPEACHMENT = "https://peoplesdispatch.org/tag/impeachment-of-martin-vizcarra/"
# What the egg needs besides code: the migrations Alembic runs and the sections file.
PACKAGE_DATA = (
    "peruwire_crawl/sections.toml",
    "peruwire_crawl/migrations/alembic.ini",
    "peruwire_crawl/migrations/env.py",
    "peruwire_crawl/migrations/versions/0001_base_tables.py",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Scrapyd:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        (root / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            "poll_interval = 0.5\n"
            f"eggs_dir = {root / 'eggs'}\n"
            f"logs_dir = {root / 'logs'}\n"
            f"dbs_dir = {root / 'dbs'}\n",
            "utf-8",
        )
        self.process = None

    def __enter__(self) -> "Scrapyd":
        log = (self.root / "scrapyd.log").open("w")
        # Scrapyd reads scrapyd.conf from its working directory.
        self.process = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=self.root, env=crawl_env(),
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.get("daemonstatus.json")["status"] == "ok":
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise AssertionError("Scrapyd did not start: " + (self.root / "scrapyd.log").read_text())

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def get(self, endpoint: str, **params) -> dict:
        query = "?" + urllib.parse.urlencode(params) if params else ""
        with urllib.request.urlopen(self.url + endpoint + query, timeout=10) as response:
            return json.load(response)

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict:
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(self.url + endpoint, data=data, timeout=10) as response:
            return json.load(response)

    def wait_finished(self, project: str, job: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(j["id"] == job for j in self.get("listjobs.json", project=project)["finished"]):
                return
            time.sleep(0.5)
        raise AssertionError(f"job {job} did not finish")


def project_copy(target: Path, scrapyd_url: str) -> Path:
    """What an operator's checkout holds for deploying, with the deploy target pointed at
    the test's Scrapyd."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, target / name)
    for package in ("peruwire_crawl", "pipelines"):
        shutil.copytree(REPO / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    config = (REPO / "scrapy.cfg").read_text("utf-8")
    (target / "scrapy.cfg").write_text(config + f"\n[deploy:test]\nurl = {scrapyd_url}\nproject = peruwire\n", "utf-8")
    return target


def test_scrapyd_deploy_then_schedule_a_replayed_crawl_fills_the_database(tmp_path):
    server_root = tmp_path / "scrapyd"
    server_root.mkdir()
    database = tmp_path / "scrapyd.db"
    stats_file = tmp_path / "stats.json"
    with Scrapyd(server_root) as scrapyd:
        project = project_copy(tmp_path / "project", scrapyd.url)
        deployed = subprocess.run(
            [sys.executable, "-m", "scrapyd_client.deploy", "test", "--version", "1"],
            cwd=project, env=crawl_env(), capture_output=True, text=True, timeout=180,
        )
        assert deployed.returncode == 0, deployed.stderr + deployed.stdout
        assert json.loads(deployed.stdout)["spiders"] == 1, deployed.stdout

        egg = next((server_root / "eggs" / "peruwire").glob("*.egg"))
        with zipfile.ZipFile(egg) as contents:
            names = set(contents.namelist())
            entry_points = contents.read("EGG-INFO/entry_points.txt").decode()
        assert "[scrapy]" in entry_points and "settings = peruwire_crawl.settings" in entry_points
        assert set(PACKAGE_DATA) <= names

        job = scrapyd.post("schedule.json", [
            ("project", "peruwire"),
            ("spider", "peru"),
            ("setting", f"PERUWIRE_REPLAY={FIXTURES / 'peoplesdispatch'}"),
            ("setting", f"PERUWIRE_DB_URL=sqlite:///{database}"),
            ("setting", f"PERUWIRE_STATS_FILE={stats_file}"),
            ("setting", f"PERUWIRE_DEAD_LETTER_FILE={tmp_path / 'dead-letter.jsonl'}"),
            ("sections", IMPEACHMENT),
            ("mode", "full"),
        ])
        assert job["status"] == "ok", job
        scrapyd.wait_finished("peruwire", job["jobid"])
        job_log = next((server_root / "logs" / "peruwire" / "peru").glob(f"{job['jobid']}.log")).read_text()

    stats = json.loads(stats_file.read_text("utf-8")) if stats_file.exists() else {}
    assert stats.get("peruwire/exit_code") == 0, job_log[-3000:]
    with sqlite3.connect(database) as db:
        sections = {row[0] for row in db.execute("SELECT DISTINCT section_url FROM article_sections")}
        articles = db.execute("SELECT count(*) FROM articles WHERE body IS NOT NULL").fetchone()[0]
        runs = db.execute("SELECT spider, status FROM crawl_runs").fetchall()
    # The impeachment tag lists four articles (fixtures/README.md); only that section was read.
    assert articles == 4
    assert sections == {IMPEACHMENT}
    assert runs == [("peru", "finished")]
