"""The query language: user text → Whoosh query, with limits, and single-character expansion.

Syntax: words are ANDed; `a OR b`; `-word` or `NOT word`; `"exact phrase"`; `title:word` /
`content:word` (also 标题: / 正文:); parentheses. Unquoted Chinese runs are segmented with the
index's analyzer (query mode) into words that are ANDed across fields, so 锂电负极材料 finds a
document with 锂电 in the title and 负极材料 in the content. Full-width forms and Chinese
quotes (“…”) are folded first.
"""

from __future__ import annotations

import functools
import heapq
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.qparser import QueryParser, plugins, syntax
from whoosh.qparser.taggers import RegexTagger

from corpus.segment import is_han
from corpus.settings import Settings
from index.schema import SEARCH_FIELDS
from search.charquery import CHAR_LISTS, CharTerms
from search.context import LRU, SearchContext, cached
from search.request import BadRequest

# Field names a user may write, and what they search.
FIELD_ALIASES = {"title": "title", "content": "content", "标题": "title", "正文": "content"}
_FIELD_EXPR = r"(?<![A-Za-z0-9_])(?P<text>(?i:title|content)|标题|正文)[:：]"
_ANY_FIELD = re.compile(r"(?<![A-Za-z0-9_./])([A-Za-z_][A-Za-z0-9_]*):(?!//)")
_QUOTES = str.maketrans({c: '"' for c in "“”„‟＂「」『』〝〞"})
_PHRASE = re.compile(r'"[^"]*"')
# An operator with nothing on one side (锂 OR, OR 锂, 锂 OR ) 钢) would be searched as a word.
_DANGLING = re.compile(
    r"(?:^|(?<=\s))(?:OR|AND|NOT)$|^(?:OR|AND)(?=\s)|(?<=[\s(])(?:OR|AND)(?=\s*\))"
)
# One-character function words dropped when they come out of segmenting a longer unquoted run
# (山西的锂 → 山西 锂): every document has them, and expanding them costs hundreds of terms.
_STOP_CHARS = frozenset("的了和与及在是对把被将为之或而并等")
# Deepest parenthesis nesting accepted: deeper queries are refused before parsing.
MAX_NESTING = 8


@dataclass(frozen=True)
class MatchTerms:
    """What a snippet marks: whole words, single Han characters (expanded), and phrases."""

    words: frozenset[str] = frozenset()
    chars: frozenset[str] = frozenset()
    phrases: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.chars or self.phrases)


@dataclass
class ParsedQuery:
    """A parsed user query: the Whoosh query (None when the text was empty), how it was read,
    notices for the user, and the terms to highlight."""

    query: wq.Query | None
    parsed: str
    notices: list[str] = field(default_factory=list)
    terms: MatchTerms = field(default_factory=MatchTerms)


class _TooManyTerms(Exception):
    pass


class LeftoverChar(wq.Term):
    """A one-character word cut out of a longer typed word (大 in 大飞机): searched as itself.

    Only a character typed on its own (锂) means "any word containing it"; a leftover of
    segmentation is the same token the indexer made from the same text, so expanding it would
    only add noise (大会, 扩大…) and cost. It is expanded only when the index does not have it.
    """


class _FieldTagger(RegexTagger):
    def create(self, parser: QueryParser, match: re.Match[str]) -> syntax.FieldnameNode:
        return syntax.FieldnameNode(FIELD_ALIASES[match.group("text").lower()], match.group(0))


class _FieldsPlugin(plugins.FieldsPlugin):
    """Only the field names users may write (title:, content:, 标题:, 正文:)."""

    def __init__(self) -> None:
        super().__init__(_FIELD_EXPR, remove_unknown=True)

    def taggers(self, parser: QueryParser) -> list[tuple[Any, int]]:
        return [(_FieldTagger(self.expr), 0)]


