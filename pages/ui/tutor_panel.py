"""The tutor's findings on a page: each with its evidence, a Why? to open, and an Apply button.

    findings_panel(findings, on_apply, key)

findings: lab.tutor.diagnose(...)'s list; on_apply(finding) is the button's callback (it applies
finding.apply, a settings change in the run's own setting names, and restarts or continues the run);
key: a prefix for the widget keys (buttons are f"{key}_apply_{finding.code}").
"""
import streamlit as st


def findings_panel(findings, on_apply, key):
    if not findings:
        st.success("The tutor sees nothing wrong with this run so far.", icon=":material/check:")
        return
    for f in findings:
        with st.container(border=True):
            icon = ":material/warning:" if f.level == "warning" else ":material/info:"   # no emoji: see issue 14
            st.markdown(f"{icon} **{f.title}.** {f.evidence}")
            with st.expander("Why?"):
                st.markdown(f.why)
                st.latex(f.formula)
            if f.apply:
                st.button(f.apply_label, key=f"{key}_apply_{f.code}", on_click=on_apply, args=(f,),
                          icon=":material/build:", help=f"Changes {', '.join(f'{k} → {v}' for k, v in f.apply.items())} "
                                                        "and starts the run again.")
