"""Records -> model inputs: tokenized passages (with optional article context) and a padding collator.

Training and evaluation during training go through :func:`tokenize`; inference
builds the very same token layout through :func:`framing.context.pair_ids`.
Columns: ``input_ids``, ``attention_mask``, ``pool_mask`` (1 on the passage's
own tokens), ``labels`` and, for the auxiliary head, ``speaker_labels``
(``-100`` where a record has no ``speaker`` tag, so it adds no loss).
"""

from __future__ import annotations

from collections.abc import Sequence

from .context import article_contexts, pair_ids
from .data import to_dataset
from .labels import SPEAKERS

IGNORE_INDEX = -100


def speaker_ids(records: Sequence[dict]) -> list[int]:
    """Index of each record's ``speaker`` in :data:`SPEAKERS`, or ``IGNORE_INDEX`` when untagged."""
    return [SPEAKERS.index(r["speaker"]) if r.get("speaker") in SPEAKERS else IGNORE_INDEX for r in records]


def tokenize(records: Sequence[dict], tokenizer, *, text_prefix: str, max_length: int, context: str = "none",
             context_tokens: int = 0, contexts: Sequence[str] | None = None):
    """A tokenized ``datasets.Dataset`` of ``records`` (padding happens in :class:`Collator`).

    ``contexts`` overrides the contexts taken from the records' own articles (``context="previous"``).
    """
    ds = to_dataset(records)
    if context != "none" and contexts is None:
        contexts = article_contexts(records)
    passages = tokenizer([text_prefix + r["text"] for r in records], add_special_tokens=False,
                         truncation=False, verbose=False)["input_ids"]
    ctx_ids = (tokenizer(list(contexts), add_special_tokens=False, truncation=True, max_length=max(context_tokens, 1),
                         verbose=False)["input_ids"] if context != "none" else [None] * len(records))
    ids, pools = [], []
    for p, c in zip(passages, ctx_ids):
        seq, pool = pair_ids(p, c, max_length, context_tokens if context != "none" else 0,
                             tokenizer.cls_token_id, tokenizer.sep_token_id)
        ids.append(seq)
        pools.append(pool)
    keep = ds.select_columns(["label"]).rename_column("label", "labels")
    keep = keep.add_column("input_ids", ids).add_column("pool_mask", pools)
    keep = keep.add_column("attention_mask", [[1] * len(x) for x in ids])
    return keep.add_column("speaker_labels", speaker_ids(records))


class Collator:
    """Pads ``input_ids`` (pad id), ``attention_mask`` and ``pool_mask`` (0) to the batch's longest row."""

    def __init__(self, pad_id: int, pad_to_multiple_of: int = 8):
        self.pad_id, self.multiple = pad_id, pad_to_multiple_of

    def __call__(self, features: list[dict]) -> dict:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        width = -(-width // self.multiple) * self.multiple
        out = {}
        for key, fill in (("input_ids", self.pad_id), ("attention_mask", 0), ("pool_mask", 0)):
            out[key] = torch.tensor([list(f[key]) + [fill] * (width - len(f[key])) for f in features])
        out["labels"] = torch.tensor([f["labels"] for f in features])
        out["speaker_labels"] = torch.tensor([f["speaker_labels"] for f in features])
        return out