class _SegmentPlugin(plugins.Plugin):
    """Split each unquoted word into the analyzer's words (an AND group keeping its field), and
    count words and operators so an over-long query is refused before anything is searched."""

    def __init__(self, schema: Schema, max_terms: int) -> None:
        self.analyzer = schema["content"].analyzer
        self.max_terms = max_terms
        self.count = 0

    def filters(self, parser: QueryParser) -> list[tuple[Any, int]]:
        # After field names are applied (100), before fields are multiplied (110).
        return [(self.do_segment, 105)]

    def words(self, text: str) -> list[str]:
        return [t.text for t in self.analyzer(text, mode="query")]

    def do_segment(self, parser: QueryParser, group: syntax.GroupNode) -> syntax.GroupNode:
        out = group.empty_copy()
        for node in group:
            if isinstance(node, syntax.GroupNode):
                node = self.do_segment(parser, node)
            elif isinstance(node, plugins.PhrasePlugin.PhraseNode):
                self.add(len(self.words(node.text)))
            elif isinstance(node, syntax.Operator):
                self.add(1)
            elif isinstance(node, syntax.WordNode):
                words = self.words(node.text)
                if len(words) > 1:
                    words = [w for w in words if w not in _STOP_CHARS] or words
                self.add(len(words))
                if len(words) > 1:
                    node = syntax.AndGroup([self._word(node, w) for w in words])
                    for word in node:
                        if _is_single_han(word.text):
                            word.qclass = LeftoverChar
                elif words:
                    node.text = words[0]
            out.append(node)
        return out

    @staticmethod
    def _word(node: syntax.WordNode, text: str) -> syntax.WordNode:
        word = syntax.WordNode(text)
        word.startchar, word.endchar = node.startchar, node.endchar
        if node.fieldname is not None:
            word.set_fieldname(node.fieldname)
        return word

    def add(self, n: int) -> None:
        self.count += n
        if self.count > self.max_terms:
            raise _TooManyTerms


class _FieldsGroup(syntax.GroupNode):
    """One word searched in every field: an OR that the OR operator must not merge into."""

    qclass = wq.Or


def make_parser(schema: Schema, max_terms: int) -> QueryParser:
    """A parser with exactly the syntax above: no wildcards, fuzzy terms, ranges or boosts."""
    minus = plugins.OperatorsPlugin.OpTagger(
        r"(^|(?<=[\s(]))-(?=[^\s-])", syntax.NotGroup, syntax.PrefixOperator, memo="minus"
    )
    return QueryParser(
        None,
        schema,
        plugins=[
            _FieldsPlugin(),
            plugins.PhrasePlugin(),
            plugins.GroupPlugin(),
            plugins.OperatorsPlugin(ops=[(minus, 0)], AndNot=None, AndMaybe=None, Require=None),
            _SegmentPlugin(schema, max_terms),
            # No field boosts here: the schema's field_boost already weights title terms.
            plugins.MultifieldPlugin(list(SEARCH_FIELDS), group=_FieldsGroup),
        ],
    )


def parse_query(text: str, schema: Schema, settings: Settings) -> ParsedQuery:
    """Parse user query text; raise BadRequest("bad_query") for anything the user must fix.

    An unbalanced quote is read leniently (the stray quote is ignored) and said in a notice.
    """
    if len(text) > settings.max_query_chars:
        raise BadRequest(
            "bad_query", f"查询太长（{len(text)} 个字符），最多 {settings.max_query_chars} 个字符"
        )
    notices: list[str] = []
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).strip()
    if text.count('"') % 2:
        cut = text.rfind('"')
        text = text[:cut] + " " + text[cut + 1 :]
        notices.append("引号不成对：已忽略未配对的引号，其后的内容按普通词搜索")
    dropped: list[str] = []
    while dangling := _DANGLING.search(text):
        text = (text[: dangling.start()] + " " + text[dangling.end() :]).strip()
        dropped.append(dangling.group())
    if dropped:
        notices.append(f"忽略了缺少词语的运算符 {' '.join(dict.fromkeys(dropped))}")
    outside = _PHRASE.sub(" ", text)
    for m in _ANY_FIELD.finditer(outside):
        if m.group(1).lower() not in FIELD_ALIASES:
            raise BadRequest(
                "bad_query",
                f"不支持的字段 {m.group(1)}:，只能用 title: 或 content:"
                "（来源、地区、行业、日期请用筛选条件）",
            )
    if outside.count("(") != outside.count(")"):
        notices.append("括号不成对：已按能配对的部分理解")
    if (deepest := _nesting(outside)) > MAX_NESTING:  # describe() is exponential in depth
        raise BadRequest("bad_query", f"括号嵌套太深（{deepest} 层），最多 {MAX_NESTING} 层")
    if not text:
        return ParsedQuery(None, "", notices)
    parser = make_parser(schema, settings.max_query_terms)
    try:
        raw = parser.parse(text, normalize=False)
        q = raw.normalize()
    except _TooManyTerms:
        raise BadRequest(
            "bad_query", f"查询的词和运算符太多，最多 {settings.max_query_terms} 个"
        ) from None
    except Exception as exc:  # Whoosh's parser reports problems as assorted exceptions
        raise BadRequest("bad_query", f"无法理解查询：{exc}") from None
    errors = [getattr(n, "error", None) for n in _walk(q)]
    if any(errors):
        raise BadRequest("bad_query", f"无法理解查询：{next(e for e in errors if e)}")
    if isinstance(q, type(wq.NullQuery)):
        notices.append("查询中没有可搜索的词")
        return ParsedQuery(wq.NullQuery, "", notices)
    # Described before normalising: normalize() flattens the per-field ORs of different words.
    return ParsedQuery(q, describe(raw), notices, match_terms(q))


