"""Which sentence or clause drove a passage's label: ``explain(text) -> Explanation``.

Occlusion ("leave one out"): a passage of several sentences is scored again with
each sentence left out in turn; a passage of one sentence is cut into clauses (at
``, ; :`` and dashes) instead. A span's *contribution* is the drop in the
probability of the passage's predicted label when that span is left out: large
and positive for the sentence that carried the label, negative for one that
argued against it. A passage of a single clause is compared with the empty
passage (the model's prior). Fragments shorter than ``MIN_SPAN_WORDS`` words
(an abbreviation cut off by the sentence splitter, "however,") are merged into
their neighbour.

The passage and all its occluded variants go to the loaded
:class:`~framing.inference.Predictor` in one ``probabilities()`` call, in batches
of ``batch_size`` windows: one explanation costs one batched forward pass
(unless the passage has more than ``batch_size - 1`` sentences or is longer than
the model's window), and a list of passages shares the same batches.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .blank import is_blank

EXPLAIN_BATCH_SIZE = 64  # windows per forward pass: a passage and its variants fit one batch
MIN_SPAN_WORDS = 3  # shorter sentence or clause fragments are merged into a neighbour
DEFAULT_LANG = "en"  # sentence rules for Latin-script text when no language is given
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+(?=[–—]\s)|\s+(?=-\s)")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")


@dataclass(frozen=True)
class Span:
    """A sentence or clause of the passage, ``text[start:end]``, and its effect on the label.

    ``contribution``: probability of the passage's label with everything minus the
    probability without this span; ``score_without``: the latter.
    """

    text: str
    start: int
    end: int
    contribution: float
    score_without: float


@dataclass(frozen=True)
class Explanation:
    """A passage's label and scores, and the spans that drove the label (``unit``: sentence or clause)."""

    text: str
    label: str | None
    scores: dict[str, float] = field(default_factory=dict)
    unit: str = "sentence"
    spans: list[Span] = field(default_factory=list)
    empty: bool = False

    @property
    def top(self) -> Span | None:
        """The span whose removal lowers the label's probability most (None for an empty passage)."""
        return max(self.spans, key=lambda s: s.contribution) if self.spans else None

    def to_dict(self) -> dict:
        """JSON-ready form (the ``explanation`` field of the CLI and the REST API)."""
        return {"label": self.label, "unit": self.unit, "spans": [asdict(s) for s in self.spans]}


def guess_lang(text: str) -> str:
    """The sentence rules to use: ``uk`` or ``ru`` for Cyrillic text, else :data:`DEFAULT_LANG`."""
    if _CYRILLIC.search(text):
        return "uk" if _UKRAINIAN.search(text) else "ru"
    return DEFAULT_LANG


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _merge_short(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Glue fragments of fewer than ``MIN_SPAN_WORDS`` words to the next span (the last to the previous)."""
    out: list[tuple[int, int]] = []
    carry: int | None = None
    for s, e in spans:
        s = carry if carry is not None else s
        carry = None
        if len(text[s:e].split()) < MIN_SPAN_WORDS:
            carry = s
            continue
        out.append((s, e))
    if carry is not None:
        if out:
            out[-1] = (out[-1][0], spans[-1][1])
        else:
            out.append((carry, spans[-1][1]))
    return out


def sentence_spans(text: str, lang: str | None = None) -> list[tuple[int, int]]:
    """``[start, end)`` of each sentence of ``text`` (sentencex rules of ``lang``), short fragments merged."""
    from sentencex import get_sentence_boundaries

    raw = [_trim(text, b["start_index"], b["end_index"])
           for b in get_sentence_boundaries(lang or guess_lang(text), text)]
    return _merge_short(text, [(s, e) for s, e in raw if e > s])


def clause_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each clause of one sentence (cut after ``, ; :`` and before dashes)."""
    spans, pos = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        spans.append(_trim(text, pos, m.start()))
        pos = m.end()
    spans.append(_trim(text, pos, len(text)))
    return _merge_short(text, [(s, e) for s, e in spans if e > s])


def occlusion_spans(text: str, lang: str | None = None) -> tuple[str, list[tuple[int, int]]]:
    """The unit (``sentence`` or ``clause``) and the spans to leave out of ``text`` one at a time."""
    sentences = sentence_spans(text, lang)
    if len(sentences) > 1:
        return "sentence", sentences
    return "clause", clause_spans(text) or [_trim(text, 0, len(text))]


def leave_out(text: str, start: int, end: int) -> str:
    """``text`` without ``text[start:end]``, the two sides joined by one space."""
    return " ".join(part for part in (text[:start].strip(), text[end:].strip()) if part)


def _check_contexts(context: object, n: int) -> list[str]:
    if context is None:
        return [""] * n
    ctx = [context] if isinstance(context, str) else context
    if not isinstance(ctx, (list, tuple)) or len(ctx) != n or not all(isinstance(c, str) for c in ctx):
        raise TypeError(f"context must be a str per passage ({n}), got {type(context).__name__}")
    return list(ctx)


def _check(texts: object) -> tuple[list[str], bool]:
    if isinstance(texts, str):
        if is_blank(texts):
            raise ValueError("cannot explain an empty or whitespace-only passage")
        return [texts], True
    if isinstance(texts, (list, tuple)):
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] must be str, not {type(t).__name__}")
        return list(texts), False
    raise TypeError(f"texts must be str or a list/tuple of str, not {type(texts).__name__}")


def explain(texts: str | Sequence[str], model: str | os.PathLike | None = None, *,
            context: str | Sequence[str] | None = None, lang: str | None = None,
            batch_size: int = EXPLAIN_BATCH_SIZE, device: str | None = None,
            precision: str = "auto", backend: str = "auto") -> Explanation | list[Explanation]:
    """Explain the label of one passage (a string) or of each passage of a list.

    ``model``, ``context`` (the passage's headline and previous passage, for a
    model trained with context; kept fixed while spans of the passage are left
    out), ``device``, ``precision`` and ``backend`` are those of :func:`framing.predict`;
    ``lang`` picks the sentence rules (default: guessed from the script). Blank
    passages in a list give ``Explanation(label=None, empty=True)``; a single
    blank string raises ``ValueError``.
    """
    from .inference import load_predictor

    items, single = _check(texts)
    contexts = _check_contexts(context, len(items))
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    plans = [None if is_blank(t) else occlusion_spans(t, lang) for t in items]
    variants: list[str] = []
    variant_contexts: list[str] = []
    for text, ctx, plan in zip(items, contexts, plans):
        if plan is not None:
            variants.append(text)
            variants.extend(leave_out(text, s, e) for s, e in plan[1])
            variant_contexts += [ctx] * (1 + len(plan[1]))
    results = [Explanation(text=t, label=None, empty=True) for t in items]
    if variants:
        predictor = load_predictor(model, device, precision, backend)
        probs, _ = predictor.probabilities(variants, batch_size,
                                           contexts=variant_contexts if any(variant_contexts) else None)
        row = 0
        for i, (text, plan) in enumerate(zip(items, plans)):
            if plan is None:
                continue
            unit, spans = plan
            full, without = probs[row], probs[row + 1:row + 1 + len(spans)]
            row += 1 + len(spans)
            k = int(full.argmax())
            results[i] = Explanation(
                text=text, label=predictor.labels[k],
                scores={lab: float(p) for lab, p in zip(predictor.labels, full)}, unit=unit,
                spans=[Span(text[s:e], s, e, float(full[k] - w[k]), float(w[k])) for (s, e), w in zip(spans, without)])
    return results[0] if single else results
