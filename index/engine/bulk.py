"""The bulk segment writer: Whoosh segments for fresh builds, written a term at a time.

Whoosh's `SegmentWriter` sends every posting through a sorting pool (a tuple per posting, sorted
runs pickled to temporary files and merged at commit) and then through a chain of method calls
per posting and per block. A fresh build knows more: documents arrive in docnum order, so each
term's postings can be kept in memory in order and written, whole, in one pass over the sorted
terms. The files are in Whoosh's own W3 format and hold what Whoosh's writer would (tests read
back every term, posting, stored field and length, and compare the column files byte for byte),
so every reader, merge and incremental update afterwards is Whoosh's. The bytes of posting blocks
differ: shared value objects pickle shorter, and small blocks are left uncompressed.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from collections.abc import Callable
from functools import partial
from hashlib import md5
from itertools import pairwise
from pickle import dumps
from struct import Struct
from typing import Any

from whoosh.codec.whoosh3 import COMPRESSION_MIN_SIZE, WHOOSH3_HEADER_MAGIC, W3Codec, W3TermInfo
from whoosh.filedb.filetables import OrderedHashWriter, md5_hash
from whoosh.formats import Frequency, Positions
from whoosh.index import Index
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from zhsearch.index.analysis import ZhTokenizer
from zhsearch.index.chargrams import CharTokenizer

# Estimated Python heap per buffered posting and per distinct term (tracemalloc on news items),
# used to decide when a builder starts a new segment; packed postings (counts of a Frequency
# field, 8 bytes in an array) and their terms (a str key and an array) cost less.
POSTING_BYTES = 80
TERM_BYTES = 200
PACKED_POSTING_BYTES = 9
PACKED_TERM_BYTES = 170
_FREQ_BITS = 32
_FREQ_MASK = (1 << _FREQ_BITS) - 1

# Whoosh compresses blocks from 80 bytes; on news items the blocks of 80-255 bytes were 56% of
# all compressed and shrank by 9-45 bytes each (1.4% of the index), but every call sets up a
# zlib stream. They are stored plain (a block's header says whether it is compressed).
COMPRESS_FROM = max(COMPRESSION_MIN_SIZE, 256)

_TERMINFO = W3TermInfo._struct.pack
_UINT_SIZE = 4  # a Frequency posting's value: its frequency as a big-endian unsigned int
_OFFSET_AND_LENGTH = 12  # the end of a term-table value: the postings' offset and length
_LENGTHS = Struct("!ii").pack  # filetables' key and value lengths


def supports(ix: Index) -> bool:
    """Whether this writer can build segments for `ix`: it writes no term vectors and no separate
    spelling fields, so no field may need them."""
    return all(not f.vector and not f.separate_spelling() for _, f in ix.schema.items())


class BulkSegmentWriter(SegmentWriter):
    """One new segment, from documents added in order; `commit` is never called on it.

    Postings are buffered per field and term as flat lists `[docnum, weight, value, ...]`.
    A document is analysed whole before any of it is buffered, so a document that fails leaves
    nothing behind.
    """

    def __init__(self, ix: Index, **kwargs: Any) -> None:
        super().__init__(ix, _lk=False, codec=W3Codec(), **kwargs)
        self.postings: dict[str, dict[str | bytes, list[Any]]] = {}
        # Count fields with no boosts so far: term → array of docnum << 32 | frequency.
        self.packed: dict[str, dict[str, array[int]]] = {}
        self.length_bytes: dict[str, array[int]] = {}  # per docnum, as the length column stores
        self.posting_count = 0
        self.term_count = 0
        self.packed_postings = 0
        self.packed_terms = 0
        # Text fields analysed without a Token per word: positions or counts per word.
        self._quick: dict[str, tuple[Callable[[str], dict[str, Any]], bool]] = {}
        for name, field in self.schema.items():
            analyzer, kind = getattr(field, "analyzer", None), type(field.format)
            if isinstance(analyzer, ZhTokenizer) and kind is Positions:
                self._quick[name] = (analyzer.word_positions, False)
            elif isinstance(analyzer, ZhTokenizer) and kind is Frequency:
                self._quick[name] = (analyzer.word_counts, True)
            elif isinstance(analyzer, CharTokenizer) and kind is Frequency:
                self._quick[name] = (analyzer.gram_counts, True)
        self._value_cache: dict[int, bytes] = {}
        self._count_cache: dict[tuple[int, float, float], tuple[float, bytes]] = {}

    def cancel(self) -> None:
        """Close this segment's files, leaving the temporary directory all writers of the index
        share (`SegmentWriter.cancel` would delete it) to the writer that commits."""
        if not self.is_closed:
            self._close_segment()
            self.is_closed = True

    def buffered_bytes(self) -> int:
        """Estimated memory held by buffered postings."""
        return (
            self.posting_count * POSTING_BYTES
            + self.term_count * TERM_BYTES
            + self.packed_postings * PACKED_POSTING_BYTES
            + self.packed_terms * PACKED_TERM_BYTES
        )

    def add_document(self, **fields: Any) -> None:
        """Analyse one document and buffer its postings, stored values and columns."""
        self._check_state()
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        # (field, word positions of an analysed text field or Whoosh's items, length, boost)
        indexed: list[tuple[str, Any, int, float]] = []
        stored: list[tuple[str, Any, Any, int, Any]] = []
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                boost = self._field_boost(fields, fieldname, docboost)
                quick = self._quick.get(fieldname)
                if quick is not None and isinstance(value, str):
                    analysed: Any = quick[0](value)
                    length = sum(analysed.values() if quick[1] else map(len, analysed.values()))
                else:
                    analysed = [(t, f, w * boost, v) for t, f, w, v in field.index(value)]
                    if quick is not None:  # a list of words for a text field: keys stay `str`
                        analysed = [(t.decode("utf-8"), f, w, v) for t, f, w, v in analysed]
                    length = sum(item[1] for item in analysed)
                if not field.scorable:
                    length = 0
                indexed.append((fieldname, analysed, length, boost))
            customval = fields.get(f"_stored_{fieldname}", value)
            column = field.column_type
            cv = field.to_column_value(customval) if column and customval is not None else None
            stored.append((fieldname, customval if field.stored else None, column, length, cv))

        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        try:
            for fieldname, sv, column, length, cv in stored:
                perdoc.add_field(fieldname, schema[fieldname], sv, length)
                if cv is not None:
                    perdoc.add_column_value(fieldname, column, cv)
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        for fieldname, analysed, length, boost in indexed:
            lbytes = self.length_bytes.get(fieldname)
            if lbytes is None:
                lbytes = self.length_bytes[fieldname] = array("B")
            if len(lbytes) < docnum:
                lbytes.extend(bytes(docnum - len(lbytes)))
            lbytes.append(length_to_byte(length))
            counts = isinstance(analysed, dict) and self._quick[fieldname][1]
            if counts and boost == 1.0 and fieldname not in self.postings:
                self._buffer_packed(fieldname, docnum, analysed)
                continue
            if fieldname in self.packed:  # a boost arrived: this field goes the general way
                self._unpack(fieldname)
            terms = self.postings.get(fieldname)
            if terms is None:
                terms = self.postings[fieldname] = {}
            if isinstance(analysed, dict):
                buffer = self._buffer_counts if self._quick[fieldname][1] else self._buffer_words
                buffer(terms, docnum, analysed, schema[fieldname].format.field_boost, boost)
            else:
                get = terms.get
                for term, _freq, weight, vbytes in analysed:
                    postings = get(term)
                    if postings is None:
                        terms[term] = [docnum, weight, vbytes]
                        self.term_count += 1
                    else:
                        postings += (docnum, weight, vbytes)
            self.posting_count += len(analysed)
        self._added = True
        self.docnum += 1

    def _buffer_words(
        self,
        terms: dict[str | bytes, list[Any]],
        docnum: int,
        positions: dict[str, list[int]],
        fb: float,
        boost: float,
    ) -> None:
        """Buffer one analysed text field: weight and encoded positions of each word, as
        Whoosh's `Positions` format computes them. Words stay `str` until written (UTF-8 sorts
        as code points do), so a term is encoded once per segment, not once per document."""
        single = 1.0 * fb * boost  # the weight of a word seen once, shared by all its postings
        cache = self._value_cache
        get = terms.get
        new = 0
        for word, poslist in positions.items():
            if len(poslist) == 1:
                pos = poslist[0]
                vbytes = cache.get(pos)
                if vbytes is None:
                    vbytes = cache[pos] = pack_uint(1) + dumps(poslist, 2)
                weight = single
            else:
                freq = len(poslist)
                deltas = [poslist[0]]
                deltas += [b - a for a, b in pairwise(poslist)]
                vbytes = pack_uint(freq) + dumps(deltas, 2)
                weight = float(freq) * fb * boost  # in Whoosh's order: equal to the last bit
            postings = get(word)
            if postings is None:
                terms[word] = [docnum, weight, vbytes]
                new += 1
            else:
                postings += (docnum, weight, vbytes)
        self.term_count += new

    def _buffer_packed(self, fieldname: str, docnum: int, counts: dict[str, int]) -> None:
        """Buffer one analysed count field as packed integers (no boost: the weight is the
        count times the field boost, computed when the segment is written)."""
        terms = self.packed.get(fieldname)
        if terms is None:
            terms = self.packed[fieldname] = {}
        get = terms.get
        base = docnum << _FREQ_BITS
        new = 0
        for term, freq in counts.items():
            postings = get(term)
            if postings is None:
                terms[term] = array("Q", (base | freq,))
                new += 1
            else:
                postings.append(base | freq)
        self.packed_terms += new
        self.packed_postings += len(counts)

    def _unpack(self, fieldname: str) -> None:
        """Move a field's packed postings to the general buffer (a document with a boost)."""
        fb = self.schema[fieldname].format.field_boost
        terms = self.postings[fieldname] = {}
        for term, packed in self.packed.pop(fieldname).items():
            flat: list[Any] = []
            for p in packed:
                freq = p & _FREQ_MASK
                flat += (p >> _FREQ_BITS, float(freq) * fb * 1.0, pack_uint(freq))
            terms[term] = flat
            self.term_count += 1
            self.posting_count += len(packed)

    def _buffer_counts(
        self,
        terms: dict[str | bytes, list[Any]],
        docnum: int,
        counts: dict[str, int],
        fb: float,
        boost: float,
    ) -> None:
        """Buffer one analysed Frequency field: weight and encoded count of each term, as
        Whoosh's `Frequency` format computes them (weights and values shared per count)."""
        cache = self._count_cache
        get = terms.get
        new = 0
        for term, freq in counts.items():
            shared = cache.get((freq, fb, boost))
            if shared is None:
                shared = cache[(freq, fb, boost)] = (float(freq) * fb * boost, pack_uint(freq))
            postings = get(term)
            if postings is None:
                terms[term] = [docnum, *shared]
                new += 1
            else:
                postings += (docnum, *shared)
        self.term_count += new

    def _flush_segment(self) -> None:
        """Write the buffered postings, field by field and term by term, in sorted order."""
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        postfile = fieldwriter._postfile
        tindex = fieldwriter._tindex
        codec = self.codec
        offset = postfile.tell()
        for fieldname in sorted({*self.postings, *self.packed}):
            field = self.schema[fieldname]
            fieldwriter.start_field(fieldname, field)
            prefix = pack_ushort(fieldwriter._fieldid)
            fixed = field.format.fixed_value_size()
            lbytes = self.length_bytes[fieldname]
            options = {
                "lbytes": lbytes,
                "blocklimit": codec._blocklimit,
                "compression": codec._compression,
            }
            terms: dict[Any, Any]
            if fieldname in self.packed:
                terms = self.packed.pop(fieldname)  # freed as soon as the field is written
                fb = field.format.field_boost
                encode = partial(_encode_packed, fb=fb, seen={}, **options)
            else:
                terms = self.postings.pop(fieldname)
                encode = partial(_encode_term, fixed=fixed, **options)
            chunks: list[bytes] = []
            rows: list[tuple[bytes, bytes]] = []
            size = 0
            for term in sorted(terms):
                data, info = encode(terms[term], offset=offset)
                chunks.append(data)
                size += len(data)
                offset += len(data)
                rows.append((prefix + (term.encode("utf-8") if type(term) is str else term), info))
                if size > 1 << 20:
                    postfile.write(b"".join(chunks))
                    _add_terms(tindex, rows)
                    chunks, rows, size = [], [], 0
            postfile.write(b"".join(chunks))
            _add_terms(tindex, rows)
            fieldwriter.finish_field()
        fieldwriter.close()


