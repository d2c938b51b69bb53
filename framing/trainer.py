"""Fine-tuning with transformers' ``Trainer``: one function per step of ``scripts/train.py``.

``run_training(cfg)`` does the whole job: load and split the corpus, resolve the
base encoder, fine-tune (early stopping on validation macro-F1, resumable
checkpoints), fit the temperature on validation, score every evaluation set
beside the baselines, and write the model directory with its model card.

Under a launcher (``accelerate launch --multi_gpu``, ``torchrun``) the Trainer
trains data-parallel and everything else happens once, on rank 0: it decides
whether to resume and which precision to use (and tells the others), evaluates,
and writes the model, while the other processes wait (see ``framing.distributed``).
``training.batch_size`` is the global batch, split evenly among the processes.
"""

from __future__ import annotations

import gc
import logging
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base_model import resolve
from .calibration import fit_temperature, nll
from .data import grouped_split, is_seed_article, load_configured_corpus, summary_table
from .distributed import (PROCESS_GROUP_TIMEOUT_S, World, broadcast, init_world, main_first, on_main,
                          per_process_batch, quiet_unless_main, share_cpu_threads, training_on_cuda,
                          use_all_local_threads)
from .evaluation import (EvalSet, evaluate_sets, external_sets, format_report, label_ids, plot_confusion,
                         record_logits)
from .hardware import cpu_description, resolve_precision
from .inference import Predictor
from .io_utils import atomic_write_json
from . import features
from .features import IGNORE_INDEX
from .labels import ID2LABEL, LABEL2ID, LABELS, SPEAKERS
from .output_paths import replace_dir
from .preflight import check_output, check_training_data
from .run_state import mark_finished, prepare_work_dir, remove_work_dir
from .training_args import TrainConfig, save_config, split_config

log = logging.getLogger(__name__)

WORK_SUFFIX = ".work"


def _trainer_classes():
    """``FramingTrainer`` and the epoch-summary callback (imported lazily: transformers is heavy)."""
    import torch
    from transformers import Trainer, TrainerCallback

    class FramingTrainer(Trainer):
        """``Trainer`` with class-weighted loss and a separate learning rate for the head."""

        def __init__(self, *args, class_weights=None, head_learning_rate=None, speaker_loss_weight=0.0, **kwargs):
            super().__init__(*args, **kwargs)
            self.class_weights = class_weights
            self.head_learning_rate = head_learning_rate
            self.speaker_loss_weight = speaker_loss_weight

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            speakers = inputs.pop("speaker_labels", None)
            outputs = model(**inputs)
            weight = None if self.class_weights is None else self.class_weights.to(outputs.logits.device)
            loss = torch.nn.functional.cross_entropy(outputs.logits.float(), labels, weight=weight)
            sp = getattr(outputs, "speaker_logits", None)
            if self.speaker_loss_weight > 0 and sp is not None and speakers is not None and (speakers >= 0).any():
                loss = loss + self.speaker_loss_weight * torch.nn.functional.cross_entropy(
                    sp.float(), speakers, ignore_index=IGNORE_INDEX)
            return (loss, outputs) if return_outputs else loss

        def create_optimizer(self, *args, **kwargs):
            if self.optimizer is None:
                self.optimizer = torch.optim.AdamW(
                    param_groups(self.model, self.args.learning_rate, self.head_learning_rate,
                                 self.args.weight_decay), lr=self.args.learning_rate)
            return self.optimizer

    class EpochSummary(TrainerCallback):
        """Prints one line per epoch: training loss, validation metrics, elapsed time."""

        def __init__(self, label: str):
            self.label, self.t0, self.loss = label, time.perf_counter(), None

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                self.loss = logs["loss"]

        def on_evaluate(self, args, state, control, metrics=None, **kw):
            m = metrics or {}
            loss = f"{self.loss:.3f}" if self.loss is not None else "-"
            print(f"[{self.label}] epoch {round(state.epoch or 0, 2):g}/{args.num_train_epochs:g} "
                  f"(step {state.global_step}/{state.max_steps}): train loss {loss}, "
                  f"validation macro-F1 {m.get('eval_macro_f1', float('nan')):.3f}, "
                  f"accuracy {m.get('eval_accuracy', float('nan')):.3f} "
                  f"({time.perf_counter() - self.t0:.0f} s elapsed)", flush=True)

    return FramingTrainer, EpochSummary


