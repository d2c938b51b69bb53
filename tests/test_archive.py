"""Archive scoring on Ray Data (framing.archive): labels as predict()/score_article(), resumable, clear errors.

One local Ray session (2 CPUs) is shared by the module; the model is the small trained one with
article context switched on, so the passage-mode contexts are checked, not just passed along.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from framing import predict, score_article
from framing.context import article_contexts
from framing.errors import ArchiveError, InputError

from .conftest import ROOT, make_records, write_jsonl

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
ray = pytest.importorskip("ray")

N_ARTICLES = 600  # x 5 passages: 3,000 passages
PART_ROWS = 500


@pytest.fixture(scope="module")
def ray_session():
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 1024 ** 2,
             runtime_env={"env_vars": env})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def ctx_model(small_trained, tmp_path_factory) -> str:
    """The small trained model (a ~100-token vocabulary: each Ray actor loads it in milliseconds), told to
    use article context (headline + previous passage)."""
    out = tmp_path_factory.mktemp("ctx-model") / "model"
    shutil.copytree(small_trained, out)
    cfg = json.loads((out / "config.json").read_text())
    cfg.update(context="previous", context_tokens=16)
    (out / "config.json").write_text(json.dumps(cfg))
    return str(out)


def _run(inputs, out, model, **kw):
    from framing.archive import score_archive

    kw.setdefault("partition_rows", PART_ROWS)
    kw.setdefault("num_workers", 1)
    # fp32 on both sides: the workers (fewer threads each) would otherwise measure their own precision
    kw.setdefault("precision", "fp32")
    return score_archive(inputs, str(out), model, progress=False, **kw)


def _read(out: Path, prefix: str = "part-") -> list[dict]:
    rows = []
    for f in sorted(out.glob(f"{prefix}*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return rows


def _write_parquet(path: Path, records: list[dict], **kw) -> Path:
    pq.write_table(pa.Table.from_pylist(records), path, **kw)
    return path


def test_jsonl_and_parquet_labels_are_those_of_predict(ray_session, ctx_model, tmp_path):
    recs = make_records(N_ARTICLES, per_article=5, seed=3)
    src = tmp_path / "in"
    src.mkdir()
    write_jsonl(src / "a.jsonl", recs)
    _write_parquet(src / "b.parquet", recs, row_group_size=700)  # row groups across partition edges
    s = _run(src, tmp_path / "out", ctx_model, num_workers=2)
    expected = predict([r["text"] for r in recs], ctx_model, context=article_contexts(recs), precision="fp32")
    assert s.partitions == 2 * len(recs) // PART_ROWS and s.scored == s.partitions and s.skipped == 0
    assert s.rows == s.passages == 2 * len(recs)
    for prefix in ("part-00000-", "part-00001-"):  # a.jsonl, b.parquet
        rows = _read(tmp_path / "out", prefix)
        assert [r["id"] for r in rows] == [r["id"] for r in recs]
        assert [r["label"] for r in rows] == [p.label for p in expected]
        for r, p in zip(rows, expected):
            assert [r[f"score_{lab}"] for lab in p.scores] == pytest.approx(list(p.scores.values()), abs=1e-5)
        assert {r["article_id"] for r in rows} == {r["article_id"] for r in recs}
        assert all(r["start"] is None and r["passage"] is not None and not r["empty"] for r in rows)
    # an article (and its context) never spans two partitions
    seen: dict[str, str] = {}
    for f in sorted((tmp_path / "out").glob("part-*.parquet")):
        for a in set(pq.read_table(f, columns=["article_id"]).column(0).to_pylist()):
            assert seen.setdefault(f"{f.name[:10]}{a}", f.name) == f.name
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["plan"]["partitions"] == s.partitions and manifest["model"]["sha256"]
    # the directory reads as one table (the manifest and _tmp/ are ignored by parquet readers)
    assert pq.read_table(tmp_path / "out").num_rows == 2 * len(recs)


class FailOnce:
    """A fault: the partition ``key`` raises after its temporary file is written (a crash midway)."""

    def __init__(self, key: str):
        self.key = key

    def __call__(self, key: str, stage: str) -> None:
        if key == self.key and stage == "written":
            raise RuntimeError(f"simulated crash in {key}")


def _settle(out: Path, timeout: float = 120) -> None:
    """Wait until the files under ``out`` stop changing (a partition in flight when a run failed may still
    be finished by its actor: harmless, since it is written whole, but it would race the assertions)."""
    def listing():
        return sorted(str(p) for p in out.rglob("*"))
    deadline, last, stable_since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        now = listing()
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since > 3:
            return
        time.sleep(0.5)


def test_rerun_skips_finished_partitions_and_a_crash_leaves_nothing_half_written(ray_session, ctx_model,
                                                                               tmp_path):
    recs = make_records(120, per_article=5, seed=5)
    src = write_jsonl(tmp_path / "p.jsonl", recs)
    out = tmp_path / "out"
    bad = "part-00000-000004"
    with pytest.raises(Exception, match="simulated crash"):
        _run(src, out, ctx_model, partition_rows=100, _fault=FailOnce(bad))
    _settle(out)
    visible = {p.name[:-8] for p in out.glob("part-*.parquet")}
    assert bad not in visible and len(visible) < 6
    assert any(p.name.startswith(bad) for p in (out / "_tmp").iterdir())  # the crash's leftover, not visible
    for name in visible:  # what is visible is complete
        assert pq.read_table(out / f"{name}.parquet").num_rows == 100
    s = _run(src, out, ctx_model, partition_rows=100, num_workers=2)
    assert (s.partitions, s.skipped, s.scored) == (6, len(visible), 6 - len(visible))
    assert not list((out / "_tmp").iterdir())
    rows = _read(out)
    expected = predict([r["text"] for r in recs], ctx_model, context=article_contexts(recs), precision="fp32")
    assert [r["label"] for r in rows] == [p.label for p in expected]
    again = _run(src, out, ctx_model, partition_rows=100)
    assert (again.skipped, again.scored) == (6, 0)


def _article(recs: list[dict]) -> str:
    """An article's raw text: headline, then paragraphs separated by blank lines."""
    return "\n\n".join(r["text"] for r in recs) + "\n"


