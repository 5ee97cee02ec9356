"""The extractor over the development set of real publishers' pages, when it is there.

``../shared/realpages`` (beside the repository) holds real pages with expected values and
two scorers (standard library only). This test runs ``peruwire_crawl.extract.extract`` on
every page in process and prints the scores with the scorers' own functions; it fails only
when a page makes the extractor raise. Thresholds belong to the benchmark
(docs/performance.md), not here: the pages are for measuring, never fixtures.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from peruwire_crawl.extract import extract

# Beside the repository, or where $PERUWIRE_REALPAGES says (a git worktree lives elsewhere).
REALPAGES = Path(os.environ.get("PERUWIRE_REALPAGES") or Path(__file__).resolve().parents[1].parent / "shared" / "realpages")
pytestmark = pytest.mark.skipif(not (REALPAGES / "score_meta.py").exists(),
                                reason="no ../shared/realpages beside the repository (nor $PERUWIRE_REALPAGES): "
                                       "nothing to measure")


def scorer(name: str):
    spec = importlib.util.spec_from_file_location(name, REALPAGES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_meta_set_scores(capsys):
    score_meta = scorer("score_meta")
    truths = [json.loads(line) for line in (REALPAGES / "meta" / "truth.jsonl").read_text("utf-8").splitlines() if line.strip()]
    scores = {}
    for truth in truths:
        result = extract((REALPAGES / "meta" / truth["file"]).read_bytes(), truth["url"])
        scores[truth["id"]] = score_meta.score_page(truth, result)
    summary = score_meta.summarise(truths, {}, scores)
    with capsys.disabled():
        print(f"\nrealpages meta ({summary['pages']} pages): " + ", ".join(
            f"{key} {100 * summary[key]:.1f}" for key in ("title_exact", "date_day", "date_minute", "authors_set_equal")))


def test_body_set_scores(capsys):
    score_bodies = scorer("score_bodies")
    truth = json.loads((REALPAGES / "bodies" / "ground-truth.json").read_text("utf-8"))
    predictions = {key: {"articleBody": extract((REALPAGES / "bodies" / "html" / f"{key}.html").read_bytes(),
                                                record.get("url") or "")["body"] or ""}
                   for key, record in truth.items()}
    result = score_bodies.score(truth, predictions)
    with capsys.disabled():
        print(f"\nrealpages bodies ({len(truth)} pages): F1 {result['f1']:.3f}, "
              f"precision {result['precision']:.3f}, recall {result['recall']:.3f}")