def param_groups(model, lr: float, head_lr: float | None, weight_decay: float) -> list[dict]:
    """AdamW groups: encoder and head (own learning rate), no decay on biases and LayerNorm."""
    groups: dict[tuple[bool, bool], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        head = not name.startswith("bert.") or name.startswith("bert.pooler.")
        decay = not (name.endswith(".bias") or "LayerNorm" in name)
        groups.setdefault((head, decay), []).append(p)
    return [{"params": ps, "lr": (head_lr or lr) if head else lr, "weight_decay": weight_decay if decay else 0.0}
            for (head, decay), ps in groups.items()]


def class_weights(records: list[dict], mode: str):
    """Inverse-frequency weights (``balanced``, as scikit-learn defines them) or None."""
    import torch

    if mode == "none":
        return None
    counts = Counter(r["label"] for r in records)
    n, k = len(records), len(LABELS)
    return torch.tensor([n / (k * max(counts[lab], 1)) for lab in LABELS], dtype=torch.float32)


def build_model(cfg: TrainConfig, encoder_dir: Path):
    """The framing classifier on top of the pretrained encoder, word embeddings frozen if asked."""
    from transformers import set_seed

    from .modeling import FramingConfig, FramingForSequenceClassification

    set_seed(cfg.training.seed)
    mcfg = FramingConfig.from_encoder(str(encoder_dir), pooling=cfg.pooling, text_prefix=cfg.text_prefix,
                                      max_seq_length=cfg.training.max_length, num_labels=len(LABELS),
                                      id2label=dict(ID2LABEL), label2id=dict(LABEL2ID), context=cfg.context,
                                      context_tokens=cfg.context_tokens if cfg.context != "none" else 0,
                                      speaker_labels=list(SPEAKERS) if cfg.training.speaker_loss_weight > 0 else [])
    model = FramingForSequenceClassification.from_pretrained(str(encoder_dir), config=mcfg)
    if cfg.training.freeze_word_embeddings:
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return model


def tokenize(records: list[dict], tokenizer, cfg: TrainConfig):
    """``framing.features.tokenize`` with this config's prefix, length and context settings."""
    return features.tokenize(records, tokenizer, text_prefix=cfg.text_prefix, max_length=cfg.training.max_length,
                             context=cfg.context, context_tokens=cfg.context_tokens)


def _compute_metrics(eval_pred) -> dict:
    from .evaluation import classification_metrics

    logits, labels = eval_pred
    if isinstance(logits, (tuple, list)):  # (label logits, speaker logits) with the auxiliary head
        logits = logits[0]
    m = classification_metrics(labels, np.asarray(logits).argmax(axis=-1))
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


@dataclass
class FitResult:
    model: object
    tokenizer: object
    best_metric: float | None
    epochs_run: float
    train_seconds: float
    log_history: list
    precision: str = "fp32"  # the training precision (autocast) actually used
    threads: int = 1  # torch threads of each training process


def fit(cfg: TrainConfig, train: list[dict], validation: list[dict], encoder_dir: Path, work: Path,
        label: str, world: World = World()) -> FitResult:
    """Fine-tune on ``train`` with early stopping on ``validation``; checkpoints go to ``work``.

    Every process of ``world`` calls it; rank 0 alone prepares ``work`` and measures the precision."""
    from transformers import AutoTokenizer, EarlyStoppingCallback, TrainingArguments

    FramingTrainer, EpochSummary = _trainer_classes()
    t = cfg.training
    threads = share_cpu_threads(world)
    # same config and same records, unfinished: decided by rank 0, which alone touches the folder
    resume = on_main(world, f"prepare the checkpoint folder {work}",
                     lambda: prepare_work_dir(work, cfg, train + validation))
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    model = build_model(cfg, encoder_dir)
    cuda = training_on_cuda()
    precision = on_main(world, "measure the training precision",  # measured once, not by all at once
                        lambda: resolve_precision(t.precision, "cuda" if cuda else "cpu", task="train", model=model))
    bf16 = precision == "bf16"
    args = TrainingArguments(
        output_dir=str(work), per_device_train_batch_size=per_process_batch(t.batch_size, world.size),
        per_device_eval_batch_size=t.eval_batch_size, ddp_timeout=PROCESS_GROUP_TIMEOUT_S,
        learning_rate=t.learning_rate, num_train_epochs=t.epochs, max_steps=t.max_steps, warmup_steps=t.warmup_ratio,
        weight_decay=t.weight_decay, eval_strategy="epoch", save_strategy="epoch", save_total_limit=2,
        load_best_model_at_end=True, metric_for_best_model="macro_f1", greater_is_better=True,
        logging_strategy="steps", logging_steps=10, report_to=[], seed=t.seed, data_seed=t.seed,
        train_sampling_strategy="group_by_length" if t.group_by_length else "random", bf16=bf16,
        label_names=["labels"],
        use_cpu=not cuda, dataloader_num_workers=t.dataloader_workers, disable_tqdm=False)
    callbacks = [EpochSummary(label)]
    if t.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience))
    trainer = FramingTrainer(
        model=model, args=args, train_dataset=tokenize(train, tokenizer, cfg),
        eval_dataset=tokenize(validation, tokenizer, cfg), data_collator=features.Collator(tokenizer.pad_token_id),
        compute_metrics=_compute_metrics, callbacks=callbacks,
        class_weights=class_weights(train, t.class_weighting), head_learning_rate=t.head_learning_rate,
        speaker_loss_weight=t.speaker_loss_weight)
    t0 = time.perf_counter()
    if resume:
        print(f"[{label}] resuming from the last checkpoint in {work}", flush=True)
    trainer.train(resume_from_checkpoint=True if resume else None)
    seconds = time.perf_counter() - t0
    if world.is_main:
        mark_finished(work, trainer.state.global_step)
        use_all_local_threads(world, threads)  # the others wait while rank 0 evaluates
    return FitResult(trainer.model, tokenizer, trainer.state.best_metric, trainer.state.epoch or 0.0, seconds,
                     trainer.state.log_history, "bf16" if bf16 else "fp32", threads)


