"""Chinese keyword frequencies in report text (annual reports, MD&A sections, snippets).

The measures built here are the text indices of the book's chapters: the AI keyword count
``AI = ln(1 + count)`` of the industry–finance chapter, ``lnaiword`` and the data-asset and
innovation-awareness indicators of the new-quality-productivity chapter.

How a text is processed (the same steps in :func:`keyword_frequency` and :func:`keyword_snippets`):

1. **Normalise.** Traditional characters become simplified with OpenCC (``convert="t2s"``; use
   ``"tw2sp"`` to also map Taiwan phrasing such as 人工智慧 → 人工智能). Unicode NFKC folds full-width
   letters, digits and punctuation to their ASCII forms (ＡＩ → AI, ， → ,), and Latin letters are
   lower-cased, so ``Fintech``, ``FINTECH`` and ``ｆｉｎｔｅｃｈ`` are one term.
2. **Segment** with a private :class:`jieba.Tokenizer` (never the global one) to which every dictionary
   term has been added with a large frequency. A multi-word term such as 机器学习 is then one token
   (plain jieba splits it into 机器 / 学习), and a term that contains another term wins: in 人工智能 the
   token is 人工智能, so 智能 is not counted as well (longest match). Each character of the text
   belongs to at most one counted term.
3. **Count** the tokens equal to a term. Words are tokens that contain at least one letter, digit or
   CJK character (punctuation and spaces are not words).
4. **Negation (optional).** With ``exclude_negated=True`` a mention is dropped when one of the
   ``NEGATIONS`` tokens (未, 没有, 不, 无, 尚未, 并未, ...) appears among the ``negation_window``
   (default 3) tokens before it *within the same clause* (the look-back stops at punctuation). Because
   the rule works on tokens, 不断推进人工智能 (不断 is one token) is not a negation, while
   公司尚未应用人工智能 is. The papers do not exclude negations; the default is ``False``.

The tokenizer for a dictionary is built once and cached (building costs about 1.5 s the first time
the jieba dictionary is loaded, then a few milliseconds).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DICTIONARIES",
    "NEGATIONS",
    "keyword_frequency",
    "keyword_snippets",
    "load_dictionary",
    "normalize_text",
]

DICTIONARIES: dict[str, str] = {
    "ai": "ai.csv",
    "ai_wufei2021": "ai_wufei2021.csv",
    "digital_transformation": "digital_transformation_wufei2021.csv",
    "digital_transformation_wufei2021": "digital_transformation_wufei2021.csv",
    "data_assets": "data_assets.csv",
    "data_assets_nqp": "data_assets_nqp.csv",
    "innovation_awareness": "innovation_awareness.csv",
}
"""Shipped dictionaries (``src/helpers/resources/dictionaries/``; the README there cites sources)."""

NEGATIONS: frozenset[str] = frozenset(
    {
        "未",
        "没有",
        "没",
        "不",
        "无",
        "尚未",
        "并未",
        "从未",
        "未能",
        "无法",
        "不会",
        "非",
        "暂未",
        "尚无",
    }
)
"""Tokens that negate a following mention when ``exclude_negated=True``."""

NEGATION_WINDOW = 3
"""Default number of tokens before a mention that are searched for a negation."""

TERM_FREQ = 10**6
"""jieba frequency given to dictionary terms (the jieba dictionary totals about 6e7)."""

CONVERSIONS = ("t2s", "tw2sp", "hk2s", "tw2s", "none")
SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")
_JIEBA_CHARS = re.compile(r"^[\u4E00-\u9FD5a-z0-9+#&._%\-]+$")
_JIEBA_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+)")  # jieba's re_han_default
_ALNUM = re.compile(r"[^\W_]")


# ----------------------------------------------------------------------------------------------
# dictionaries
# ----------------------------------------------------------------------------------------------
def load_dictionary(name: str) -> pd.DataFrame:
    """Return a shipped keyword dictionary as a frame with columns ``term`` and ``category``.

    Parameters
    ----------
    name : str
        One of ``DICTIONARIES``: ``"ai"``, ``"ai_wufei2021"``, ``"digital_transformation"``,
        ``"data_assets"``, ``"data_assets_nqp"``, ``"innovation_awareness"``.

    Returns
    -------
    pandas.DataFrame
        One row per term, in the file's order.

    Raises
    ------
    ValueError
        If ``name`` is not a shipped dictionary.

    References
    ----------
    吴非, 胡慧芷, 林慧妍, 任晓怡 (2021). 企业数字化转型与资本市场表现. 管理世界 37(7): 130–144, Fig. 1.
    The other lists are design defaults from the book's specs (see the README next to the files).

    Examples
    --------
    >>> load_dictionary("ai_wufei2021").shape
    (15, 2)
    """
    if name not in DICTIONARIES:
        raise ValueError(
            f"unknown dictionary {name!r}; shipped dictionaries are {sorted(DICTIONARIES)}, "
            "or pass your own list of terms"
        )
    path = resources.files("helpers") / "resources" / "dictionaries" / DICTIONARIES[name]
    with resources.as_file(path) as p:
        frame = pd.read_csv(p, comment="#", dtype=str)
    return frame[["term", "category"]].reset_index(drop=True)


def _dictionary_frame(
    dictionary: str | Iterable[str] | Mapping[str, Iterable[str]],
) -> pd.DataFrame:
    """Turn the user's dictionary argument into a validated (term, category, key) frame."""
    if isinstance(dictionary, str):
        frame = load_dictionary(dictionary)
    elif isinstance(dictionary, pd.DataFrame):
        if "term" not in dictionary.columns:
            raise ValueError("a dictionary frame needs a 'term' column (and optionally 'category')")
        frame = dictionary.copy()
        if "category" not in frame.columns:
            frame["category"] = "all"
    elif isinstance(dictionary, Mapping):
        rows = [(t, str(c)) for c, terms in dictionary.items() for t in _as_terms(terms, str(c))]
        frame = pd.DataFrame(rows, columns=["term", "category"])
    else:
        frame = pd.DataFrame({"term": list(_as_terms(dictionary, "dictionary")), "category": "all"})
    if frame.empty:
        raise ValueError("the dictionary is empty; give at least one term")
    bad = [t for t in frame["term"] if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ValueError(f"dictionary terms must be non-empty strings; got {bad[:5]!r}")
    frame["key"] = [normalize_text(t) for t in frame["term"]]
    untokenizable = [
        t for t, k in zip(frame["term"], frame["key"], strict=True) if not _JIEBA_CHARS.match(k)
    ]
    if untokenizable:
        raise ValueError(
            f"terms {untokenizable[:5]!r} contain spaces or punctuation that jieba never keeps inside a "
            "token, so they could never be counted; remove those characters from the terms"
        )
    dup = frame["key"][frame["key"].duplicated()].tolist()
    if dup:
        raise ValueError(
            f"the dictionary lists {dup[:5]!r} more than once (after simplification and case folding); "
            "list each term once so that a mention is counted once"
        )
    return frame.reset_index(drop=True)


def _as_terms(terms: Any, where: str) -> list[str]:
    if isinstance(terms, str):
        raise ValueError(
            f"{where}: got a single string where a list of terms was expected; wrap it in a list, "
            "or pass the name of a shipped dictionary as the dictionary argument"
        )
    return list(terms)


# ----------------------------------------------------------------------------------------------
# normalisation and the cached tokenizer
# ----------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _converter(convert: str) -> Any:
    import opencc

    return opencc.OpenCC(convert)


def normalize_text(text: str, convert: str = "t2s") -> str:
    """Simplify, fold full-width forms (NFKC) and lower-case Latin letters.

    Parameters
    ----------
    text : str
        Any text.
    convert : str, default "t2s"
        OpenCC configuration (``"t2s"``, ``"tw2sp"``, ``"hk2s"``, ``"tw2s"``) or ``"none"``.

    Returns
    -------
    str
        The normalised text.

    Examples
    --------
    >>> normalize_text("人工智慧與機器學習，ＡＩ")
    '人工智慧与机器学习,ai'
    """
    if convert not in CONVERSIONS:
        raise ValueError(f"convert must be one of {CONVERSIONS}; got {convert!r}")
    if convert != "none":
        text = _converter(convert).convert(text)
    return unicodedata.normalize("NFKC", text).lower()


def _normalize_many(series: pd.Series, convert: str) -> list[str]:
    """Normalise many texts with one OpenCC call (texts never contain the separator afterwards)."""
    sep = "\ue000"  # a private-use character: OpenCC, NFKC and lower() keep it
    joined = sep.join(t.replace(sep, " ") for t in series.to_numpy())
    return normalize_text(joined, convert).split(sep)


@contextlib.contextmanager
def _quiet_jieba() -> Iterator[None]:
    """Silence jieba's 'Building prefix dict' log lines for the duration of the block only."""
    logger = logging.getLogger("jieba")
    old = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(old)


@functools.lru_cache(maxsize=1)
def _base_tokenizer() -> Any:
    with warnings.catch_warnings():
        # jieba 0.42.1 imports pkg_resources, which emits a UserWarning on import under setuptools>=80.
        warnings.simplefilter("ignore", UserWarning)
        import jieba
    tokenizer = jieba.Tokenizer()
    with _quiet_jieba():
        tokenizer.initialize()
    return tokenizer


@functools.lru_cache(maxsize=8)
def _tokenizer(terms: tuple[str, ...]) -> Any:
    """A private jieba tokenizer that knows ``terms`` (built from a copy of the base dictionary)."""
    base = _base_tokenizer()
    tokenizer = type(base)()
    tokenizer.FREQ = dict(base.FREQ)
    tokenizer.total = base.total
    tokenizer.initialized = True
    for term in terms:
        tokenizer.add_word(term, TERM_FREQ)
    # add_word also raises the total; restore it so that the odds between ordinary words (and hence
    # the word count of the text) are exactly those of plain jieba.
    tokenizer.total = base.total
    return tokenizer


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


class _Analyser:
    """Segment texts block by block with a memo, so that repeated clauses are cut only once.

    jieba itself splits a text into blocks of CJK characters, Latin letters and digits (its
    ``re_han_default``) and cuts each block separately, so cutting block by block gives exactly the
    tokens of ``tokenizer.cut(text)``. A block is also the clause used for the negation look-back.
    """

    def __init__(self, keys: Sequence[str], negation_window: int, hmm: bool) -> None:
        self.tokenizer = _tokenizer(tuple(keys))
        self.keys = frozenset(keys)
        self.window = negation_window
        self.hmm = hmm
        self.memo: dict[str, tuple[int, tuple[tuple[str, bool], ...]]] = {}

    def block(self, blk: str) -> tuple[int, tuple[tuple[str, bool], ...]]:
        """(number of words, ((term key, negated), ...)) for one block."""
        hit = self.memo.get(blk)
        if hit is None:
            tokens = list(self.tokenizer.cut(blk, HMM=self.hmm))
            mentions = []
            for i, tok in enumerate(tokens):
                if tok in self.keys:
                    before = tokens[max(0, i - self.window) : i]
                    mentions.append((tok, any(t in NEGATIONS for t in before)))
            hit = (sum(1 for t in tokens if _is_word(t)), tuple(mentions))
            self.memo[blk] = hit
        return hit

    def text(self, text: str) -> tuple[int, int, list[tuple[str, bool]]]:
        """(n_words, n_chars, mentions) of a normalised text."""
        n_words = 0
        mentions: list[tuple[str, bool]] = []
        for blk in _JIEBA_BLOCK.split(text):
            if not blk:
                continue
            if _JIEBA_BLOCK.fullmatch(blk):
                words, found = self.block(blk)
                n_words += words
                mentions.extend(found)
            else:  # punctuation, spaces, other scripts: jieba yields them one character at a time
                n_words += len(_ALNUM.findall(blk))
        return n_words, len(_ALNUM.findall(text)), mentions


def _validate_texts(texts: Any) -> pd.Series:
    if isinstance(texts, str):
        raise ValueError(
            "texts must be a list or Series of strings, not one string; wrap it in a list"
        )
    series = texts.copy() if isinstance(texts, pd.Series) else pd.Series(list(texts))
    if series.empty:
        raise ValueError("texts is empty; pass at least one text")
    missing = series.isna()
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} texts are missing (NaN/None), first at index "
            f"{series.index[missing][0]!r}; drop them or fill them with '' and decide how to treat them"
        )
    not_str = ~series.map(lambda v: isinstance(v, str))
    if not_str.any():
        raise ValueError(
            f"texts must be strings; index {series.index[not_str][0]!r} holds a non-string value"
        )
    empty = series.str.strip().eq("")
    if empty.any():
        raise ValueError(
            f"{int(empty.sum())} texts are empty, first at index {series.index[empty][0]!r}; a frequency per "
            "10,000 words is undefined for an empty text, so drop them before counting"
        )
    return series


