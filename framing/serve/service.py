"""What the API and the page share: the loaded model behind one :class:`BatchQueue`.

Passages go through :func:`framing.predict` and explanations through
:func:`framing.explain`, each call merging the requests that wait together.
Articles are segmented here and their passages scored like
:func:`framing.score_article` does (same segmentation, same article context
for each passage, same summary), so that a request's articles share one model
call with other requests.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..blank import is_blank
from ..cli import article_row, passage_row
from ..context import contexts_in_order
from ..explain import explain
from ..inference import PassageResult, load_predictor, predict, summarize
from ..segment import segment_article
from .batching import BatchQueue
from .config import ServeConfig


class Service:
    """A model loaded once and scored through a merging queue."""

    def __init__(self, model: str | None, cfg: ServeConfig, device: str | None = None, precision: str = "auto",
                 backend: str = "auto"):
        self.cfg, self.device, self.precision, self.backend = cfg, device, precision, backend
        self.predictor = load_predictor(model, device, precision, backend)  # fails now, not at the first request
        self.model = self.predictor.path
        b = cfg.batching
        self.queue = BatchQueue({"predict": self._predict, "explain": self._explain}, merge=b.merge,
                                merge_window_ms=b.merge_window_ms, max_batch_texts=b.max_batch_texts,
                                queue_size=b.queue_size)

    # Queue items are (passage, context) pairs: "" for a passage on its own, the headline and previous
    # passage (framing.context) for a passage of an article, as score_article() gives them.
    def _predict(self, items: list[tuple[str, str]]) -> list:
        return predict([t for t, _ in items], self.model, batch_size=self.cfg.batching.batch_size,
                       device=self.device, precision=self.precision, backend=self.backend,
                       context=[c for _, c in items])

    def _explain(self, items: list[tuple[str, str]], lang: str | None = None) -> list:
        return explain([t for t, _ in items], self.model, context=[c for _, c in items], lang=lang,
                       batch_size=self.cfg.explain.batch_size, device=self.device, precision=self.precision,
                       backend=self.backend)

    async def predict_rows(self, texts: list[str], explain: bool = False, lang: str | None = None) -> list[dict]:
        """Passage rows in the CLI's format (``explanation`` added with ``explain``)."""
        items = [(t, "") for t in texts]
        preds = await self.queue.run("predict", items)
        exps = await self.queue.run("explain", items, lang=lang) if explain else [None] * len(texts)
        return [passage_row({}, p, e) for p, e in zip(preds, exps)]

    async def article_rows(self, texts: list[str], explain: bool = False, lang: str | None = None,
                           metas: list[dict] | None = None) -> list[dict]:
        """Article rows in the CLI's format plus ``dropped`` (the boilerplate, with offsets and reasons)."""
        segs = [None if is_blank(t) else segment_article(t) for t in texts]
        flat = []
        for seg in segs:
            if seg is not None:
                ptexts = [p.text for p in seg.passages]
                flat += zip(ptexts, contexts_in_order(ptexts))
        preds = await self.queue.run("predict", flat)
        exps = await self.queue.run("explain", flat, lang=lang) if explain else None
        rows, pos = [], 0
        for i, (text, seg) in enumerate(zip(texts, segs)):
            meta = metas[i] if metas else {}
            if seg is None:
                rows.append({**article_row(meta, None), "dropped": []})
                continue
            n = len(seg.passages)
            passages = [PassageResult(text=p.text, label=r.label, scores=r.scores, empty=r.empty, windows=r.windows,
                                      start=p.start, end=p.end, index=p.index)
                        for p, r in zip(seg.passages, preds[pos:pos + n])]
            row = article_row(meta, summarize(passages, text), exps[pos:pos + n] if exps else None)
            row["dropped"] = [{"start": d.start, "end": d.end, "text": d.text, "reason": d.reason}
                              for d in seg.dropped]
            rows.append(row)
            pos += n
        return rows

    def model_info(self) -> dict:
        """Labels, base model, temperature and the metrics summary of the model's ``metrics.json``."""
        p = self.predictor
        cfg = p.config
        metrics, base = None, getattr(cfg, "_name_or_path", None)
        mfile = Path(p.path) / "metrics.json"
        if mfile.is_file():
            try:
                m = json.loads(mfile.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                m = {}
            base = m.get("training", {}).get("base_model", base)
            metrics = {name: {k: s.get("model", {}).get(k) for k in ("n", "macro_f1", "accuracy")}
                       for name, s in m.get("sets", {}).items() if isinstance(s, dict)} or None
        lim = self.cfg.limits
        return {"model": Path(p.path).name or p.path, "labels": list(p.labels), "base_model": base,
                "temperature": p.temperature, "max_seq_length": p.max_len, "precision": p.precision,
                "backend": p.backend, "device": p.device, "metrics": metrics,
                "limits": {"max_body_bytes": lim.max_body_bytes, "max_texts": lim.max_texts,
                           "queue_size": self.cfg.batching.queue_size},
                "request_merging": self.cfg.batching.merge}

    def close(self) -> None:
        self.queue.close()