def save_model_dir(fitted: FitResult, temperature: float, out: Path, extra_files: dict[str, Callable]) -> None:
    """Write weights, tokenizer, config (with temperature) and ``extra_files`` atomically into ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fitted.model.config.calibration_temperature = float(temperature)
        fitted.model.save_pretrained(tmp, safe_serialization=True)
        fitted.tokenizer.save_pretrained(tmp)
        for name, write in extra_files.items():
            write(tmp / name)
        tmp.chmod(0o755)
        for f in tmp.iterdir():
            f.chmod(0o644)
        replace_dir(tmp, out)  # the previous model or the new one, never neither (signals held)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _predictor_from(fitted: FitResult, cfg: TrainConfig) -> Predictor:
    """Score the just-trained model through the same code path as ``predict()`` (temperature 1)."""
    fitted.model.config.calibration_temperature = 1.0
    return Predictor.from_model(fitted.model, fitted.tokenizer, "cpu", cfg.training.precision)


def hardware_description(world: World = World()) -> str:
    """E.g. "a CPU (2 cores; ...)" or "2 GPUs (...)" for the model card's environmental-cost section."""
    import os

    import torch

    if training_on_cuda():
        gpus = f"{world.size} GPUs" if world.distributed else "a GPU"
        return f"{gpus} ({torch.cuda.get_device_name(0)})"
    cpu = f"a CPU ({os.cpu_count()} cores; {cpu_description()})"
    return f"{cpu}, {world.local_size} data-parallel processes" if world.distributed else cpu


def run_training(cfg: TrainConfig) -> dict:
    """The whole job of ``scripts/train.py``; returns the metrics written to ``metrics.json``.

    Under a launcher every process calls it and gets the same metrics; only rank 0 prints and writes."""
    world = init_world(training_on_cuda())
    with quiet_unless_main(world):
        return _run_training(cfg, world)


