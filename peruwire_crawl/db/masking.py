"""Database URLs and driver messages made fit to print: no password in any form.

A password reaches a database URL in three ways, and each is masked with ``***``:

- the user-info of a URL: ``postgresql://user:pw@host/db``;
- the same without a scheme, as people type it: ``user:pw@host/db``;
- a query parameter (``?password=pw``, also ``sslpassword``, ``token``...) or a libpq
  keyword (``password=pw`` in a connection string or a driver's message).

SQLAlchemy's ``render_as_string(hide_password=True)`` covers only the first, and only for a
URL it can parse; these rules work on any text, so a URL that fails to parse is printed
masked too.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL

MASK = "***"
SECRET_KEYS = ("password", "passwd", "pwd", "pass", "sslpassword", "secret", "token",
               "access_token", "api_key", "apikey")

# user:secret@ after "scheme://", or at the start of a token (a URL without a scheme). The
# secret runs to the token's last "@": a password may itself hold an unescaped "@".
_USERINFO = re.compile(r"""(?P<lead>(?:^|(?<=[\s'"(<=,])|(?<=//))[^\s:/@'"<>]*):(?!//)[^\s'"<>]*@""")
_SECRET_PARAMETER = re.compile(
    r"""(?P<key>(?:^|(?<=[\s?&;'"(,]))(?:%s)\s*=\s*)(?:'[^']*'|"[^"]*"|[^\s&;'",)]*)""" % "|".join(SECRET_KEYS),
    re.IGNORECASE,
)


def mask_secrets(text: str) -> str:
    """``text`` with every password-bearing part of a URL or connection string masked."""
    text = _USERINFO.sub(lambda match: f"{match['lead']}:{MASK}@", text)
    return _SECRET_PARAMETER.sub(lambda match: f"{match['key']}{MASK}", text)


def mask_url(url: str | URL) -> str:
    """A database URL (parsed or not) fit for a log line, an error or a stored note."""
    raw = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    return mask_secrets(raw)