def _nesting(text: str) -> int:
    """The deepest parenthesis nesting in `text`."""
    depth = deepest = 0
    for char in text:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(0, depth - 1)
    return deepest


def _walk(q: wq.Query) -> list[wq.Query]:
    out = [q]
    for child in q.children():
        out.extend(_walk(child))
    return out


def positive_leaves(q: wq.Query) -> Iterator[wq.Term | wq.Phrase]:
    """The Term and Phrase nodes of a query that are not under a NOT."""
    if isinstance(q, wq.Not):
        return
    if isinstance(q, wq.AndNot):
        yield from positive_leaves(q.a)
        return
    if (isinstance(q, wq.Term) and isinstance(q.text, str)) or isinstance(q, wq.Phrase):
        yield q
    for child in q.children():
        yield from positive_leaves(child)


def match_terms(q: wq.Query) -> MatchTerms:
    """The positive terms of a query (not those under NOT), for highlighting."""
    words: set[str] = set()
    chars: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    for node in positive_leaves(q):
        if isinstance(node, wq.Term):
            leftover = isinstance(node, LeftoverChar)
            (chars if _is_single_han(node.text) and not leftover else words).add(node.text)
        elif len(node.words) == 1:
            words.add(node.words[0])
        elif node.words:
            phrases.add(tuple(node.words))
    return MatchTerms(frozenset(words), frozenset(chars), tuple(sorted(phrases)))


def describe(q: wq.Query) -> str:
    """How a query was read, in the user's syntax: 锂电 负极材料 OR "负极材料项目" -煤."""
    return _describe(q)


@functools.lru_cache(maxsize=4096)
def _describe(q: wq.Query) -> str:
    # Memoised: each level looks at its children twice, which is exponential in the nesting.
    if isinstance(q, wq.Term):
        return _prefix(q.fieldname) + str(q.text)
    if isinstance(q, wq.Phrase):
        return _prefix(q.fieldname) + '"' + _join_words(q.words) + '"'
    kids = [c for c in q.children() if describe(c)]
    if isinstance(q, (wq.And, wq.Or)) and len(kids) == 1:
        return describe(kids[0])
    if isinstance(q, wq.Or):
        unfielded = _across_fields(q)
        if unfielded is not None:
            return unfielded
        return " OR ".join(_parts(_paren(c, wq.And, wq.AndNot) for c in q.children()))
    if isinstance(q, wq.And):
        return " ".join(_parts(_paren(c, wq.Or) for c in q.children()))
    if isinstance(q, wq.AndNot):
        return f"{_paren(q.a, wq.Or)} -{_paren(q.b, wq.And, wq.Or, wq.AndNot)}"
    if isinstance(q, wq.Not):
        return "-" + _paren(q.query, wq.And, wq.Or, wq.AndNot)
    if isinstance(q, wq.Every):
        return "*"
    return ""


def _parts(texts: Iterator[str]) -> list[str]:
    return [t for t in texts if t and t != "()"]


def _prefix(fieldname: str) -> str:
    return f"{fieldname}:" if fieldname else ""


def _paren(q: wq.Query, *kinds: type) -> str:
    while isinstance(q, (wq.And, wq.Or)):  # unwrap the one-child groups parentheses leave
        kids = [c for c in q.children() if describe(c)]
        if len(kids) != 1:
            break
        q = kids[0]
    text = describe(q)
    kids = list(q.children())
    if isinstance(q, kinds) and len(kids) > 1 and _across_fields(q) is None:
        return f"({text})"
    return text