def _encode_term(
    flat: list[Any],
    *,
    lbytes: array[int],
    fixed: int | None,
    offset: int,
    blocklimit: int,
    compression: int,
) -> tuple[bytes, bytes]:
    """One term's posting blocks and term-table value, as W3PostingsWriter and W3TermInfo
    write them from `flat` = [docnum, weight, value, ...] in docnum order."""
    n = len(flat) // 3
    if n == 1:  # most terms of a Chinese vocabulary occur in one document of a segment
        doc, weight, value = flat
        lb = lbytes[doc]
        w32 = _f32(weight)
        maxw = weight if weight > 0 else 0
        mini_w = None if w32 == 1.0 else w32
        comp, databytes = _pack_block((doc,), mini_w, _values([value], fixed), compression)
        infobytes = dumps((1, doc, maxw, comp, lb, lb), 2)
        data = b"".join(
            (WHOOSH3_HEADER_MAGIC, pack_int(-len(infobytes) - len(databytes)), infobytes, databytes)
        )
        info = _TERMINFO(0, w32, 1, lb, lb, maxw, doc, doc)
        return data, info + pack_long(offset) + pack_int(len(data))
    values = flat[2::3]
    return _encode_blocks(
        flat[0::3],
        flat[1::3],
        lambda start, end: _values(values[start:end], fixed),
        lbytes=lbytes,
        offset=offset,
        blocklimit=blocklimit,
        compression=compression,
    )


