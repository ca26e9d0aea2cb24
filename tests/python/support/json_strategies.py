"""Hypothesis strategies shared by the canonical-JSON tests (the Python fast route and the C route)."""

from __future__ import annotations

from hypothesis import strategies as st

# Characters that matter: controls, quotes, backslash, non-ASCII in and out of the Basic
# Multilingual Plane (sorting differs there), U+E000-U+FFFF (sorts above surrogate pairs in
# UTF-16), and lone surrogates.
tricky_text = st.text(
    st.sampled_from(
        [
            "a",
            "Z",
            "é",
            "\u2028",
            "\x00",
            "\x1f",
            "\x7f",
            '"',
            "\\",
            "/",
            "\ue000",
            "\uffff",
            "😀",
            "\U0010ffff",
        ]
    )
    | st.characters(codec="utf-8")
    | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    max_size=6,
)
