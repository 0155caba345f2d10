"""Every page is a link (pages/ui/links.py through app.py): a link's settings reach the widgets, the share
link reproduces the page, bad values get one notice, and teacher links hide and lock controls."""
from urllib.parse import parse_qsl, urlsplit

import pytest

from pages.ui.links import PAGE_LINKS
from tests.apptest import open_page

# page: (a link with settings away from the defaults, {widget key: the value it must set})
CASES = {
    "forward_pass": ({"x": "2,-1", "W1": "0.5,1;1,2;3,-4", "b1": "0,0,1", "W2": "1,1,1;2,2,2", "b2": "0,1",
                      "act": "tanh", "step": "3"},
                     {"keep_forward_net_n_in": 2, "keep_forward_net_h1": 3, "keep_forward_net_n_out": 2,
                      "keep_forward_net_W1_2_1": "−4", "keep_forward_net_activation": "tanh", "keep_forward_step": 3}),
    "backpropagation": ({"x": "1", "W1": "0.5;-1", "b1": "0,0", "W2": "1,2;3,4;5,6", "b2": "0,0,0", "target": "2",
                         "lr": "0.25", "act": "sigmoid"},
                        {"keep_backprop_net_n_in": 1, "keep_backprop_net_n_out": 3, "keep_backprop_target": 2,
                         "keep_backprop_lr": 0.25, "keep_backprop_net_W2_2_1": "6"}),
    "train_mnist": ({"layers": "2", "width1": "64", "width2": "32", "act": "tanh", "opt": "adam", "lr": "0.002",
                     "batch": "128", "epochs": "3", "sched": "cosine", "shuffle": "0", "seed": "42"},
                    {"keep_train_layers": 2, "keep_train_width2": 32, "keep_train_opt": "adam", "keep_train_lr": 0.002,
                     "keep_train_batch": 128, "keep_train_shuffle": False, "keep_train_seed": 42}),
    "playground": ({"data": "circle", "hidden": "3,3", "lr": "0.3", "noise": "20"},
                   {"keep_playground_lr": 0.3, "keep_playground_hidden": [3, 3], "keep_playground_noise": 20,
                    "keep_playground_data_classification": "circle"}),
    "perceptron": ({"w1": "0.25", "gate": "OR", "lr": "0.5"},
                   {"keep_perceptron_w1": 0.25, "keep_perceptron_gate": "OR", "keep_perceptron_lr": 0.5}),
    "activation_functions": ({"show": "tanh,gelu", "T": "2.5", "logits": "1,2,3"},
                             {"keep_act_show": ["tanh", "gelu"], "keep_act_temperature": 2.5, "keep_act_logits": "1,2,3"}),
    "loss_functions": ({"p": "0.4", "a": "0.2,0.5,0.3"}, {"keep_loss_p": 0.4, "keep_loss_a": "0.2,0.5,0.3"}),
    "vanishing_gradients": ({"depth": "5", "act": "relu", "init": "he", "steps": "10"},
                            {"keep_vg_depth": 5, "keep_vg_act": "relu", "keep_vg_init": "he", "keep_vg_steps": 10}),
    "optimizers": ({"lr_sgd": "0.03", "x0": "1.5", "use_adam": "0"},
                   {"keep_opt_lr_sgd": 0.03, "keep_opt_x0": 1.5, "keep_opt_use_adam": False}),
    "draw_digit": ({"source": "Random test digit", "digit": "17"},
                   {"keep_draw_source": "Random test digit", "draw_test_index": 17}),
}


def share_link(at):
    """The sidebar's "Copy link" text, as (path, {param: value})."""
    url = at.sidebar.code[0].value
    parts = urlsplit(url)
    return parts.path.strip("/"), dict(parse_qsl(parts.query))


def shown_numbers(at):
    """What the page shows as equations and metrics: the numbers a learner reads."""
    return [e.value for e in at.latex] + [(m.label, m.value) for m in at.metric]


