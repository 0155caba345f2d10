"""Optimizers: a race on 2-D loss surfaces, Adam step by step, a learning-rate sweep and LR schedules."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.checks import parse_numbers
from lab.schedules import scheduled_lr
from lab.lr_sweep import RISE, lr_grid, lr_sweep
from lab.surfaces import (
    ADAM_BETA1,
    ADAM_BETA2,
    ADAM_EPS,
    OPTIMIZER_TITLES,
    SURFACES,
    adam_trace,
    is_global,
    min_value,
    race,
    surface_grid,
    verdict,
)
from pages.ui import palette
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app

run_inside_app()

COLORS = dict(zip(OPTIMIZER_TITLES, palette.CATEGORICAL))
LR_OPTIONS = sorted({round(m * 10.0 ** k, 8) for k in range(-4, 1) for m in (1, 1.5, 2, 3, 5, 7, 9)})
SWEEP_RANGES = {"sgd": (1e-3, 30.0), "adam": (1e-4, 3.0)}
VERDICT_COLORS = {"too low": palette.SKY, "good": palette.GREEN, "diverging": palette.VERMILLION}
VERDICT_SYMBOLS = {"too low": "circle", "good": "diamond", "diverging": "x"}      # a second cue beside colour


def surface_defaults(name):
    """The widget values a surface starts with: its start point and a telling learning rate per optimizer."""
    surface = SURFACES[name]
    values = {f"keep_opt_lr_{opt}": lr for opt, lr in surface.lrs.items()}
    values.update(keep_opt_x0=surface.start[0], keep_opt_y0=surface.start[1],
                  keep_opt_steps=surface.steps, keep_opt_frame=surface.steps)
    return values


DEFAULTS = {
    "keep_opt_surface": "ravine",
    **{f"keep_opt_use_{opt}": True for opt in OPTIMIZER_TITLES},
    **surface_defaults("ravine"),
    "keep_opt_beta": 0.9, "keep_opt_rho": 0.9, "keep_opt_beta1": 0.9, "keep_opt_beta2": 0.999, "keep_opt_wd": 0.01,
    "keep_opt_adam_theta": 5.0, "keep_opt_adam_lr": 0.1, "keep_opt_adam_grads": "2.0, 1.5, 3.0",
    "keep_opt_sweep_opt": "sgd",
    "keep_opt_sched_lr": 0.1, "keep_opt_sched_T": 1000, "keep_opt_sched_every": 250, "keep_opt_sched_gamma": 0.5,
}
for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)


def reset():
    st.session_state.update(DEFAULTS)


def on_surface_change():
    st.session_state.update(surface_defaults(st.session_state.keep_opt_surface))


def on_steps_change():
    st.session_state.keep_opt_frame = st.session_state.keep_opt_steps


def optimizer_settings(name):
    """lr and betas of one optimizer, read from its widgets."""
    s = st.session_state
    settings = {"lr": s[f"keep_opt_lr_{name}"]}
    if name == "momentum":
        settings["beta"] = s.keep_opt_beta
    elif name == "rmsprop":
        settings["rho"] = s.keep_opt_rho
    elif name in ("adam", "adamw"):
        settings.update(beta1=s.keep_opt_beta1, beta2=s.keep_opt_beta2)
        if name == "adamw":
            settings["weight_decay"] = s.keep_opt_wd
    return settings


def optimizer_controls():
    cols = st.columns(len(OPTIMIZER_TITLES))
    for col, (name, title) in zip(cols, OPTIMIZER_TITLES.items()):
        with col:
            st.checkbox(title, persist_state="session", key=f"keep_opt_use_{name}", help=f"Include {title} in the race.")
            st.select_slider("learning rate η", LR_OPTIONS, persist_state="session", key=f"keep_opt_lr_{name}",
                             format_func=lambda v: f"{v:g}",
                             help="Step size. Each optimizer has its own: a good η for SGD is far too big or small "
                                  "for Adam. Changing the surface loads a telling value for each.")
            if name == "momentum":
                st.slider("β", 0.0, 0.99, step=0.01, persist_state="session", key="keep_opt_beta",
                          help="How much of the previous velocity is kept: v ← βv + g. 0 is plain SGD.")
            elif name == "rmsprop":
                st.slider("ρ", 0.0, 0.99, step=0.01, persist_state="session", key="keep_opt_rho",
                          help="Decay of the running mean of g²: s ← ρs + (1 − ρ)g².")
            elif name == "adam":
                st.slider("β₁", 0.0, 0.99, step=0.01, persist_state="session", key="keep_opt_beta1",
                          help="Momentum of Adam (and AdamW): m ← β₁m + (1 − β₁)g.")
                st.slider("β₂", 0.9, 0.9999, step=0.0001, format="%.4f", persist_state="session", key="keep_opt_beta2",
                          help="Decay of Adam's (and AdamW's) running mean of g²: v ← β₂v + (1 − β₂)g².")
            elif name == "adamw":
                st.slider("weight decay λ", 0.0, 0.5, step=0.01, persist_state="session", key="keep_opt_wd",
                          help="AdamW shrinks θ by η λ θ every step, pulling it towards 0.")


def contour_figure(surface, paths, frame):
    xs, ys, Z = surface_grid(surface)
    fig = go.Figure(go.Contour(x=xs, y=ys, z=np.log1p(Z - min_value(surface)), colorscale="Blues", reversescale=True,
                               ncontours=25, showscale=False, line=dict(width=0.5), hoverinfo="skip"))
    for name, path in paths.items():
        pts = path.points[:frame + 1]
        fig.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="lines+markers", name=OPTIMIZER_TITLES[name],
                        line=dict(color=COLORS[name], width=2), marker=dict(size=3))
        fig.add_scatter(x=pts[-1:, 0], y=pts[-1:, 1], mode="markers", showlegend=False, hoverinfo="skip",
                        marker=dict(color=COLORS[name], size=11, line=dict(color="white", width=1.5)))
    for is_best, name, symbol in ((True, "global minimum", "star"), (False, "local minimum", "circle-open")):
        minima = np.array([m for m in surface.minima if is_global(surface, m) == is_best]).reshape(-1, 2)
        if len(minima):
            fig.add_scatter(x=minima[:, 0], y=minima[:, 1], mode="markers", name=name, hoverinfo="name",
                            marker=dict(symbol=symbol, size=16 if is_best else 14, color=palette.YELLOW if is_best else "white",
                                        line=dict(color="black", width=1 if is_best else 2.5)))
    fig.add_scatter(x=[st.session_state.keep_opt_x0], y=[st.session_state.keep_opt_y0], mode="markers",
                    name="start", marker=dict(symbol="x", size=12, color="black"))
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="x", yaxis_title="y",
                      xaxis_range=list(surface.x_range), yaxis_range=list(surface.y_range),
                      legend=dict(orientation="h", y=-0.15))
    return fig


def loss_figure(surface, paths, frame):
    fig = go.Figure()
    f_min = min_value(surface)
    for name, path in paths.items():
        gap = np.maximum(path.losses[:frame + 1] - f_min, 1e-16)
        fig.add_scatter(y=gap, mode="lines", name=OPTIMIZER_TITLES[name], line=dict(color=COLORS[name], width=2))
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=10, b=10), yaxis_type="log", yaxis_exponentformat="power",
                      xaxis_title="step t", yaxis_title="f(θₜ) − f*  (log scale)", legend=dict(orientation="h", y=-0.15))
    return fig


def race_section():
    st.header("A race on a loss surface")
    top = st.columns([2, 1, 1, 1])
    top[0].selectbox("Surface", list(SURFACES), format_func=lambda n: SURFACES[n].title, persist_state="session",
                     key="keep_opt_surface",
                     on_change=on_surface_change,
                     help="Each surface shows one difficulty. Switching loads its start point, steps and learning rates.")
    top[1].slider("Steps", 10, 1000, step=10, persist_state="session", key="keep_opt_steps", on_change=on_steps_change,
                  help="How many optimizer steps every racer takes.")
    top[2].number_input("start x", step=0.1, persist_state="session", key="keep_opt_x0", help="Where every optimizer starts (x).")
    top[3].number_input("start y", step=0.1, persist_state="session", key="keep_opt_y0", help="Where every optimizer starts (y).")
    surface = SURFACES[st.session_state.keep_opt_surface]
    st.latex(surface.formula)
    st.caption(surface.story)
    optimizer_controls()

    racers = [name for name in OPTIMIZER_TITLES if st.session_state[f"keep_opt_use_{name}"]]
    if not racers:
        st.warning("Tick at least one optimizer to race.")
        return
    start, steps = (st.session_state.keep_opt_x0, st.session_state.keep_opt_y0), st.session_state.keep_opt_steps
    try:
        paths = race(surface, {name: optimizer_settings(name) for name in racers}, start, steps)
    except ValueError as e:
        st.error(str(e))
        return
    st.session_state.keep_opt_frame = min(st.session_state.keep_opt_frame, steps)
    st.slider("Show the first t steps", 0, steps, persist_state="session", key="keep_opt_frame",
              help="Step through the race: drag to replay how each path unfolds.")
    frame = st.session_state.keep_opt_frame
    left, right = st.columns([3, 2])
    left.plotly_chart(contour_figure(surface, paths, frame), key="race_contour")
    right.plotly_chart(loss_figure(surface, paths, frame), key="race_loss")
    for name, path in paths.items():
        if path.diverged:
            st.error(f"**{OPTIMIZER_TITLES[name]} diverged** at step {path.diverged_at}: {path.reason}. "
                     f"Its learning rate η = {path.lr:g} is too large for this surface: each step overshoots "
                     f"further than the last. Lower η.")
    rows = [{"optimizer": OPTIMIZER_TITLES[name], "η": path.lr, "x": path.points[-1, 0], "y": path.points[-1, 1],
             "f(θ)": path.final_loss, "result": verdict(surface, path)} for name, path in paths.items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True,
                 column_config={"η": st.column_config.NumberColumn(format="%g"),
                                **{c: st.column_config.NumberColumn(format="%.4f") for c in ("x", "y")},
                                "f(θ)": st.column_config.NumberColumn(format="%.3e")})
    st.caption("A loss curve that stops falling and zig-zags means that racer is hopping across the minimum. "
               "RMSProp divides g by its own typical size, so its steps stay about η long however close it gets; "
               "Adam's momentum averages the sign-flipping gradients away. A decaying η (schedules, below) "
               "lets both settle.")


def adam_section():
    st.header("Adam, one step at a time")
    st.markdown(r"""Adam keeps a running mean of the gradient $m$ (momentum) and of its square $v$ (its scale).
