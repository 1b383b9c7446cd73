//! Reading RDB objects into Shoal's values.
//!
//! Each loaded value is rebuilt through the type's own insertion methods,
//! so it gets the encoding Shoal would give it (compact below the configured
//! thresholds) whatever encoding the payload used. Duplicate members or
//! fields, NaN scores, empty collections and anything out of bounds are
//! `Bad data format`, as in Redis.

use super::encode::{CONTAINER_PACKED, CONTAINER_PLAIN, STREAM_DELETED, STREAM_SAMEFIELDS};
use super::listpack::{intset_members, lp_elements, zipmap_pairs, zl_elements, Elem};
use super::{lzf, LoadLimits, RdbError, RdbType};
use crate::types::set::Item;
use crate::types::stream::{NodeLimits, StreamId};
use crate::types::{Hash, List, Set, Stream, ZSet};
use crate::value::{Str, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

type R<T> = Result<T, RdbError>;

fn bad<T>(why: &'static str) -> R<T> {
    Err(RdbError::BadFormat(why))
}

/// A cursor over the bytes of RDB objects.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn u8(&mut self) -> R<u8> {
        let b = *self.buf.get(self.pos).ok_or(RdbError::BadFormat("unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn take(&mut self, n: u64) -> R<&'a [u8]> {
        if n > self.remaining() as u64 {
            return bad("unexpected end");
        }
        let s = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let s = self.take(N as u64)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A length, or with the flag set, a string's special encoding number.
    fn len_or_encoding(&mut self) -> R<(u64, bool)> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3f) as u64, false),
            1 => ((((b & 0x3f) as u64) << 8) | self.u8()? as u64, false),
            3 => ((b & 0x3f) as u64, true),
            _ => match b {
                0x80 => (u32::from_be_bytes(self.array()?) as u64, false),
                0x81 => (u64::from_be_bytes(self.array()?), false),
                _ => return bad("unknown length encoding"),
            },
        })
    }

    /// A length (`rdbLoadLen`).
    pub fn length(&mut self) -> R<u64> {
        match self.len_or_encoding()? {
            (n, false) => Ok(n),
            (_, true) => bad("encoded value where a length was expected"),
        }
    }

    /// A count of things that each take at least one byte: more than the
    /// bytes left cannot be right, and is refused before anything is allocated.
    fn count(&mut self) -> R<usize> {
        let n = self.length()?;
        if n > self.remaining() as u64 {
            return bad("count larger than the payload");
        }
        Ok(n as usize)
    }

    /// A string in any of its encodings: verbatim, an 8/16/32-bit integer,
    /// or LZF-compressed.
    pub fn string(&mut self) -> R<Cow<'a, [u8]>> {
        let (n, encoded) = self.len_or_encoding()?;
        if !encoded {
            return Ok(Cow::Borrowed(self.take(n)?));
        }
        let v: i64 = match n {
            0 => self.u8()? as i8 as i64,
            1 => i16::from_le_bytes(self.array()?) as i64,
            2 => i32::from_le_bytes(self.array()?) as i64,
            3 => {
                let clen = self.length()?;
                let len = self.length()?;
                // LZF expands at most 88 times (264 bytes out of a 3-byte
                // match): anything claiming more is refused before allocating.
                if clen > self.remaining() as u64 || len > clen.saturating_mul(90) {
                    return bad("LZF lengths");
                }
                let c = self.take(clen)?;
                return lzf::decompress(c, len as usize)
                    .map(Cow::Owned)
                    .ok_or(RdbError::BadFormat("invalid LZF data"));
            }
            _ => return bad("unknown string encoding"),
        };
        Ok(Cow::Owned(itoa::Buffer::new().format(v).as_bytes().to_vec()))
    }

    /// A double written as text after a length byte (253 NaN, 254 +inf, 255 -inf).
    fn text_double(&mut self) -> R<f64> {
        match self.u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => parse_score(self.take(n as u64)?),
        }
    }

    fn binary_double(&mut self) -> R<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// Milliseconds as 8 little-endian bytes.
    fn millis(&mut self) -> R<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A stream ID in its raw 128-bit big-endian form.
    fn raw_stream_id(&mut self) -> R<StreamId> {
        let b: [u8; 16] = self.array()?;
        Ok(stream_id_from(&b))
    }

    fn len_stream_id(&mut self) -> R<StreamId> {
        Ok(StreamId::new(self.length()?, self.length()?))
    }
}

