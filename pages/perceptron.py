"""Perceptron: a threshold unit, its decision line, and Rosenblatt's learning rule stepped one sample at a time."""
import numpy as np
import streamlit as st

from core.perceptron import Perceptron
from lab.data import LOGIC_GATES, gate_data
from lab.steps import Progress, perceptron_step
from pages.ui import tiny_net as tn
from pages.ui.diagram import boundary_figure
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app

run_inside_app()


def tidy(v):
    """Drop float noise from display: the weights are sums of ±η·x, so 0.1 − 0.1 must read 0, not −2.8e-17."""
    return np.round(np.asarray(v, dtype=float), 12)


def num(v):
    return tn.num(tidy(v))


def factor(v):
    return tn.factor(tidy(v))


def col(v):
    return tn.col(tidy(v))


def minus(text):
    """Text with the minus sign used everywhere else on the page (−1, not -1)."""
    return text.replace("-", "−")


MAX_EPOCHS = 100
RUN = "perceptron_run"      # plain session_state (not a widget): the learner's run on a logic gate
DEFAULTS = dict(keep_perceptron_w1=0.6, keep_perceptron_w2=-0.4, keep_perceptron_b=-0.1,
                keep_perceptron_x1=1.0, keep_perceptron_x2=0.5, keep_perceptron_lr=0.1)
ss = st.session_state
for key, value in DEFAULTS.items():
    ss.setdefault(key, value)
ss.setdefault("keep_perceptron_y", 0)
ss.setdefault("keep_perceptron_gate", "AND")

st.title("Perceptron")
st.markdown(r"""
The perceptron (Rosenblatt, 1958) is the simplest artificial neuron: it weighs its inputs, adds a bias,
and fires if the total is positive:
""")
st.latex(r"s = w \cdot x + b, \qquad \hat y = \begin{cases} 1 & s > 0 \\ 0 & \text{otherwise.}\end{cases}")
st.markdown(r"""
The points where $s = 0$ form a straight line, $w_1 x_1 + w_2 x_2 + b = 0$: the **decision boundary**.
Everything on one side is called 1, everything on the other side 0.

It learns from its mistakes only: after each example, $w \leftarrow w + \eta\,(y - \hat y)\,x$ and
$b \leftarrow b + \eta\,(y - \hat y)$. When it is right, $y - \hat y = 0$ and nothing changes; when it says 1
but should say 0, it subtracts a bit of $x$ from $w$, which lowers the score of this $x$ next time.
""")


def reset_run():
    """Callback: start learning the chosen gate from the w, b and η of the panel above."""
    ss[RUN] = dict(w=[ss.keep_perceptron_w1, ss.keep_perceptron_w2], b=ss.keep_perceptron_b,
                   lr=ss.keep_perceptron_lr, progress=Progress(), last=None, previous=None, log=[])


def reset_example():
    for key, value in DEFAULTS.items():
        ss[key] = value
    ss["keep_perceptron_y"] = 0
    reset_run()


def learn(samples):
    """Callback: lab.steps.perceptron_step on the next `samples` samples (stops early once converged)."""
    run = ss[RUN]
    X, y = gate_data(ss.keep_perceptron_gate)
    p, progress = Perceptron(run["w"], run["b"], run["lr"]), run["progress"]
    for _ in range(samples):
        if progress.converged_at is not None:
            break
        epoch = progress.epoch + 1
        u = perceptron_step(p, X, y, progress)
        run["previous"] = (float(u.w_old[0]), float(u.w_old[1]), u.b_old) if u.changed else run["previous"]
        run["last"] = u
        run["log"].append(dict(epoch=epoch, x=f"({u.x[0]:g}, {u.x[1]:g})", y=u.y, score=minus(f"{u.score:.3f}"),
                               **{"ŷ": u.y_hat}, **{"y − ŷ": minus(f"{u.error:d}")},
                               w=minus(f"({u.w_new[0]:.2f}, {u.w_new[1]:.2f})"), b=minus(f"{u.b_new:.2f}")))
    run["w"], run["b"] = [float(v) for v in p.w], p.b
    del run["log"][:-200]


# ---- one neuron, one example ---------------------------------------------------------------------

