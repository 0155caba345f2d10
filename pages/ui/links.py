"""Every page is a link: its settings live in the URL, and a teacher's link can hide or lock controls.

app.py calls three functions around the page it runs, so the pages themselves need no link code:

- `focused()` before st.navigation: `hide=nav` hides the list of other pages;
- `open_link(page)` before the page runs: a link that brings new settings puts them into
  st.session_state before the widgets are created (bad values are left out and named in one notice),
  locked controls get their linked value back on every run, and CSS hides or greys out what the
  teacher chose (Streamlit gives each keyed widget the class `st-key-<key>`);
- `close_link(page)` after the page ran: the page's current settings go back into the URL (so the
  address bar is always a link to what is on screen) and the sidebar offers "Share or teach this page".

What each page links is declared once in PAGE_LINKS below: its settings as lab.links fields (query
parameter → widget key, with the values the widget accepts), grouped into the controls and sections a
teacher can hide or lock by name.
"""
from dataclasses import dataclass, field

import streamlit as st

from core.optim import OPTIMIZERS
from lab import links as L
from lab import playground as pg
from lab.depth import DEPTHS, MAX_STD
from lab.surfaces import OPTIMIZER_TITLES, SURFACES
from lab.trainer import HIDDEN_ACTIVATIONS
from pages.ui.text import plain

WRITTEN = "links_written"        # session_state: {page: the page's query params as last written}
LAST_URL = "links_last_url"      # session_state: the whole query string as the app last left it


# ---- codecs: a page's settings <-> query parameters ------------------------------------------------

@dataclass(frozen=True)
class Fields:
    """Plain settings, one query parameter per widget. Each field is a control of the same name."""
    fields: tuple
    extra_keys: dict = field(default_factory=dict)     # control name → more widget keys it hides (buttons)

    def owns(self, param):
        return any(f.param == param for f in self.fields)

    def read(self, params):
        return L.read_fields(self.fields, params)

    def write(self, state):
        return L.write_fields(self.fields, state)

    def controls(self):
        return {f.param: (f.key, *self.extra_keys.get(f.param, ())) for f in self.fields}


@dataclass(frozen=True)
class TinyNet:
    """The Forward pass / Backpropagation network (pages/ui/tiny_net.py): sizes follow from the numbers.

    x=1,0.5  W1=0.3,0.7;-0.2,0.4  b1=0.1,-0.1  W2=…  b2=…   act=relu  seed=0
    The numbers travel as the cells' text, so the page computes with exactly the digits of the link.
    """
    page: str                                          # "forward" or "backprop"
    MAX_ABS = 1000.0                                   # tiny_net.MAX_ABS: larger numbers are refused there too

    def key(self, name):
        return f"keep_{self.page}_net_{name}"

    def owns(self, param):
        return param in ("x", "act") or (len(param) == 2 and param[0] in "Wb" and param[1] in "123")

    def read(self, params):
        if not any(p in params for p in ("x", "W1", "b1")):
            values, problems = {}, []
        else:
            values, problems = self._read_numbers(params)
        if "act" in params:
            more, bad = L.read_fields([L.Field("act", self.key("activation"), L.Choice(TINY_ACTIVATIONS))], params)
            values.update(more)
            problems += bad
        return values, problems

    def _read_numbers(self, params):
        """The cells and sizes, all or nothing: numbers that do not fit together would make a broken network."""
        try:
            x = L.parse_matrix(L.clean(params.get("x", "")), self.MAX_ABS)
            if len(x) != 1 or not 1 <= len(x[0]) <= 4:
                raise ValueError("x needs 1 … 4 comma-separated numbers")
            sizes, cells = [len(x[0])], {f"x_{j}": v for j, v in enumerate(x[0])}
            for l in (1, 2, 3):
                if f"W{l}" not in params:
                    break
                W = L.parse_matrix(L.clean(params[f"W{l}"]), self.MAX_ABS)
                b = L.parse_matrix(L.clean(params.get(f"b{l}", "")), self.MAX_ABS)
                if len(W[0]) != sizes[-1]:
                    raise ValueError(f"W{l} needs {sizes[-1]} columns (one per input of layer {l})")
                if len(b) != 1 or len(b[0]) != len(W):
                    raise ValueError(f"b{l} needs {len(W)} numbers (one per row of W{l})")
                if len(W) > 4:
                    raise ValueError(f"W{l} has {len(W)} rows; at most 4 neurons per layer")
                sizes.append(len(W))
                for i, row in enumerate(W):
                    cells.update({f"W{l}_{i}_{j}": v for j, v in enumerate(row)})
                    cells[f"b{l}_{i}"] = b[0][i]
            if not 3 <= len(sizes) <= 4 or sizes[-1] < 2:
                raise ValueError("expected W1, b1 and W2, b2 (and optionally W3, b3) with 2 … 4 outputs")
        except ValueError as error:
            return {}, [f"the network x, W, b ({error})"]
        hidden = sizes[1:-1]
        values = {self.key(name): text.replace("-", "−") for name, text in cells.items()}
        values.update({self.key("n_in"): sizes[0], self.key("n_out"): sizes[-1], self.key("depth"): len(hidden),
                       self.key("h1"): hidden[0], self.key("h2"): hidden[-1]})
        return values, []

    def write(self, state):
        if self.key("n_in") not in state:
            return {}
        hidden = [state[self.key("h1")]] + ([state[self.key("h2")]] if state[self.key("depth")] == 2 else [])
        sizes = [state[self.key("n_in")], *hidden, state[self.key("n_out")]]

        def cell(name):
            return str(state.get(self.key(name), "")).strip()

        out = {"x": L.format_matrix([[cell(f"x_{j}") for j in range(sizes[0])]]),
               "act": state[self.key("activation")]}
        for l in range(1, len(sizes)):
            out[f"W{l}"] = L.format_matrix([[cell(f"W{l}_{i}_{j}") for j in range(sizes[l - 1])]
                                            for i in range(sizes[l])])
            out[f"b{l}"] = L.format_matrix([[cell(f"b{l}_{i}") for i in range(sizes[l])]])
        return out

    def controls(self):
        buttons = tuple(f"{self.page}_{b}" for b in ("reset", "copy", "random"))
        return {"sizes": tuple(self.key(n) for n in ("n_in", "depth", "h1", "h2", "n_out")),
                "act": (self.key("activation"),),
                "numbers": (self.key("x_") + "*", self.key("W") + "*", self.key("b") + "*", *buttons)}


