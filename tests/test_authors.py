"""Author names from bylines and author lists (peruwire_crawl/normalize/authors.py)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peruwire_crawl.normalize.authors import clean_authors, split_names

SITE = ["Peoples Dispatch", "peoplesdispatch", "peoplesdispatch.org"]


@pytest.mark.parametrize(
    "authors, byline, expected",
    [
        # the site's real bylines
        ([], "by Zoe Alexandra", ["Zoe Alexandra"]),
        ([], "June 16, 2023 by Peoples Dispatch", ["Peoples Dispatch"]),
        ([], "March 16, 2023 by Zoe Alexandra", ["Zoe Alexandra"]),
        ([], "por Zoe Alexandra", ["Zoe Alexandra"]),
        ([], "By José Carlos Llerena", ["José Carlos Llerena"]),
        ([], "BY  Zoe\u00a0Alexandra", ["Zoe Alexandra"]),
        ([], "Written by: Zoe Alexandra", ["Zoe Alexandra"]),
        ([], "Escrito por Zoe Alexandra", ["Zoe Alexandra"]),
        # several authors
        ([], "by Zoe Alexandra and José Carlos Llerena", ["Zoe Alexandra", "José Carlos Llerena"]),
        ([], "Por Ana Pérez, Luis Gómez y María Ruiz", ["Ana Pérez", "Luis Gómez", "María Ruiz"]),
        ([], "by Ana Pérez, Luis Gómez, and María Ruiz", ["Ana Pérez", "Luis Gómez", "María Ruiz"]),
        ([], "Ana Pérez & Luis Gómez", ["Ana Pérez", "Luis Gómez"]),
        ([], "Ana Pérez; Luis Gómez", ["Ana Pérez", "Luis Gómez"]),
        ([], "por Ana Pérez e Inés Ruiz", ["Ana Pérez", "Inés Ruiz"]),
        # "y" inside a compound surname is not a list
        ([], "por Santiago Ramón y Cajal", ["Santiago Ramón y Cajal"]),
        ([], "José Ortega y Gasset y Ana Pérez", ["José Ortega y Gasset", "Ana Pérez"]),
        # a name that contains "by"/"por" as letters is not cut
        ([], "Abby Martin", ["Abby Martin"]),
        ([], "Pedro Portocarrero", ["Pedro Portocarrero"]),
        # the site's name is an author only when the byline says so
        (["Peoples Dispatch"], "by Zoe Alexandra", ["Zoe Alexandra"]),
        (["Peoples Dispatch"], "by Peoples Dispatch", ["Peoples Dispatch"]),
        (["Peoples Dispatch"], None, []),
        (["peoplesdispatch.org", "Zoe Alexandra"], None, ["Zoe Alexandra"]),
        # author list from metadata: cleaned, split, merged with the byline without repeats
        (["Zoe Alexandra"], "by Zoe Alexandra", ["Zoe Alexandra"]),
        (["zoe alexandra", "José Carlos Llerena"], "by Zoe Alexandra", ["Zoe Alexandra", "José Carlos Llerena"]),
        (["<a href='/author/zoe'>Zoe Alexandra</a>"], None, ["Zoe Alexandra"]),
        (["JosÃ© Carlos Llerena"], None, ["José Carlos Llerena"]),
        ("Zoe Alexandra", None, ["Zoe Alexandra"]),
        # junk
        ([], "June 16, 2023", []),  # a date line without a byline: digits are not names
        ([], "by", []),
        (["", "  ", None, "—"], None, []),
        (None, None, []),
        ([], "by 2023", []),
    ],
)
def test_clean_authors(authors, byline, expected):
    assert clean_authors(authors, byline, SITE) == expected


def test_split_names_keeps_order():
    assert split_names("Carla Ruiz, Beto Paz y Ana Gil") == ["Carla Ruiz", "Beto Paz", "Ana Gil"]


def test_single_word_after_y_is_taken_as_a_surname():
    assert split_names("Ana Gil y Luis") == ["Ana Gil y Luis"]


names = st.lists(st.one_of(st.text(max_size=30), st.sampled_from(
    ["by Zoe Alexandra", "Peoples Dispatch", "A, B y C", "Ramón y Cajal", "x and y", "por "]
)), max_size=4)


@settings(max_examples=300, deadline=None)
@given(authors=names, byline=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["by Peoples Dispatch", "por Ana y Luis Gómez"])))
def test_clean_authors_is_idempotent_and_never_raises(authors, byline):
    once = clean_authors(authors, byline, SITE)
    assert all(isinstance(name, str) and name == name.strip() and name for name in once)
    assert clean_authors(once, byline, SITE) == once
