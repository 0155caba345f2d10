"""Text from outside (file names, messages quoting them) shown as itself, never read as Markdown."""
import re

_ACTIVE = re.compile(r"([\\`*_\[\]<>$~|])")          # emphasis, code, links/images, HTML, LaTeX, strike, tables
_LINE_START = re.compile(r"^(\s*)([#+=>-]|\d+[.)])")  # a heading, list item or quote where a line starts
_AUTOLINK = re.compile(r"(:)(//)|\b(www)(\.)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def plain(text):
    """``text`` with the characters Markdown acts on backslash-escaped and control characters (newlines
    too) as spaces, so st.markdown, st.caption and st.error show it literally: a file named
    "![x](http://…)" stays that text, fetches nothing and links nowhere."""
    text = _ACTIVE.sub(r"\\\1", _CONTROL.sub(" ", str(text)))
    text = _AUTOLINK.sub(lambda m: f"{m[1]}\\/\\/" if m[1] else f"{m[3]}\\.", text)
    return _LINE_START.sub(lambda m: m[1] + "\\" + m[2] if len(m[2]) == 1 else m[1] + m[2][:-1] + "\\" + m[2][-1], text)