Both start at 0, so early on they are too small; dividing by $1 - \beta^t$ corrects that bias.
Then every parameter moves by about $\eta$ per step, whatever the size of its gradient.""")
    st.latex(r"""m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
\hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t},\quad
\theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}""")
    cols = st.columns([1, 1, 2])
    cols[0].number_input("θ₀", step=0.5, persist_state="session", key="keep_opt_adam_theta",
                         help="The starting value of the parameter.")
    cols[1].number_input("η", step=0.01, format="%.3f", persist_state="session", key="keep_opt_adam_lr",
                         help="Adam's learning rate.")
    cols[2].text_input("gradients g₁, g₂, …", persist_state="session", key="keep_opt_adam_grads",
                       help="The gradient at each step, separated by commas (up to 20).")
    try:
        grads = parse_numbers(st.session_state.keep_opt_adam_grads, "Gradients", max_count=20)
        rows = adam_trace(st.session_state.keep_opt_adam_theta, st.session_state.keep_opt_adam_lr, grads)
    except ValueError as e:
        st.error(str(e))
        return
    st.caption(f"β₁ = {ADAM_BETA1:g}, β₂ = {ADAM_BETA2:g}, ε = {ADAM_EPS:g} (the usual defaults).")
    table = pd.DataFrame(rows).rename(columns={"m_hat": "m̂", "v_hat": "v̂", "step": "η m̂/(√v̂+ε)", "theta": "θ"})
    formats = {"g": "%.4g", "m": "%.4f", "v": "%.6f", "m̂": "%.4f", "v̂": "%.4f", "η m̂/(√v̂+ε)": "%.5f", "θ": "%.4f"}
    st.dataframe(table, hide_index=True, column_config={c: st.column_config.NumberColumn(format=f)
                                                        for c, f in formats.items()})
    first = rows[0]
    one_minus_b1, one_minus_b2 = f"{1 - ADAM_BETA1:.4g}", f"{1 - ADAM_BETA2:.4g}"      # 0.1 and 0.001, at t = 1 also 1 − βᵗ
    st.latex(rf"""t = 1:\; m_1 = {one_minus_b1} \cdot {first['g']:g} = {first['m']:.4g},\; v_1 = {one_minus_b2} \cdot {first['g']:g}^2 = {first['v']:.4g},\;