def _run_training(cfg: TrainConfig, world: World) -> dict:
    from .model_card import write_model_card

    t_start = time.perf_counter()
    out_dir, work_root = check_output(cfg.output_dir, WORK_SUFFIX)  # only a previous model may be replaced
    records = load_configured_corpus(cfg.data)
    split_cfg = split_config(cfg)
    check_training_data(records, cfg, split_cfg)  # before the base model loads
    per_process_batch(cfg.training.batch_size, world.size)
    splits = grouped_split(records, split_cfg)
    print(summary_table(splits), flush=True)
    print(f"training on {world.describe()}", flush=True)
    with main_first(world):  # rank 0 builds the base model into the cache if need be
        encoder_dir = resolve(cfg.base_model)
    print(f"base model: {cfg.base_model} -> {encoder_dir}", flush=True)
    real_sets, skipped = external_sets(cfg.evaluation.real_data)
    for msg in skipped:
        print(f"note: evaluation data {msg}", flush=True)
    baseline_cache: dict = {}
    results: dict = {"sets": {}}

    seed_eval = None
    if cfg.seed_evaluation == "separate_run":
        seed_records = [r for r in records if is_seed_article(r)]
        rest = [r for r in records if not is_seed_article(r)]
        if seed_records:
            sub = grouped_split(rest, split_cfg)
            print(f"\n[seed-holdout] training a model without the {len({r['article_id'] for r in seed_records})}"
                  f" seed articles ({len(seed_records)} passages with translations) to score them", flush=True)
            f0 = fit(cfg, sub["train"], sub["validation"], encoder_dir, work_root / "seed-holdout", "seed-holdout",
                     world)
            if world.is_main:  # the others go on to the main run's start and wait there
                p0 = _predictor_from(f0, cfg)
                val_logits = record_logits(p0, sub["validation"], cfg.training.eval_batch_size)
                t0 = fit_temperature(val_logits, label_ids(sub["validation"]))
                seed_sets = [EvalSet("seed", "seed passages and their translations, by a model that never saw "
                                             "their articles", seed_records),
                             EvalSet("seed:en", "the 68 original (English) seed passages, same model",
                                     [r for r in seed_records if r["source"] == "seed"])]
                seed_eval = evaluate_sets(p0, t0, seed_sets, sub["train"], cfg, baseline_cache)
                results["seed_holdout_run"] = {"train_passages": len(sub["train"]), "temperature": t0,
                                               "epochs": f0.epochs_run, "seconds": round(f0.train_seconds, 1)}
                del p0
            del f0
            gc.collect()

    print(f"\n[main] training on {len(splits['train'])} passages", flush=True)
    fitted = fit(cfg, splits["train"], splits["validation"], encoder_dir, work_root / "main", "main", world)
    if not world.is_main:
        return broadcast(None, world)  # wait for rank 0's evaluation and model directory
    predictor = _predictor_from(fitted, cfg)
    val_logits = record_logits(predictor, splits["validation"], cfg.training.eval_batch_size)
    y_val = label_ids(splits["validation"])
    temperature = fit_temperature(val_logits, y_val)
    results["calibration"] = {"temperature": temperature, "fitted_on": "validation split",
                              "validation_nll_before": nll(val_logits, y_val, 1.0),
                              "validation_nll_after": nll(val_logits, y_val, temperature)}
    sets = [EvalSet("validation", "grouped validation split of the bundled corpus (early stopping, "
                                  "temperature)", splits["validation"]),
            EvalSet("test", "grouped test split of the bundled corpus", splits["test"])]
    if cfg.seed_evaluation == "held_out":
        sets.append(EvalSet("seed", "seed passages and their translations, held out of training",
                            splits.get("seed", [])))
    results["sets"] = evaluate_sets(predictor, temperature, sets + real_sets, splits["train"], cfg, baseline_cache)
    if seed_eval:
        results["sets"].update(seed_eval)
        order = ["validation", "test", "seed", "seed:en"]
        results["sets"] = dict(sorted(results["sets"].items(),
                                      key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    wall = time.perf_counter() - t_start
    mc = fitted.model.config
    results["training"] = {
        "base_model": cfg.base_model, "pooling": cfg.pooling, "precision": fitted.precision,
        "inference_precision": predictor.precision,
        "train_passages": len(splits["train"]), "validation_passages": len(splits["validation"]),
        "test_passages": len(splits["test"]), "epochs_run": fitted.epochs_run,
        "best_validation_macro_f1": fitted.best_metric, "train_seconds": round(fitted.train_seconds, 1),
        "wall_seconds": round(wall, 1), "skipped_eval_data": skipped,
        "split_summary": summary_table(splits),
        "encoder": {"layers": mc.num_hidden_layers, "hidden_size": mc.hidden_size, "vocab_size": mc.vocab_size,
                    "parameters": sum(p.numel() for p in fitted.model.parameters())},
        "hardware": hardware_description(world),
        "world_size": world.size, "distributed_backend": world.backend,
        "global_batch_size": cfg.training.batch_size,
        "per_process_batch_size": per_process_batch(cfg.training.batch_size, world.size),
        "threads_per_process": fitted.threads,
        "corpus": {"passages": len(records), "languages": sorted({r["lang"] for r in records}),
                   "by_source": dict(Counter(r["source"] for r in records))},
    }
    print(format_report(results), flush=True)
    save_model_dir(fitted, temperature, out_dir, {
        "metrics.json": lambda p: atomic_write_json(p, results),
        "training_config.yaml": lambda p: save_config(cfg, p),
        "confusion_matrix.png": lambda p: plot_confusion(results, p),
        "README.md": lambda p: write_model_card(p, results, cfg),
    })
    if not cfg.keep_checkpoints:
        remove_work_dir(work_root)
    print(f"\nmodel written to {out_dir} (total wall time {wall / 60:.1f} min)", flush=True)
    return broadcast(results, world)  # the other processes return once the model is written