# ----------------------------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------------------------
def keyword_frequency(
    texts: Sequence[str] | pd.Series,
    dictionary: str | Iterable[str] | Mapping[str, Iterable[str]] | pd.DataFrame = "ai",
    *,
    by: str = "term",
    exclude_negated: bool = False,
    negation_window: int = NEGATION_WINDOW,
    convert: str = "t2s",
    hmm: bool = True,
) -> pd.DataFrame:
    r"""Count dictionary terms in Chinese texts, with word counts, frequencies and ``ln(1+count)``.

    Parameters
    ----------
    texts : sequence of str or pandas.Series
        The texts (annual reports, MD&A sections, sentences). A Series keeps its index.
    dictionary : str, iterable of str, mapping or DataFrame, default "ai"
        A shipped dictionary name (see :data:`DICTIONARIES`), a list of terms, a mapping
        ``{category: [terms]}`` or a frame with ``term`` (and ``category``) columns.
    by : {"term", "category", "total"}, default "term"
        Which count columns to return besides ``count``: one per term (columns named by the term as
        written in the dictionary), one per category, or only the total.
    exclude_negated : bool, default False
        Drop mentions preceded by a negation token within ``negation_window`` tokens of the same clause
        (see the module docstring). The papers count all mentions.
    negation_window : int, default 3
        Tokens searched before a mention.
    convert : str, default "t2s"
        OpenCC conversion applied before counting (``"none"`` to skip).
    hmm : bool, default True
        jieba's HMM for unknown words (affects only the word count, never the term counts).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``texts``, with the count columns, then ``count`` (all terms), ``n_words``,
        ``n_chars`` (letters, digits and CJK characters), ``keyword_chars`` (:math:`\sum_k n_k\,|k|`),
        ``freq_per_10k`` and ``ln1p_count``.

    Raises
    ------
    ValueError
        For a missing, non-string or empty text, an empty or duplicated dictionary, a term that jieba
        cannot keep in one token (spaces, punctuation), or an unknown ``by``/``convert``.

    Notes
    -----
    .. math:: \mathrm{freq}_i = 10^4 \, \frac{\sum_k n_{ik}}{W_i}, \qquad
              \mathrm{AI}_i = \ln\Bigl(1 + \sum_k n_{ik}\Bigr)

    where :math:`n_{ik}` counts term :math:`k` in text :math:`i` (longest match, each character in at
    most one term) and :math:`W_i` is its number of words.

    References
    ----------
    吴非 et al. (2021), 管理世界 37(7): 130–144 (dictionary and ``ln(1+count)``); spec
    industry-finance-ai §3 and ai-new-quality-productivity §3.2 and Appendix B.

    Examples
    --------
    >>> out = keyword_frequency(["公司应用人工智能与機器學習。"], ["人工智能", "智能", "机器学习"])
    >>> out[["人工智能", "智能", "机器学习", "count"]].iloc[0].tolist()
    [1, 0, 1, 2]
    """
    if by not in {"term", "category", "total"}:
        raise ValueError(f"by must be 'term', 'category' or 'total'; got {by!r}")
    if not isinstance(negation_window, int) or negation_window < 1:
        raise ValueError(f"negation_window must be a positive integer; got {negation_window!r}")
    if convert not in CONVERSIONS:
        raise ValueError(f"convert must be one of {CONVERSIONS}; got {convert!r}")
    series = _validate_texts(texts)
    terms = _dictionary_frame(dictionary)
    keys = tuple(terms["key"])
    key_index = {k: j for j, k in enumerate(keys)}
    key_len = np.array([len(k) for k in keys], dtype=np.int64)
    analyser = _Analyser(keys, negation_window, hmm)

    counts = np.zeros((len(series), len(keys)), dtype=np.int64)
    n_words = np.zeros(len(series), dtype=np.int64)
    n_chars = np.zeros(len(series), dtype=np.int64)
    for row, text in enumerate(_normalize_many(series, convert)):
        n_words[row], n_chars[row], found = analyser.text(text)
        for key, negated in found:
            if not (exclude_negated and negated):
                counts[row, key_index[key]] += 1

    total = counts.sum(axis=1)
    if by == "term":
        out = pd.DataFrame(counts, index=series.index, columns=list(terms["term"]))
    elif by == "category":
        cats = list(dict.fromkeys(terms["category"]))
        out = pd.DataFrame(
            {c: counts[:, (terms["category"] == c).to_numpy()].sum(axis=1) for c in cats},
            index=series.index,
        )
    else:
        out = pd.DataFrame(index=series.index)
    out["count"] = total
    out["n_words"] = n_words
    out["n_chars"] = n_chars
    out["keyword_chars"] = counts @ key_len
    with np.errstate(divide="ignore", invalid="ignore"):
        out["freq_per_10k"] = np.where(n_words > 0, 1e4 * total / np.maximum(n_words, 1), 0.0)
    out["ln1p_count"] = np.log1p(total)
    return out