\hat m_1 = \frac{{{first['m']:.4g}}}{{{one_minus_b1}}} = {first['m_hat']:.4g},\; \hat v_1 = \frac{{{first['v']:.4g}}}{{{one_minus_b2}}} = {first['v_hat']:.4g},\;
\theta_1 = {st.session_state.keep_opt_adam_theta:g} - {st.session_state.keep_opt_adam_lr:g}\cdot\frac{{{first['m_hat']:.4g}}}{{\sqrt{{{first['v_hat']:.4g}}}}} = {first['theta']:.4g}""")
    st.caption("At t = 1, m̂ = g and √v̂ = |g|: the first step is exactly η, whatever the gradient's size.")


@st.cache_data(max_entries=4, show_spinner=False)
def cached_sweep(optimizer):
    return lr_sweep(lr_grid(*SWEEP_RANGES[optimizer]), optimizer=optimizer)


def sweep_section():
    st.header("Finding a learning rate")
    st.markdown(r"""Train the same small network (2 → 16 tanh → 3 classes, on 150 points of three spirals) for 60
full-batch steps with each $\eta$ on a log scale, always from the same starting weights. Too small and it
barely moves; too large and each step overshoots until the loss blows up. The good band in between is
what an **LR finder** looks for — pick an $\eta$ somewhat below where the loss is lowest.""")
    st.segmented_control("Optimizer", list(SWEEP_RANGES), format_func=OPTIMIZER_TITLES.get, persist_state="session",
                         key="keep_opt_sweep_opt",
                         required=True, help="SGD's good band sits much higher than Adam's.")
    sweep = cached_sweep(st.session_state.keep_opt_sweep_opt or "sgd")
    with np.errstate(invalid="ignore"):
        peaks = np.max(sweep.curves, axis=1)                                  # (n,)  highest loss on the way
    ceiling = 10 * sweep.start_loss
    # a stable run is drawn at its final loss, a diverging one at the highest loss it reached (off-scale at the top)
    shown = np.array([min(peak if v == "diverging" else final, ceiling) if np.isfinite(peak) else ceiling
                      for v, peak, final in zip(sweep.verdicts, peaks, sweep.final_losses)])
    fig = go.Figure()
    fig.add_scatter(x=sweep.lrs, y=shown, mode="lines", line=dict(color=palette.NEUTRAL), showlegend=False,
                    hoverinfo="skip")
    for name, color in VERDICT_COLORS.items():
        idx = [i for i, v in enumerate(sweep.verdicts) if v == name]
        fig.add_scatter(x=sweep.lrs[idx], y=shown[idx], mode="markers", name=name,
                        marker=dict(color=color, size=11, symbol=VERDICT_SYMBOLS[name]),
                        customdata=np.column_stack([sweep.final_losses[idx], peaks[idx]]),
                        hovertemplate="η = %{x:.3g}<br>final loss %{customdata[0]:.4g}<br>highest %{customdata[1]:.4g}")
    fig.add_scatter(x=sweep.lrs[[0, -1]], y=[sweep.start_loss] * 2, mode="lines", name="starting loss",
                    line=dict(dash="dash", color="gray"))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=10, b=10), xaxis_type="log", yaxis_type="log",
                      xaxis_exponentformat="power", xaxis_title="learning rate η (log scale)",
                      yaxis_title=f"loss after {sweep.steps} steps<br>(diverging: highest on the way)",
                      legend=dict(orientation="h", y=1.12))
    st.plotly_chart(fig, key="sweep")
    good = [lr for lr, v in zip(sweep.lrs, sweep.verdicts) if v == "good"]
    diverging = [lr for lr, v in zip(sweep.lrs, sweep.verdicts) if v == "diverging"]
    text = f"Lowest loss (of the runs that did not diverge) at η ≈ {sweep.best_lr:.3g}." if sweep.best_lr else ""
    if good:
        text += f" Good band: η from {min(good):.3g} to {max(good):.3g}."
    if diverging:
        text += (f" Diverging from η ≈ {min(diverging):.3g}: at some step the loss rose above {RISE:g}× where it "
                 "started (drawn at the highest loss it reached; off-scale points at the top).")
    st.markdown(text)
    st.caption("Diverging is judged by the whole run, not its last step. The hidden layer is tanh, which keeps "
               "every hidden output within ±1, so here a too-large η rarely ends in infinity: the loss jumps up, "
               "wanders, and after 60 steps may land low by luck. Adam moves every weight by about η per step "
               "whatever the gradient, so its band sits far below SGD's; the usual advice of η ≈ 10⁻³ is for "
               "large networks on noisy mini-batches, while this tiny full-batch problem tolerates about 0.1.")


def schedules_section():
    st.header("Learning-rate schedules")
    st.markdown(r"""A large $\eta$ makes fast progress early; a small one settles into the minimum late. Schedules do
