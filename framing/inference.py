"""Score passages and articles with a trained framing model: ``predict()`` and ``score_article()``.

Speed on a CPU comes from: the precision measured fastest on this kind of CPU
(bf16 autocast with AMX, fp32 elsewhere: see :mod:`framing.hardware`;
``precision="fp32"`` or ``"bf16"`` forces one), batches of windows sorted by
length with padding only to the longest window of each batch, and
``torch.inference_mode``, or an ONNX Runtime / OpenVINO backend where one was
measured faster and faithful (``backend=``, :mod:`framing.backends`). The model
is loaded once per process (per directory, device, precision and backend) and
shared; concurrent calls from threads are safe.

Long passages are never silently truncated: a passage longer than the model's
window is cut into overlapping windows of ``max_seq_length - 2`` tokens (stride
= three quarters of a window), each window is scored, and the passage's logits
are the mean of the windows' logits weighted by each window's token count.
Calibrated probabilities are ``softmax(logits / T)`` with the temperature ``T``
fitted on the validation split at training time.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .context import contexts_in_order, pair_ids
from .hardware import resolve_precision
from .blank import is_blank
from .device import resolve_device
from .errors import ModelDirectoryError, ModelNotFoundError
from .labels import LABELS
from .model_checks import check_finite, check_loaded, one_line, validate_model_dir  # noqa: F401
from .segment import segment

DEFAULT_MODEL_DIR = "outputs/framing-e5-small"
MODEL_ENV = "FRAMING_MODEL"
DEFAULT_BATCH_SIZE = 32
WINDOW_OVERLAP = 0.25
MAX_TOKENS_PER_CALL = 65536  # windows are tokenized and scored in chunks of this many tokens
# Batch widths are padded up to a multiple of this: far fewer distinct shapes for oneDNN to
# build kernels for (peak RSS 1.43 -> 1.20 GB on 1,000 passages, slightly faster).
PAD_TO_MULTIPLE = 16


@dataclass(frozen=True)
class Prediction:
    """One passage's result. ``empty`` is True (and ``label`` None) for blank input in a batch."""

    text: str
    label: str | None
    scores: dict[str, float] = field(default_factory=dict)
    empty: bool = False
    windows: int = 1


@dataclass(frozen=True)
class PassageResult(Prediction):
    """A passage of an article, with its character span ``[start, end)`` in the article."""

    start: int = 0
    end: int = 0
    index: int = 0


@dataclass(frozen=True)
class ArticleResult:
    """An article's passages and their summary.

    ``label_share``: share of passages per label; ``length_weighted_share``: the
    same weighted by passage length in characters; ``dominant_frame``: the label
    with the largest length-weighted share (None when no passage survived).
    """

    passages: list[PassageResult]
    label_share: dict[str, float]
    length_weighted_share: dict[str, float]
    dominant_frame: str | None
    text: str = ""


def _check_text(x: object, where: str = "text") -> str:
    if not isinstance(x, str):
        raise TypeError(f"{where} must be str (or a list/tuple of str), not {type(x).__name__}")
    return x


def clean_text(text: str) -> str:
    """Make any Python string safe for the tokenizer: lone surrogates become U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8") if not text.isascii() else text


def default_model_path() -> str:
    """Where ``predict()`` looks without ``model=``: ``$FRAMING_MODEL``, else the training output."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return env
    if Path(DEFAULT_MODEL_DIR, "config.json").is_file():
        return DEFAULT_MODEL_DIR
    raise ModelNotFoundError(
        f"no framing model found: pass model=PATH_OR_HUB_ID, set {MODEL_ENV}, or train one with "
        f"`python scripts/train.py` (it writes {DEFAULT_MODEL_DIR}/)")


