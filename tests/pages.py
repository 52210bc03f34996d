"""What a reader of a page sees, for tests that assert something is *not* shown.

Raw HTML carries random values (CSRF tokens, the publicity link's token, signatures) in
attributes; a short string such as a score or the last four digits of an ID number turns up
in them by chance, so "not in the page" must be asked of the text a person reads.
"""

from html.parser import HTMLParser


class _TextOnly(HTMLParser):
    _HIDDEN = {"script", "style", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self._hidden_depth += 1

    def handle_endtag(self, tag):
        if tag in self._HIDDEN and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data):
        if not self._hidden_depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The page's text as read, without tags, attributes, scripts or styles."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())
