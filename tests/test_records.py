"""Validation of annotated JSONL: every error names the file, the line and the problem."""

from __future__ import annotations

import json

import pytest

from framing.records import CorpusError, load_records, read_jsonl

GOOD = {"id": "a-p00", "article_id": "a", "para": 0, "lang": "en", "text": "Putin spoke.",
        "label": "russian_position", "source": "authored"}


def _file(tmp_path, lines, name="data.jsonl"):
    p = tmp_path / name
    p.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return p


def _line(**kw):
    rec = {**GOOD, **kw}
    return json.dumps({k: v for k, v in rec.items() if v is not ...}, ensure_ascii=False)


@pytest.mark.parametrize("bad, message", [
    ("{not json", "malformed JSON"),
    ("[1, 2]", "expected a JSON object"),
    (_line(label=...), "missing field 'label'"),
    (_line(text=...), "missing field 'text'"),
    (_line(label="pro_russian"), "unknown label 'pro_russian'"),
    (_line(text="   "), "empty text"),
    (_line(para="3"), "field 'para' must be an integer"),
    (_line(para=True), "field 'para' must be an integer"),
    (_line(lang="English"), "ISO 639-1"),
    (_line(source="translation"), "needs 'translated_from'"),
    (_line(text=5), "field 'text' must be a string"),
])
def test_bad_record_names_file_and_line(tmp_path, bad, message):
    p = _file(tmp_path, [_line(id="ok-1"), "", bad])
    with pytest.raises(CorpusError) as err:
        read_jsonl(p)
    assert str(err.value).startswith(f"{p}:3: ")
    assert message in str(err.value)
    assert err.value.line == 3


def test_invalid_utf8(tmp_path):
    p = _file(tmp_path, [_line(), b'{"id": "\xff"}'])
    with pytest.raises(CorpusError, match=rf"{p}:2: invalid UTF-8"):
        read_jsonl(p)


def test_duplicate_id_across_files(tmp_path):
    a = _file(tmp_path, [_line(id="x")], "a.jsonl")
    b = _file(tmp_path, [_line(id="y"), _line(id="x")], "b.jsonl")
    with pytest.raises(CorpusError) as err:
        load_records([a, b])
    assert str(err.value).startswith(f"{b}:2: duplicate id 'x'")
    assert f"{a}:1" in str(err.value)


def test_translated_from_missing_and_article_mismatch(tmp_path):
    p = _file(tmp_path, [_line(id="o"), _line(id="t", source="translation", translated_from="nope", lang="de")])
    with pytest.raises(CorpusError, match=rf"{p}:2: 'translated_from' points at missing id 'nope'"):
        load_records([p])
    q = _file(tmp_path, [_line(id="o"), _line(id="t", source="translation", translated_from="o", lang="de",
                                              article_id="other")], "q.jsonl")
    with pytest.raises(CorpusError, match=rf"{q}:2: translation of 'o' must share its article_id"):
        load_records([q])


def test_missing_file(tmp_path):
    with pytest.raises(CorpusError, match="cannot read file"):
        read_jsonl(tmp_path / "absent.jsonl")


def test_good_records_round_trip(tmp_path):
    p = _file(tmp_path, [_line(), _line(id="t", source="translation", translated_from="a-p00", lang="de",
                                        note="hard call")])
    recs = load_records([p])
    assert [r["id"] for r in recs] == ["a-p00", "t"]
    assert recs[0]["note"] == "" and recs[1]["note"] == "hard call" and recs[0]["para"] == 0


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\u0085"])
def test_unicode_line_breaks_inside_strings_and_a_bom(tmp_path, sep):
    """Lines end at \\n, \\r\\n or \\r only (the shared reader in framing/jsonl.py), never inside a string."""
    p = tmp_path / "data.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + (_line(text=f"Putin{sep}spoke.") + "\r\n" + _line(id="b") + "\n").encode())
    recs = read_jsonl(p)
    assert [r["text"] for r, _ in recs] == [f"Putin{sep}spoke.", "Putin spoke."]
    assert [o.line for _, o in recs] == [1, 2]


@pytest.mark.parametrize("bad, message", [("[" * 100_000, "malformed JSON: nested too deeply"), ("1" * 5000, "malformed JSON"),
                                          ('{"a": 1} {"b": 2}', "malformed JSON: Extra data")])
def test_pathological_json_is_a_corpus_error(tmp_path, bad, message):
    p = _file(tmp_path, [_line(), bad])
    with pytest.raises(CorpusError, match=rf"{p}:2: {message}"):
        read_jsonl(p)