fn stream_id_from(b: &[u8; 16]) -> StreamId {
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&b[..8]);
    seq.copy_from_slice(&b[8..]);
    StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
}

/// A score written as text, which Redis reads with `strtod`.
fn parse_score(text: &[u8]) -> R<f64> {
    let lower = text.to_ascii_lowercase();
    match &lower[..] {
        b"nan" | b"-nan" => return Ok(f64::NAN),
        _ => {}
    }
    crate::num::parse_f64(text).ok_or(RdbError::BadFormat("score is not a number"))
}

fn elem_score(e: Elem<'_>) -> R<f64> {
    match e {
        Elem::Int(n) => Ok(n as f64),
        Elem::Str(s) => parse_score(s),
    }
}

pub(super) fn read_value(r: &mut Reader<'_>, t: u8, limits: &LoadLimits) -> R<Value> {
    let Some(t) = RdbType::from_u8(t) else {
        return bad("unknown object type");
    };
    let value = match t {
        RdbType::String => Value::Str(Str::from_bytes(&r.string()?)),
        RdbType::List => {
            let n = r.count()?;
            let mut l = List::new();
            for _ in 0..n {
                l.push_back(&r.string()?);
            }
            Value::List(Box::new(l))
        }
        RdbType::ListZiplist => {
            let blob = r.string()?;
            let mut l = List::new();
            push_elems(&mut l, &zl_elements(&blob).ok_or(RdbError::BadFormat("ziplist"))?);
            Value::List(Box::new(l))
        }
        RdbType::ListQuicklist | RdbType::ListQuicklist2 => {
            Value::List(Box::new(read_quicklist(r, t == RdbType::ListQuicklist2)?))
        }
        RdbType::Set => {
            let n = r.count()?;
            let mut s = Set::new();
            for _ in 0..n {
                if !s.insert(&r.string()?, limits.set_max_intset_entries) {
                    return bad("duplicate set member");
                }
            }
            Value::Set(Box::new(s))
        }
        RdbType::SetIntset => {
            let blob = r.string()?;
            let mut s = Set::new();
            for v in intset_members(&blob).ok_or(RdbError::BadFormat("intset"))? {
                s.insert_item(Item::Int(v), limits.set_max_intset_entries);
            }
            Value::Set(Box::new(s))
        }
        RdbType::ZSet | RdbType::ZSet2 => {
            let n = r.count()?;
            let mut entries = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?.into_owned();
                let s = if t == RdbType::ZSet2 { r.binary_double()? } else { r.text_double()? };
                entries.push((m, s));
            }
            Value::ZSet(Box::new(build_zset(entries, limits)?))
        }
        RdbType::ZSetZiplist | RdbType::ZSetListpack => {
            let blob = r.string()?;
            let els = if t == RdbType::ZSetListpack { lp_elements(&blob) } else { zl_elements(&blob) }
                .ok_or(RdbError::BadFormat("sorted set listpack"))?;
            if els.len() % 2 != 0 {
                return bad("odd sorted set listpack");
            }
            let entries =
                els.chunks_exact(2).map(|p| Ok((p[0].to_vec(), elem_score(p[1])?))).collect::<R<Vec<_>>>()?;
            Value::ZSet(Box::new(build_zset(entries, limits)?))
        }
        RdbType::Hash => {
            let n = r.count()?;
            let mut h = Hash::new();
            for _ in 0..n {
                let f = r.string()?;
                let v = r.string()?;
                hash_set(&mut h, &f, &v, limits)?;
            }
            Value::Hash(Box::new(h))
        }
        RdbType::HashZiplist | RdbType::HashListpack => {
            let blob = r.string()?;
            let els = if t == RdbType::HashListpack { lp_elements(&blob) } else { zl_elements(&blob) }
                .ok_or(RdbError::BadFormat("hash listpack"))?;
            if els.len() % 2 != 0 {
                return bad("odd hash listpack");
            }
            let mut h = Hash::new();
            let (mut sf, mut sv) = (itoa::Buffer::new(), itoa::Buffer::new());
            for p in els.chunks_exact(2) {
                hash_set(&mut h, p[0].bytes(&mut sf), p[1].bytes(&mut sv), limits)?;
            }
            Value::Hash(Box::new(h))
        }
        RdbType::HashZipmap => {
            let blob = r.string()?;
            let mut h = Hash::new();
            for (f, v) in zipmap_pairs(&blob).ok_or(RdbError::BadFormat("zipmap"))? {
                hash_set(&mut h, f, v, limits)?;
            }
            Value::Hash(Box::new(h))
        }
        RdbType::StreamListpacks | RdbType::StreamListpacks2 => {
            Value::Stream(Box::new(read_stream(r, t == RdbType::StreamListpacks2)?))
        }
        RdbType::Module | RdbType::Module2 => return bad("module values are not supported"),
    };
    let empty = match &value {
        Value::Str(_) | Value::Stream(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::ZSet(z) => z.is_empty(),
    };
    if empty {
        return bad("empty collection");
    }
    Ok(value)
}