both: **step decay** $\eta_t = \eta\,\gamma^{\lfloor t/k \rfloor}$ drops by $\gamma$ every $k$ steps;
**cosine** $\eta_t = \tfrac12\eta\,(1 + \cos(\pi t / T))$ glides smoothly from $\eta$ to 0 over $T$ steps.""")
    cols = st.columns(4)
    cols[0].select_slider("η", LR_OPTIONS, persist_state="session", key="keep_opt_sched_lr", format_func=lambda v: f"{v:g}",
                          help="The starting learning rate.")
    cols[1].slider("T (total steps)", 100, 5000, step=100, persist_state="session", key="keep_opt_sched_T",
                   help="Length of training.")
    cols[2].slider("k (drop every)", 10, 2000, step=10, persist_state="session", key="keep_opt_sched_every",
                   help="Step decay multiplies η by γ every k steps.")
    cols[3].slider("γ", 0.1, 0.9, step=0.05, persist_state="session", key="keep_opt_sched_gamma", help="Step decay factor.")
    s = st.session_state
    ts = np.arange(s.keep_opt_sched_T + 1)
    fig = go.Figure()
    schedules = {"constant": {}, "step": dict(every=s.keep_opt_sched_every, gamma=s.keep_opt_sched_gamma), "cosine": {}}
    for color, (name, kwargs) in zip(palette.CATEGORICAL, schedules.items()):
        lrs = [scheduled_lr(name, s.keep_opt_sched_lr, int(t), s.keep_opt_sched_T, **kwargs) for t in ts]
        fig.add_scatter(x=ts, y=lrs, name=name, line=dict(width=3, color=color, dash="dot" if name == "constant" else None))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="step t", yaxis_title="ηₜ",
                      legend=dict(orientation="h", y=1.12))
    st.plotly_chart(fig, key="schedules")


st.title("Optimizers")
st.markdown(
    r"""Backprop gives the gradient $g = \nabla_\theta L$; the **optimizer** decides how far to move. Plain SGD
