"""Tests for helpers.text (Chinese keyword frequencies).

Every expected number below is counted by hand from the sentence in the test.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers import text
from helpers.text import keyword_frequency, keyword_snippets, load_dictionary, normalize_text

# ---------------------------------------------------------------------------------------------
# known answers (hand-counted)
# ---------------------------------------------------------------------------------------------


def test_hand_counted_sentence() -> None:
    # 公司 / 积极 / 应用 / 人工智能 / 和 / 机器学习 / 技术 / , / 推进 / 人工智能 / 。
    # -> 2 x 人工智能 + 1 x 机器学习 = 3 mentions in 9 words; ln(1+3); 3/9*1e4 per 10k words.
    out = keyword_frequency(
        ["公司积极应用人工智能和机器学习技术，推进人工智能。"], ["人工智能", "机器学习"]
    )
    row = out.iloc[0]
    assert row["人工智能"] == 2
    assert row["机器学习"] == 1
    assert row["count"] == 3
    assert row["n_words"] == 9
    assert row["freq_per_10k"] == pytest.approx(3 / 9 * 1e4)
    assert row["ln1p_count"] == pytest.approx(math.log(4))
    # keyword characters: 2*4 + 4 = 12; characters: 17 + 6 = 23 CJK characters (punctuation excluded)
    assert row["keyword_chars"] == 12
    assert row["n_chars"] == 23


def test_overlapping_terms_longest_match_wins() -> None:
    # 人工智能 contains 智能: one mention of 人工智能, and the lone 智能 in 智能工厂 counts once.
    out = keyword_frequency(["人工智能赋能智能工厂"], ["人工智能", "智能"])
    assert out.loc[0, "人工智能"] == 1
    assert out.loc[0, "智能"] == 1
    assert out.loc[0, "count"] == 2


def test_term_split_by_plain_jieba_is_counted_once() -> None:
    # Plain jieba cuts 机器学习 into 机器 / 学习 (stack-notes.md); our tokenizer keeps it whole,
    # and the component words 机器 / 学习 are not counted even when they are in the dictionary.
    out = keyword_frequency(["我们使用机器学习方法"], ["机器学习", "机器", "学习"])
    assert out.loc[0, ["机器学习", "机器", "学习"]].tolist() == [1, 0, 0]


def test_plain_global_jieba_really_splits_the_term() -> None:
    # guards the premise of the test above, with a fresh private tokenizer (the global one untouched)
    base = text._base_tokenizer()
    assert "机器学习" not in list(base.cut("我们使用机器学习方法", HMM=False))


def test_traditional_characters_are_simplified() -> None:
    out = keyword_frequency(["本公司積極發展機器學習與語音識別。"], ["机器学习", "语音识别"])
    assert out.loc[0, "count"] == 2
    # 人工智慧 (Taiwan usage) needs phrase conversion: t2s keeps it, tw2sp maps it to 人工智能
    assert keyword_frequency(["人工智慧"], ["人工智能"]).loc[0, "count"] == 0
    assert keyword_frequency(["人工智慧"], ["人工智能"], convert="tw2sp").loc[0, "count"] == 1


def test_full_width_forms_and_case() -> None:
    # full-width letters/punctuation and upper case fold onto the dictionary's B2B and Fintech
    out = keyword_frequency(["发展ＦＩＮＴＥＣＨ，布局Ｂ２Ｂ（电商）。"], ["Fintech", "B2B"])
    assert out.loc[0, ["Fintech", "B2B"]].tolist() == [1, 1]
    assert normalize_text("ＡＩ，（１）") == "ai,(1)"


def test_negation_exclusion() -> None:
    docs = [
        "公司尚未应用人工智能。",  # negated: 尚未 two tokens before
        "公司没有开展人工智能业务。",  # negated: 没有
        "公司不断推进人工智能。",  # 不断 is one token: not a negation
        "公司未来将应用人工智能。",  # 未来 is one token: not a negation
        "不足之处已改进，公司应用人工智能。",  # the negation is in another clause
    ]
    kept = keyword_frequency(docs, ["人工智能"], exclude_negated=True)["count"].tolist()
    assert kept == [0, 0, 1, 1, 1]
    assert keyword_frequency(docs, ["人工智能"])["count"].tolist() == [1, 1, 1, 1, 1]


def test_negation_window_is_respected() -> None:
    doc = ["公司尚未在国内各地区应用人工智能。"]  # 尚未 is 5 tokens before the term
    assert keyword_frequency(doc, ["人工智能"], exclude_negated=True)["count"].iloc[0] == 1
    assert (
        keyword_frequency(doc, ["人工智能"], exclude_negated=True, negation_window=6)["count"].iloc[
            0
        ]
        == 0
    )


def test_categories_and_series_index() -> None:
    texts = pd.Series(["区块链与云计算。", "人工智能。"], index=["a", "b"])
    out = keyword_frequency(texts, "digital_transformation", by="category")
    assert list(out.index) == ["a", "b"]
    assert out.loc["a", "区块链技术"] == 1 and out.loc["a", "云计算技术"] == 1
    assert out.loc["b", "人工智能技术"] == 1
    assert out["count"].tolist() == [2, 1]
    totals = keyword_frequency(texts, {"x": ["区块链"], "y": ["人工智能"]}, by="total")
    assert list(totals.columns[:1]) == ["count"]


def test_snippets_show_matched_sentences() -> None:
    doc = "天气很好。公司尚未应用人工智能！我们推进机器学习；收入增长。"
    out = keyword_snippets([doc], "ai")
    assert out["term"].tolist() == ["人工智能", "机器学习"]
    assert out["negated"].tolist() == [True, False]
    assert out["sentence"].tolist() == ["公司尚未应用人工智能!", "我们推进机器学习;"]
    assert len(keyword_snippets([doc], "ai", max_per_text=1)) == 1


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------


def test_shipped_dictionaries_load_and_have_expected_sizes() -> None:
    sizes = {name: len(load_dictionary(name)) for name in text.DICTIONARIES}
    assert sizes["ai_wufei2021"] == 15
    assert sizes["ai"] == 20
    assert sizes["digital_transformation"] == 76  # 吴非等 (2021): 76 terms in five categories
    assert sizes["data_assets"] == 10
    assert load_dictionary("digital_transformation")["category"].nunique() == 5


def test_counting_is_additive_over_concatenation() -> None:
    a, b = "推进人工智能和深度学习。", "布局自动驾驶与人脸识别。"
    sep = keyword_frequency([a, b, a + b], "ai")
    assert sep.loc[2, "count"] == sep.loc[0, "count"] + sep.loc[1, "count"]
    assert sep.loc[2, "n_words"] == sep.loc[0, "n_words"] + sep.loc[1, "n_words"]


def test_private_tokenizer_leaves_global_jieba_alone() -> None:
    import jieba

    keyword_frequency(["自然语言处理"], ["自然语言处理"])
    assert "自然语言处理" not in jieba.dt.FREQ or jieba.dt.FREQ["自然语言处理"] < text.TERM_FREQ


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="texts are empty"):
        keyword_frequency(["好", "  "], "ai")
    with pytest.raises(ValueError, match="missing"):
        keyword_frequency(pd.Series(["好", None]), "ai")
    with pytest.raises(ValueError, match="not one string"):
        keyword_frequency("人工智能", "ai")
    with pytest.raises(ValueError, match="texts is empty"):
        keyword_frequency([], "ai")
    with pytest.raises(ValueError, match="unknown dictionary"):
        keyword_frequency(["好"], "robots")
    with pytest.raises(ValueError, match="more than once"):
        keyword_frequency(["好"], ["人工智能", "人工智能"])
    with pytest.raises(ValueError, match="spaces or punctuation"):
        keyword_frequency(["好"], ["machine learning"])
    with pytest.raises(ValueError, match="by must be"):
        keyword_frequency(["好"], "ai", by="word")
    with pytest.raises(ValueError, match="single string"):
        keyword_frequency(["好"], {"ai": "人工智能"})
    with pytest.raises(ValueError, match="texts must be strings"):
        keyword_frequency([1.5], "ai")