def test_article_mode_rows_and_offsets_are_those_of_score_article(ray_session, ctx_model, tmp_path):
    recs = make_records(24, per_article=5, seed=9)
    arts = [{"id": f"art-{i}", "text": _article([r for r in recs if r["article_id"] == aid])}
            for i, aid in enumerate(dict.fromkeys(r["article_id"] for r in recs))]
    arts.append({"id": "blank", "text": "   \n"})
    src = write_jsonl(tmp_path / "articles.jsonl", arts)
    s = _run(src, tmp_path / "out", ctx_model, level="article", partition_rows=7, keep_text=True, num_workers=1)
    assert s.partitions == 4 and s.rows == len(arts)
    rows = _read(tmp_path / "out")
    got = [r for r in rows if r["article_id"] != "blank"]
    want = [(a["id"], p) for a in arts[:-1] for p in score_article(a["text"], ctx_model, precision="fp32").passages]
    assert len(got) == len(want) and s.passages == len(want) + 1
    for r, (aid, p) in zip(got, want):
        assert (r["id"], r["article_id"], r["passage"], r["start"], r["end"], r["text"], r["label"]) == (
            f"{aid}#{p.index}", aid, p.index, p.start, p.end, p.text, p.label)
        assert r["score_neutral_report"] == pytest.approx(p.scores["neutral_report"], abs=1e-5)
    blank = [r for r in rows if r["article_id"] == "blank"]
    assert len(blank) == 1 and blank[0]["empty"] and blank[0]["label"] is None


def test_clear_errors_before_and_during_scoring(ray_session, ctx_model, tmp_path):
    recs = make_records(20, per_article=5, seed=1)
    good = write_jsonl(tmp_path / "good.jsonl", recs)
    with pytest.raises(InputError, match=r"good\.jsonl: no column 'body'"):
        _run(good, tmp_path / "o1", ctx_model, text_column="body")
    _write_parquet(tmp_path / "p.parquet", recs)
    with pytest.raises(InputError, match=r"p\.parquet: no column 'article'"):
        _run(tmp_path / "p.parquet", tmp_path / "o1", ctx_model, article_column="article")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match=r"junk\.parquet: not a readable parquet file"):
        _run(tmp_path / "junk.parquet", tmp_path / "o1", ctx_model)
    with pytest.raises(InputError, match="no such file"):
        _run(tmp_path / "missing.jsonl", tmp_path / "o1", ctx_model)
    shuffled = write_jsonl(tmp_path / "shuffled.jsonl", [recs[0], recs[5], recs[1]])
    with pytest.raises(InputError, match=r"shuffled\.jsonl:3: the passages of article .* not contiguous"):
        _run(shuffled, tmp_path / "o1", ctx_model)
    assert not (tmp_path / "o1").exists()  # nothing written before the inputs are known good
    # a malformed line in the second partition (no article column: planning only counts lines) is found
    # by the worker and raised here with its file and line
    lines = [json.dumps({"id": r["id"], "text": r["text"]}) for r in recs]
    lines[60] = '{"id": "x", "text": "unterminated'
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"broken\.jsonl:61: malformed JSON"):
        _run(broken, tmp_path / "o2", ctx_model, partition_rows=50)
    # a rerun with other options (or model) into the same output is refused, unless --overwrite
    _run(good, tmp_path / "o3", ctx_model, partition_rows=50)
    with pytest.raises(ArchiveError, match=r"different options \(partition_rows: 50 -> 40\).*--overwrite"):
        _run(good, tmp_path / "o3", ctx_model, partition_rows=40)
    with pytest.raises(ArchiveError, match=r"different model"):
        _run(good, tmp_path / "o3", _other_model(ctx_model, tmp_path), partition_rows=50)
    s = _run(good, tmp_path / "o3", ctx_model, partition_rows=40, overwrite=True)
    assert (s.partitions, s.scored) == (3, 3) and len(list((tmp_path / "o3").glob("part-*"))) == 3
    (tmp_path / "o4").mkdir()
    (tmp_path / "o4" / "notes.txt").write_text("mine")
    with pytest.raises(ArchiveError, match="not empty"):
        _run(good, tmp_path / "o4", ctx_model)


