"""Evaluation: metrics per set, per language and per class, calibration, baselines, the report.

Metrics are computed by the local ``evaluate`` module
``framing/metrics/framing_classification.py`` (scikit-learn inside), so they work
offline. Every evaluation set is reported separately, the model beside the
baselines trained on the same training split.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .baselines import baseline_probabilities, majority_baseline, tfidf_baseline
from .calibration import expected_calibration_error, probabilities
from .labels import LABEL2ID, LABELS
from .records import load_records

if TYPE_CHECKING:
    from .inference import Predictor
    from .training_args import TrainConfig

METRIC_PATH = Path(__file__).with_name("metrics") / "framing_classification.py"


@functools.lru_cache(maxsize=1)
def load_metric():
    """The local ``evaluate`` metric module (never downloaded)."""
    import evaluate

    if not hasattr(evaluate, "load"):
        raise ImportError(f"`import evaluate` found {evaluate.__file__}, not the evaluate library: a file named "
                          f"evaluate.py shadows it on sys.path")
    return evaluate.load(str(METRIC_PATH))


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1 and confusion matrix over the framing labels."""
    return load_metric().compute(predictions=list(map(int, y_pred)), references=list(map(int, y_true)),
                                 labels=list(range(len(LABELS))), label_names=list(LABELS))


@dataclass
class EvalSet:
    """Records to score and what they are (shown in the report and the model card)."""

    name: str
    description: str
    records: list[dict]


def label_ids(records: Sequence[dict]) -> np.ndarray:
    return np.array([LABEL2ID[r["label"]] for r in records], dtype=int)


BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def _macro_f1_rows(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """Macro-F1 of each row of (resampled) label arrays ``y`` / ``pred`` of shape (B, n)."""
    f1 = np.zeros(y.shape[0])
    for c in range(k):
        tp = ((pred == c) & (y == c)).sum(axis=1)
        fp = ((pred == c) & (y != c)).sum(axis=1)
        fn = ((pred != c) & (y == c)).sum(axis=1)
        denom = 2 * tp + fp + fn
        f1 += np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return f1 / k


def bootstrap_macro_f1(y: Sequence[int], pred: Sequence[int], resamples: int = BOOTSTRAP_RESAMPLES,
                       seed: int = BOOTSTRAP_SEED, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of macro-F1 (passages resampled with replacement)."""
    y, pred = np.asarray(y), np.asarray(pred)
    if len(y) == 0:
        return (float("nan"), float("nan"))
    idx = np.random.default_rng(seed).integers(0, len(y), size=(resamples, len(y)))
    vals = _macro_f1_rows(y[idx], pred[idx], len(LABELS))
    lo, hi = np.quantile(vals, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def score(records: Sequence[dict], probs: np.ndarray, ece_bins: int = 15,
          uncalibrated: np.ndarray | None = None) -> dict:
    """All metrics of one predictor on one set; ``probs`` columns follow ``LABELS``.

    ``macro_f1_ci`` is the 95 % bootstrap interval of macro-F1 over the set's passages.
    """
    y = label_ids(records)
    pred = probs.argmax(axis=1)
    out = classification_metrics(y, pred)
    out["macro_f1_ci"] = list(bootstrap_macro_f1(y, pred))
    out["n"] = len(records)
    out["ece"] = expected_calibration_error(probs, y, ece_bins)
    if uncalibrated is not None:
        out["ece_uncalibrated"] = expected_calibration_error(uncalibrated, y, ece_bins)
    per_lang = {}
    for lang in sorted({r["lang"] for r in records}):
        idx = [i for i, r in enumerate(records) if r["lang"] == lang]
        m = classification_metrics(y[idx], pred[idx])
        per_lang[lang] = {"n": len(idx), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}
    out["per_language"] = per_lang
    return out


def reorder_columns(probs: np.ndarray, model_labels: Sequence[str]) -> np.ndarray:
    """Probabilities with columns in ``LABELS`` order, whatever order the model uses."""
    return probs[:, [list(model_labels).index(lab) for lab in LABELS]]


def calibrated_and_raw(logits: np.ndarray, temperature: float, model_labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(calibrated, uncalibrated) probabilities in ``LABELS`` order."""
    return (reorder_columns(probabilities(logits, temperature), model_labels),
            reorder_columns(probabilities(logits, 1.0), model_labels))


def find_eval_files(entries: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """JSONL files named by ``entries`` (files or directories); missing entries are reported, not fatal."""
    files, skipped = [], []
    for e in entries:
        p = Path(e)
        if p.is_dir():
            found = sorted(p.glob("*.jsonl"))
            files += found
            if not found:
                skipped.append(f"{p}: no .jsonl files")
        elif p.is_file():
            files.append(p)
        else:
            skipped.append(f"{p}: not found (skipped)")
    return files, skipped


def external_sets(entries: Sequence[str | Path]) -> tuple[list[EvalSet], list[str]]:
    """One evaluation set per labelled file found (e.g. the real news in ../shared/data)."""
    files, skipped = find_eval_files(entries)
    sets = [EvalSet(f"real:{f.stem}", f"labelled news from {f} (evaluation only)", load_records([f]))
            for f in files]
    return sets, skipped


def corpus_splits(cfg: TrainConfig) -> dict[str, list[dict]]:
    """The bundled corpus (or ``cfg.data``'s files) split as the run with config ``cfg`` split it."""
    from .data import grouped_split, load_configured_corpus
    from .training_args import split_config

    records = load_configured_corpus(cfg.data)
    return grouped_split(records, split_config(cfg))


def split_sets(splits: dict[str, list[dict]], real: Sequence[EvalSet] = ()) -> list[EvalSet]:
    """Validation, test, the held-out seed passages (when the split has them) and ``real``: the sets a
    re-calibrated model (a soup, an ensemble) is scored on."""
    sets = [EvalSet("validation", "validation split (temperature fitted on it)", splits["validation"]),
            EvalSet("test", "grouped test split", splits["test"])]
    if splits.get("seed"):
        sets.append(EvalSet("seed", "seed passages, held out of training", splits["seed"]))
    return sets + list(real)


def macro_f1_table(rows: dict[str, dict[str, dict]]) -> str:
    """Plain-text table: one row per model (name -> its ``evaluate_sets`` result), macro-F1 per set."""
    names = list(next(iter(rows.values())))
    lines = [f"{'model':<28}" + "".join(f"{n:>16}" for n in names)]
    for who, sets in rows.items():
        lines.append(f"{who:<28}" + "".join(f"{sets[n]['model']['macro_f1']:>16.3f}" for n in names))
    return "\n".join(lines)


def _baseline_scores(train: list[dict], records: list[dict], cfg: TrainConfig, cache: dict) -> dict:
    """Majority and TF-IDF baselines fitted on ``train`` (once per training split), scored on ``records``."""
    ev = cfg.evaluation
    key = tuple(r["id"] for r in train)
    if key not in cache:
        cache[key] = {"majority": majority_baseline(train),
                      "tfidf_logreg": tfidf_baseline(train, ev.tfidf_ngram_range, ev.tfidf_max_features,
                                                     ev.logreg_c, cfg.training.seed)}
    return {name: score(records, baseline_probabilities(m, records), ev.ece_bins) for name, m in cache[key].items()}


def record_logits(predictor: Predictor, records: Sequence[dict], batch_size: int) -> np.ndarray:
    """Logits of ``records``, each with its article context (headline and previous passage, by
    ``article_id`` and ``para``) exactly as ``score_article()`` would pass it."""
    from .context import article_contexts

    contexts = article_contexts(records) if getattr(predictor, "context", "none") != "none" else None
    logits, _ = predictor.logits([r["text"] for r in records], batch_size, contexts=contexts)
    return logits


def evaluate_sets(predictor: Predictor, temperature: float, sets: list[EvalSet], train: list[dict],
                  cfg: TrainConfig, baseline_cache: dict) -> dict:
    """Score the model (calibrated and raw) and the baselines on each set."""
    out = {}
    for s in sets:
        if not s.records:
            continue
        logits = record_logits(predictor, s.records, cfg.training.eval_batch_size)
        cal, raw = calibrated_and_raw(logits, temperature, predictor.labels)
        entry = {"description": s.description, "model": score(s.records, cal, cfg.evaluation.ece_bins, raw)}
        if cfg.evaluation.baselines:
            entry["baselines"] = _baseline_scores(train, s.records, cfg, baseline_cache)
        out[s.name] = entry
    return out


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def format_report(metrics: dict) -> str:
    """The evaluation report as plain-text tables (what train.py and evaluate.py print)."""
    lines = []
    for name, s in metrics["sets"].items():
        lines.append(f"\n== {name}: {s['description']} ({s['model']['n']} passages)")
        lines.append(f"{'predictor':<16}{'accuracy':>9}{'macro-F1':>10}{'95% CI':>15}{'ECE':>8}{'ECE(T=1)':>10}")
        rows = [("model", s["model"]), *s.get("baselines", {}).items()]
        for pname, m in rows:
            ci = m.get("macro_f1_ci")
            ci_s = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "-"
            lines.append(f"{pname:<16}{_fmt(m['accuracy']):>9}{_fmt(m['macro_f1']):>10}{ci_s:>15}"
                         f"{_fmt(m.get('ece')):>8}{_fmt(m.get('ece_uncalibrated')):>10}")
        langs = list(s["model"]["per_language"])
        if len(langs) > 1:
            lines.append("macro-F1 by language: " + "  ".join(
                f"{lang} {s['model']['per_language'][lang]['macro_f1']:.2f} (n={s['model']['per_language'][lang]['n']})"
                for lang in langs))
        lines.append("per class (model):   " + "  ".join(
            f"{lab} P {c['precision']:.2f} R {c['recall']:.2f} F1 {c['f1']:.2f}"
            for lab, c in s["model"]["per_class"].items()))
    return "\n".join(lines)


def plot_confusion(metrics: dict, path: str | Path) -> None:
    """One confusion-matrix panel per evaluation set (rows true, columns predicted), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io_utils import atomic_write_bytes

    sets = list(metrics["sets"].items())
    fig, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 4.2), squeeze=False)
    short = ["russian", "western", "neutral"]
    for ax, (name, s) in zip(axes[0], sets):
        cm = np.array(s["model"]["confusion_matrix"])
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(LABELS)):
            for j in range(len(LABELS)):
                ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                        color="white" if norm[i, j] > 0.6 else "black", fontsize=11)
        ax.set_xticks(range(len(LABELS)), short)
        ax.set_yticks(range(len(LABELS)), short)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{name}\nmacro-F1 {s['model']['macro_f1']:.2f}, n={s['model']['n']}", fontsize=10)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
