//! Writing values as RDB objects, in encodings redis-server 7.0 loads.
//!
//! The choices follow Redis's own where they matter to a reader: lists as
//! quicklists of listpack nodes of about 8 KB (Redis keeps loaded nodes as
//! they are, so the node size is what the receiving list gets), compact
//! hashes and sorted sets as one listpack, integer sets as an intset, and
//! strings integer-encoded or LZF-compressed as `rdbSaveRawString` does.

use super::listpack::{intset_blob, LpWriter};
use super::lzf;
use super::RdbType;
use crate::types::set::Item;
use crate::types::stream::{Stream, StreamId};
use crate::value::{Str, Value};

/// Redis's quicklist node size under the default `list-max-listpack-size -2`.
const LIST_NODE_BYTES: usize = 8192;
/// Redis 7.0 keeps a list element this large in a node of its own, stored
/// plain rather than in a listpack (`packed_threshold`).
const PLAIN_THRESHOLD: usize = 1 << 30;
/// Quicklist node containers.
pub(super) const CONTAINER_PLAIN: u64 = 1;
pub(super) const CONTAINER_PACKED: u64 = 2;
/// Stream node limits under Redis's defaults (`stream-node-max-bytes`,
/// `stream-node-max-entries`).
const STREAM_NODE_BYTES: usize = 4096;
const STREAM_NODE_ENTRIES: usize = 100;
/// Stream entry flags.
pub(super) const STREAM_DELETED: i64 = 1;
pub(super) const STREAM_SAMEFIELDS: i64 = 2;

/// A length (`rdbSaveLen`): 6 bits, 14 bits, or a 32/64-bit big-endian
/// number after a marker byte.
pub(super) fn put_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push((len & 0xff) as u8);
    } else if len <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// An integer in the string encodings 0xC0..0xC2 when it fits 32 bits.
