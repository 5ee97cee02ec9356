"""Code run in a new interpreter, for tests about what a process imports or sets up at start.

Such a test cannot run in pytest's own process, which has long imported everything.
"""

from __future__ import annotations

import subprocess
import sys


def fresh_python(code: str, *args: str, timeout: float = 300) -> str:
    """Run ``code`` (``python -c``, with ``args`` as ``sys.argv[1:]``); its standard output.
    A non-zero exit fails the test with the error."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=True, timeout=timeout).stdout
