"""Language detection: accuracy on short Spanish/English texts, memory and time, for the
ways the detector can be built.

    python benchmarks/bench_language.py
    python benchmarks/bench_language.py --texts labelled.jsonl   # your own {"text", "language"} lines
    python benchmarks/bench_language.py --sample-lengths 200,300,600   # on ../shared/realpages

Each way runs in a fresh process, so its peak memory is its own:
- ``preloaded``: every lingua model loaded when the detector is built (how peruwire
  built it before);
- ``lazy``: models loaded when a text first needs them (peruwire's way now): lingua reads
  only its trigram models for texts of 120 characters or more;
- ``low-accuracy``: lingua's low-accuracy mode (trigrams only, for every text), for
  comparison: small, but it misreads short titles.

Texts are scored at three lengths: the headline alone, headline + standfirst, and the
sample the pipeline uses (``article_text_sample``: headline, standfirst, start of body).
The built-in texts were written for this benchmark (news about Peru in both languages,
full of the place and person names that make short texts hard).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (language, headline, standfirst, start of body)
ARTICLES = [
    ("es", "Comuneros de Apurímac bloquean el corredor minero",
     "Exigen que la empresa cumpla los acuerdos firmados el año pasado.",
     "Cientos de comuneros de Chalhuahuacho se instalaron desde el lunes en la vía que usan los camiones."),
    ("es", "Dina Boluarte anuncia un nuevo gabinete",
     "La presidenta tomó juramento a once ministros en Palacio de Gobierno.",
     "El nuevo presidente del Consejo de Ministros prometió diálogo con las regiones del sur."),
    ("es", "Paro de transportistas en Lima y Callao",
     "Los gremios denuncian extorsiones y piden el estado de emergencia.",
     "Las principales empresas de buses no salieron a las calles y miles caminaron a sus trabajos."),
    ("es", "Rondas campesinas de Cajamarca llegan a Lima",
     "Se sumarán a la marcha convocada por la CGTP para el jueves.",
     "Los ronderos viajaron durante dos días y fueron recibidos en la Plaza San Martín."),
    ("es", "Huelga indefinida de maestros en Cusco",
     "El SUTEP regional rechaza la evaluación docente.",
     "Las clases están suspendidas en más de trescientos colegios de la región."),
    ("es", "Pedro Castillo y Perú Libre rompen",
     "El partido pidió la renuncia del mandatario a su militancia.",
     "Vladimir Cerrón acusó al gobierno de abandonar el programa con el que ganó las elecciones."),
    ("es", "Pescadores de Paita protestan contra la pesca industrial",
     "Acusan a las grandes flotas de ingresar a las cinco millas.",
     "Con sus embarcaciones cerraron el puerto durante toda la mañana del martes."),
    ("es", "El Congreso aprueba la vacancia presidencial",
     "Con 101 votos a favor, el pleno destituyó al mandatario.",
     "La sesión duró menos de tres horas y terminó con la juramentación de la vicepresidenta."),
    ("es", "Fiscalía investiga muertes en Juliaca",
     "Diecisiete personas murieron durante las protestas de enero.",
     "Los familiares de las víctimas exigen que los responsables sean juzgados."),
    ("es", "Ollas comunes resisten en Ilo",
     "Vecinos organizan comedores durante el paro regional.",
     "Cada mañana las madres cocinan para más de doscientas familias del asentamiento."),
    ("es", "Agricultores de Ica marchan por agua",
     "Piden que el proyecto de riego no favorezca solo a las agroexportadoras.",
     "La movilización recorrió la avenida principal hasta la sede del gobierno regional."),
    ("es", "Keiko Fujimori pierde la segunda vuelta",
     "Pedro Castillo gana por menos de cincuenta mil votos.",
     "El Jurado Nacional de Elecciones proclamó los resultados seis semanas después de la votación."),
    ("en", "Apurímac communities block mining corridor",
     "They demand that the company honour last year's agreements.",
     "Hundreds of community members from Chalhuahuacho have camped on the road used by ore trucks since Monday."),
    ("en", "Dina Boluarte swears in a new cabinet",
     "The president swore in eleven ministers at the Government Palace.",
     "The new prime minister promised dialogue with the southern regions."),
    ("en", "Transport strike in Lima and Callao",
     "Unions denounce extortion and call for a state of emergency.",
     "Most bus companies kept their vehicles off the streets and thousands walked to work."),
    ("en", "Rondas campesinas from Cajamarca arrive in Lima",
     "They will join the CGTP march called for Thursday.",
     "The ronderos travelled for two days and were welcomed in Plaza San Martín."),
    ("en", "Teachers in Cusco begin indefinite strike",
     "The regional SUTEP rejects the teacher evaluation.",
     "Classes have been suspended in more than three hundred schools in the region."),
    ("en", "Pedro Castillo and Perú Libre split",
     "The party asked the president to resign his membership.",
     "Vladimir Cerrón accused the government of abandoning the programme it was elected on."),
    ("en", "Paita fishermen protest industrial fishing",
     "They accuse the large fleets of entering the five-mile zone.",
     "With their boats they closed the port for the whole of Tuesday morning."),
    ("en", "Congress approves presidential vacancy",
     "With 101 votes in favour, the plenary removed the president.",
     "The session lasted less than three hours and ended with the vice president being sworn in."),
    ("en", "Prosecutors investigate deaths in Juliaca",
     "Seventeen people died during the January protests.",
     "The families of the victims demand that those responsible be brought to trial."),
    ("en", "Soup kitchens hold out in Ilo",
     "Neighbours run communal kitchens during the regional strike.",
     "Every morning mothers cook for more than two hundred families of the settlement."),
    ("en", "Ica farmers march for water",
     "They want the irrigation project not to favour only agro-exporters.",
     "The march went down the main avenue to the regional government building."),
    ("en", "Keiko Fujimori loses the runoff",
     "Pedro Castillo wins by fewer than fifty thousand votes.",
     "The National Elections Jury proclaimed the results six weeks after the vote."),
]

WAYS = ("preloaded", "lazy", "low-accuracy")


def labelled_texts(path: Path | None) -> dict[str, list[tuple[str, str]]]:
    """Texts by kind: kind -> [(language, text)]."""
    from peruwire_crawl.normalize.language import article_text_sample

    if path is not None:
        lines = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        return {"given texts": [(line["language"], line["text"]) for line in lines]}
    return {
        "headline": [(lang, title) for lang, title, _, _ in ARTICLES],
        "headline + standfirst": [(lang, f"{title}\n{summary}") for lang, title, summary, _ in ARTICLES],
        "pipeline sample": [
            (lang, article_text_sample(title, summary, body)) for lang, title, summary, body in ARTICLES
        ],
    }


def measure_one(way: str, kind: str, texts_path: Path | None) -> dict:
    """In this process: build the detector ``way``, detect the texts of ``kind``, report."""
    from peruwire_crawl.normalize.language import LanguageDetector, detector_languages

    languages = detector_languages(("en", "es"))
    started = time.perf_counter()
    if way == "low-accuracy":
        detector = LanguageDetector(languages)
        from lingua import LanguageDetectorBuilder

        from peruwire_crawl.normalize.language import MIN_RELATIVE_DISTANCE, _lingua_language

        detector._detector = (
            LanguageDetectorBuilder.from_languages(*[_lingua_language(code) for code in languages])
            .with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
            .with_low_accuracy_mode()
            .build()
        )
    else:
        detector = LanguageDetector(languages, preload=(way == "preloaded"))
    built = time.perf_counter() - started
    texts = labelled_texts(texts_path)[kind]
    right = 0
    started = time.perf_counter()
    for language, text in texts:
        right += detector.detect(text) == language
    detected = time.perf_counter() - started
    return {
        "right": right,
        "of": len(texts),
        "build_s": built,
        "detect_ms": detected * 1000 / max(len(texts), 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def compare_sample_lengths(lengths: list[int], directories: list[Path]) -> None:
    """Each saved page read by the page object, its sample cut at each length and detected:
    how often each length answers as the longest does, and as the page's ``<html lang>``
    says where the detector knows that language."""
    from bench_extract import page_files, url_for

    from peruwire_crawl.normalize.language import (
        LanguageDetector,
        article_text_sample,
        detector_languages,
        normalize_language_code,
    )
    from peruwire_crawl.pages.article import read_article
    from peruwire_crawl.pages.sites import rules_for

    detector = LanguageDetector(detector_languages(("en", "es")))
    pages = []
    for path in page_files(directories):
        fields = read_article(path.read_bytes(), None, url_for(path), rules_for(url_for(path))).fields
        pages.append((normalize_language_code(fields["html_lang"]), fields))
    known = [index for index, (declared, _) in enumerate(pages) if declared in detector.languages]
    answers = {}
    print(f"{len(pages)} pages, {len(known)} declaring a language the detector knows ({', '.join(detector.languages)})")
    print(f"| sample length | same answer as {max(lengths)} | as the page declares | detection, per page |")
    print("|---:|---:|---:|---:|")
    for length in sorted(lengths, reverse=True):
        samples = [article_text_sample(f["title"], f["summary"], f["body"], length) for _, f in pages]
        detector.detect(samples[0], length)  # models loaded before the clock starts
        started = time.process_time()
        answers[length] = [detector.detect(sample, length) for sample in samples]
        per_page = (time.process_time() - started) * 1000 / max(len(pages), 1)
        same = sum(a == b for a, b in zip(answers[length], answers[max(lengths)], strict=True))
        right = sum(answers[length][index] == pages[index][0] for index in known)
        print(f"| {length} | {same}/{len(pages)} | {right}/{len(known)} | {per_page:.2f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=Path, help='JSON lines of {"text": ..., "language": "es"|"en"}')
    parser.add_argument("--sample-lengths", metavar="N,N,...",
                        help="instead: compare sample lengths on saved pages (--pages)")
    parser.add_argument("--pages", type=Path, action="append",
                        help="a directory of saved pages (default: ../shared/realpages)")
    parser.add_argument("--one", nargs=2, metavar=("WAY", "KIND"), help=argparse.SUPPRESS)  # a child's job
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(*args.one, args.texts)))
        return
    if args.sample_lengths:
        from bench_extract import DEFAULT_PAGES

        compare_sample_lengths([int(n) for n in args.sample_lengths.split(",")], args.pages or [DEFAULT_PAGES])
        return
    print("| texts | way | right | build | per text (models loaded on the way) | peak RSS of the process |")
    print("|---|---|---:|---:|---:|---:|")
    for kind in labelled_texts(args.texts):
        for way in WAYS:
            argv = [sys.executable, __file__, "--one", way, kind]
            argv += ["--texts", str(args.texts)] if args.texts else []
            row = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
            print(f"| {kind} | {way} | {row['right']}/{row['of']} | {row['build_s']:.2f} s "
                  f"| {row['detect_ms']:.1f} ms | {row['peak_rss_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
