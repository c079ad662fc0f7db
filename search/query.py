"""The query language: user text → a Whoosh query tree whose leaves are literal terms.

Syntax: space-separated terms are ANDed; `a OR b`; `-term` or `NOT term`; `"exact phrase"`;
`title:term` / `content:term` (also 标题: / 正文:); parentheses. Every term, quoted or not, is a
`Literal`: the report must contain exactly that text (see `search.literal`), in any search field
unless a field is named. Quotes only let a term hold spaces. Full-width forms and Chinese quotes
(“…”) are folded first.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.qparser import QueryParser, plugins, syntax
from whoosh.qparser.taggers import RegexTagger

from zhsearch.index.schema import SEARCH_FIELDS
from zhsearch.index.settings import Settings
from zhsearch.search.literal import Literal, LiteralTerm
from zhsearch.search.request import BadRequest, check_query_length
from zhsearch.search.snippets import MatchTerms

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
# Deepest parenthesis nesting accepted: deeper queries are refused before parsing.
MAX_NESTING = 8


@dataclass
class ParsedQuery:
    """A parsed user query: the query tree (None when the text was empty), how it was read,
    notices for the user, and the terms to highlight."""

    query: wq.Query | None
    parsed: str
    notices: list[str] = field(default_factory=list)
    terms: MatchTerms = field(default_factory=MatchTerms)


class _TooManyTerms(Exception):
    pass


class _FieldTagger(RegexTagger):
    def create(self, parser: QueryParser, match: re.Match[str]) -> syntax.FieldnameNode:
        return syntax.FieldnameNode(FIELD_ALIASES[match.group("text").lower()], match.group(0))


class _FieldsPlugin(plugins.FieldsPlugin):
    """Only the field names users may write (title:, content:, 标题:, 正文:)."""

    def __init__(self) -> None:
        super().__init__(_FIELD_EXPR, remove_unknown=True)

    def taggers(self, parser: QueryParser) -> list[tuple[Any, int]]:
        return [(_FieldTagger(self.expr), 0)]


class LiteralNode(syntax.TextNode):
    """A typed term (a word or a quoted phrase) that becomes a `Literal` for its field."""

    def query(self, parser: QueryParser) -> wq.Query:
        term = LiteralTerm.parse(self.text)
        if term is None:  # punctuation only
            return wq.NullQuery
        return Literal(self.fieldname or "content", term, boost=self.boost)


class _LiteralPlugin(plugins.Plugin):
    """Turn each word and quoted phrase into a `LiteralNode` (keeping its field), and count terms
    and operators so an over-long query is refused before anything is searched."""

    def __init__(self, max_terms: int) -> None:
        self.max_terms = max_terms
        self.count = 0

    def filters(self, parser: QueryParser) -> list[tuple[Any, int]]:
        # After field names are applied (100), before fields are multiplied (110).
        return [(self.do_literals, 105)]

    def do_literals(self, parser: QueryParser, group: syntax.GroupNode) -> syntax.GroupNode:
        out = group.empty_copy()
        for node in group:
            if isinstance(node, syntax.GroupNode):
                node = self.do_literals(parser, node)
            elif isinstance(node, syntax.Operator):
                self.add()
            elif isinstance(node, (syntax.WordNode, plugins.PhrasePlugin.PhraseNode)):
                self.add()
                literal = LiteralNode(node.text)
                literal.startchar, literal.endchar = node.startchar, node.endchar
                if node.fieldname is not None:
                    literal.set_fieldname(node.fieldname)
                node = literal
            out.append(node)
        return out

    def add(self) -> None:
        self.count += 1
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
            _LiteralPlugin(max_terms),
            # No field boosts here: the schema's field_boost already weights title terms.
            plugins.MultifieldPlugin(list(SEARCH_FIELDS), group=_FieldsGroup),
        ],
    )


def parse_query(text: str, schema: Schema, settings: Settings) -> ParsedQuery:
    """Parse user query text; raise BadRequest("bad_query") for anything the user must fix.

    An unbalanced quote is read leniently (the stray quote is ignored) and said in a notice.
    """
    check_query_length(text, settings)
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
            "bad_query", f"查询的词语和运算符太多，最多 {settings.max_query_terms} 个"
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


def positive_leaves(q: wq.Query) -> Iterator[Literal]:
    """The literal terms of a query that are not under a NOT."""
    if isinstance(q, wq.Not):
        return
    if isinstance(q, wq.AndNot):
        yield from positive_leaves(q.a)
        return
    if isinstance(q, Literal):
        yield q
    for child in q.children():
        yield from positive_leaves(child)


def match_terms(q: wq.Query) -> MatchTerms:
    """The positive terms of a query (not those under NOT), for highlighting."""
    terms = {leaf.term.key: leaf.term for leaf in positive_leaves(q)}
    return MatchTerms(tuple(terms[k] for k in sorted(terms)))


def describe(q: wq.Query) -> str:
    """How a query was read, in the user's syntax: 锂电 负极材料 OR "负极材料项目" -煤."""
    return _describe(q)


@functools.lru_cache(maxsize=4096)
def _describe(q: wq.Query) -> str:
    # Memoised: each level looks at its children twice, which is exponential in the nesting.
    if isinstance(q, Literal):
        return _prefix(q.fieldname) + q.term.display
    if isinstance(q, wq.Term):
        return _prefix(q.fieldname) + str(q.text)
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
    if all(isinstance(k, Literal) for k in kids) and len({k.term.key for k in kids}) == 1:
        return kids[0].term.display
    return None
