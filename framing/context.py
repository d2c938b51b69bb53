"""Article context for a passage, and the token layout of a passage with its context.

Who speaks in a passage is often said only earlier in the article ("She
added ..."). With ``context="previous"`` a passage is scored with its article's
headline and the passage before it as a second segment::

    <s> query: PASSAGE </s> </s> HEADLINE / PREVIOUS PASSAGE </s>

The context is cut to ``context_tokens`` tokens (its start, where the
attribution usually is), attention sees both segments, and the head pools only
over the passage's own tokens, so the passage stays what is labelled. Training,
evaluation and inference all build inputs with :func:`pair_ids`, and contexts
with :func:`article_contexts` / :func:`contexts_in_order`, so the three agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

CONTEXT_MODES = ("none", "previous")
CONTEXT_JOINER = " / "


def contexts_in_order(texts: Sequence[str]) -> list[str]:
    """Contexts for an article's passages in reading order (the first passage is the headline)."""
    out = []
    for i in range(len(texts)):
        parts = []
        if i >= 1:
            parts.append(texts[0])
        if i >= 2:
            parts.append(texts[i - 1])
        out.append(CONTEXT_JOINER.join(p.strip() for p in parts))
    return out


def article_contexts(records: Sequence[dict]) -> list[str]:
    """The context of each record, from the records of the same article and language, by ``para``.

    A passage whose headline or previous passage is missing from ``records`` gets what is there
    (the headline is the lowest ``para`` present); the first passage of an article gets "".
    """
    by_article: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)
    for r in records:
        by_article[(r["article_id"], r["lang"])][int(r["para"])] = r["text"]
    out = []
    for r in records:
        paras = by_article[(r["article_id"], r["lang"])]
        p = int(r["para"])
        head = min(paras)
        parts = []
        if p > head:
            parts.append(paras[head])
        if p - 1 > head and (p - 1) in paras:
            parts.append(paras[p - 1])
        out.append(CONTEXT_JOINER.join(x.strip() for x in parts))
    return out


def pair_ids(passage: list[int], context: list[int] | None, max_len: int, context_tokens: int,
             cls_id: int, sep_id: int) -> tuple[list[int], list[int]]:
    """Token ids of passage (+ context) with special tokens, and the pooling mask (1 = passage).

    The passage is cut to fit ``max_len`` (inference windows long passages before this); the
    context gets at most ``context_tokens`` tokens and whatever room the passage leaves.
    """
    passage = passage[:max_len - 2]
    ids = [cls_id, *passage, sep_id]
    pool = [1] * len(ids)
    room = min(context_tokens, max_len - len(ids) - 2)
    if context and room > 0:
        tail = [sep_id, *context[:room], sep_id]
        ids += tail
        pool += [0] * len(tail)
    return ids, pool