def _encode_packed(
    packed: array[int],
    *,
    fb: float,
    lbytes: array[int],
    offset: int,
    blocklimit: int,
    compression: int,
    seen: dict[bytes, tuple[bytes, bytes]],
) -> tuple[bytes, bytes]:
    """`_encode_term` for a count field's packed postings (docnum << 32 | frequency): the
    weight is float(frequency) x the field boost and the value its 4-byte frequency, as
    Whoosh's `Frequency` format writes them.

    The encoding depends only on the postings, and rare character pairs share them (the pairs
    of a rare word occur in the same documents as often): `seen` keeps recent encodings.
    """
    key = packed.tobytes()
    found = seen.get(key)
    if found is None:
        data, info = _encode_packed_postings(packed, fb, lbytes, blocklimit, compression)
        found = seen[key] = (data, info[:-_OFFSET_AND_LENGTH])
        if len(seen) > 65536:  # postings come in document order: the old ones are done
            seen.clear()
    data, info = found
    return data, info + pack_long(offset) + pack_int(len(data))


def _encode_packed_postings(
    packed: array[int], fb: float, lbytes: array[int], blocklimit: int, compression: int
) -> tuple[bytes, bytes]:
    """The encoding of `_encode_packed`, at offset 0."""
    offset = 0
    if len(packed) == 1:
        freq = packed[0] & _FREQ_MASK
        flat = [packed[0] >> _FREQ_BITS, float(freq) * fb, pack_uint(freq)]
        return _encode_term(
            flat,
            lbytes=lbytes,
            fixed=_UINT_SIZE,
            offset=offset,
            blocklimit=blocklimit,
            compression=compression,
        )
    freqs = array("I", [p & _FREQ_MASK for p in packed])
    big_endian = array("I", freqs)
    if sys.byteorder == "little":
        big_endian.byteswap()
    values = big_endian.tobytes()
    return _encode_blocks(
        [p >> _FREQ_BITS for p in packed],
        [float(f) * fb for f in freqs],
        lambda start, end: values[start * _UINT_SIZE : end * _UINT_SIZE],
        lbytes=lbytes,
        offset=offset,
        blocklimit=blocklimit,
        compression=compression,
    )


