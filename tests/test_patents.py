"""Tests for helpers.patents (AI patent flags from IPC codes and keywords).

Expected flags are read off the IPC scheme by hand (IPC 2024 titles: G06N = computing arrangements based
on specific computational models; B25J 9/16 = programme controls of manipulators; G05B 13/02-13/04 =
adaptive control; G06Q = business-method ICT, an "extended" code in the nqp scheme).
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.patents import is_ai_patent, load_ipc_rules, load_patent_keywords, parse_ipc


def _frame(codes: list[object], titles: list[object] | None = None) -> pd.DataFrame:
    titles = titles if titles is not None else ["一种装置"] * len(codes)
    return pd.DataFrame({"ipc_codes": codes, "title": titles, "abstract": [None] * len(codes)})


# ---------------------------------------------------------------------------------------------
# known answers
# ---------------------------------------------------------------------------------------------


def test_code_formats_are_equivalent() -> None:
    variants = [
        "G06N 3/08",
        "G06N3/08",
        "g06n0003080000",
        "G06N  3/08 (2006.01)",
        "Ｇ０６Ｎ３/０８",
    ]
    parsed = parse_ipc(pd.Series(variants))
    assert parsed["subclass"].eq("G06N").all()
    assert parsed["main_group"].eq(3).all()
    assert parsed["subgroup"].eq("080000").all()
    assert is_ai_patent(_frame(variants), logic="codes").all()


def test_multiple_codes_in_one_cell() -> None:
    df = _frame(["A01B 1/00; G06N 3/08", "A01B 1/00,H04L 9/00", "H04L 9/00；G06V 10/82", None])
    assert is_ai_patent(df, logic="codes").tolist() == [True, False, True, False]


def test_subgroup_ranges_include_children_only() -> None:
    codes = [
        "B25J 9/16",  # the rule itself
        "B25J 9/1697",  # a child (9/1697 lies under 9/16)
        "B25J 9/20",  # not a child
        "B25J 9/06",  # before the range
        "G05B 13/02",  # range start
        "G05B 13/048",  # child of the range end 13/04
        "G05B 13/00",  # parent of the range, outside it
        "G05B 19/042",  # other main group
        "G06F 40/30",  # whole main group
        "G06F 17/27",  # legacy NLP
        "G06F 17/30",  # legacy retrieval: not in the range 17/27-17/28
    ]
    flags = is_ai_patent(_frame(codes), logic="codes").tolist()
    assert flags == [True, True, False, False, True, True, False, False, True, True, False]


def test_logic_truth_table() -> None:
    # rows: core code / extended code + keyword / extended code alone / keyword alone / nothing
    df = _frame(
        ["G06N 20/00", "G06Q 10/06", "G06Q 10/06", "A01B 1/00", "A01B 1/00"],
        ["一种装置", "基于深度学习的排产方法", "一种排产方法", "一种神经网络犁", "犁"],
    )
    assert is_ai_patent(df).tolist() == [True, True, False, False, False]  # nqp default: tiered
    assert is_ai_patent(df, logic="or").tolist() == [True, True, False, True, False]
    assert is_ai_patent(df, logic="and").tolist() == [False, True, False, False, False]
    assert is_ai_patent(df, logic="codes").tolist() == [True, False, False, False, False]
    assert is_ai_patent(df, logic="keywords").tolist() == [False, True, False, True, False]
    comp = is_ai_patent(df, return_components=True)
    assert comp["ipc_extended"].tolist() == [False, True, True, False, False]
    assert comp["keyword"].tolist() == [False, True, False, True, False]


def test_cities_scheme_uses_or_and_its_own_codes() -> None:
    # B60W 60/ (autonomous vehicles) is a core code only in the cities scheme
    df = _frame(["B60W 60/00", "A01B 1/00"], ["一种车辆", "一种语音合成犁"])
    assert is_ai_patent(df, scheme="cities").tolist() == [True, True]
    assert is_ai_patent(df, scheme="nqp").tolist() == [False, False]


def test_english_traditional_and_full_width_keywords() -> None:
    df = _frame(
        [None, None, None, None],
        [
            "A Deep Learning method",
            "ＮＥＵＲＡＬ ＮＥＴＷＯＲＫ chip",
            "基於機器學習的方法",
            "a plough",
        ],
    )
    assert is_ai_patent(df, logic="keywords").tolist() == [True, True, True, False]


def test_custom_codes_and_keywords() -> None:
    df = _frame(["H04L 9/00", "G06N 3/08"], ["区块链", "一种装置"])
    assert is_ai_patent(df, codes=["H04L 9/"], logic="codes").tolist() == [True, False]
    assert is_ai_patent(df, keywords=["区块链"], logic="keywords").tolist() == [True, False]


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------


def test_index_is_kept_even_when_not_unique() -> None:
    df = _frame(["G06N 3/08", "A01B 1/00", "G06V 10/00"])
    df.index = ["p", "p", "q"]
    out = is_ai_patent(df, logic="codes")
    assert list(out.index) == ["p", "p", "q"]
    assert out.tolist() == [True, False, True]


def test_shipped_lists_cover_the_spec_codes() -> None:
    nqp = load_ipc_rules("nqp")
    assert {"G06N", "G06V", "G06F 40/", "B25J 9/16"} <= set(nqp.loc[nqp.tier == "core", "code"])
    assert {"G06T 7/", "G06Q"} <= set(nqp.loc[nqp.tier == "extended", "code"])
    assert "卷积神经网络" in load_patent_keywords("nqp", english=False)
    assert "machine learning" in load_patent_keywords("cities")


def test_vectorized_on_many_rows() -> None:
    df = _frame(["G06N 3/08; A01B 1/00", "A01B 1/00"] * 10_000, ["犁", "深度学习"] * 10_000)
    out = is_ai_patent(df, logic="or")
    assert out.sum() == 20_000


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        is_ai_patent(_frame(["G06N 3/08", "not a code"]))
    assert is_ai_patent(
        _frame(["G06N 3/08", "not a code"]), errors="ignore", logic="codes"
    ).tolist() == [
        True,
        False,
    ]
    with pytest.raises(ValueError, match="missing from the patent frame"):
        is_ai_patent(_frame(["G06N"]).drop(columns="title"))
    with pytest.raises(ValueError, match="unknown scheme"):
        is_ai_patent(_frame(["G06N"]), scheme="wipo")
    with pytest.raises(ValueError, match="logic must be"):
        is_ai_patent(_frame(["G06N"]), logic="xor")
    with pytest.raises(ValueError, match="cannot read the IPC rule"):
        is_ai_patent(_frame(["G06N"]), codes=["computer"])
    with pytest.raises(ValueError, match="text_cols"):
        is_ai_patent(_frame(["G06N"]), text_cols=None)
    with pytest.raises(ValueError, match="two main groups"):
        is_ai_patent(_frame(["G06N"]), codes=["G05B 13/02-14/04"])
