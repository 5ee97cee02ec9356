"""``peruwire report``: one self-contained HTML page of charts about the collection.

Charts are drawn by matplotlib as SVG and inlined, so the page needs no network, no script
and no other file to be read or printed. Counts come from ``peruwire_crawl.db.queries``,
the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import io
from datetime import datetime, timezone
from typing import Any

import click

from peruwire_crawl.cli.base import CommandError, Database, cli, db_option, filter_options
from peruwire_crawl.db import queries
from peruwire_crawl.db.engine import describe_url

TOP_SECTIONS = 8  # sections drawn one by one; the rest are summed as "other sections"
COLOURS = {"finished": "#2e7d32", "unhealthy": "#f9a825", "failed": "#c62828", "running": "#1565c0"}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; }
p.meta { color: #555; margin-top: 0; } figure { margin: 0; } svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.9rem; } td, th { padding: 0.2rem 0.8rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
section { break-inside: avoid; page-break-inside: avoid; }
@media print { body { margin: 0; max-width: none; } h2 { margin-top: 1.2rem; } }
"""


@cli.command(examples=["peruwire report --output report.html",
                       "peruwire report --db postgresql+psycopg://analyst@db.example/peruwire --since 2023-01-01 "
                       "--source peoplesdispatch --output peru-2023.html"])
@db_option
@click.option("--output", "-o", "output_path", required=True, metavar="FILE", help="the HTML file to write")
@filter_options
@click.pass_context
def report(ctx: click.Context, output_path: str, filters: queries.Filters) -> int:
    """Write a self-contained HTML report: articles per month (empty months shown) per
    section and per language, top authors, corrections over time, crawl run health over
    time and field coverage. It opens offline and prints cleanly.

    Takes the same filters as search and export (--since, --source, ...); run health is
    of every run. Needs matplotlib: pip install 'peruwire[analysts]'.
    """
    try:
        import matplotlib
    except ImportError:
        raise CommandError("`peruwire report` needs matplotlib: pip install 'peruwire[analysts]'") from None
    matplotlib.use("Agg")
    engine = Database.of(ctx).readable()
    with engine.connect() as connection:
        data = {
            "sections": queries.per_month(connection, filters, "section"),
            "languages": queries.per_month(connection, filters, "language"),
            "authors": queries.top_authors(connection, filters),
            "corrections": queries.corrections_per_month(connection, filters),
            "runs": queries.runs_per_month(connection),
            "coverage": queries.field_coverage(connection, filters),
        }
    page = render(data, where=describe_url(engine.url), filters=filters)
    with open(output_path, "w", encoding="utf-8") as handle:
        handle.write(page)
    click.echo(f"report of {data['coverage'][0]} articles written to {output_path}", err=True)
    return 0


# --- charts -------------------------------------------------------------------------------
def _svg(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: inline SVG in HTML


def _figure(height: float = 3.2):
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "peruwire", "font.size": 9})
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(9, height))
    axes.spines[["top", "right"]].set_visible(False)
    for axis in (axes.xaxis, axes.yaxis):  # counts are whole numbers
        axis.set_major_locator(MaxNLocator(integer=True))
    return figure, axes


def _monthly_chart(series: dict[str, dict[str, int]], what: str, limit: int | None = None) -> str:
    months, counts = queries.fill_months(series)
    if not months:
        return "<p>No article with a publication date.</p>"
    ranked = sorted(counts, key=lambda key: (-sum(counts[key]), key))
    if limit and len(ranked) > limit:
        rest = ranked[limit:]
        others = [counts.pop(key) for key in rest]
        counts[f"{len(rest)} other {what}s"] = [sum(values) for values in zip(*others, strict=True)]
        ranked = ranked[:limit] + [f"{len(rest)} other {what}s"]
    figure, axes = _figure()
    bottom = [0] * len(months)
    for key in ranked:
        axes.bar(months, counts[key], bottom=bottom, label=_short(key), width=0.85)
        bottom = [b + c for b, c in zip(bottom, counts[key], strict=True)]
    axes.set_ylabel("articles")
    _month_ticks(axes, months)
    axes.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(figure)


