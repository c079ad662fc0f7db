"""The index schema: the only place fields are defined."""

from __future__ import annotations

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from zhsearch.index.analysis import zh_analyzer
from zhsearch.index.chargrams import CharTokenizer, chars_field, text_column

TITLE_BOOST = 3.0
SUBTITLE_BOOST = 1.5

# Fields a free-text query searches, with their BM25F weights.
SEARCH_FIELDS = {"title": TITLE_BOOST, "subtitle": SUBTITLE_BOOST, "content": 1.0}


def build_schema(user_dict: str = "") -> Schema:
    """Fields of one indexed article; facet fields are sortable so they are read from columns.

    Each search field is indexed twice: as jieba's words (no positions: ranking, key terms and
    suggestions use words, and phrases are matched on characters) and as character n-grams with
    the canonical text in a column (matching; see `index.chargrams`).
    """
    zh = zh_analyzer(user_dict)
    chars = CharTokenizer()
    literal: dict[str, object] = {}
    for name, boost in SEARCH_FIELDS.items():
        literal[chars_field(name)] = TEXT(analyzer=chars, phrase=False, field_boost=boost)
        literal[text_column(name)] = COLUMN(VarBytesColumn())
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=zh, stored=True, phrase=False, field_boost=TITLE_BOOST),
        subtitle=TEXT(analyzer=zh, stored=True, phrase=False, field_boost=SUBTITLE_BOOST),
        content=TEXT(analyzer=zh, stored=True, phrase=False),
        # Date: `date` is sortable (newest first); `date_text` keeps the precision for display
        # ("2023", "2023-05" or "2023-05-09"); undated articles have neither.
        date=DATETIME(stored=True, sortable=True),
        date_text=STORED(),
        source=ID(stored=True, sortable=True),
        author=ID(stored=True),
        url=STORED(),
        tags=KEYWORD(stored=True, commas=True, lowercase=True, scorable=True),
        # Region: the codes of the chosen region and all its ancestors ("140000 140700 140724"),
        # the display path ("山西省/晋中市/昔阳县"), every mentioned place code, and the zone.
        region_codes=KEYWORD(stored=True, sortable=True),
        region_path=STORED(),
        region_status=ID(stored=True),  # "about", "national" or "unknown"
        mentions=KEYWORD(stored=True),
        mention_counts=STORED(),  # {code: count}
        zone=ID(stored=True),
        # Industry: taxonomy codes ("T01 T02") and the primary one, if any.
        industries=KEYWORD(stored=True, sortable=True),
        industry_primary=ID(stored=True),
        # Provenance, for incremental indexing and the document view.
        source_path=ID(stored=True),
        source_format=STORED(),  # "txt", "md", "html" or "jsonl"
        chars=NUMERIC(stored=True),
        **literal,
    )
