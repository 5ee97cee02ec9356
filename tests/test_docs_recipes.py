"""docs/analysts.md's recipes, run as written against a small sample database.

A block fenced as ```sh recipe=NAME or ```python recipe=NAME is executed in a folder holding
``peruwire.db`` (the psql recipes get ``$DATABASE_URL`` instead); it must exit 0 and print
what an analyst would expect to see.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from peruwire_crawl.db.engine import make_engine
from peruwire_crawl.db.migrate import upgrade_to_head
from peruwire_crawl.db.store import ArticleStore, record_from_item

DOC = Path(__file__).resolve().parent.parent / "docs" / "analysts.md"
BLOCK = re.compile(r"^```(sh|python) recipe=([\w-]+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
RECIPES = [(name, language, code) for language, name, code in BLOCK.findall(DOC.read_text("utf-8"))]

SAMPLE = [
    {"url": "https://peoplesdispatch.org/2023/06/16/perus-de-facto-president-blames-protesters/",
     "source": "peoplesdispatch", "sections": ["https://peoplesdispatch.org/tag/new-peru-left/"],
     "title": "Peru’s de facto president blames protesters for their own deaths at the hands of state forces",
     "summary": "Dina Boluarte blamed the protesters.", "published_at": "2023-06-16T00:00:00+00:00",
     "date_precision": "day", "authors": ["Peoples Dispatch"], "language": "en",
     "body": "Boluarte spoke to Congress.\n\nFamilies of the victims demand justice."},
    {"url": "https://peoplesdispatch.org/2023/03/16/enver-leon-la-mayoria-de-los-peruanos-quieren-un-cambio-de-constitucion/",
     "source": "peoplesdispatch", "sections": ["https://peoplesdispatch.org/tag/new-peru-left/"],
     "title": "Enver León: “La mayoría de los peruanos quieren un cambio de Constitución”",
     "published_at": "2023-03-16T00:00:00+00:00", "date_precision": "day", "authors": ["Zoe Alexandra"],
     "language": "es", "body": "Una nueva Constitución.",
     "translations": ["https://peoplesdispatch.org/2023/03/16/enver-leon-the-majority-of-peruvians-want-a-change-in-the-constitution/"]},
    {"url": "https://peoplesdispatch.org/2023/03/16/enver-leon-the-majority-of-peruvians-want-a-change-in-the-constitution/",
     "source": "peoplesdispatch", "sections": ["https://peoplesdispatch.org/tag/new-peru-left/"],
     "title": "Enver León: “The majority of Peruvians want a change in the Constitution”",
     "published_at": "2023-03-16T00:00:00+00:00", "date_precision": "day", "authors": ["Zoe Alexandra"],
     "language": "en", "body": "A new Constitution.", "translation_of": None},
]


def fill(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade_to_head(engine)
    store = ArticleStore(engine)
    run_id = store.open_run("peru")
    store.write([record_from_item(a) for a in SAMPLE], run_id=run_id)
    edited = dict(SAMPLE[0], title="Peru’s president blames protesters for their deaths")
    store.write([record_from_item(edited)], run_id=run_id)  # one revision
    store.close_run(run_id, new=3, updated=1, pages_fetched=4)
    engine.dispose()


def run(language: str, code: str, cwd: Path, env: dict[str, str]) -> str:
    command = ["bash", "-e", "-c", code] if language == "sh" else [sys.executable, "-c", code]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"recipe failed:\n{code}\n--- stderr:\n{result.stderr}"
    return result.stdout


@pytest.fixture
def environment(tmp_path):
    """The recipes' environment: the venv's python and `peruwire` on PATH, and an empty HOME
    (nothing downloaded or installed before shows through)."""
    bin_dir = str(Path(sys.executable).parent)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "HOME": str(home), "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def duckdb_sqlite_shipped() -> bool:
    """Whether the package duckdb-ext-sqlite ships DuckDB's sqlite extension here."""
    try:
        import duckdb_ext
    except ImportError:
        return False
    return any((Path(folder) / "extensions").rglob("sqlite_scanner.duckdb_extension") for folder in duckdb_ext.__path__)


EXPECTED = {  # what each recipe must print (a regular expression)
    "cli": "Enver León",
    "sqlite3": r"2023-06  en        1|Peru’s president blames protesters|Zoe Alexandra +2",
    "pandas": "2023-06",
    "duckdb-sqlite": "peoplesdispatch",
    "duckdb-export": "es",
    "duckdb-parquet": r"en\s*│\s*2",
    "search": r"\[Constitución\]",
    "show": r"revisions \(1: what changed",
    "corrections": r"title: Peru’s \[-de facto -\]president blames protesters",
    "sqlite-utils": "protesters",
    "report": "report.html",
    "psql": "2023-06",
}


def test_every_recipe_kind_is_tested():
    assert {name for name, _, _ in RECIPES} == set(EXPECTED)


@pytest.mark.parametrize("name, language, code",
                         [r for r in RECIPES if r[0] != "psql"],
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(RECIPES) if r[0] != "psql"])
def test_sqlite_recipe(name, language, code, tmp_path, environment):
    if name == "sqlite3" and not shutil.which("sqlite3"):
        pytest.skip("the sqlite3 command-line shell is not installed")
    if name == "duckdb-sqlite" and not duckdb_sqlite_shipped():
        pytest.skip("DuckDB's sqlite extension is not installed (the package duckdb-ext-sqlite ships it "
                    "for Linux x86_64 and DuckDB 1.4.4; the tests never download it)")
    fill(f"sqlite:///{tmp_path / 'peruwire.db'}")
    assert re.search(EXPECTED[name], run(language, code, tmp_path, environment))


@pytest.mark.postgres
@pytest.mark.parametrize("code", [code for name, _, code in RECIPES if name == "psql"])
def test_psql_recipe(code, postgres_url, tmp_path, environment):
    if not shutil.which("psql"):
        pytest.skip("the psql client is not installed")
    fill(postgres_url)
    libpq_url = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    output = run("sh", code, tmp_path, {**environment, "DATABASE_URL": libpq_url})
    assert EXPECTED["psql"] in output and "protesters" in output and "translation_url" in output