fn put_encoded_int(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[0xC0, b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(0xC1);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(0xC2);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// A string (`rdbSaveRawString`): integer-encoded when it is a short
/// canonical integer, LZF-compressed when longer than 20 bytes and that
/// saves at least four, else verbatim after its length.
pub(super) fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = crate::num::parse_i64(s) {
            if put_encoded_int(out, v) {
                return;
            }
        }
    }
    if s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push(0xC3);
            put_len(out, c.len() as u64);
            put_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn put_item(out: &mut Vec<u8>, item: Item<'_>) {
    match item {
        Item::Int(v) => {
            if !put_encoded_int(out, v) {
                put_string(out, itoa::Buffer::new().format(v).as_bytes());
            }
        }
        Item::Bytes(b) => put_string(out, b),
    }
}

/// The type byte, then (in an RDB file, not a DUMP payload) the key.
fn put_head(out: &mut Vec<u8>, t: RdbType, key: Option<&[u8]>) {
    out.push(t as u8);
    if let Some(k) = key {
        put_string(out, k);
    }
}

pub(super) fn put_stream_id(out: &mut Vec<u8>, id: StreamId) {
    out.extend_from_slice(&id.ms.to_be_bytes());
    out.extend_from_slice(&id.seq.to_be_bytes());
}

/// A score in a compact sorted set, as `zzlInsertAt` stores it: an integer
/// when the double is one (and within ±2^62), else its `%.17g` text.
fn push_score(lp: &mut LpWriter, score: f64) {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if (-LIMIT..=LIMIT).contains(&score) && score == (score as i64) as f64 {
        lp.push_int(score as i64);
    } else {
        lp.push(crate::num::fmt_double(score).as_bytes());
    }
}

/// Writes one value's RDB object whole.
pub(super) fn write_value(value: &Value, out: &mut Vec<u8>) {
    let mut w = ObjectWriter::new();
    while !w.step(value, out, usize::MAX) {}
}

/// Writes a value's RDB object in steps of bounded size, so that a large
/// value (a list or hash of a million elements) can be serialized a slice at
/// a time, its core serving other commands in between (MIGRATE does this).
///
/// Between steps the value must not change; the caller holds its key's lock.
/// A compact value, a string and an intset are written in one step whatever
/// the budget; the large encodings stop at element boundaries (whole nodes
/// for lists and streams) once a step has written `budget` bytes or visited
/// that many bytes of elements. The bytes are the same for every budget.
pub struct ObjectWriter {
    walk: Walk,
    /// In an RDB file the key comes between the type byte and the value.
    key: Option<Vec<u8>>,
}

/// Where a stepped write is.
enum Walk {
    Start,
    /// Counting a list's quicklist nodes, whose count comes before them:
    /// the next element, the packing so far, the nodes closed so far.
    ListCount {
        next: usize,
        pack: ListPack,
        nodes: u64,
    },
    /// Writing the nodes: the next element, the packing, the open node.
    List {
        next: usize,
        pack: ListPack,
        lp: LpWriter,
    },
    /// The members of a table set, the pairs of a table hash, or the
    /// entries of a skiplist sorted set: how many are written.
    Elements {
        next: usize,
    },
    /// Counting a stream's listpack nodes: where the next one starts.
    StreamCount {
        from: StreamId,
        nodes: u64,
    },
    /// Writing them: the ID of the next node's first entry.
    Stream {
        from: StreamId,
    },
    Done,
}

impl Default for ObjectWriter {
    fn default() -> Self {
        ObjectWriter::new()
    }
}

impl ObjectWriter {
    /// A writer of a DUMP payload's object: the type byte, then the value.
    pub fn new() -> ObjectWriter {
        ObjectWriter { walk: Walk::Start, key: None }
    }

    /// A writer of an RDB file's key entry: the type byte, the key, the value.
    pub fn keyed(key: &[u8]) -> ObjectWriter {
        ObjectWriter { walk: Walk::Start, key: Some(key.to_vec()) }
    }

    /// Appends the next part of `value`'s object to `out`. Returns true once
    /// the object is complete.
    pub fn step(&mut self, value: &Value, out: &mut Vec<u8>, budget: usize) -> bool {
        let mut work = Work { start: out.len(), visited: 0, budget: budget.max(1) };
        loop {
            let next = match std::mem::replace(&mut self.walk, Walk::Done) {
                Walk::Start => start(value, out, self.key.as_deref()),
                Walk::ListCount { next, pack, nodes } => count_list(value, next, pack, nodes, out, &mut work),
                Walk::List { next, pack, lp } => write_list(value, next, pack, lp, out, &mut work),
                Walk::Elements { next } => write_elements(value, next, out, &mut work),
                Walk::StreamCount { from, nodes } => count_stream(value, from, nodes, out, &mut work),
                Walk::Stream { from } => write_stream_nodes(value, from, out, &mut work),
                Walk::Done => return true,
            };
            let paused = !matches!(next, Walk::Done) && work.spent(out);
            self.walk = next;
            if paused {
                return false;
            }
        }
    }
}

/// How much a step has done.
struct Work {
    start: usize,
    visited: usize,
    budget: usize,
}

impl Work {
    /// Counts `visited` bytes of elements read and tells whether the step is over.
    fn spent_after(&mut self, out: &[u8], visited: usize) -> bool {
        self.visited += visited;
        self.spent(out)
    }

    fn spent(&self, out: &[u8]) -> bool {
        out.len() - self.start >= self.budget || self.visited >= self.budget
    }
}

/// The type byte and whatever can be written at once: the whole value when
/// it is small or compact, else the element count before the elements.
fn start(value: &Value, out: &mut Vec<u8>, key: Option<&[u8]>) -> Walk {
    match value {
        Value::Str(s) => {
            put_head(out, RdbType::String, key);
            match s {
                Str::Int(v) => {
                    if !put_encoded_int(out, *v) {
                        let mut b = itoa::Buffer::new();
                        let text = b.format(*v).as_bytes();
                        put_len(out, text.len() as u64);
                        out.extend_from_slice(text);
                    }
                }
                Str::Emb(b) => put_string(out, b),
                Str::Raw(v) => put_string(out, v),
            }
            Walk::Done
        }
        Value::List(_) => {
            put_head(out, RdbType::ListQuicklist2, key);
            Walk::ListCount { next: 0, pack: ListPack::default(), nodes: 0 }
        }
        Value::Set(set) => {
            if set.encoding() == "intset" {
                put_head(out, RdbType::SetIntset, key);
                let members: Vec<i64> = set
                    .iter()
                    .filter_map(|m| match m {
                        Item::Int(v) => Some(v),
                        Item::Bytes(b) => crate::num::parse_i64(b),
                    })
                    .collect();
                put_string(out, &intset_blob(&members));
                Walk::Done
            } else {
                put_head(out, RdbType::Set, key);
                put_len(out, set.len() as u64);
                Walk::Elements { next: 0 }
            }
        }
        Value::Hash(h) => {
            if h.encoding() == "listpack" {
                put_head(out, RdbType::HashListpack, key);
                let mut lp = LpWriter::new();
                for (f, v) in h.iter() {
                    for item in [f, v] {
                        match item {
                            Item::Int(n) => lp.push_int(n),
                            Item::Bytes(b) => lp.push(b),
                        }
                    }
                }
                put_string(out, &lp.finish());
                Walk::Done
            } else {
                put_head(out, RdbType::Hash, key);
                put_len(out, h.len() as u64);
                Walk::Elements { next: 0 }
            }
        }
        Value::ZSet(z) => {
            if z.is_compact() {
                put_head(out, RdbType::ZSetListpack, key);
                let mut lp = LpWriter::new();
                for (m, s) in z.iter() {
                    lp.push(m);
                    push_score(&mut lp, s);
                }
                put_string(out, &lp.finish());
                Walk::Done
            } else {
                put_head(out, RdbType::ZSet2, key);
                put_len(out, z.len() as u64);
                Walk::Elements { next: 0 }
            }
        }
        Value::Stream(_) => {
            put_head(out, RdbType::StreamListpacks2, key);
            Walk::StreamCount { from: StreamId::MIN, nodes: 0 }
        }
    }
}

/// Redis's quicklist packing: elements fill a listpack node of about
/// [`LIST_NODE_BYTES`]; a huge element gets a plain node of its own.
#[derive(Clone, Copy, Default)]
struct ListPack {
    /// The open node's listpack size, when a node is open.
    open: Option<usize>,
}

/// Where [`ListPack::place`] puts an element.
struct Placed {
    /// The open node is full: it closes before this element.
    closes: bool,
    /// The element is a plain node of its own.
    plain: bool,
}

impl ListPack {
    fn place(&mut self, e: &[u8]) -> Placed {
        if e.len() >= PLAIN_THRESHOLD {
            return Placed { closes: self.open.take().is_some(), plain: true };
        }
        // An element's listpack overhead is at most 11 bytes.
        let closes = self.open.is_some_and(|bytes| bytes + e.len() + 11 > LIST_NODE_BYTES);
        let bytes = match self.open {
            Some(b) if !closes => b,
            _ => LpWriter::EMPTY_BYTES,
        };
        self.open = Some(bytes + LpWriter::entry_size(e));
        Placed { closes, plain: false }
    }
}

fn list_of(value: &Value) -> &crate::types::list::List {
    match value {
        Value::List(l) => l,
        _ => unreachable!("a list write resumed on a {}", value.type_name()),
    }
}

fn count_list(
    value: &Value,
    next: usize,
    mut pack: ListPack,
    mut nodes: u64,
    out: &mut Vec<u8>,
    work: &mut Work,
) -> Walk {
    let list = list_of(value);
    for (i, e) in (next + 1..).zip(list.range(next, list.len())) {
        let p = pack.place(e);
        nodes += p.closes as u64 + p.plain as u64;
        if work.spent_after(out, e.len() + 1) {
            return Walk::ListCount { next: i, pack, nodes };
        }
    }
    nodes += pack.open.is_some() as u64;
    put_len(out, nodes);
    Walk::List { next: 0, pack: ListPack::default(), lp: LpWriter::new() }
}

fn put_node(out: &mut Vec<u8>, container: u64, data: &[u8]) {
    put_len(out, container);
    put_string(out, data);
}

fn write_list(
    value: &Value,
    next: usize,
    mut pack: ListPack,
    mut lp: LpWriter,
    out: &mut Vec<u8>,
    work: &mut Work,
) -> Walk {
    let list = list_of(value);
    let mut i = next;
    for e in list.range(next, list.len()) {
        let p = pack.place(e);
        if p.closes {
            put_node(out, CONTAINER_PACKED, &std::mem::take(&mut lp).finish());
        }
        if p.plain {
            put_node(out, CONTAINER_PLAIN, e);
        } else {
            lp.push(e);
        }
        i += 1;
        // Compressed nodes can be much smaller than their elements: count both.
        if work.spent_after(out, e.len() + 1) && i < list.len() {
            return Walk::List { next: i, pack, lp };
        }
    }
    if !lp.is_empty() {
        put_node(out, CONTAINER_PACKED, &lp.finish());
    }
    Walk::Done
}

/// Table sets and hashes in position order; skiplist sorted sets highest
/// first, as Redis writes them (each insertion on load then lands at the
/// head of the skiplist).
fn write_elements(value: &Value, next: usize, out: &mut Vec<u8>, work: &mut Work) -> Walk {
    let mut i = next;
    let len = match value {
        Value::Set(set) => {
            write_some((next..set.len()).map(|j| set.at(j)), &mut i, out, work, put_item);
            set.len()
        }
        Value::Hash(h) => {
            let pairs = h.pairs();
            write_some((next..pairs.len()).map(|j| pairs.at(j)), &mut i, out, work, |out, (f, v)| {
                put_item(out, f);
                put_item(out, v);
            });
            pairs.len()
        }
        Value::ZSet(z) => {
            // Rank order from the top: an iterator, not a lookup per rank.
            let from = z.len().checked_sub(next + 1);
            let entries = from.into_iter().flat_map(|r| z.iter_from(r, true));
            write_some(entries, &mut i, out, work, |out, (m, score)| {
                put_string(out, m);
                out.extend_from_slice(&score.to_le_bytes());
            });
            z.len()
        }
        _ => unreachable!("an element write resumed on a {}", value.type_name()),
    };
    match i < len {
        true => Walk::Elements { next: i },
        false => Walk::Done,
    }
}

/// Writes items until the step's budget is spent, counting them in `i`.
fn write_some<T>(
    items: impl Iterator<Item = T>,
    i: &mut usize,
    out: &mut Vec<u8>,
    work: &mut Work,
    mut put: impl FnMut(&mut Vec<u8>, T),
) {
    for item in items {
        put(out, item);
        *i += 1;
        if work.spent_after(out, 0) {
            break;
        }
    }
}

/// One stream entry's fields and values.
type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// Redis's stream node limits: a node closes at [`STREAM_NODE_ENTRIES`]
/// entries or about [`STREAM_NODE_BYTES`].
#[derive(Default)]
struct StreamPack {
    /// The open node's entries and approximate listpack bytes.
    open: Option<(usize, usize)>,
}

impl StreamPack {
    /// The size an entry is counted as.
    fn size(pairs: &Pairs<'_>) -> usize {
        pairs.iter().map(|(f, v)| f.len() + v.len() + 4).sum::<usize>() + 8
    }

    /// Places an entry of `size`: true when it starts a new node.
    fn starts(&mut self, size: usize) -> bool {
        let starts = self.open.is_none_or(|(entries, bytes)| {
            entries >= STREAM_NODE_ENTRIES || bytes + size >= STREAM_NODE_BYTES
        });
        let (entries, bytes) = if starts { (0, 16) } else { self.open.expect("open") };
        self.open = Some((entries + 1, bytes + size));
        starts
    }
}

/// The entries of one stream node being built.
struct NodeBuilder<'a> {
    master: StreamId,
    fields: Vec<&'a [u8]>,
    entries: Vec<(StreamId, Pairs<'a>)>,
}

impl NodeBuilder<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        let mut key = Vec::with_capacity(16);
        put_stream_id(&mut key, self.master);
        put_string(out, &key);
        put_string(out, &self.finish());
    }

    fn finish(&self) -> Vec<u8> {
        let mut lp = LpWriter::new();
        lp.push_int(self.entries.len() as i64);
        lp.push_int(0);
        lp.push_int(self.fields.len() as i64);
        for f in &self.fields {
            lp.push(f);
        }
        lp.push_int(0);
        for (id, pairs) in &self.entries {
            let same =
                pairs.len() == self.fields.len() && pairs.iter().zip(&self.fields).all(|((f, _), m)| f == m);
            lp.push_int(if same { STREAM_SAMEFIELDS } else { 0 });
            lp.push_int(id.ms.wrapping_sub(self.master.ms) as i64);
            lp.push_int(id.seq.wrapping_sub(self.master.seq) as i64);
            if !same {
                lp.push_int(pairs.len() as i64);
            }
            for (f, v) in pairs {
                if !same {
                    lp.push(f);
                }
                lp.push(v);
            }
            let pieces = if same { pairs.len() + 3 } else { 2 * pairs.len() + 4 };
            lp.push_int(pieces as i64);
        }
        lp.finish()
    }
}

