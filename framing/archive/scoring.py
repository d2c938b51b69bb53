"""Score the rows of one partition into its output table, exactly as ``predict()``/``score_article()`` do.

Passage mode: a row is a passage. With an article column, each passage goes
with its context as :mod:`framing.context` builds it for the corpus: by
``para`` when every passage of the article has one (:func:`article_contexts`),
else in row order (:func:`contexts_in_order`); ``start``/``end`` are null (the
passage is the whole text; there is no article text to point into) and
``passage`` is ``para``. Without an article column a passage is scored on its
own, like ``predict(texts)``.

Article mode: a row is a whole article, segmented by :func:`framing.segment`
with its boilerplate dropped, and each passage is scored with its context, as
:func:`score_article` does; ``passage`` is the passage's index and
``[start, end)`` its span in the article text.

A blank or null text gives one row with ``empty`` true and a null label.
"""

from __future__ import annotations

from collections import defaultdict

from ..context import article_contexts, contexts_in_order
from ..inference import predict
from ..labels import LABELS
from ..segment import segment
from .options import ArchiveOptions
from .sources import Rows

SCORE_COLUMNS = tuple(f"score_{lab}" for lab in LABELS)


def output_schema(keep_text: bool):
    """The columns of every partition file (the same in every file, so the directory reads as one table)."""
    import pyarrow as pa

    fields = [("id", pa.string()), ("article_id", pa.string()), ("passage", pa.int64()), ("start", pa.int64()),
              ("end", pa.int64()), ("label", pa.string()), *((c, pa.float64()) for c in SCORE_COLUMNS),
              ("empty", pa.bool_())]
    if keep_text:
        fields.append(("text", pa.string()))
    return pa.schema(fields)


def passage_contexts(rows: Rows) -> list[str] | None:
    """Each passage's context from the other passages of its article in this partition (None: no articles)."""
    if all(a is None for a in rows.articles):
        return None
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, a in enumerate(rows.articles):
        if a is not None:
            groups[(a, rows.langs[i])].append(i)
    out = [""] * len(rows.texts)
    for (article, lang), idx in groups.items():
        texts = [rows.texts[i] or "" for i in idx]
        if all(rows.paras[i] is not None for i in idx):
            recs = [{"article_id": article, "lang": lang or "", "para": rows.paras[i], "text": t}
                    for i, t in zip(idx, texts)]
            ctx = article_contexts(recs)
        else:
            ctx = contexts_in_order(texts)
        for i, c in zip(idx, ctx):
            out[i] = c
    return out


def score_rows(rows: Rows, model: str, opts: ArchiveOptions, *, batch_size: int, device: str | None):
    """The output table of one partition's rows."""
    import pyarrow as pa

    cols: dict[str, list] = {name: [] for name in output_schema(opts.keep_text).names}
    texts: list[str] = []
    contexts: list[str] | None
    if opts.level == "article":
        contexts = []
        for i, article in enumerate(rows.texts):
            passages = segment(article) if article else []
            aid = rows.articles[i] if rows.articles[i] is not None else rows.ids[i]
            if not passages:  # blank (or all boilerplate): one empty row, so no article goes missing
                _meta(cols, rows.ids[i], aid, None, None, None)
                texts.append("")
                contexts.append("")
                continue
            ptexts = [p.text for p in passages]
            contexts += contexts_in_order(ptexts)
            texts += ptexts
            for p in passages:
                _meta(cols, f"{rows.ids[i]}#{p.index}", aid, p.index, p.start, p.end)
    else:
        contexts = passage_contexts(rows)
        texts = [t or "" for t in rows.texts]
        for i in range(len(texts)):
            _meta(cols, rows.ids[i], rows.articles[i], rows.paras[i], None, None)
    preds = predict(texts, model, batch_size=batch_size, device=device, precision=opts.precision,
                    backend=opts.backend, context=contexts) if texts else []
    for p in preds:
        cols["label"].append(p.label)
        for lab, c in zip(LABELS, SCORE_COLUMNS):
            cols[c].append(p.scores.get(lab))
        cols["empty"].append(p.empty)
        if opts.keep_text:
            cols["text"].append(p.text)
    return pa.table(cols, schema=output_schema(opts.keep_text))


def _meta(cols: dict, rid: str, article: str | None, passage: int | None, start: int | None,
          end: int | None) -> None:
    cols["id"].append(rid)
    cols["article_id"].append(article)
    cols["passage"].append(passage)
    cols["start"].append(start)
    cols["end"].append(end)
