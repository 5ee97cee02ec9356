"""A page object's fields, declared once (web-poet's ``@field`` is the model).

A field is a method of a page object decorated with ``@field``. The declaration is the one
list of what a page object offers: ``to_dict()`` (the fixtures' expected JSON), ``problems``
(which fields a page must not lack) and the tests (one assertion per fixture page and field)
all read it, so a field added to a page object is exported, checked and tested without
touching anything else.

Each field is computed once per page and cached on it. A field that raises becomes a
sentence in the page's ``problems`` and gives its ``default``: one odd page must not stop an
unattended crawl.

Why not web-poet itself: its fields are the same idea, but come with its item/page
registry and async machinery this project does not use, and they let exceptions through,
where a crawl needs them turned into problems.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


class field:  # noqa: N801 (lower case like property, which it stands beside)
    """Declare a page object's field: ``@field`` or ``@field(default=list, missing="…")``.

    ``default`` is what the field gives when reading it raised (a callable such as ``list``
    is called for a fresh value). ``missing`` is the problem reported when the field is
    empty on a page that is not empty ("no title found").
    """

    def __init__(self, method: Callable | None = None, *, default: Any = None, missing: str | None = None):
        self.default = default
        self.missing = missing
        self.method = method
        self.name = method.__name__ if method else None
        if method is not None:
            self.__doc__ = method.__doc__

    def __call__(self, method: Callable) -> field:
        """``@field(...)`` with arguments: decorate the method now."""
        return field(method, default=self.default, missing=self.missing)

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        # Each class keeps its own declarations; fields_of() joins them along the MRO.
        if "_own_fields" not in vars(owner):
            owner._own_fields = {}
        owner._own_fields[name] = self

    def __get__(self, page, owner=None):
        if page is None:
            return self
        try:
            value = self.method(page)
        except Exception as error:  # why: a field we cannot read must not stop the crawl
            page.document.problems.append(f"{self.name}: {type(error).__name__}: {error}")
            value = self.default() if callable(self.default) else self.default
        page.__dict__[self.name] = value  # computed once: the instance value shadows us now
        return value


def fields_of(page_class: type) -> dict[str, field]:
    """The declared fields of a page class, base classes' first, in declaration order."""
    declared: dict[str, field] = {}
    for klass in reversed(page_class.__mro__):
        declared.update(vars(klass).get("_own_fields", {}))
    return declared


def plain(value: Any) -> Any:
    """A field's value as JSON-ready data (dataclasses such as DateCandidate become dicts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [plain(one) for one in value]
    return value