st.subheader("One neuron, one example")
# two rows of four: eight columns left each number ~50 px at 1024 px ("0.600" showed as "0.60")
cols = st.columns(4, vertical_alignment="bottom") + st.columns(4, vertical_alignment="bottom")
for c, (key, label, tip) in zip(cols, [
        ("keep_perceptron_w1", "w₁", "Weight of input 1."), ("keep_perceptron_w2", "w₂", "Weight of input 2."),
        ("keep_perceptron_b", "b", "Bias: shifts the line without turning it."),
        ("keep_perceptron_lr", "η", "Learning rate: how big each correction is."),
        ("keep_perceptron_x1", "x₁", "Input 1 of the example."), ("keep_perceptron_x2", "x₂", "Input 2 of the example.")]):
    c.number_input(label, min_value=-100.0 if key != "keep_perceptron_lr" else 0.001, max_value=100.0,
                   step=0.05, format="%.3f", key=key, persist_state="session", help=tip)
cols[6].selectbox("label y", [0, 1], key="keep_perceptron_y", persist_state="session",
                  help="The right answer for this example.")
cols[7].button("Reset", key="perceptron_reset_example", on_click=reset_example, icon=":material/restart_alt:",
               help="Back to the worked example: w = [0.6, −0.4], b = −0.1, x = [1, 0.5], y = 0, η = 0.1.")

w = [ss.keep_perceptron_w1, ss.keep_perceptron_w2]
x = [ss.keep_perceptron_x1, ss.keep_perceptron_x2]
neuron = Perceptron(w, ss.keep_perceptron_b, ss.keep_perceptron_lr)
score, y_hat = neuron.score(x), neuron.predict(x)
relation = ">" if score > 0 else r"\le"
st.latex(rf"s = w\cdot x + b = {factor(w[0])}\cdot{factor(x[0])} + {factor(w[1])}\cdot{factor(x[1])} + "
         rf"{factor(neuron.b)} = {num(score)} \;\Rightarrow\; \hat y = {y_hat}"
         rf"\quad (s {relation} 0)")
u = neuron.update(x, ss.keep_perceptron_y)
new_score = neuron.score(x)
if u.changed:
    st.markdown(f"The label is {u.y} but the neuron said {u.y_hat}: wrong, so the rule corrects it "
                f"(y − ŷ = {minus(str(u.error))}).")
    st.latex(rf"\begin{{aligned}} w &\leftarrow w + \eta\,(y - \hat y)\,x \\ "       # two lines: one is too wide
             rf"&= {col(u.w_old)} + {num(neuron.lr)}\cdot({u.error})\cdot{col(u.x)} = {col(u.w_new)} \end{{aligned}}")
    st.latex(rf"b \leftarrow b + \eta\,(y - \hat y) = {factor(u.b_old)} + {num(neuron.lr)}\cdot({u.error})"
             rf" = {num(u.b_new)}")
    st.latex(rf"s_{{\text{{new}}}} = {factor(u.w_new[0])}\cdot{factor(x[0])} + {factor(u.w_new[1])}\cdot{factor(x[1])}"
             rf" + {factor(u.b_new)} = {num(new_score)}")
    fixed = (new_score > 0) == bool(u.y)
    st.caption(f"The score moved from {score:.3f} to {new_score:.3f}"
               + (": now the neuron is right." if fixed else ", towards the threshold 0: repeated updates flip it."))
else:
    st.markdown(f"The label is {u.y} and the neuron said {u.y_hat}: right, so y − ŷ = 0 and nothing changes.")

# ---- learning a logic gate -----------------------------------------------------------------------

st.subheader("Learning a logic gate")
st.markdown("Four examples, the truth table of a gate. The rule visits them in order, one sample at a time, "
            "starting from the w, b and η above. It has **converged** when a full pass makes no mistake.")
if RUN not in ss:
    reset_run()
run = ss[RUN]
controls = st.container(horizontal=True, vertical_alignment="bottom")
controls.selectbox("Data set", list(LOGIC_GATES), key="keep_perceptron_gate", persist_state="session",
                   on_change=reset_run, width=160,
                   help="The truth table to learn. XOR is the famous one a single perceptron cannot learn.")
controls.button("Next sample", key="perceptron_next", on_click=learn, args=(1,), type="primary")
controls.button("Run epoch", key="perceptron_epoch", on_click=learn, args=(4,))
controls.button(f"Run until it converges (≤ {MAX_EPOCHS} epochs)", key="perceptron_converge", on_click=learn,
                args=(4 * MAX_EPOCHS,))