def _month_ticks(axes, months: list[str]) -> None:
    step = max(1, len(months) // 12)
    axes.set_xticks(range(0, len(months), step), [months[i] for i in range(0, len(months), step)],
                    rotation=45, ha="right")


def _short(label: str) -> str:
    return label.rstrip("/").rsplit("/", 1)[-1] if label.startswith("http") else label


def _authors_chart(authors: list[tuple[str, int]]) -> str:
    if not authors:
        return "<p>No article names an author.</p>"
    figure, axes = _figure(height=0.3 * len(authors) + 0.8)
    names = [name for name, _ in authors][::-1]
    axes.barh(names, [count for _, count in authors][::-1], color="#455a64")
    axes.set_xlabel("articles")
    return _svg(figure)


def _corrections_chart(corrections: dict[str, int]) -> str:
    months, counts = queries.fill_months({"corrections": corrections})
    if not months:
        return "<p>No title, summary or body has changed yet.</p>"
    figure, axes = _figure(height=2.6)
    axes.bar(months, counts["corrections"], color="#6a1b9a", width=0.85)
    axes.set_ylabel("articles changed")
    _month_ticks(axes, months)
    return _svg(figure)


def _runs_chart(runs: dict[str, dict[str, int]]) -> str:
    months, counts = queries.fill_months(runs)
    if not months:
        return "<p>No crawl run is recorded.</p>"
    figure, axes = _figure(height=2.6)
    bottom = [0] * len(months)
    for status in sorted(counts, key=lambda s: list(COLOURS).index(s) if s in COLOURS else len(COLOURS)):
        axes.bar(months, counts[status], bottom=bottom, label=status, color=COLOURS.get(status), width=0.85)
        bottom = [b + c for b, c in zip(bottom, counts[status], strict=True)]
    axes.set_ylabel("crawl runs")
    _month_ticks(axes, months)
    axes.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(figure)


def _coverage_chart(total: int, coverage: dict[str, int]) -> str:
    if not total:
        return "<p>No article.</p>"
    figure, axes = _figure(height=2.8)
    names = list(coverage)[::-1]
    shares = [100 * coverage[name] / total for name in names]
    axes.barh(names, shares, color="#00838f")
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of articles that have it")
    for y, share in enumerate(shares):
        axes.text(min(share + 1, 92), y, f"{share:.0f}%", va="center", fontsize=7)
    return _svg(figure)


# --- the page -----------------------------------------------------------------------------
def render(data: dict[str, Any], *, where: str, filters: queries.Filters) -> str:
    total, coverage = data["coverage"]
    chosen = ", ".join(f"{name} {value}" for name, value in vars(filters).items() if value) or "all articles"
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        ("Articles per month, by section", _monthly_chart(data["sections"], "section", TOP_SECTIONS),
         "An article listed by several sections counts in each."),
        ("Articles per month, by language", _monthly_chart(data["languages"], "language"), ""),
        ("Top authors", _authors_chart(data["authors"]), ""),
        ("Corrections over time", _corrections_chart(data["corrections"]),
         "Changes of title, summary or body seen by the crawls, by the month they were seen."),
        ("Crawl run health over time", _runs_chart(data["runs"]),
         "Runs by the month they started: finished is healthy."),
        ("Field coverage", _coverage_chart(total, coverage),
         "Share of articles with each field; complete: the article page was read in full."),
    ]
    body = "\n".join(
        f'<section><h2>{html.escape(title)}</h2><figure role="img" aria-label="{html.escape(title)}">{chart}</figure>'
        + (f"<p>{html.escape(note)}</p>" if note else "") + "</section>"
        for title, chart, note in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>peruwire report</title>
<style>{STYLE}</style></head>
<body>
<h1>peruwire: coverage of Peru</h1>
<p class="meta">{total} articles ({html.escape(chosen)}) in {html.escape(where)}, {made}.</p>
{body}
</body></html>
"""