def _across_fields(q: wq.Query) -> str | None:
    """The unfielded reading of an OR that searches one term or phrase in every search field."""
    if not isinstance(q, wq.Or):
        return None
    kids = list(q.children())
    if {getattr(k, "fieldname", None) for k in kids} != set(SEARCH_FIELDS):
        return None
    if all(isinstance(k, wq.Term) for k in kids) and len({k.text for k in kids}) == 1:
        return str(kids[0].text)
    if all(isinstance(k, wq.Phrase) for k in kids) and len({tuple(k.words) for k in kids}) == 1:
        return '"' + _join_words(kids[0].words) + '"'
    return None


def _join_words(words: list[str]) -> str:
    out = ""
    for w in words:
        if out and out[-1].isascii() and out[-1].isalnum() and w[:1].isascii() and w[:1].isalnum():
            out += " "
        out += w
    return out


def _is_single_han(text: str) -> bool:
    return len(text) == 1 and is_han(text)


def expand_query(q: wq.Query, ctx: SearchContext, notices: list[str] | None = None) -> wq.Query:
    """Replace each one-character Han term typed on its own by the indexed terms containing it.

    jieba keeps 锂电 and 锂电池 whole, so a query for 锂 alone would find only the rare
    documents where 锂 stands as a word. A character cut from a longer typed word (大 in 大飞机,
    a `LeftoverChar`) stays itself when the index has it. The expansion is a `CharTerms`, matched
    as one merged posting list. The indexed terms of the field that contain the character are looked
    up in that field's lexicon, most frequent first, capped at `settings.max_expansion`; see
    `char_terms` for how the lookup is cached per index generation.
    """
    cap = ctx.settings.max_expansion
    capped: set[str] = set()
    lists = cached(ctx, "char_lists", lambda: LRU(CHAR_LISTS))

    def expand(node: wq.Query) -> wq.Query:
        if isinstance(node, wq.Term) and isinstance(node.text, str) and _is_single_han(node.text):
            if isinstance(node, LeftoverChar) and _indexed(ctx, node.text):
                return node
            terms, total = char_terms(ctx, node.fieldname, node.text)
            if total > cap:
                capped.add(node.text)
            if not terms:
                return node
            children = [wq.Term(node.fieldname, t) for t in terms]
            return CharTerms(children, boost=node.boost, cache=lists)
        return node.apply(expand)

    q = expand(q)
    if notices is not None and capped:
        chars = "、".join(sorted(capped))
        notices.append(f"包含“{chars}”的词太多，只搜索了其中最常见的 {cap} 个")
    return q


def _indexed(ctx: SearchContext, text: str) -> bool:
    """Whether any searched field has `text` as a word (decided once for all fields, so that
    a word is not exact in one field and expanded in another)."""
    reader = ctx.searcher.reader()
    return any(f in reader.schema and reader.doc_frequency(f, text) > 0 for f in SEARCH_FIELDS)


def char_terms(ctx: SearchContext, fieldname: str, char: str) -> tuple[tuple[str, ...], int]:
    """The indexed terms of `fieldname` containing `char` (most frequent first, at most
    `max_expansion`), and how many terms contain it.

    This is the char→terms map, filled lazily: the field's lexicon is read once per index
    generation into one newline-separated UTF-8 blob, and each character's entry is found by
    scanning that blob at C speed (a few ms) the first time it is asked for, then cached for the
    generation. Building the whole map eagerly costs seconds on a large index.
    """
    cap = ctx.settings.max_expansion
    return cached(
        ctx, ("char_terms", fieldname, char, cap), lambda: _char_terms(ctx, fieldname, char, cap)
    )


def _lexicon_blob(ctx: SearchContext, fieldname: str) -> bytes:
    def build() -> bytes:
        reader = ctx.searcher.reader()
        if fieldname not in reader.schema:
            return b"\n"
        return b"\n" + b"\n".join(reader.lexicon(fieldname)) + b"\n"

    return cached(ctx, ("lexicon", fieldname), build)


def _char_terms(
    ctx: SearchContext, fieldname: str, char: str, cap: int
) -> tuple[tuple[str, ...], int]:
    blob = _lexicon_blob(ctx, fieldname)
    needle = char.encode("utf-8")
    found: list[bytes] = []
    pos = blob.find(needle)
    while pos >= 0:
        start = blob.rfind(b"\n", 0, pos) + 1
        end = blob.find(b"\n", pos)
        found.append(blob[start:end])
        pos = blob.find(needle, end)
    total = len(found)
    if total > cap:
        reader = ctx.searcher.reader()
        found = heapq.nlargest(cap, found, key=lambda t: reader.doc_frequency(fieldname, t))
    return tuple(t.decode("utf-8") for t in found), total
