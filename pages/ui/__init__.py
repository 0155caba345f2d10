"""Small Streamlit pieces shared by several pages (quiz, number parsing). Pages stay thin; math lives in core/."""