def _values(values: list[Any], fixed: int | None) -> Any:
    """A block's values as W3PostingsWriter minifies them."""
    if fixed is None or fixed < 0:
        return tuple(values)
    if fixed == 0:
        return None
    return b"".join(values)


def _encode_blocks(
    docs: list[int],
    raw_weights: list[float],
    block_values: Callable[[int, int], Any],
    *,
    lbytes: array[int],
    offset: int,
    blocklimit: int,
    compression: int,
) -> tuple[bytes, bytes]:
    """The posting blocks and term-table value of a list of two or more postings."""
    n = len(docs)
    weights = array("f", raw_weights)
    out = [WHOOSH3_HEADER_MAGIC]
    total_weight = 0.0
    max_weight: float = 0
    min_lb = 0
    max_lb = 0
    for start in range(0, n, blocklimit):
        end = min(start + blocklimit, n)
        ids = docs[start:end]
        ws = weights[start:end]
        block_lbs = [lbytes[d] for d in ids]
        block_max = max(block_lbs)
        block_min = min([b for b in block_lbs if b], default=0)
        block_maxw = max(raw_weights[start:end])
        if block_maxw <= 0:
            block_maxw = 0
        deltas = [ids[0]]
        deltas += [b - a for a, b in pairwise(ids)]
        first = ws[0]
        if ws.count(first) == len(ws):
            mini_w: Any = None if first == 1.0 else first
        else:
            mini_w = tuple(ws)
        comp, databytes = _pack_block(tuple(deltas), mini_w, block_values(start, end), compression)
        infobytes = dumps((end - start, ids[-1], block_maxw, comp, block_min, block_max), 2)
        blocklength = len(infobytes) + len(databytes)
        out += (pack_int(-blocklength if end == n else blocklength), infobytes, databytes)
        total_weight += sum(ws)
        if block_min and (not min_lb or block_min < min_lb):
            min_lb = block_min
        max_lb = max(max_lb, block_max)
        max_weight = max(max_weight, block_maxw)
    data = b"".join(out)
    info = _TERMINFO(0, total_weight, n, min_lb, max_lb, max_weight, docs[0], docs[-1])
    return data, info + pack_long(offset) + pack_int(len(data))