class Predictor:
    """A loaded model with its tokenizer; scores texts in length-sorted batches.

    ``backend`` (see :mod:`framing.backends`) runs the numeric forward pass; everything else (windows,
    context pairs, batching, calibration) is this class's and the same for every backend.
    """

    def __init__(self, path: str, device: str = "cpu", precision: str = "auto", backend: str = "torch"):
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        from . import modeling  # noqa: F401  (registers the framing head with the Auto classes)
        from .backends import check_name, load_backend, resolve_name

        check_name(backend)
        device = resolve_device(device)
        local = Path(path)
        if local.exists():
            validate_model_dir(local)
        try:  # never run code from the directory: a framing model needs none (framing.modeling)
            tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
            config = AutoConfig.from_pretrained(path, trust_remote_code=False)
        except Exception as exc:  # library errors of every kind on broken files: one named line instead
            raise ModelDirectoryError(f"{path}: cannot load the model: {one_line(exc)}") from None

        def load_model():  # ONNX / OpenVINO need the torch model only to export it (once)
            try:
                model = AutoModelForSequenceClassification.from_pretrained(path, trust_remote_code=False)
            except Exception as exc:
                raise ModelDirectoryError(f"{path}: cannot load the model: {one_line(exc)}") from None
            check_finite(model, str(path))
            return model.to(device).eval()

        name, reason = (resolve_name(backend, precision, config) if local.exists() or backend != "auto"
                        else ("torch", "a Hub model: exports need a local directory"))
        engine, model = load_backend(name, local if local.exists() else None, load_model, device, precision)
        self._setup(config, model, tokenizer, str(path), device, engine, reason)

    @classmethod
    def from_model(cls, model, tokenizer, device: str = "cpu", precision: str = "auto") -> "Predictor":
        """Wrap an in-memory model (e.g. just trained) so it is scored exactly like a saved one (torch)."""
        from .backends.torch_backend import TorchBackend

        self = cls.__new__(cls)
        model = model.to(device).eval()
        engine = TorchBackend(model, device, resolve_precision(precision, device, task="inference", model=model))
        self._setup(model.config, model, tokenizer, "<in memory>", device, engine, "in-memory model")
        return self

    def _setup(self, cfg, model, tokenizer, path: str, device: str, engine, reason: str) -> None:
        check_loaded(cfg, tokenizer, path)
        labels = [cfg.id2label[i] for i in range(cfg.num_labels)]
        if sorted(labels) != sorted(LABELS):
            raise ModelDirectoryError(f"{path}: label map {labels} does not match {list(LABELS)}")
        self.path, self.device, self.labels, self.config = path, device, labels, cfg
        self.model, self.tokenizer, self.engine = model, tokenizer, engine  # model: None unless torch
        self.backend, self.backend_reason = engine.name, reason
        self.precision = getattr(engine, "precision", engine.name.rsplit("-", 1)[-1] if "-" in engine.name
                                 else "fp32")
        self.temperature = float(getattr(cfg, "calibration_temperature", 1.0))
        self.prefix = getattr(cfg, "text_prefix", "")
        self.max_len = min(int(getattr(cfg, "max_seq_length", 512)), cfg.max_position_embeddings)
        self.window = self.max_len - 2
        self.stride = max(1, int(self.window * (1 - WINDOW_OVERLAP)))
        self.context = getattr(cfg, "context", "none") or "none"
        self.context_tokens = int(getattr(cfg, "context_tokens", 0) or 0)
        self.cls_id, self.sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
        self.pad_id = tokenizer.pad_token_id
        self._tok_lock = threading.Lock()

    def _windows(self, ids: list[int]) -> list[list[int]]:
        if len(ids) <= self.window:
            return [ids]
        starts = list(range(0, len(ids) - self.window + 1, self.stride))
        if starts[-1] + self.window < len(ids):
            starts.append(len(ids) - self.window)
        return [ids[s:s + self.window] for s in starts]

    def _encode(self, texts: Sequence[str], prefix: bool = True) -> list[list[int]]:
        with self._tok_lock:
            enc = self.tokenizer([(self.prefix if prefix else "") + clean_text(t) for t in texts],
                                 add_special_tokens=False, truncation=False, return_attention_mask=False,
                                 verbose=False)
        return enc["input_ids"]

    def _forward(self, windows: list[tuple[list[int], list[int] | None]], batch_size: int) -> np.ndarray:
        seqs = [pair_ids(w, c, self.max_len, self.context_tokens, self.cls_id, self.sep_id) for w, c in windows]
        with_context = any(c for _, c in windows)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i][0]))
        out = np.zeros((len(seqs), len(self.labels)), dtype=np.float32)
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            width = max(len(seqs[i][0]) for i in idx)
            width = min(-(-width // PAD_TO_MULTIPLE) * PAD_TO_MULTIPLE, self.max_len)
            ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            pool = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                seq, pm = seqs[i]
                ids[row, :len(seq)] = seq
                mask[row, :len(seq)] = 1
                pool[row, :len(pm)] = pm
            out[idx] = self.engine.logits(ids, mask, pool if with_context else None)
        return out

    def logits(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               contexts: Sequence[str] | None = None) -> tuple[np.ndarray, list[int]]:
        """Uncalibrated logits per text (window-aggregated) and the number of windows of each.

        ``contexts`` (one string per text: headline and previous passage, see :mod:`framing.context`)
        is used only by a model trained with context, and only for passages that fit one window.
        """
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"got {len(contexts)} contexts for {len(texts)} texts")
        use_context = self.context != "none" and contexts is not None
        all_logits = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        n_windows = [0] * len(texts)
        for chunk in _token_budget_chunks(texts, MAX_TOKENS_PER_CALL):
            ids = self._encode([texts[i] for i in chunk])
            ctx = (self._encode([contexts[i] for i in chunk], prefix=False) if use_context
                   else [None] * len(chunk))
            windows, owner, weight = [], [], []
            for i, seq, c in zip(chunk, ids, ctx):
                ws = self._windows(seq)
                for w in ws:
                    windows.append((w, c[:self.context_tokens] if c and len(ws) == 1 else None))
                    owner.append(i)
                    weight.append(max(len(w), 1))
                    n_windows[i] += 1
            win_logits = self._forward(windows, batch_size)
            acc = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
            tot = np.zeros(len(texts), dtype=np.float64)
            np.add.at(acc, owner, win_logits * np.asarray(weight, dtype=np.float64)[:, None])
            np.add.at(tot, owner, weight)
            all_logits[chunk] = (acc[chunk] / tot[chunk, None]).astype(np.float32)
        return all_logits, n_windows

    def probabilities(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
                      temperature: float | None = None,
                      contexts: Sequence[str] | None = None) -> tuple[np.ndarray, list[int]]:
        """Calibrated label probabilities (columns in ``self.labels`` order)."""
        from .calibration import probabilities

        logits, n_windows = self.logits(texts, batch_size, contexts)
        t = self.temperature if temperature is None else temperature
        probs = probabilities(logits, t).astype(np.float64)
        if not np.isfinite(probs).all():
            raise ModelDirectoryError(f"{self.path}: the model produced non-finite scores (corrupt weights?)")
        return probs, n_windows


def _token_budget_chunks(texts: Sequence[str], budget: int) -> Iterator[list[int]]:
    """Indices of ``texts`` in chunks of about ``budget`` tokens (4 characters a token, roughly)."""
    chunk, size = [], 0
    for i, t in enumerate(texts):
        est = len(t) // 4 + 1
        if chunk and size + est > budget:
            yield chunk
            chunk, size = [], 0
        chunk.append(i)
        size += est
    if chunk:
        yield chunk


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_CACHE: dict[tuple[str, str, str, str], Predictor] = {}
_CACHE_LOCK = threading.Lock()


def load_predictor(model: str | os.PathLike | None = None, device: str | None = None,
                   precision: str = "auto", backend: str = "auto") -> Predictor:
    """The process-wide :class:`Predictor` for ``model`` and ``backend`` (loaded on first use)."""
    from .backends import check_name

    check_name(backend)
    path = str(model) if model is not None else default_model_path()
    if not Path(path).exists() and not _HUB_ID.match(path):
        raise ModelNotFoundError(f"model directory {path} does not exist; train one with "
                                 f"`python scripts/train.py` or pass an existing path or a Hub id")
    device = resolve_device(device)
    key = (str(Path(path).resolve()) if Path(path).exists() else path, device, precision, backend)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = Predictor(path, device, precision, backend)
        return _CACHE[key]


def _as_list(texts: object) -> tuple[list[str], bool]:
    if isinstance(texts, str):
        return [texts], True
    if isinstance(texts, (list, tuple)):
        return [_check_text(t, f"texts[{i}]") for i, t in enumerate(texts)], False
    raise TypeError(f"texts must be str or a list/tuple of str, not {type(texts).__name__}")


def _as_contexts(context: object, n: int, single: bool) -> list[str] | None:
    if context is None:
        return None
    if single:
        return [_check_text(context, "context")]
    if not isinstance(context, (list, tuple)) or len(context) != n:
        raise TypeError(f"context must be a list/tuple of {n} str (one per passage), got {type(context).__name__}"
                        + (f" of length {len(context)}" if isinstance(context, (list, tuple)) else ""))
    return [_check_text(c, f"context[{i}]") for i, c in enumerate(context)]


def predict(texts: str | Sequence[str], model: str | os.PathLike | None = None, *,
            batch_size: int = DEFAULT_BATCH_SIZE, device: str | None = None, precision: str = "auto",
            level: str = "passage", context: str | Sequence[str] | None = None, backend: str = "auto",
            ) -> Prediction | list[Prediction] | ArticleResult | list[ArticleResult]:
    """Label passages (``level="passage"``) or whole articles (``level="article"``).

    A single string gives one result, a list gives a list. In a list, blank
    passages give ``Prediction(label=None, scores={}, empty=True)``; a single
    blank string raises ``ValueError``. ``context`` (a string per passage: the
    article's headline and the passage before it, see :mod:`framing.context`) is
    used by models trained with article context and ignored by others. ``backend``: see
    :mod:`framing.backends` (``"auto"``: the fastest faithful one measured on this machine).
    """
    if level == "article":
        items, single = _as_list(texts)
        out = [score_article(t, model, batch_size=batch_size, device=device, precision=precision, backend=backend)
               for t in items]
        return out[0] if single else out
    if level != "passage":
        raise ValueError(f"level must be 'passage' or 'article', got {level!r}")
    items, single = _as_list(texts)
    contexts = _as_contexts(context, len(items), single)
    if single and is_blank(items[0]):
        raise ValueError("cannot label an empty or blank passage (whitespace, zero-width or control "
                         "characters only)")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    live = [i for i, t in enumerate(items) if not is_blank(t)]
    results: list[Prediction] = [Prediction(text=t, label=None, empty=True, windows=0) for t in items]
    if live:
        pred = load_predictor(model, device, precision, backend)
        probs, n_windows = pred.probabilities([items[i] for i in live], batch_size,
                                              contexts=[contexts[i] for i in live] if contexts else None)
        for row, i in enumerate(live):
            scores = {lab: float(p) for lab, p in zip(pred.labels, probs[row])}
            results[i] = Prediction(text=items[i], label=pred.labels[int(probs[row].argmax())], scores=scores,
                                    windows=n_windows[row])
    return results[0] if single else results


def summarize(passages: Sequence[PassageResult], text: str = "") -> ArticleResult:
    """Label shares (plain and length-weighted) and the dominant frame of scored passages."""
    labelled = [p for p in passages if p.label is not None]
    share = {lab: 0.0 for lab in LABELS}
    weighted = {lab: 0.0 for lab in LABELS}
    total_len = sum(len(p.text) for p in labelled)
    for p in labelled:
        share[p.label] += 1 / len(labelled)
        weighted[p.label] += len(p.text) / total_len
    dominant = max(LABELS, key=lambda lab: (weighted[lab], share[lab])) if labelled else None
    return ArticleResult(list(passages), share, weighted, dominant, text)


def score_article(text: str, model: str | os.PathLike | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE,
                  device: str | None = None, precision: str = "auto", backend: str = "auto") -> ArticleResult:
    """Segment an article like the corpus, drop boilerplate, label every passage, and sum up.

    Each passage goes with its context (headline and previous passage); only a model trained
    with context uses it.
    """
    _check_text(text, "article")
    if is_blank(text):
        raise ValueError("cannot score an empty or blank article (whitespace, zero-width or control "
                         "characters only)")
    passages = segment(text)
    texts = [p.text for p in passages]
    preds = predict(texts, model, batch_size=batch_size, device=device, precision=precision, backend=backend,
                    context=contexts_in_order(texts)) if passages else []
    results = [PassageResult(text=p.text, label=r.label, scores=r.scores, empty=r.empty, windows=r.windows,
                             start=p.start, end=p.end, index=p.index) for p, r in zip(passages, preds)]
    return summarize(results, text)


def iter_predict(texts: Iterable[str], model: str | os.PathLike | None = None, *, chunk_size: int = 1024,
                 **kwargs) -> Iterator[Prediction]:
    """Stream predictions over an iterable of passages, ``chunk_size`` at a time (bounded memory)."""
    buf: list[str] = []
    for t in texts:
        buf.append(t)
        if len(buf) >= chunk_size:
            yield from predict(buf, model, **kwargs)
            buf = []
    if buf:
        yield from predict(buf, model, **kwargs)