fn stream_of(value: &Value) -> &Stream {
    match value {
        Value::Stream(s) => s,
        _ => unreachable!("a stream write resumed on a {}", value.type_name()),
    }
}

/// A stream as `RDB_TYPE_STREAM_LISTPACKS_2` is its live entries regrouped
/// into listpack nodes of Redis's default size (deleted entries are not
/// carried: only the counters remember them), the counters, and the
/// consumer groups with their pending entries and consumers. The node count
/// comes first, so the entries are walked once to count nodes, then again to
/// write them; steps end at node boundaries.
fn count_stream(value: &Value, from: StreamId, mut nodes: u64, out: &mut Vec<u8>, work: &mut Work) -> Walk {
    let log = stream_of(value).log();
    let mut pack = StreamPack::default();
    for e in log.range(from, StreamId::MAX, false) {
        let size = StreamPack::size(&e.fields().collect());
        if pack.starts(size) {
            if work.spent_after(out, 0) {
                return Walk::StreamCount { from: e.id, nodes };
            }
            nodes += 1;
        }
        work.visited += size;
    }
    put_len(out, nodes);
    Walk::Stream { from: StreamId::MIN }
}

fn write_stream_nodes(value: &Value, from: StreamId, out: &mut Vec<u8>, work: &mut Work) -> Walk {
    let s = stream_of(value);
    let log = s.log();
    let mut pack = StreamPack::default();
    let mut node: Option<NodeBuilder<'_>> = None;
    for e in log.range(from, StreamId::MAX, false) {
        let pairs: Pairs<'_> = e.fields().collect();
        if pack.starts(StreamPack::size(&pairs)) {
            if let Some(n) = node.take() {
                n.write(out);
                if work.spent_after(out, 0) {
                    return Walk::Stream { from: e.id };
                }
            }
            node = Some(NodeBuilder {
                master: e.id,
                fields: pairs.iter().map(|(f, _)| *f).collect(),
                entries: Vec::new(),
            });
        }
        node.as_mut().expect("a node").entries.push((e.id, pairs));
    }
    if let Some(n) = node {
        n.write(out);
    }
    write_stream_tail(s, out);
    Walk::Done
}

/// The counters and the consumer groups, after the nodes.
fn write_stream_tail(s: &Stream, out: &mut Vec<u8>) {
    let log = s.log();
    put_len(out, log.len());
    for id in [log.last_id, log.first_id, log.max_deleted_id] {
        put_len(out, id.ms);
        put_len(out, id.seq);
    }
    put_len(out, log.entries_added);
    put_len(out, s.group_count() as u64);
    for (name, g) in s.groups() {
        put_string(out, name);
        put_len(out, g.last_id.ms);
        put_len(out, g.last_id.seq);
        // Redis keeps an unknown read counter as -1 and writes it as a length.
        put_len(out, g.entries_read.unwrap_or(u64::MAX));
        put_len(out, g.pending().len() as u64);
        for (id, nack) in g.pending() {
            put_stream_id(out, *id);
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            put_len(out, nack.delivery_count);
        }
        put_len(out, g.consumer_count() as u64);
        for c in g.consumers() {
            put_string(out, &c.name);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            put_len(out, c.pending().len() as u64);
            for id in c.pending() {
                put_stream_id(out, *id);
            }
        }
    }
}
