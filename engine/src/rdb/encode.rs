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

fn put_type(out: &mut Vec<u8>, t: RdbType) {
    out.push(t as u8);
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

pub(super) fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Str(s) => {
            put_type(out, RdbType::String);
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
        }
        Value::List(list) => {
            put_type(out, RdbType::ListQuicklist2);
            let mut nodes: Vec<(u64, Vec<u8>)> = Vec::new();
            let mut lp = LpWriter::new();
            for e in list.iter() {
                if e.len() >= PLAIN_THRESHOLD {
                    if !lp.is_empty() {
                        nodes.push((CONTAINER_PACKED, std::mem::take(&mut lp).finish()));
                    }
                    nodes.push((CONTAINER_PLAIN, e.to_vec()));
                    continue;
                }
                // An element's listpack overhead is at most 11 bytes.
                if !lp.is_empty() && lp.bytes() + e.len() + 11 > LIST_NODE_BYTES {
                    nodes.push((CONTAINER_PACKED, std::mem::take(&mut lp).finish()));
                }
                lp.push(e);
            }
            if !lp.is_empty() {
                nodes.push((CONTAINER_PACKED, lp.finish()));
            }
            put_len(out, nodes.len() as u64);
            for (container, data) in &nodes {
                put_len(out, *container);
                put_string(out, data);
            }
        }
        Value::Set(set) => {
            if set.encoding() == "intset" {
                put_type(out, RdbType::SetIntset);
                let members: Vec<i64> = set
                    .iter()
                    .filter_map(|m| match m {
                        Item::Int(v) => Some(v),
                        Item::Bytes(b) => crate::num::parse_i64(b),
                    })
                    .collect();
                put_string(out, &intset_blob(&members));
            } else {
                put_type(out, RdbType::Set);
                put_len(out, set.len() as u64);
                for m in set.iter() {
                    put_item(out, m);
                }
            }
        }
        Value::Hash(h) => {
            if h.encoding() == "listpack" {
                put_type(out, RdbType::HashListpack);
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
            } else {
                put_type(out, RdbType::Hash);
                put_len(out, h.len() as u64);
                for (f, v) in h.iter() {
                    put_item(out, f);
                    put_item(out, v);
                }
            }
        }
        Value::ZSet(z) => {
            if z.is_compact() {
                put_type(out, RdbType::ZSetListpack);
                let mut lp = LpWriter::new();
                for (m, s) in z.iter() {
                    lp.push(m);
                    push_score(&mut lp, s);
                }
                put_string(out, &lp.finish());
            } else {
                put_type(out, RdbType::ZSet2);
                put_len(out, z.len() as u64);
                // Highest first, as Redis writes them: each insertion on
                // load then lands at the head of the skiplist.
                for (m, s) in z.iter_from(z.len().saturating_sub(1), true) {
                    put_string(out, m);
                    out.extend_from_slice(&s.to_le_bytes());
                }
            }
        }
        Value::Stream(s) => {
            put_type(out, RdbType::StreamListpacks2);
            write_stream(s, out);
        }
    }
}

/// One stream entry's fields and values.
type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// The entries of one stream node being built.
struct NodeBuilder<'a> {
    master: StreamId,
    fields: Vec<&'a [u8]>,
    entries: Vec<(StreamId, Pairs<'a>)>,
    /// Roughly the listpack bytes so far, for Redis's node size limit.
    bytes: usize,
}

impl NodeBuilder<'_> {
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

/// A stream as `RDB_TYPE_STREAM_LISTPACKS_2`: its live entries regrouped
/// into listpack nodes of Redis's default size (deleted entries are not
/// carried: only the counters remember them), the counters, and the
/// consumer groups with their pending entries and consumers.
fn write_stream(s: &Stream, out: &mut Vec<u8>) {
    let log = s.log();
    let mut nodes: Vec<NodeBuilder<'_>> = Vec::new();
    for e in log.range(StreamId::MIN, StreamId::MAX, false) {
        let pairs: Pairs<'_> = e.fields().collect();
        let size: usize = pairs.iter().map(|(f, v)| f.len() + v.len() + 4).sum::<usize>() + 8;
        let full = nodes
            .last()
            .is_none_or(|n| n.entries.len() >= STREAM_NODE_ENTRIES || n.bytes + size >= STREAM_NODE_BYTES);
        if full {
            nodes.push(NodeBuilder {
                master: e.id,
                fields: pairs.iter().map(|(f, _)| *f).collect(),
                entries: Vec::new(),
                bytes: 16,
            });
        }
        let node = nodes.last_mut().expect("a node");
        node.bytes += size;
        node.entries.push((e.id, pairs));
    }
    put_len(out, nodes.len() as u64);
    for n in &nodes {
        let mut key = Vec::with_capacity(16);
        put_stream_id(&mut key, n.master);
        put_string(out, &key);
        put_string(out, &n.finish());
    }
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
