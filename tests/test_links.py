"""lab/links.py: reading a link's values by their rules, naming what was ignored, and teacher hide=/lock=."""
from urllib.parse import parse_qs, urlsplit

from hypothesis import given
from hypothesis import strategies as hs

from lab import links as L

FIELDS = [L.Field("lr", "k_lr", L.Choice((1e-05, 0.001, 0.1, 10.0))), L.Field("n", "k_n", L.Int(1, 100)),
          L.Field("s", "k_s", L.Number(0.0, 5.0)), L.Field("on", "k_on", L.Bool()),
          L.Field("show", "k_show", L.Several(("relu", "tanh"))), L.Field("z", "k_z", L.Numbers(2, 10, 1e4))]


def test_good_values_are_read_by_their_rules():
    values, problems = L.read_fields(FIELDS, {"lr": "1e-5", "n": "7", "s": "2.5", "on": "0", "show": "tanh,relu",
                                              "z": "2, −1, 0.5"})
    assert problems == []
    assert values == {"k_lr": 1e-05, "k_n": 7, "k_s": 2.5, "k_on": False, "k_show": ["tanh", "relu"], "k_z": "2, −1, 0.5"}


def test_each_bad_value_is_left_out_and_named():
    hostile = {"lr": "0.5", "n": "1e9", "s": "nan", "on": "maybe", "show": "relu,<script>", "z": "1",
               "other": "ignored"}
    values, problems = L.read_fields(FIELDS, hostile)
    assert values == {}
    assert [p.split("=")[0] for p in problems] == ["lr", "n", "s", "on", "show", "z"]
    assert "expected one of 1e-05, 0.001, 0.1, 10" in problems[0]


def test_a_huge_or_control_character_value_is_refused_and_quoted_short():
    values, problems = L.read_fields(FIELDS, {"s": "1" * 10_000, "n": "5\x00"})
    assert values == {}
    assert all(len(p) < 150 for p in problems)


@given(hs.text(max_size=400))
def test_no_text_makes_reading_fail(text):
    values, problems = L.read_fields(FIELDS, {f.param: text for f in FIELDS})
    assert len(values) + len(problems) == len(FIELDS)


def test_written_values_read_back_the_same():
    state = {"k_lr": 1e-05, "k_n": 42, "k_s": 0.1 + 0.2, "k_on": True, "k_show": ["relu"], "k_z": "1, −2"}
    values, problems = L.read_fields(FIELDS, L.write_fields(FIELDS, state))
    assert problems == [] and values["k_s"] == 0.1 + 0.2          # repr: the exact float, not 0.3
    assert {k: v for k, v in values.items() if k != "k_z"} == {k: v for k, v in state.items() if k != "k_z"}
    assert values["k_z"] == "1, -2"


def test_a_matrix_reads_rows_and_refuses_ragged_or_huge_ones():
    assert L.parse_matrix("0.3,0.7;−0.2,0.4", 1000) == [["0.3", "0.7"], ["−0.2", "0.4"]]
    for bad in ("1,2;3", "1,1e9", "1,inf", "a,b", ""):
        try:
            L.parse_matrix(bad, 1000)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_teacher_names_are_checked_against_the_page():
    teacher, problems = L.read_teacher({"hide": "nav,LR,bogus", "lock": "opt,nav"}, ["lr", "opt"])
    assert teacher.hide == {"nav", "lr"} and teacher.lock == {"opt"} and teacher.focused
    assert len(problems) == 2 and "bogus" in problems[0] and "lock='nav'" in problems[1]
    assert teacher.params() == {"hide": "lr,nav", "lock": "opt"}


def test_a_shared_link_never_carries_the_private_lab_id():
    url = L.link("http://host:8501/train_mnist?lab=secret", {"lab": "secret", "lr": "0.1", "W1": "1,2;3,4"})
    parts = urlsplit(url)
    assert parts.path == "/train_mnist" and "secret" not in url
    assert parse_qs(parts.query) == {"lr": ["0.1"], "W1": ["1,2;3,4"]}