controls.button("Reset", key="perceptron_reset_run", on_click=reset_run, icon=":material/restart_alt:")
st.caption("**Next sample** applies the rule to the ringed example; **Run epoch** to the next four (one pass); "
           "**Reset** starts again from the weights above.")     # a caption, not tooltips that cover the controls

X, y = gate_data(ss.keep_perceptron_gate)
learner = Perceptron(run["w"], run["b"], run["lr"])
left, right = st.columns([1, 1.2])
with left:
    st.plotly_chart(boundary_figure(X, y, learner.w, learner.b, previous=run["previous"], current=run["progress"].i),
                    key="perceptron_plot", config={"displayModeBar": False})
    st.caption("Filled: y = 1, hollow: y = 0. Shaded blue: where the perceptron says 1. Orange line: its "
               "boundary now; dashed: before the last correction. Ringed: the next sample.")
with right:
    mistakes = learner.errors(X, y)
    c = st.columns(3)
    progress = run["progress"]
    c[0].metric("Epochs", progress.passes,       # a pass under way counts, as in "converged after"
                help="Passes over the four examples, counting the one under way.")
    c[1].metric("Corrections", progress.corrections)
    c[2].metric("Points wrong now", mistakes)
    last = run["last"]
    if last is not None:
        st.markdown(f"**Last sample:** x = ({last.x[0]:g}, {last.x[1]:g}), y = {last.y}")
        st.latex(rf"s = {factor(last.w_old[0])}\cdot{factor(last.x[0])} + {factor(last.w_old[1])}\cdot"
                 rf"{factor(last.x[1])} + {factor(last.b_old)} = {num(last.score)} \Rightarrow \hat y = {last.y_hat}")
        st.latex(rf"w \leftarrow {col(last.w_old)} + {num(run['lr'])}\cdot({last.error})\cdot{col(last.x)} = "
                 rf"{col(last.w_new)}")
        st.latex(rf"b \leftarrow {factor(last.b_old)} + {num(run['lr'])}\cdot({last.error}) = {num(last.b_new)}")
    if progress.converged_at is not None:
        st.success(f"Converged: a full pass with no mistake, after {progress.converged_at} epoch(s) and "
                   f"{progress.corrections} correction(s). The line now separates the two classes.")
    elif progress.epoch >= MAX_EPOCHS:
        st.warning(f"No convergence after {progress.epoch} epochs"
                 + (" — and there never will be: see below." if ss.keep_perceptron_gate == "XOR" else
                    ". This gate is linearly separable, so the rule does converge: press the button again."))

if ss.keep_perceptron_gate == "XOR":
    st.warning(r"""
**Why XOR never converges.** No straight line puts $(0,1)$ and $(1,0)$ on one side and $(0,0)$, $(1,1)$
on the other: XOR is not **linearly separable**. Suppose one did: then $w_2 + b > 0$ and $w_1 + b > 0$,
while $b \le 0$ and $w_1 + w_2 + b \le 0$. Adding the first two gives $w_1 + w_2 + b > -b \ge 0$,
contradicting the last. So every pass makes a mistake and the rule keeps correcting forever, the line
swinging back and forth. A hidden layer fixes this: two neurons draw two lines, and the output combines them.
""", icon=":material/warning:")
    st.page_link("pages/forward_pass.py", label="See a network with a hidden layer: Forward pass",
                 icon=":material/arrow_forward:")
if run["log"]:
    with st.expander(f"Every step of this run ({len(run['log'])} shown)"):
        st.dataframe(run["log"][::-1], hide_index=True)

check_yourself([
    Question("The perceptron is right on an example. What does the learning rule change?",
             ["Nothing", "Only the bias", "It pushes the weights further in the same direction"], 0,
             "y − ŷ = 0, so both updates add zero: the rule only learns from mistakes."),
    Question("Which gate can a single perceptron not learn?", ["AND", "NAND", "XOR"], 2,
             "XOR is not linearly separable: no single line splits its two classes."),
    Question("Doubling w and b (w → 2w, b → 2b) moves the decision line how?",
             ["It doesn't move", "It moves twice as far from the origin", "It turns by 90°"], 0,
             "2(w·x + b) = 0 has the same solutions as w·x + b = 0: only the size of the score changes."),
], key="perceptron_quiz")
