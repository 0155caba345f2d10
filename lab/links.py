"""Links to a page's exact settings: reading them from a URL's query string, checking them, writing them back.

A page's settings are a list of fields, each one query parameter (`lr=0.1`) bound to one widget key
(`keep_train_lr`) with a rule saying what the widget accepts. Reading a link never fails: a value that
breaks its rule is left out (the page keeps its default) and named in the problems returned, so the
page can say exactly what it ignored. Teacher links add `hide=` and `lock=` (comma lists of control or
section names; `hide=nav` also hides the list of other pages). Nothing here imports Streamlit.
"""
import math
from dataclasses import dataclass
from urllib.parse import urlencode

from core.checks import MINUS, parse_number, parse_numbers

MAX_TEXT = 300            # characters a text value may have: a long cell list fits; a pasted essay does not
NAV = "nav"               # hide=nav: the sidebar's list of other pages
TEACHER_PARAMS = ("hide", "lock")
PRIVATE_PARAMS = ("lab",)  # the learner's own run-store id (pages/ui/owner.py): never part of a shared link


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of options (strings or numbers), written as str(option)."""
    options: tuple

    def parse(self, text):
        for option in self.options:
            if str(option).lower() == text.lower():
                return option
        try:                                   # a number written another way: 1e-5 for the option 1e-05
            number = parse_number(text, "the value")
        except ValueError:
            number = None
        for option in self.options:
            if number is not None and isinstance(option, (int, float)) and math.isclose(option, number, rel_tol=1e-9):
                return option
        raise ValueError(f"expected one of {', '.join(self.format(o) for o in self.options)}")

    def format(self, value):
        return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Int:
    """A whole number lo … hi."""
    lo: int
    hi: int

    def parse(self, text):
        number = parse_number(text, "the value")
        if number != round(number) or not self.lo <= number <= self.hi:
            raise ValueError(f"expected a whole number {self.lo} … {self.hi}")
        return int(number)

    def format(self, value):
        return str(int(value))


@dataclass(frozen=True)
class Number:
    """A finite real number lo … hi (read by core.checks' rule: "−3" reads, "0,5" and "nan" do not)."""
    lo: float
    hi: float

    def parse(self, text):
        number = parse_number(text, "the value", self.lo, self.hi)
        return float(number)

    def format(self, value):
        return repr(float(value))          # the shortest text that reads back as the same float


@dataclass(frozen=True)
class Bool:
    def parse(self, text):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected 0 or 1")

    def format(self, value):
        return "1" if value else "0"


@dataclass(frozen=True)
class Several:
    """Any of a fixed list of names, written as a comma list ("sigmoid,relu"; "" for none)."""
    options: tuple

    def parse(self, text):
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in self.options]
        if unknown:
            raise ValueError(f"expected names from {', '.join(self.options)}")
        return list(dict.fromkeys(names))

    def format(self, value):
        return ",".join(value or ())


@dataclass(frozen=True)
class Numbers:
    """Text holding count_lo … count_hi comma-separated numbers, each within ±limit (a page's text box)."""
    count_lo: int
    count_hi: int
    limit: float = 1e6

    def parse(self, text):
        parse_numbers(text, "the list", self.count_lo, self.count_hi, self.limit)
        return text.strip()

    def format(self, value):
        return str(value).replace(MINUS, "-")            # the text as typed: the page shows exactly it


@dataclass(frozen=True)
class Field:
    """One setting: the query parameter `param` sets the widget `key`; `rule` says what it accepts."""
    param: str
    key: str
    rule: object


def clean(raw):
    """A query value as text: the last of repeated values, at most MAX_TEXT characters, else ValueError."""
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else ""
    text = str(raw).strip()
    if len(text) > MAX_TEXT:
        raise ValueError(f"longer than {MAX_TEXT} characters")
    if any(ord(c) < 32 for c in text):
        raise ValueError("contains control characters")
    return text


def shown(raw):
    """A value as a notice quotes it: short, so a hostile link cannot flood the page."""
    text = str(raw[-1] if isinstance(raw, (list, tuple)) and raw else raw)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def read_fields(fields, params):
    """({widget key: value}, [problem]) for the fields present in params; a bad value is left out and named."""
    values, problems = {}, []
    for field in fields:
        if field.param not in params:
            continue
        raw = params[field.param]
        try:
            values[field.key] = field.rule.parse(clean(raw))
        except ValueError as error:
            problems.append(f"{field.param}={shown(raw)} ({error})")
    return values, problems


def write_fields(fields, state):
    """{param: text} for the fields whose widget key state holds."""
    return {f.param: f.rule.format(state[f.key]) for f in fields if f.key in state}


def parse_matrix(text, limit):
    """Rows separated by ';', entries by ',': "0.3,0.7;-0.2,0.4" → [[0.3, 0.7], [-0.2, 0.4]] (texts kept)."""
    rows = [[p.strip() for p in row.split(",")] for row in str(text).split(";")]
    if len({len(r) for r in rows}) != 1:
        raise ValueError("rows of different lengths")
    for row in rows:
        for p in row:
            parse_number(p, f"the number {p[:20]!r}", -limit, limit)
    return rows


def format_matrix(rows):
    return ";".join(",".join(str(v).replace(MINUS, "-") for v in row) for row in rows)


@dataclass(frozen=True)
class Teacher:
    """What a teacher's link hides and locks (control or section names; NAV hides the page list)."""
    hide: frozenset = frozenset()
    lock: frozenset = frozenset()

    @property
    def focused(self):
        return NAV in self.hide

    def params(self):
        out = {}
        for name in TEACHER_PARAMS:
            names = sorted(getattr(self, name))
            if names:
                out[name] = ",".join(names)
        return out


def read_teacher(params, names):
    """(Teacher, [problem]) from hide=/lock= in params; names are the controls and sections the page has."""
    chosen, problems = {}, []
    allowed = set(names)
    for which in TEACHER_PARAMS:
        found = set()
        if which in params:
            try:
                text = clean(params[which])
            except ValueError as error:
                problems.append(f"{which}={shown(params[which])} ({error})")
                text = ""
            for name in filter(None, (n.strip().lower() for n in text.split(","))):
                if name in allowed or (which == "hide" and name == NAV):
                    found.add(name)
                else:
                    problems.append(f"{which}={name[:40]!r} (this page has no control or section of that name)")
        chosen[which] = frozenset(found)
    return Teacher(chosen["hide"], chosen["lock"]), problems


def link(base_url, params):
    """The shareable address: base_url with params as its query string, without the private lab= id."""
    query = {k: v for k, v in params.items() if k not in PRIVATE_PARAMS}
    return base_url.split("?")[0] + ("?" + urlencode(query, safe=",;") if query else "")


def notice(problems):
    """The one sentence a page shows when a link had values it could not use (None when all were fine)."""
    if not problems:
        return None
    return "This link had settings that could not be used, so their defaults are shown: " + "; ".join(problems) + "."