steps straight downhill, $\theta \leftarrow \theta - \eta g$. That is slow in a narrow ravine: the steep walls
force a small $\eta$, and along the flat floor a small $\eta$ crawls. The fixes:""")
st.latex(r"""\textbf{Momentum: } v \leftarrow \beta v + g,\ \theta \leftarrow \theta - \eta v \qquad
\textbf{RMSProp: } s \leftarrow \rho s + (1-\rho) g^2,\ \theta \leftarrow \theta - \frac{\eta\, g}{\sqrt{s} + \varepsilon}""")
st.markdown(r"""Momentum averages away the zig-zag and builds up speed along the floor; RMSProp divides each
coordinate's step by its typical gradient size; **Adam** does both, and **AdamW** adds weight decay
$\theta \leftarrow \theta - \eta\lambda\theta$. Race them below, then watch Adam's arithmetic by hand.""")

race_section()
adam_section()
sweep_section()
schedules_section()
st.button("Reset to example", on_click=reset, help="Back to the ravine race and the worked Adam example.")

check_yourself([
    Question("SGD on f = x²/50 + y² (curvature 2 along y) with η = 1.5 will…",
             ["converge slowly", "converge fast", "diverge: η·2 > 2, so every step overshoots more",
              "stop at a saddle"], 2, "Along y, SGD multiplies y by 1 − 2η = −2 each step: |y| doubles."),
    Question("θ₀ = 5, η = 0.1, first gradient g₁ = 2. What is θ₁ with Adam?",
             ["4.8", "4.9", "4.98", "4.6"], 1,
             "At t = 1, m̂₁ = g₁ and √v̂₁ = |g₁|, so the step is η·sign(g₁) = 0.1: θ₁ = 4.9."),
    Question("Why does Adam divide m̂ by √v̂?",
             ["To make every step about η in size, whatever the gradient's scale",
              "To make the loss smaller", "To add weight decay", "To remove momentum"], 0,
             "√v̂ is the gradient's typical size, so m̂/√v̂ is close to ±1 when the gradients agree."),
], key="opt_quiz")