fn push_elems(l: &mut List, els: &[Elem<'_>]) {
    let mut scratch = itoa::Buffer::new();
    for e in els {
        l.push_back(e.bytes(&mut scratch));
    }
}

/// `RDB_TYPE_LIST_QUICKLIST` (ziplist nodes) and `_2` (a container tag per
/// node: a listpack, or one plain element). Empty nodes are skipped.
fn read_quicklist(r: &mut Reader<'_>, v2: bool) -> R<List> {
    let nodes = r.count()?;
    let mut l = List::new();
    for _ in 0..nodes {
        let container = if v2 { r.length()? } else { CONTAINER_PACKED };
        if container != CONTAINER_PACKED && container != CONTAINER_PLAIN {
            return bad("quicklist container");
        }
        let data = r.string()?;
        if data.is_empty() {
            return bad("empty quicklist node");
        }
        if container == CONTAINER_PLAIN {
            l.push_back(&data);
            continue;
        }
        let els = if v2 { lp_elements(&data) } else { zl_elements(&data) };
        push_elems(&mut l, &els.ok_or(RdbError::BadFormat("quicklist node"))?);
    }
    Ok(l)
}

fn hash_set(h: &mut Hash, f: &[u8], v: &[u8], limits: &LoadLimits) -> R<()> {
    if !h.set(f, v, limits.hash) {
        return bad("duplicate hash field");
    }
    Ok(())
}

fn build_zset(entries: Vec<(Vec<u8>, f64)>, limits: &LoadLimits) -> R<ZSet> {
    let mut seen = HashSet::with_capacity(entries.len());
    for (m, s) in &entries {
        if s.is_nan() {
            return bad("NaN score");
        }
        if !seen.insert(&m[..]) {
            return bad("duplicate sorted set member");
        }
    }
    Ok(ZSet::from_entries(entries, limits.zset))
}

/// Walks the elements of one stream node listpack.
struct NodeCursor<'e, 'a> {
    els: &'e [Elem<'a>],
    at: usize,
}

impl<'e, 'a> NodeCursor<'e, 'a> {
    fn next(&mut self) -> R<Elem<'a>> {
        let e = *self.els.get(self.at).ok_or(RdbError::BadFormat("stream node too short"))?;
        self.at += 1;
        Ok(e)
    }

    fn int(&mut self) -> R<i64> {
        self.next()?.as_int().ok_or(RdbError::BadFormat("stream node integer"))
    }

    /// A non-negative count, bounded by the elements left.
    fn count(&mut self) -> R<usize> {
        let n = self.int()?;
        if n < 0 || n as u64 > self.els.len() as u64 {
            return bad("stream node count");
        }
        Ok(n as usize)
    }
}

/// One live stream entry: its ID and its fields and values in turn.
type LiveEntry = (StreamId, Vec<Vec<u8>>);

