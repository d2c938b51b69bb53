"""What counts as blank text: one definition for segmentation, ``predict()``, ``score_article()``,
the command line and the record validator.

A character is blank when it is whitespace (``str.isspace``), a control or
format character (Unicode categories Cc and Cf: zero-width spaces and joiners,
the BOM, bidirectional marks, soft hyphens) or a Hangul filler. Text made only
of blank characters carries nothing to label.
"""

from __future__ import annotations

import unicodedata

BLANK_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Default-ignorable letters that render as nothing (Hangul fillers) and the combining grapheme joiner.
INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u3164\uffa0")


def is_blank_char(ch: str) -> bool:
    """True for whitespace, control and format characters (see the module docstring)."""
    if ch in INVISIBLE_EXTRA:
        return True
    return not ch.isalnum() and (ch.isspace() or unicodedata.category(ch) in BLANK_CATEGORIES)


def is_blank(text: str) -> bool:
    """True when ``text`` has no visible character (empty, whitespace, zero-width, controls)."""
    return all(is_blank_char(ch) for ch in text)


def blank_prefix_len(text: str) -> int:
    """Number of blank characters at the start of ``text``."""
    n = 0
    while n < len(text) and is_blank_char(text[n]):
        n += 1
    return n


def blank_suffix_len(text: str) -> int:
    """Number of blank characters at the end of ``text``."""
    n = 0
    while n < len(text) and is_blank_char(text[len(text) - 1 - n]):
        n += 1
    return n


def strip_blank(text: str) -> str:
    """``text`` without blank characters at either end."""
    start = blank_prefix_len(text)
    if start == len(text):
        return ""
    return text[start:len(text) - blank_suffix_len(text)]
