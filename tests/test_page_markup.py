"""index.html's markup: every element id is unique (two panels once both used id="examples", and the
teach panel's strip and the empty state's example buttons fought over one element)."""

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.ids += [value for name, value in attrs if name == "id" and value]


def test_every_id_in_the_page_is_unique():
    parser = _Ids()
    parser.feed((ROOT / "index.html").read_text(encoding="utf-8"))
    repeated = sorted(i for i, n in Counter(parser.ids).items() if n > 1)
    assert len(parser.ids) > 20 and "teach-0" in parser.ids and "learn" in parser.ids, parser.ids
    assert repeated == [], f"ids used more than once in index.html: {repeated}"