/// The live entries of one stream node, checked against its counters.
fn read_stream_node(master: StreamId, lp: &[u8], out: &mut Vec<LiveEntry>) -> R<()> {
    let els = lp_elements(lp).ok_or(RdbError::BadFormat("stream listpack"))?;
    if els.is_empty() {
        return bad("empty stream node");
    }
    let mut c = NodeCursor { els: &els, at: 0 };
    let live = c.count()?;
    let deleted = c.count()?;
    let master_fields = c.count()?;
    let mut fields = Vec::with_capacity(master_fields);
    for _ in 0..master_fields {
        fields.push(c.next()?);
    }
    if c.int()? != 0 {
        return bad("stream master entry terminator");
    }
    let mut seen_live = 0;
    for _ in 0..live + deleted {
        let flags = c.int()?;
        let ms = master.ms.wrapping_add(c.int()? as u64);
        let seq = master.seq.wrapping_add(c.int()? as u64);
        let same = flags & STREAM_SAMEFIELDS != 0;
        let n = if same { master_fields } else { c.count()? };
        let mut pairs = Vec::with_capacity(2 * n);
        let mut scratch = itoa::Buffer::new();
        let mut names = fields.iter().copied();
        for _ in 0..n {
            let f = if same {
                names.next().ok_or(RdbError::BadFormat("stream master fields"))?
            } else {
                c.next()?
            };
            let v = c.next()?;
            pairs.push(f.bytes(&mut scratch).to_vec());
            pairs.push(v.bytes(&mut scratch).to_vec());
        }
        let pieces = if same { n + 3 } else { 2 * n + 4 };
        if c.int()? != pieces as i64 {
            return bad("stream entry piece count");
        }
        if flags & STREAM_DELETED == 0 {
            seen_live += 1;
            out.push((StreamId::new(ms, seq), pairs));
        }
    }
    if c.at != els.len() || seen_live != live {
        return bad("stream node counters");
    }
    Ok(())
}

/// `RDB_TYPE_STREAM_LISTPACKS` and `_2`: the nodes, the counters, then the
/// consumer groups. The live entries are appended afresh (so the stream's
/// nodes are Shoal's), then the counters are set as the payload says.
fn read_stream(r: &mut Reader<'_>, v2: bool) -> R<Stream> {
    let nodes = r.count()?;
    let mut entries: Vec<LiveEntry> = Vec::new();
    for _ in 0..nodes {
        let key = r.string()?;
        let key: &[u8; 16] = key[..].try_into().map_err(|_| RdbError::BadFormat("stream node key"))?;
        let master = stream_id_from(key);
        let lp = r.string()?;
        read_stream_node(master, &lp, &mut entries)?;
    }
    let mut s = Stream::new();
    let limits = NodeLimits::default();
    for (id, pairs) in &entries {
        if *id <= s.log().last_id {
            return bad("stream entries out of order");
        }
        let refs: Vec<&[u8]> = pairs.iter().map(|p| &p[..]).collect();
        s.log_mut().append(*id, &refs, limits);
    }
    let length = r.length()?;
    let last_id = r.len_stream_id()?;
    if length != s.log().len() || last_id < s.log().last_id {
        return bad("stream length or last ID");
    }
    let log = s.log_mut();
    log.last_id = last_id;
    if v2 {
        log.first_id = r.len_stream_id()?;
        log.max_deleted_id = r.len_stream_id()?;
        log.entries_added = r.length()?;
    } else {
        log.first_id = entries.first().map_or(StreamId::MIN, |e| e.0);
        log.max_deleted_id = StreamId::MIN;
        log.entries_added = length;
    }
    let groups = r.count()?;
    for _ in 0..groups {
        let name = r.string()?;
        let last = r.len_stream_id()?;
        let entries_read = if v2 {
            match r.length()? {
                u64::MAX => None,
                n => Some(n),
            }
        } else {
            s.log().estimate_distance(last)
        };
        if !s.create_group(&name, last, entries_read) {
            return bad("duplicate consumer group");
        }
        let g = s.group_mut(&name).expect("the group just created");
        // The group's pending entries come first without their consumers;
        // each consumer then lists the IDs it owns.
        let mut pel: BTreeMap<StreamId, (u64, u64, bool)> = BTreeMap::new();
        for _ in 0..r.count()? {
            let id = r.raw_stream_id()?;
            let time = r.millis()?;
            let count = r.length()?;
            if pel.insert(id, (time, count, false)).is_some() {
                return bad("duplicate pending entry");
            }
        }
        for _ in 0..r.count()? {
            let cname = r.string()?;
            let seen = r.millis()?;
            let Some(ci) = g.create_consumer(&cname, seen) else {
                return bad("duplicate consumer");
            };
            for _ in 0..r.count()? {
                let id = r.raw_stream_id()?;
                match pel.get_mut(&id) {
                    Some((time, count, owned @ false)) => {
                        *owned = true;
                        g.set_pending(id, ci, *time, *count);
                    }
                    _ => return bad("consumer pending entry not in the group's"),
                }
            }
        }
        // Pending entries no consumer claimed are dropped (Redis keeps them
        // ownerless, where no command can reach them but XPENDING's summary).
    }
    Ok(s)
}