def _other_model(model: str, tmp_path: Path) -> str:
    other = tmp_path / "other-model"
    shutil.copytree(model, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["context_tokens"] = 8
    (other / "config.json").write_text(json.dumps(cfg))
    return str(other)


def test_cli_engine_ray_and_the_install_hint(ray_session, ctx_model, tmp_path, capsys, monkeypatch):
    from framing.cli import main

    recs = make_records(10, per_article=4, seed=2)
    _write_parquet(tmp_path / "in.parquet", recs)
    out = tmp_path / "out"
    code = main(["predict", "--engine", "ray", str(tmp_path / "in.parquet"), "--output", str(out), "--model",
                 ctx_model, "--num-workers", "1", "--partition-rows", "16", "--quiet", "--precision", "fp32"])
    assert code == 0
    rows = _read(out)
    assert [r["label"] for r in rows] == [p.label for p in predict([r["text"] for r in recs], ctx_model,
                                                                   context=article_contexts(recs),
                                                                   precision="fp32")]
    assert main(["predict", "--engine", "ray", str(tmp_path / "in.parquet"), "--model", ctx_model]) == 2
    assert "give --output DIR" in capsys.readouterr().err
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # as without Ray installed
    assert main(["predict", "--engine", "ray", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "o"),
                 "--model", ctx_model]) == 2
    assert 'pip install "framing[ray]"' in capsys.readouterr().err


def test_jsonl_blocks_read_exactly_their_rows_with_file_line_numbers(tmp_path, monkeypatch):
    """Byte-range blocks of a JSONL file with a BOM, CRLF and lone CR line ends, blank lines and lines
    longer than the read chunk: every row once, numbered like framing.jsonl numbers the file's lines."""
    from framing.archive import sources
    from framing.archive.options import ArchiveOptions
    from framing.archive.partitions import plan_file
    from framing.jsonl import iter_jsonl

    monkeypatch.setattr(sources, "READ_CHUNK", 7)
    ends = ["\r\n", "\n", "\r", "\n\n", "\r\n\r\n"]
    body = "".join(json.dumps({"id": f"r{i}", "article_id": f"a{i // 3}", "text": f"passage {i} " * (i % 4)})
                   + ends[i % len(ends)] for i in range(40))
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    with path.open("rb") as fh:
        want = [(line, obj["id"]) for line, obj in iter_jsonl(fh, str(path))]
    [f] = sources.discover([str(path)])
    parts = plan_file(0, f, ArchiveOptions(partition_rows=5))
    got = []
    for p in parts:
        rows = sources.read_jsonl_block(f, p.columns, p.byte_start, p.byte_end, p.first_line)
        got += list(zip(rows.where, rows.ids))
        assert len(set(rows.articles)) * 3 >= len(rows.texts)  # whole articles of 3 rows (the last: fewer)
    assert got == want and len(parts) == 7  # 40 rows in blocks of 6 (5, extended to the article's end)


def test_backend_option_is_checked_and_older_manifests_without_it_still_resume():
    """An unknown backend is refused before any work (naming the known ones); a manifest written before
    the option existed compares equal to a run with the default backend, and unequal to another one."""
    from framing.archive.manifest import differences
    from framing.archive.options import ArchiveOptions
    from framing.backends.base import BackendError

    with pytest.raises(BackendError, match="unknown backend 'onnx-fp64'.*openvino-bf16"):
        ArchiveOptions(backend="onnx-fp64")
    old_options = ArchiveOptions().to_dict()
    del old_options["backend"]
    old = {"options": old_options}
    assert differences(old, {"options": ArchiveOptions().to_dict()}) == []
    assert differences(old, {"options": ArchiveOptions(backend="torch-fp32").to_dict()}) == [
        "options (backend: 'auto' -> 'torch-fp32')"]