@dataclass(frozen=True)
class Playground:
    """The Playground reads and writes its own URL (pages/playground.py, lab/playground.py); this codec
    lets the link machinery name, hide and lock its controls and build its share link."""
    reads_url = True
    K = "keep_playground_"

    def owns(self, param):
        return param in pg.RULES

    def read(self, params):
        cfg, _ = pg.config_from_query(params)       # the page shows its own notice about bad values
        values = {self.K + name: getattr(cfg, name) for name in pg.RULES if name not in ("data", "features", "hidden")}
        values.update({self.K + "data_" + cfg.problem: cfg.data, self.K + "problem": cfg.problem,
                       self.K + "features": list(cfg.features), self.K + "hidden": list(cfg.hidden)})
        return values, []

    def write(self, state):
        return pg.config_to_query(state["pg_cfg"]) if "pg_cfg" in state else {}

    def controls(self):
        names = {name: (self.K + name,) for name in pg.RULES}
        names["data"] = (self.K + "data_*", self.K + "problem")
        names["hidden"] = (self.K + "hidden", "pg_less_*", "pg_more_*")
        names["seed"] = (self.K + "seed", "pg_regenerate")
        return names


# ---- what each page links -----------------------------------------------------------------------

TINY_ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "gelu")     # tiny_net.HIDDEN_ACTIVATIONS
TRAIN_LR = tuple([m * 10.0 ** e for e in range(-5, 1) for m in (1, 2, 5)] + [10.0])   # train_mnist.LR_OPTIONS
T = "keep_train_"


def _f(param, key, rule):
    return L.Field(param, key, rule)


@dataclass(frozen=True)
class PageLink:
    codecs: tuple = ()
    sections: dict = field(default_factory=dict)       # section name → control names

    def owns(self, param):
        return any(c.owns(param) for c in self.codecs)

    def controls(self):
        out = {}
        for codec in self.codecs:
            out.update(codec.controls())
        return out

    def names(self):
        return list(self.controls()) + list(self.sections)

    def read(self, params):
        values, problems = {}, []
        for codec in self.codecs:
            more, bad = codec.read(params)
            values.update(more)
            problems += bad
        return values, problems

    def write(self, state):
        out = {}
        for codec in self.codecs:
            out.update(codec.write(state))
        return out

    def keys_of(self, names):
        """The widget keys (a trailing * is a prefix) of these control or section names."""
        controls = self.controls()
        keys = []
        for name in names:
            for control in self.sections.get(name, (name,)):
                keys += controls.get(control, ())
        return keys