def _pack_block(
    deltas: tuple[int, ...], mini_w: Any, mini_v: Any, compression: int
) -> tuple[int, bytes]:
    """A block's pickled (ids, weights, values), already minified, compressed when it is worth
    it: (the compression level used, or 0, and the bytes)."""
    databytes = dumps((deltas, mini_w, mini_v), 2)
    if not compression or len(databytes) < COMPRESS_FROM:
        return 0, databytes
    return compression, _compress(databytes, compression)


def _add_terms(tindex: OrderedHashWriter, rows: list[tuple[bytes, bytes]]) -> None:
    """`tindex.add(key, value)` for each row, in one write: what OrderedHashWriter.add records
    (the key's position in its index, the (hash, position) pair in its bucket), with the
    positions counted here instead of asked of the file twice per term."""
    if tindex.hashfn is not md5_hash:  # pragma: no cover - W3 term tables use MD5
        for key, value in rows:
            tindex.add(key, value)
        return
    dbfile = tindex.dbfile
    pos = dbfile.tell()
    index_append = tindex.index.append
    buckets = tindex.buckets
    lastkey = tindex.lastkey
    out = []
    for key, value in rows:
        if key <= lastkey:
            raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
        index_append(pos)
        out += (_LENGTHS(len(key), len(value)), key, value)
        # md5_hash(key): the low 32 bits of the digest, read as a big-endian number.
        h = int.from_bytes(md5(key, usedforsecurity=False).digest()[12:], "big")
        buckets[h & 255].append((h, pos))
        pos += 8 + len(key) + len(value)
        lastkey = key
    dbfile.write(b"".join(out))
    tindex.lastkey = lastkey


def _compress(data: bytes, level: int) -> bytes:
    """zlib at `level`, with a window sized to small blocks.

    `zlib.compress` sets up a 256 KB compressor state per call: 25-100 us for a block of a few
    hundred bytes, most of a segment's write time. Blocks up to 4 KB lose nothing with a 4 KB
    window, and any zlib stream decompresses with Whoosh's plain `zlib.decompress`.
    """
    if len(data) > 4096:
        return zlib.compress(data, level)
    compressor = zlib.compressobj(level, zlib.DEFLATED, 12, 4)
    return compressor.compress(data) + compressor.flush()


def _f32(value: float, _seen: dict[float, float] = {}) -> float:  # noqa: B006 - a cache
    """`value` as the float32 Whoosh keeps weights in (a field has few distinct weights)."""
    f32 = _seen.get(value)
    if f32 is None:
        f32 = array("f", (value,))[0]
        if len(_seen) < 4096:
            _seen[value] = f32
    return f32
