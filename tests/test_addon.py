"""The add-on keeps components that their own setting switches off from being imported."""

from __future__ import annotations

import json

import pytest
from freshpython import fresh_python

# In a fresh interpreter: the add-on applied to these settings (argv[1], JSON), then each
# listed component loaded as Scrapy's managers load them; prints which heavy modules came in.
PROBE = """
import json, sys
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler
from peruwire_crawl.addon import Peruwire

crawler = get_crawler(settings_dict={"ADDONS": {Peruwire: 0}, **json.loads(sys.argv[1])})
for components in ("DOWNLOADER_MIDDLEWARES", "EXTENSIONS"):
    for path in build_component_list(crawler.settings.getwithbase(components)):
        load_object(path)
print(json.dumps(sorted(m for m in ("tldextract", "aiohttp") if m in sys.modules)))
"""


def modules_loaded(settings: dict) -> list[str]:
    out = fresh_python(PROBE, json.dumps(settings))
    return json.loads(out.splitlines()[-1])


def test_switched_off_cookies_and_remote_control_are_never_imported():
    assert modules_loaded({"COOKIES_ENABLED": False, "REMOTE_CONTROL_ENABLED": False}) == []


@pytest.mark.parametrize(("setting", "module"), [("COOKIES_ENABLED", "tldextract"),
                                                 ("REMOTE_CONTROL_ENABLED", "aiohttp")])
def test_a_component_switched_on_stays_listed(setting, module):
    settings = {"COOKIES_ENABLED": False, "REMOTE_CONTROL_ENABLED": False, setting: True}
    assert modules_loaded(settings) == [module]