PAGE_LINKS = {
    "forward_pass": PageLink(
        (TinyNet("forward"), Fields((_f("seed", "keep_forward_net_seed", L.Int(0, 10**6)),
                                     _f("step", "keep_forward_step", L.Int(0, 30))))),
        {"network": ("sizes", "act", "numbers", "seed")}),
    "backpropagation": PageLink(
        (TinyNet("backprop"), Fields((_f("seed", "keep_backprop_net_seed", L.Int(0, 10**6)),
                                      _f("target", "keep_backprop_target", L.Int(0, 3)),
                                      _f("lr", "keep_backprop_lr", L.Number(0.0, 10.0)),
                                      _f("loss", "keep_backprop_loss", L.Choice((
                                          "cross-entropy (softmax output)", "MSE (sigmoid outputs)"))),
                                      _f("step", "keep_backprop_step", L.Int(0, 60))))),
        {"network": ("sizes", "act", "numbers", "seed")}),
    "train_mnist": PageLink(
        (Fields((
            _f("data", T + "data", L.Choice(("MNIST", "Fashion-MNIST"))),
            _f("size", T + "size", L.Choice(("all", 500, 1000, 2000, 5000, 10000, 20000, 30000))),
            _f("val", T + "val", L.Choice(tuple(range(0, 31, 5)))),
            _f("layers", T + "layers", L.Choice((1, 2, 3))),
            *[_f(f"width{i}", f"{T}width{i}", L.Choice((16, 32, 64, 128, 256, 512))) for i in (1, 2, 3)],
            _f("act", T + "act", L.Choice(HIDDEN_ACTIVATIONS)),
            _f("init", T + "init", L.Choice(("zeros", "normal", "xavier", "he"))),
            _f("std", T + "std", L.Choice((0.001, 0.01, 0.1, 1.0))),
            _f("seed", T + "seed", L.Int(0, 10**6)),
            _f("opt", T + "opt", L.Choice(tuple(OPTIMIZERS))),
            _f("batch", T + "batch", L.Choice((8, 16, 32, 64, 128, 256, 512))),
            _f("epochs", T + "epochs", L.Int(1, 100)),
            _f("normalize", T + "normalize", L.Bool()),
            _f("shuffle", T + "shuffle", L.Bool()),
            _f("bn", T + "bn", L.Bool()),
            _f("dropout", T + "dropout", L.Choice(tuple(round(0.1 * i, 1) for i in range(9)))),  # DROPOUT_OPTIONS
            _f("residual", T + "residual", L.Bool()),
            _f("clip", T + "clip", L.Choice((None, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0))),            # CLIP_OPTIONS
            _f("lr", T + "lr", L.Choice(TRAIN_LR)),
            _f("sched", T + "sched", L.Choice(("constant", "step", "cosine", "plateau"))),
            _f("l2", T + "l2", L.Choice((0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1))),
            _f("speed", T + "speed", L.Choice((1, 2, 5, 10, 30, 100, None))),
        )),),
        {"data": ("data", "size", "val"),
         "architecture": ("layers", "width1", "width2", "width3", "act", "init", "std", "seed"),
         "optimisation": ("opt", "batch", "epochs", "clip"), "inputs": ("normalize", "shuffle"),
         "layers": ("bn", "dropout", "residual"),
         "live": ("lr", "sched", "l2", "speed")}),
    "playground": PageLink(
        (Playground(),),
        {"data": ("data", "noise", "train", "n", "seed"), "network": ("features", "hidden", "act"),
         "training": ("lr", "batch", "reg", "rate", "speed")}),
}