def keyword_snippets(
    texts: Sequence[str] | pd.Series,
    dictionary: str | Iterable[str] | Mapping[str, Iterable[str]] | pd.DataFrame = "ai",
    *,
    max_per_text: int | None = 3,
    negation_window: int = NEGATION_WINDOW,
    convert: str = "t2s",
) -> pd.DataFrame:
    """Return the sentences that contain dictionary terms, one row per sentence and term.

    Sentences end at 。！？；!?; or a line break. Use it to show readers what the counter counts,
    including the mentions that ``exclude_negated=True`` would drop (column ``negated``).

    Parameters
    ----------
    texts : sequence of str or pandas.Series
        The texts; a Series keeps its index in the ``text`` column.
    dictionary : str, iterable of str, mapping or DataFrame, default "ai"
        As in :func:`keyword_frequency`.
    max_per_text : int or None, default 3
        Keep at most this many matched sentences per text (``None`` keeps all).
    negation_window : int, default 3
        As in :func:`keyword_frequency`.
    convert : str, default "t2s"
        OpenCC conversion; the returned sentences are the normalised ones.

    Returns
    -------
    pandas.DataFrame
        Columns ``text`` (the index label of the text), ``sentence_no``, ``term``, ``category``,
        ``negated`` and ``sentence``.

    Raises
    ------
    ValueError
        As in :func:`keyword_frequency`, and for a non-positive ``max_per_text``.

    Examples
    --------
    >>> snip = keyword_snippets(["天气很好。公司尚未应用人工智能。"], ["人工智能"])
    >>> snip.loc[0, "sentence"], bool(snip.loc[0, "negated"])
    ('公司尚未应用人工智能。', True)
    """
    if max_per_text is not None and (not isinstance(max_per_text, int) or max_per_text < 1):
        raise ValueError(f"max_per_text must be a positive integer or None; got {max_per_text!r}")
    if convert not in CONVERSIONS:
        raise ValueError(f"convert must be one of {CONVERSIONS}; got {convert!r}")
    series = _validate_texts(texts)
    terms = _dictionary_frame(dictionary)
    keys = tuple(terms["key"])
    by_key = dict(zip(keys, zip(terms["term"], terms["category"], strict=True), strict=True))
    analyser = _Analyser(keys, negation_window, hmm=True)
    rows: list[tuple[Any, int, str, str, bool, str]] = []
    for label, text in zip(series.index, _normalize_many(series, convert), strict=True):
        kept = 0
        sentences = [s for s in SENTENCE_END.split(text) if s.strip()]
        for no, sentence in enumerate(sentences):
            if max_per_text is not None and kept >= max_per_text:
                break
            found = analyser.text(sentence)[2]
            for key, negated in found:
                term, category = by_key[key]
                rows.append((label, no, term, category, negated, sentence.strip()))
            kept += bool(found)
    return pd.DataFrame(
        rows, columns=["text", "sentence_no", "term", "category", "negated", "sentence"]
    )
