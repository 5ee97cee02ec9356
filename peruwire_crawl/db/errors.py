"""What can go wrong with a database, told in one plain sentence each.

The crawl turns these into its exit status (``peruwire_crawl.health``): a
``DatabaseBusy`` is temporary (75, try later), any other ``DatabaseError`` needs a person
(78, fix the URL, the permissions or the file).
"""

from __future__ import annotations


class DatabaseError(Exception):
    """A database problem told in one plain sentence (no traceback, no password)."""


class DatabaseBusy(DatabaseError):
    """The database is locked or too slow to answer right now: a later run will do."""


class ForeignDatabase(DatabaseError):
    """The database holds another application's tables: peruwire will not add its own."""