ACT5 = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")
OPT_LR = tuple(sorted({round(m * 10.0 ** k, 8) for k in range(-4, 1) for m in (1, 1.5, 2, 3, 5, 7, 9)}))  # optimizers.py
O = "keep_opt_"
PAGE_LINKS.update({
    "perceptron": PageLink(
        (Fields((*[_f(p, f"keep_perceptron_{p}", L.Number(-100.0, 100.0)) for p in ("w1", "w2", "b", "x1", "x2")],
                 _f("lr", "keep_perceptron_lr", L.Number(0.001, 100.0)),
                 _f("y", "keep_perceptron_y", L.Choice((0, 1))),
                 _f("gate", "keep_perceptron_gate", L.Choice(("AND", "OR", "NAND", "XOR")))),
                extra_keys={"gate": ("perceptron_next", "perceptron_epoch", "perceptron_converge")}),),
        {"example": ("w1", "w2", "b", "lr", "x1", "x2", "y")}),
    "activation_functions": PageLink(
        (Fields((_f("show", "keep_act_show", L.Several(ACT5)),
                 _f("derivative", "keep_act_derivative", L.Bool()),
                 _f("alpha", "keep_act_alpha", L.Number(0.0, 0.3)),
                 _f("x", "keep_act_x", L.Number(-5.0, 5.0)),
                 _f("points", "keep_act_points", L.Numbers(1, 20, 1e4)),
                 _f("logits", "keep_act_logits", L.Numbers(2, 10, 1e4)),
                 _f("T", "keep_act_temperature", L.Number(0.1, 5.0)))),),
        {"softmax": ("logits", "T")}),
    "loss_functions": PageLink(
        (Fields((_f("y", "keep_loss_y", L.Numbers(2, 10, 1e4)), _f("a", "keep_loss_a", L.Numbers(2, 10, 1e4)),
                 _f("b", "keep_loss_b", L.Numbers(2, 10, 1e4)), _f("p", "keep_loss_p", L.Number(0.01, 0.99)))),),
        {"predictions": ("y", "a", "b")}),
    "vanishing_gradients": PageLink(
        (Fields((_f("depth", "keep_vg_depth", L.Int(*DEPTHS)), _f("width", "keep_vg_width", L.Int(2, 64)),
                 _f("act", "keep_vg_act", L.Choice(ACT5)),
                 _f("init", "keep_vg_init", L.Choice(("zeros", "normal", "xavier", "he"))),
                 _f("std", "keep_vg_std", L.Number(1e-6, MAX_STD)), _f("train", "keep_vg_train", L.Bool()),
                 _f("steps", "keep_vg_steps", L.Choice(tuple(range(5, 61, 5)))),
                 _f("lr", "keep_vg_lr", L.Choice((0.01, 0.05, 0.1, 0.5, 1.0, 2.0))))),),
        {"network": ("depth", "width", "act", "init", "std"), "training": ("train", "steps", "lr")}),
    "optimizers": PageLink(
        (Fields((_f("surface", O + "surface", L.Choice(tuple(SURFACES))),
                 *[_f(f"use_{o}", f"{O}use_{o}", L.Bool()) for o in OPTIMIZER_TITLES],
                 *[_f(f"lr_{o}", f"{O}lr_{o}", L.Choice(OPT_LR)) for o in OPTIMIZER_TITLES],
                 _f("beta", O + "beta", L.Number(0.0, 0.99)), _f("rho", O + "rho", L.Number(0.0, 0.99)),
                 _f("beta1", O + "beta1", L.Number(0.0, 0.99)), _f("beta2", O + "beta2", L.Number(0.9, 0.9999)),
                 _f("wd", O + "wd", L.Number(0.0, 0.5)), _f("steps", O + "steps", L.Choice(tuple(range(10, 1001, 10)))),
                 _f("x0", O + "x0", L.Number(-1e3, 1e3)), _f("y0", O + "y0", L.Number(-1e3, 1e3)),
                 _f("frame", O + "frame", L.Int(0, 1000)))),),
        {"race": tuple(f"use_{o}" for o in OPTIMIZER_TITLES) + tuple(f"lr_{o}" for o in OPTIMIZER_TITLES)}),
    "draw_digit": PageLink(
        (Fields((_f("model", "draw_model_choice", L.Choice(("trained", "uploaded", "default"))),
                 _f("source", "keep_draw_source", L.Choice(("Draw", "Upload a photo", "Random test digit"))),
                 _f("digit", "draw_test_index", L.Int(0, 59_999))),
                extra_keys={"model": ("draw_model",)}),),),
})
EMPTY = PageLink()


def spec(page):
    return PAGE_LINKS.get(page, EMPTY)


# ---- the three calls app.py makes -----------------------------------------------------------------