def test_every_linked_page_has_a_case():
    assert set(CASES) == set(PAGE_LINKS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_link_sets_the_page_and_its_share_link_reproduces_it(name):
    query, expected = CASES[name]
    at = open_page(name, query)
    assert not at.warning or "could not be used" not in " ".join(w.value for w in at.warning)
    assert {k: at.session_state[k] for k in expected} == expected
    path, shared = share_link(at)
    assert path == name and "lab" not in shared
    again = open_page(name, shared)                                  # a new session: a fresh browser
    keys = [k for k in expected] + [k for k in again.session_state if str(k).startswith("keep_")
                                    and k in at.session_state and not str(k).endswith("_quiz")]
    assert {k: again.session_state[k] for k in keys} == {k: at.session_state[k] for k in keys}
    assert shown_numbers(again) == shown_numbers(at)
    assert share_link(again) == (path, shared)


def test_a_cell_typed_on_the_forward_page_travels_in_its_link():
    at = open_page("forward_pass")
    at.text_input(key="keep_forward_net_W1_0_1").input("−2.5").run()
    at.button(key="forward_all").click().run()                      # every equation, so W₁ is on screen
    path, shared = share_link(at)
    assert shared["W1"].startswith("0.3,-2.5;")
    again = open_page(path, shared)
    assert again.text_input(key="keep_forward_net_W1_0_1").value == "−2.5"
    assert shown_numbers(again) == shown_numbers(at)
    assert any("-2.500" in line or "−2.500" in line for line in shown_numbers(again))


def test_a_hostile_link_falls_back_to_defaults_with_one_notice_naming_what_was_ignored():
    plain = open_page("train_mnist")
    at = open_page("train_mnist", {"lr": "1e308", "opt": "<script>alert(1)</script>", "epochs": "-3",
                                   "layers": "2", "hide": "nonsense"})
    notices = [w.value for w in at.warning if "could not be used" in w.value]
    assert len(notices) == 1
    for name in ("lr=", "opt=", "epochs=", "hide="):
        assert name in notices[0]
    assert "\\<script\\>" in notices[0]                                              # shown as text, never markup
    assert at.session_state["keep_train_layers"] == 2                               # the good value is used
    for key in ("keep_train_lr", "keep_train_opt", "keep_train_epochs"):
        assert at.session_state[key] == plain.session_state[key]
    at.run()
    assert not [w for w in at.warning if "could not be used" in w.value]           # told once, not every run


def test_markdown_in_a_link_is_shown_as_text_in_the_notice():
    at = open_page("perceptron", {"gate": "[win](https://evil.example) **now**"})
    notice = next(w.value for w in at.warning if "could not be used" in w.value)
    assert "\\[win\\]" in notice and "\\*\\*now" in notice and "](https://" not in notice


def test_a_broken_network_in_a_link_leaves_the_worked_example():
    plain = open_page("forward_pass")
    at = open_page("forward_pass", {"x": "1,2", "W1": "1,2,3;4,5,6", "b1": "0,0", "W2": "1,1;1,1", "b2": "0,0"})
    notice = " ".join(w.value for w in at.warning)
    assert "W1 needs 2 columns" in notice
    assert shown_numbers(at) == shown_numbers(plain)


def styles(at):
    return " ".join(h.proto.body for h in at.get("html"))


def test_a_teacher_link_hides_and_locks_controls_by_name_and_section():
    at = open_page("train_mnist", {"lr": "0.5", "opt": "sgd", "hide": "architecture,pitfalls_not_a_name",
                                   "lock": "lr,opt"})
    css = styles(at)
    hidden, greyed = css.split("display: none")[0], css.split("display: none")[1]
    for key in ("width1", "width2", "width3", "act", "init", "seed", "layers"):
        assert f".st-key-keep_train_{key}" in hidden
    assert ".st-key-keep_train_lr" in greyed and ".st-key-keep_train_opt" in greyed
    assert ".st-key-keep_train_batch" not in css
    assert "Locked by your teacher's link: lr, opt." in [c.value for c in at.caption]
    at.selectbox(key="keep_train_opt").select("adam").run()          # a locked control keeps the linked value
    assert at.selectbox(key="keep_train_opt").value == "sgd"
    at.selectbox(key="keep_train_act").select("tanh").run()         # the rest stays the learner's
    assert at.selectbox(key="keep_train_act").value == "tanh"
    path, shared = share_link(at)                                   # the share link keeps the teacher's choices
    assert shared["hide"] == "architecture" and shared["lock"] == "lr,opt" and shared["lr"] == "0.5"


def test_the_lesson_builder_adds_hide_and_lock_to_the_link():
    at = open_page("playground", {"lr": "0.3"})
    assert len(at.sidebar.code) == 2
    at.sidebar.multiselect(key="links_hide_playground").select("nav").select("training").run()
    at.sidebar.multiselect(key="links_lock_playground").select("data").run()
    teacher = urlsplit(at.sidebar.code[1].value)
    params = dict(parse_qsl(teacher.query))
    assert params["hide"] == "nav,training" and params["lock"] == "data" and params["lr"] == "0.3"
    learner = open_page("playground", params)
    assert ".st-key-keep_playground_lr" in styles(learner).split("display: none")[0]
    assert len(learner.sidebar.code) == 1                           # a learner's view has no builder


def test_a_page_without_settings_still_takes_hide_nav():
    at = open_page("home", {"hide": "nav"})
    path, shared = share_link(at)
    assert path == "" and shared == {"hide": "nav"}               # Home is the app's root address