def focused():
    """True when the link asks to hide the other pages (hide=nav): st.navigation(position="hidden")."""
    hide = str(st.query_params.get("hide", ""))
    return L.NAV in (n.strip().lower() for n in hide.split(","))


def open_link(page):
    """Before the page runs: apply a new link's settings, enforce locks, hide and grey out; returns the Teacher."""
    link, ss = spec(page), st.session_state
    params = st.query_params.to_dict()
    teacher, problems = L.read_teacher(params, link.names())
    ours = {k: v for k, v in params.items() if link.owns(k) or k in L.TEACHER_PARAMS}
    written = ss.setdefault(WRITTEN, {})
    # A new link brings settings this page did not write; a URL exactly as the app last left it (another
    # page's settings, where switching pages does not clear them) is not a link.
    fresh = bool(ours) and ours != written.get(page) and params != ss.get(LAST_URL)
    if fresh or teacher.lock:
        values, bad = link.read({k: v for k, v in ours.items() if link.owns(k)})
        if fresh:
            problems += bad
            written[page] = ours
            if not any(getattr(c, "reads_url", False) for c in link.codecs):
                ss.update(values)
        locked = link.keys_of(teacher.lock)
        for key, value in values.items():
            if any(key == k or (k.endswith("*") and key.startswith(k[:-1])) for k in locked):
                ss[key] = value
    if fresh and problems:
        st.warning(plain(L.notice(problems)), icon=":material/link_off:")      # it quotes the link: never Markdown
    _style(link, teacher)
    return teacher


def _selector(key):
    return f'[class*="st-key-{key[:-1]}"]' if key.endswith("*") else f".st-key-{key}"


def _style(link, teacher):
    hidden = [_selector(k) for k in link.keys_of(teacher.hide)]
    locked = [_selector(k) for k in link.keys_of(teacher.lock - teacher.hide)]
    rules = []
    if hidden:
        rules.append(", ".join(hidden) + " { display: none !important; }")
    if locked:
        rules.append(", ".join(locked) + " { pointer-events: none; opacity: 0.55; }")
    if rules:
        st.html(f"<style>{' '.join(rules)}</style>")
    if teacher.lock:
        st.caption("Locked by your teacher's link: " + ", ".join(sorted(teacher.lock)) + ".",
                   help="These controls keep the value the link set; the rest of the page is yours to change.")


def close_link(page, teacher):
    """After the page ran: the page's settings back into the URL, and the sidebar's share panel."""
    link, ss = spec(page), st.session_state
    params = link.write(ss)
    for stale in [k for k in st.query_params.to_dict() if link.owns(k) and k not in params]:
        del st.query_params[stale]
    if any(st.query_params.get(k) != v for k, v in params.items()):
        st.query_params.update(params)
    ss.setdefault(WRITTEN, {})[page] = {**params, **{k: v for k, v in st.query_params.to_dict().items()
                                                     if k in L.TEACHER_PARAMS}}
    ss[LAST_URL] = st.query_params.to_dict()
    share_panel(page, link, params, teacher)


def base_url(page):
    return st.context.url or f"http://localhost:8501/{page}"


def share_panel(page, link, params, teacher):
    """The sidebar's "Share or teach this page": the link to what is on screen and the lesson builder."""
    with st.sidebar.popover("Share or teach this page", icon=":material/link:", width="stretch"):   # a popover,
        # not an expander: pages end with their own "Check yourself" expander, and tests look for it last
        st.markdown("**Copy link** (the copy button is at the right of the box): opens this page with these "
                    "settings in any browser. It does not carry your runs.")
        st.code(L.link(base_url(page), {**params, **teacher.params()}), language=None, wrap_lines=True)
        names = link.names()
        if teacher.hide or teacher.lock or not names:
            return
        st.markdown("**Lesson builder**: set the page up, choose what a learner may not see or change, copy.")
        hide = st.multiselect("Hide", [L.NAV] + names, key=f"links_hide_{page}",
                              format_func=lambda n: "the list of other pages" if n == L.NAV else n)
        lock = st.multiselect("Lock (shown, not editable)", names, key=f"links_lock_{page}")
        teacher_params = L.Teacher(frozenset(hide), frozenset(lock)).params()
        st.code(L.link(base_url(page), {**params, **teacher_params}), language=None, wrap_lines=True)
