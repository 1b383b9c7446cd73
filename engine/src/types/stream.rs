//! The stream type: an append-only log of entries ordered by ID, and the
//! consumer groups that read it.
//!
//! Entries are packed the way Redis packs them: a stream is an ordered map
//! of nodes keyed by the ID of their first ("master") entry, and each node is
//! one byte buffer holding up to 100 entries. The master entry's field names
//! are written once; an entry with the same field names stores only its
//! values, and IDs are stored as deltas from the master ID. Deleting an entry
//! only flags it (a tombstone) until its whole node empties.
//!
//! The node layout is Shoal's own, but each node also keeps the size the same
//! entries would take in a Redis listpack, because that size decides when
//! Redis starts a new node, and node boundaries are visible to clients:
//! `MAXLEN ~`/`MINID ~` trimming only drops whole nodes, and XINFO STREAM
//! reports the node count and the radix tree's size.

use std::collections::btree_map;
use std::collections::{BTreeMap, BTreeSet};

/// A stream entry ID: milliseconds and a sequence number, ordered as a pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID, `None` past the largest one.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId { ms: self.ms, seq: self.seq + 1 })
        } else if self.ms < u64::MAX {
            Some(StreamId { ms: self.ms + 1, seq: 0 })
        } else {
            None
        }
    }

    /// The previous ID, `None` before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId { ms: self.ms, seq: self.seq - 1 })
        } else if self.ms > 0 {
            Some(StreamId { ms: self.ms - 1, seq: u64::MAX })
        } else {
            None
        }
    }

    /// The `<ms>-<seq>` text clients see.
    pub fn text(&self) -> IdText {
        let mut t = IdText { buf: [0; 41], len: 0 };
        let mut b = itoa::Buffer::new();
        let ms = b.format(self.ms).as_bytes();
        t.buf[..ms.len()].copy_from_slice(ms);
        let mut len = ms.len();
        t.buf[len] = b'-';
        len += 1;
        let seq = b.format(self.seq).as_bytes();
        t.buf[len..len + seq.len()].copy_from_slice(seq);
        t.len = (len + seq.len()) as u8;
        t
    }

    /// The 128-bit big-endian form Redis uses as the radix tree key.
    fn key_bytes(&self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }
}

/// A formatted stream ID, kept on the stack.
#[derive(Clone, Copy)]
pub struct IdText {
    buf: [u8; 41],
    len: u8,
}

impl std::ops::Deref for IdText {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

/// The bytes of an argument up to its first NUL: Redis copies IDs and
/// compares option names as C strings, so anything after a NUL is ignored.
pub fn cstr(arg: &[u8]) -> &[u8] {
    match memchr::memchr(0, arg) {
        Some(i) => &arg[..i],
        None => arg,
    }
}

/// Redis's `string2ull`: a strict integer first, then whatever C's `strtoull`
/// accepts whole (leading spaces, a sign, leading zeros; a minus sign wraps).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::num::parse_i64(s) {
        return (v >= 0).then_some(v as u64);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = i;
    let mut v: u64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add((s[i] - b'0') as u64)?;
        i += 1;
    }
    if i == digits || i != s.len() {
        return None;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// A stream ID as a client wrote it, parsed like Redis's
/// `streamGenericParseIDOrReply`: `<ms>-<seq>`, or `<ms>` alone with the
/// sequence `missing_seq`; `-` and `+` are the smallest and largest IDs unless
/// `strict`. With `seq_star`, `<ms>-*` is accepted and reported as a
/// sequence not given (the second value is false).
pub fn parse_id(arg: &[u8], missing_seq: u64, strict: bool, seq_star: bool) -> Option<(StreamId, bool)> {
    if arg.len() > 127 {
        return None;
    }
    let s = cstr(arg);
    match s {
        b"-" if !strict => return Some((StreamId::MIN, true)),
        b"+" if !strict => return Some((StreamId::MAX, true)),
        b"-" | b"+" => return None,
        _ => {}
    }
    let (ms, seq) = match memchr::memchr(b'-', s) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let ms = string2ull(ms)?;
    match seq {
        Some(b"*") if seq_star => Some((StreamId::new(ms, 0), false)),
        Some(seq) => Some((StreamId::new(ms, string2ull(seq)?), true)),
        None => Some((StreamId::new(ms, missing_seq), true)),
    }
}

/// When a node is full and the next entry starts a new one: Redis's
/// `stream-node-max-bytes` and `stream-node-max-entries` (0 = no limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits { max_bytes: 4096, max_entries: 100 }
    }
}

/// Redis's `STREAM_LISTPACK_MAX_SIZE`: no node, and no single entry's
/// fields and values together, may be larger.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

const FLAG_DELETED: u8 = 1;
const FLAG_SAMEFIELDS: u8 = 2;

/// The bytes one listpack element takes: its encoding plus the back-length.
fn lp_element(encoded: usize) -> usize {
    let back = match encoded {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    };
    encoded + back
}

fn lp_int(v: i64) -> usize {
    lp_element(match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    })
}

/// A string element: stored as an integer when it is one in Redis's strict sense.
fn lp_str(s: &[u8]) -> usize {
    if let Some(v) = crate::num::parse_i64(s) {
        return lp_int(v);
    }
    lp_element(match s.len() {
        0..=63 => 1 + s.len(),
        64..=4095 => 2 + s.len(),
        n => 5 + n,
    })
}

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn get_varint(buf: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[*at];
        *at += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

fn get_bytes<'a>(buf: &'a [u8], at: &mut usize) -> &'a [u8] {
    let len = get_varint(buf, at) as usize;
    let s = &buf[*at..*at + len];
    *at += len;
    s
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Up to [`NodeLimits::max_entries`] entries in one buffer.
///
/// Layout: the master field names (each a varint length and the bytes), then
/// the entries. An entry is a flags byte, the varint length of the rest, the
/// ms and seq deltas from the master ID (varint, zigzag varint), and, unless
/// it has the master's field names, the field count and each field before
/// its value; with the master's names, only the values.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    buf: Vec<u8>,
    master_fields: u32,
    /// Offset of the first entry.
    entries_at: u32,
    /// Offset of the last entry (live or deleted).
    last_at: u32,
    live: u32,
    deleted: u32,
    /// The node's size as a Redis listpack, less the two counters (live and
    /// deleted entries), whose size changes with their values.
    lp_base: usize,
}

/// One entry's header, decoded.
struct Raw {
    flags: u8,
    id: StreamId,
    fields: usize,
    /// Offset of the first field (or value).
    body: usize,
    /// Offset of the next entry.
    next: usize,
}

impl Node {
    /// A node whose master fields are the fields of `pairs`.
    fn new(pairs: &[&[u8]]) -> Node {
        let mut buf = Vec::new();
        let n = pairs.len() / 2;
        let mut lp_base = 6 + 1 + lp_int(n as i64) + lp_int(0);
        for f in pairs.iter().step_by(2) {
            put_varint(&mut buf, f.len() as u64);
            buf.extend_from_slice(f);
            lp_base += lp_str(f);
        }
        let at = buf.len() as u32;
        Node { buf, master_fields: n as u32, entries_at: at, last_at: at, live: 0, deleted: 0, lp_base }
    }

    fn lp_bytes(&self) -> usize {
        self.lp_base + lp_int(self.live as i64) + lp_int(self.deleted as i64)
    }

    fn same_fields(&self, pairs: &[&[u8]]) -> bool {
        if pairs.len() / 2 != self.master_fields as usize {
            return false;
        }
        let mut at = 0;
        pairs.iter().step_by(2).all(|f| get_bytes(&self.buf, &mut at) == *f)
    }

    fn push(&mut self, master: StreamId, id: StreamId, pairs: &[&[u8]]) {
        let same = self.same_fields(pairs);
        let n = pairs.len() / 2;
        let ms_delta = id.ms.wrapping_sub(master.ms);
        let seq_delta = id.seq.wrapping_sub(master.seq) as i64;
        let mut lp = lp_int(FLAG_SAMEFIELDS as i64) + lp_int(ms_delta as i64) + lp_int(seq_delta);
        let mut body = varint_len(ms_delta) + varint_len(zigzag(seq_delta));
        if !same {
            lp += lp_int(n as i64);
            body += varint_len(n as u64);
        }
        for (i, p) in pairs.iter().enumerate() {
            if same && i % 2 == 0 {
                continue;
            }
            lp += lp_str(p);
            body += varint_len(p.len() as u64) + p.len();
        }
        let lp_count = if same { n + 3 } else { 2 * n + 4 };
        lp += lp_int(lp_count as i64);

        let at = self.buf.len();
        self.buf.reserve(1 + varint_len(body as u64) + body);
        self.buf.push(if same { FLAG_SAMEFIELDS } else { 0 });
        put_varint(&mut self.buf, body as u64);
        put_varint(&mut self.buf, ms_delta);
        put_varint(&mut self.buf, zigzag(seq_delta));
        if !same {
            put_varint(&mut self.buf, n as u64);
        }
        for (i, p) in pairs.iter().enumerate() {
            if same && i % 2 == 0 {
                continue;
            }
            put_varint(&mut self.buf, p.len() as u64);
            self.buf.extend_from_slice(p);
        }
        self.last_at = at as u32;
        self.live += 1;
        self.lp_base += lp;
    }

    fn raw(&self, master: StreamId, at: usize) -> Raw {
        let flags = self.buf[at];
        let mut p = at + 1;
        let len = get_varint(&self.buf, &mut p) as usize;
        let next = p + len;
        let ms = master.ms.wrapping_add(get_varint(&self.buf, &mut p));
        let seq = master.seq.wrapping_add(unzigzag(get_varint(&self.buf, &mut p)) as u64);
        let fields = if flags & FLAG_SAMEFIELDS != 0 {
            self.master_fields as usize
        } else {
            get_varint(&self.buf, &mut p) as usize
        };
        Raw { flags, id: StreamId { ms, seq }, fields, body: p, next }
    }

    fn entry<'a>(&'a self, raw: &Raw) -> EntryRef<'a> {
        EntryRef {
            id: raw.id,
            fields: Fields {
                buf: &self.buf,
                master: 0,
                at: raw.body,
                left: raw.fields,
                same: raw.flags & FLAG_SAMEFIELDS != 0,
            },
        }
    }

    /// The offset of the live entry `id`.
    fn find(&self, master: StreamId, id: StreamId) -> Option<usize> {
        let mut at = self.entries_at as usize;
        while at < self.buf.len() {
            let raw = self.raw(master, at);
            if raw.id > id {
                return None;
            }
            if raw.id == id && raw.flags & FLAG_DELETED == 0 {
                return Some(at);
            }
            at = raw.next;
        }
        None
    }

    /// The offsets of every entry, in order.
    fn offsets(&self) -> Vec<u32> {
        let mut v = Vec::with_capacity((self.live + self.deleted) as usize);
        let mut at = self.entries_at as usize;
        while at < self.buf.len() {
            v.push(at as u32);
            let mut p = at + 1;
            let len = get_varint(&self.buf, &mut p) as usize;
            at = p + len;
        }
        v
    }

    /// The last entry's ID, deleted or not.
    fn last_id(&self, master: StreamId) -> StreamId {
        self.raw(master, self.last_at as usize).id
    }

    fn heap_size(&self) -> usize {
        self.buf.capacity()
    }
}

/// An entry of a stream: its ID and its field-value pairs.
#[derive(Clone)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    fields: Fields<'a>,
}

impl<'a> EntryRef<'a> {
    /// The number of field-value pairs.
    pub fn len(&self) -> usize {
        self.fields.left
    }

    pub fn is_empty(&self) -> bool {
        self.fields.left == 0
    }

    pub fn fields(&self) -> Fields<'a> {
        self.fields.clone()
    }
}

/// The field-value pairs of one entry.
#[derive(Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    /// Next master field name (used when `same`).
    master: usize,
    at: usize,
    left: usize,
    same: bool,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field =
            if self.same { get_bytes(self.buf, &mut self.master) } else { get_bytes(self.buf, &mut self.at) };
        let value = get_bytes(self.buf, &mut self.at);
        Some((field, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// The entries of a stream between two IDs (inclusive), in either direction.
pub struct Range<'a> {
    nodes: btree_map::Range<'a, StreamId, Node>,
    cur: Option<(StreamId, &'a Node)>,
    /// Forward: the next entry's offset in `cur`.
    pos: usize,
    /// Backward: the offsets still to visit in `cur`.
    offsets: Vec<u32>,
    start: StreamId,
    end: StreamId,
    rev: bool,
    done: bool,
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        if self.done {
            return None;
        }
        loop {
            let (master, node) = match self.cur {
                Some(c) => c,
                None => {
                    let next = if self.rev { self.nodes.next_back() } else { self.nodes.next() };
                    let Some((&m, n)) = next else {
                        self.done = true;
                        return None;
                    };
                    if self.rev {
                        self.offsets = n.offsets();
                    } else {
                        self.pos = n.entries_at as usize;
                    }
                    self.cur = Some((m, n));
                    (m, n)
                }
            };
            let at = if self.rev {
                match self.offsets.pop() {
                    Some(at) => at as usize,
                    None => {
                        self.cur = None;
                        continue;
                    }
                }
            } else {
                if self.pos >= node.buf.len() {
                    self.cur = None;
                    continue;
                }
                self.pos
            };
            let raw = node.raw(master, at);
            if !self.rev {
                self.pos = raw.next;
            }
            if raw.flags & FLAG_DELETED != 0 {
                continue;
            }
            if self.rev {
                if raw.id > self.end {
                    continue;
                }
                if raw.id < self.start {
                    self.done = true;
                    return None;
                }
            } else {
                if raw.id < self.start {
                    continue;
                }
                if raw.id > self.end {
                    self.done = true;
                    return None;
                }
            }
            return Some(node.entry(&raw));
        }
    }
}

/// How XADD and XTRIM trim: Redis's `streamAddTrimArgs`, less the XADD parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Drop the entries with a smaller ID.
    MinId(StreamId),
}

/// What a trim will do, worked out before anything changes (so that a trim
/// that removes nothing does not count as a write).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrimPlan {
    /// Whole nodes to drop from the head.
    nodes: usize,
    /// In the node after those: tombstone every live entry before this offset.
    partial: Option<(StreamId, usize)>,
    /// Entries removed.
    pub deleted: u64,
    /// Whether anything changes (a node of tombstones only can go with 0 entries).
    pub changes: bool,
}

/// The entries of a stream and its counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Log {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    /// The largest ID ever added (or set by XSETID); 0-0 for a new stream.
    pub last_id: StreamId,
    /// The first live entry's ID as Redis records it (0-0 when empty).
    pub first_id: StreamId,
    /// The largest ID ever deleted.
    pub max_deleted_id: StreamId,
    /// How many entries were ever added.
    pub entries_added: u64,
}

/// Why an ID cannot be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddError {
    /// Not greater than the last ID.
    NotGreater,
    /// The sequence would overflow, or the fields are too large.
    TooLarge,
}

/// The ID an XADD asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdRequest {
    /// `*`: generated from the clock.
    Auto,
    /// `<ms>-*`: this millisecond, next sequence.
    Ms(u64),
    /// A full ID.
    Exact(StreamId),
}

impl Log {
    /// The number of live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The ID an XADD would add, like Redis's `streamAppendItem` works it out.
    pub fn next_id(&self, req: IdRequest, now: u64) -> Result<StreamId, AddError> {
        let id = match req {
            IdRequest::Exact(id) => id,
            IdRequest::Ms(ms) if ms == self.last_id.ms => {
                if self.last_id.seq == u64::MAX {
                    return Err(AddError::TooLarge);
                }
                StreamId::new(ms, self.last_id.seq + 1)
            }
            IdRequest::Ms(ms) => StreamId::new(ms, 0),
            IdRequest::Auto if now > self.last_id.ms => StreamId::new(now, 0),
            IdRequest::Auto => self.last_id.incr().unwrap_or(StreamId::MIN),
        };
        if id <= self.last_id {
            return Err(AddError::NotGreater);
        }
        Ok(id)
    }

    /// Appends an entry; `id` must be greater than [`Log::last_id`] and
    /// `pairs` hold fields and values alternately.
    pub fn append(&mut self, id: StreamId, pairs: &[&[u8]], limits: NodeLimits) {
        debug_assert!(id > self.last_id && pairs.len() % 2 == 0);
        let total: usize = pairs.iter().map(|p| p.len()).sum();
        let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            limits.max_bytes
        };
        let tail = self.nodes.iter_mut().next_back();
        let master = match tail {
            Some((&m, n))
                if n.lp_bytes() + total < max_bytes
                    && (limits.max_entries == 0 || ((n.live + n.deleted) as usize) < limits.max_entries) =>
            {
                m
            }
            tail => {
                if let Some((_, n)) = tail {
                    n.buf.shrink_to_fit();
                }
                // After XSETID moved the last ID back over a node of
                // tombstones, this may replace it, as Redis's rax insert does.
                self.nodes.insert(id, Node::new(pairs));
                id
            }
        };
        let node = self.nodes.get_mut(&master).expect("the node just chosen");
        node.push(master, id, pairs);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// The live entries from `start` to `end` inclusive, backwards with `rev`.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        let nodes = if rev {
            self.nodes.range(..=end)
        } else {
            match self.nodes.range(..=start).next_back() {
                Some((&m, _)) => self.nodes.range(m..),
                None => self.nodes.range(..),
            }
        };
        Range { nodes, cur: None, pos: 0, offsets: Vec::new(), start, end, rev, done: false }
    }

    /// The live entry with this ID.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false).next()
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The last live entry's ID.
    pub fn last_live_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, true).next().map(|e| e.id)
    }

    /// The first live entry's ID.
    pub fn first_live_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, false).next().map(|e| e.id)
    }

    /// Deletes a live entry (XDEL): it becomes a tombstone, and its node
    /// goes when it was the node's last live entry. Returns whether it was there.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Some(at) = node.find(master, id) else {
            return false;
        };
        if node.live == 1 {
            self.nodes.remove(&master);
        } else {
            node.buf[at] |= FLAG_DELETED;
            node.live -= 1;
            node.deleted += 1;
        }
        self.length -= 1;
        true
    }

    /// XDEL's bookkeeping after deleting `ids` (those that were there):
    /// the largest deleted ID and the recorded first entry.
    pub fn note_deleted(&mut self, ids: &[StreamId]) {
        let mut first = false;
        for &id in ids {
            first |= id == self.first_id;
            if id > self.max_deleted_id {
                self.max_deleted_id = id;
            }
        }
        if ids.is_empty() {
            return;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if first {
            self.first_id = self.first_live_id().unwrap_or(StreamId::MAX);
        }
    }

    /// Works out a trim as Redis's `streamTrim` does it: whole nodes from the
    /// head while they can go entirely; then, unless `approx`, the entries of
    /// the next node up to the limit. `limit` (0 = none) caps the entries removed.
    pub fn plan_trim(&self, trim: Trim, approx: bool, limit: u64) -> TrimPlan {
        let mut plan = TrimPlan::default();
        let mut length = self.length;
        for (&master, node) in &self.nodes {
            if let Trim::MaxLen(max) = trim {
                if length <= max {
                    break;
                }
            }
            let entries = node.live as u64;
            if limit > 0 && plan.deleted + entries > limit {
                break;
            }
            let whole = match trim {
                Trim::MaxLen(max) => length - entries >= max,
                Trim::MinId(min) => node.last_id(master) < min,
            };
            if whole {
                plan.nodes += 1;
                plan.changes = true;
                length -= entries;
                plan.deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut at = node.entries_at as usize;
            while at < node.buf.len() {
                let raw = node.raw(master, at);
                let stop = match trim {
                    Trim::MaxLen(max) => length <= max,
                    Trim::MinId(min) => raw.id >= min,
                };
                if stop {
                    break;
                }
                if raw.flags & FLAG_DELETED == 0 {
                    length -= 1;
                    plan.deleted += 1;
                    plan.changes = true;
                }
                at = raw.next;
            }
            plan.partial = Some((master, at));
            break;
        }
        plan
    }

    /// Carries out a plan from [`Log::plan_trim`] made on this same log.
    /// Returns the number of entries removed.
    pub fn apply_trim(&mut self, plan: &TrimPlan) -> u64 {
        for _ in 0..plan.nodes {
            if let Some((_, node)) = self.nodes.pop_first() {
                self.length -= node.live as u64;
            }
        }
        if let Some((master, stop)) = plan.partial {
            if let Some(node) = self.nodes.get_mut(&master) {
                let mut at = node.entries_at as usize;
                while at < stop {
                    let raw = node.raw(master, at);
                    if raw.flags & FLAG_DELETED == 0 {
                        node.buf[at] |= FLAG_DELETED;
                        node.live -= 1;
                        node.deleted += 1;
                        self.length -= 1;
                    }
                    at = raw.next;
                }
            }
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if plan.deleted > 0 {
            self.first_id = self.first_live_id().unwrap_or(StreamId::MAX);
        }
        plan.deleted
    }

    /// Trims at once (plan and apply). Returns the number of entries removed.
    pub fn trim(&mut self, trim: Trim, approx: bool, limit: u64) -> u64 {
        let plan = self.plan_trim(trim, approx, limit);
        self.apply_trim(&plan)
    }

    /// The number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The number of nodes Redis's radix tree would have for these node keys
    /// (XINFO's `radix-tree-nodes`). A rax keeps chains of single-child nodes
    /// compressed, so its shape, and its node count, follow from the key set:
    /// one node for each shared run of bytes, each branching point and each
    /// key's end.
    pub fn rax_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.key_bytes()).collect();
        if keys.is_empty() {
            return 1;
        }
        rax_count(&keys, 0)
    }

    /// Whether a tombstone may lie in `[start, end]` (Redis's `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// The logical read counter of `id`, when it can be known (Redis's
    /// `streamEstimateDistanceFromFirstEverEntry`); `None` when it cannot.
    pub fn estimate_distance(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        } else if id > self.last_id {
            return None;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return Some(self.entries_added.wrapping_sub(self.length));
            } else if id == self.first_id {
                return Some(self.entries_added.wrapping_sub(self.length).wrapping_add(1));
            }
        }
        None
    }

    fn heap_size(&self) -> usize {
        // Each node, its key and about a third more for the tree's own nodes.
        let per_node = std::mem::size_of::<Node>() + std::mem::size_of::<StreamId>();
        self.nodes.values().map(Node::heap_size).sum::<usize>() + self.nodes.len() * per_node * 4 / 3
    }
}

/// Nodes of a compressed radix tree over sorted, distinct 16-byte keys that
/// all share their first `depth` bytes.
fn rax_count(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth == 16 {
        return 1;
    }
    if keys.len() == 1 {
        return 2;
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    let mut p = depth;
    while p < 16 && first[p] == last[p] {
        p += 1;
    }
    let mut n = usize::from(p > depth) + 1;
    let mut i = 0;
    while i < keys.len() {
        let b = keys[i][p];
        let j = i + keys[i..].iter().take_while(|k| k[p] == b).count();
        n += rax_count(&keys[i..j], p + 1);
        i = j;
    }
    n
}

/// A pending entry: delivered to a consumer and not acknowledged yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    pub delivery_count: u64,
    consumer: u32,
}

impl Nack {
    /// The consumer it was last delivered to (see [`Group::consumer`]).
    pub fn consumer(&self) -> u32 {
        self.consumer
    }
}

/// A consumer of a group.
#[derive(Clone, Debug, PartialEq)]
pub struct Consumer {
    pub name: Box<[u8]>,
    /// Unix ms the consumer was last active.
    pub seen_time: u64,
    pel: BTreeSet<StreamId>,
}

impl Consumer {
    /// The IDs pending for this consumer.
    pub fn pending(&self) -> &BTreeSet<StreamId> {
        &self.pel
    }
}

/// A consumer group: where it has read to, and what is pending for whom.
/// Consumers are kept in a slab so that each pending entry names its
/// consumer with a small index rather than a copy of its name.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The last ID delivered to the group.
    pub last_id: StreamId,
    /// The group's logical read counter; `None` when unknown.
    pub entries_read: Option<u64>,
    pel: BTreeMap<StreamId, Nack>,
    consumers: Vec<Option<Consumer>>,
    names: BTreeMap<Box<[u8]>, u32>,
    free: Vec<u32>,
}

impl Group {
    fn new(last_id: StreamId, entries_read: Option<u64>) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: Vec::new(),
            names: BTreeMap::new(),
            free: Vec::new(),
        }
    }

    /// The group's pending entries, by ID.
    pub fn pending(&self) -> &BTreeMap<StreamId, Nack> {
        &self.pel
    }

    pub fn nack_mut(&mut self, id: StreamId) -> Option<&mut Nack> {
        self.pel.get_mut(&id)
    }

    pub fn consumer(&self, index: u32) -> &Consumer {
        self.consumers[index as usize].as_ref().expect("a live consumer")
    }

    pub fn consumer_mut(&mut self, index: u32) -> &mut Consumer {
        self.consumers[index as usize].as_mut().expect("a live consumer")
    }

    /// The consumers in name order.
    pub fn consumers(&self) -> impl Iterator<Item = &Consumer> {
        self.names.values().map(|&i| self.consumer(i))
    }

    pub fn consumer_count(&self) -> usize {
        self.names.len()
    }

    pub fn consumer_named(&self, name: &[u8]) -> Option<&Consumer> {
        self.names.get(name).map(|&i| self.consumer(i))
    }

    /// Finds a consumer by name; with `seen`, marks it active at that time.
    pub fn find_consumer(&mut self, name: &[u8], seen: Option<u64>) -> Option<u32> {
        let i = *self.names.get(name)?;
        if let Some(now) = seen {
            self.consumer_mut(i).seen_time = now;
        }
        Some(i)
    }

    /// Adds a consumer; `None` when the name is taken.
    pub fn create_consumer(&mut self, name: &[u8], now: u64) -> Option<u32> {
        if self.names.contains_key(name) {
            return None;
        }
        let c = Consumer { name: name.into(), seen_time: now, pel: BTreeSet::new() };
        let i = match self.free.pop() {
            Some(i) => {
                self.consumers[i as usize] = Some(c);
                i
            }
            None => {
                self.consumers.push(Some(c));
                (self.consumers.len() - 1) as u32
            }
        };
        self.names.insert(name.into(), i);
        Some(i)
    }

    /// Removes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, index: u32) -> usize {
        let Some(c) = self.consumers[index as usize].take() else {
            return 0;
        };
        for id in &c.pel {
            self.pel.remove(id);
        }
        self.names.remove(&c.name);
        self.free.push(index);
        c.pel.len()
    }

    /// Drops a pending entry (XACK, or an entry gone from the stream).
    pub fn remove_pending(&mut self, id: StreamId) -> Option<Nack> {
        let nack = self.pel.remove(&id)?;
        if let Some(c) = self.consumers[nack.consumer as usize].as_mut() {
            c.pel.remove(&id);
        }
        Some(nack)
    }

    /// Makes `id` pending for `consumer` with this delivery time and count,
    /// moving it from another consumer if needed.
    pub fn set_pending(&mut self, id: StreamId, consumer: u32, time: u64, count: u64) {
        let nack = Nack { delivery_time: time, delivery_count: count, consumer };
        if let Some(old) = self.pel.insert(id, nack) {
            if old.consumer != consumer {
                if let Some(c) = self.consumers[old.consumer as usize].as_mut() {
                    c.pel.remove(&id);
                }
            }
        }
        self.consumer_mut(consumer).pel.insert(id);
    }

    /// Moves the group past `id`, an entry just delivered, keeping the
    /// read counter as Redis does (`streamReplyWithRange`).
    pub fn advance(&mut self, log: &Log, id: StreamId) {
        if id <= self.last_id {
            return;
        }
        match self.entries_read {
            Some(n) if !log.range_has_tombstones(id, StreamId::MAX) => self.entries_read = Some(n + 1),
            _ if log.entries_added > 0 => self.entries_read = log.estimate_distance(id),
            _ => {}
        }
        self.last_id = id;
    }

    /// The number of entries not yet delivered to the group, when known
    /// (Redis's `streamReplyWithCGLag`). Negative when ENTRIESREAD was set
    /// past the entries ever added.
    pub fn lag(&self, log: &Log) -> Option<i64> {
        if log.entries_added == 0 {
            return Some(0);
        }
        let added = log.entries_added as i64;
        if let Some(read) = self.entries_read {
            if !log.range_has_tombstones(self.last_id, StreamId::MAX) {
                return Some(added.wrapping_sub(read as i64));
            }
        }
        log.estimate_distance(self.last_id).map(|read| added.wrapping_sub(read as i64))
    }

    fn heap_size(&self) -> usize {
        let nack = std::mem::size_of::<StreamId>() + std::mem::size_of::<Nack>();
        let id = std::mem::size_of::<StreamId>();
        let consumers: usize =
            self.consumers.iter().flatten().map(|c| 2 * c.name.len() + c.pel.len() * id * 4 / 3 + 48).sum();
        self.pel.len() * nack * 4 / 3
            + consumers
            + self.consumers.capacity() * std::mem::size_of::<Option<Consumer>>()
    }
}

/// A Redis stream: its entries, and its consumer groups by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {
    log: Log,
    groups: BTreeMap<Box<[u8]>, Group>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    pub fn log_mut(&mut self) -> &mut Log {
        &mut self.log
    }

    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.get(name)
    }

    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.groups.get_mut(name)
    }

    /// The entries and one group, borrowed together.
    pub fn with_group(&mut self, name: &[u8]) -> Option<(&Log, &mut Group)> {
        let g = self.groups.get_mut(name)?;
        Some((&self.log, g))
    }

    /// The groups in name order.
    pub fn groups(&self) -> impl Iterator<Item = (&[u8], &Group)> {
        self.groups.iter().map(|(k, v)| (&k[..], v))
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Adds a group; false when the name is taken.
    pub fn create_group(&mut self, name: &[u8], last_id: StreamId, entries_read: Option<u64>) -> bool {
        let groups = &mut self.groups;
        if groups.contains_key(name) {
            return false;
        }
        groups.insert(name.into(), Group::new(last_id, entries_read));
        true
    }

    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        let groups: usize =
            self.groups.iter().map(|(k, v)| k.len() + std::mem::size_of::<Group>() + v.heap_size()).sum();
        self.log.heap_size() + groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn ids_parse_like_redis() {
        let p = |s: &str| parse_id(s.as_bytes(), 0, false, false).map(|(i, _)| i);
        assert_eq!(p("1-2"), Some(id(1, 2)));
        assert_eq!(p("5"), Some(id(5, 0)));
        assert_eq!(p("-"), Some(StreamId::MIN));
        assert_eq!(p("+"), Some(StreamId::MAX));
        assert_eq!(parse_id(b"+", 0, true, false), None);
        assert_eq!(p("007-00"), Some(id(7, 0)));
        assert_eq!(p(" 8-+1"), Some(id(8, 1)));
        assert_eq!(p("9--05"), Some(id(9, u64::MAX - 4)));
        assert_eq!(p("18446744073709551615-0"), Some(id(u64::MAX, 0)));
        assert_eq!(p("18446744073709551616-0"), None);
        assert_eq!(p("1--5"), None);
        assert_eq!(p("-5"), None);
        assert_eq!(p("1-"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("1 "), None);
        assert_eq!(p("1-*"), None);
        assert_eq!(parse_id(b"1-*", 0, true, true), Some((id(1, 0), false)));
        assert_eq!(parse_id(b"3", u64::MAX, true, false), Some((id(3, u64::MAX), true)));
        assert_eq!(p("1\0-junk"), Some(id(1, 0)));
        assert_eq!(p(&"1".repeat(128)), None);
        assert_eq!(&*id(12, 345).text(), b"12-345");
        assert_eq!(&*StreamId::MAX.text(), b"18446744073709551615-18446744073709551615");
    }

    #[test]
    fn listpack_sizes() {
        assert_eq!(lp_int(0), 2);
        assert_eq!(lp_int(127), 2);
        assert_eq!(lp_int(128), 3);
        assert_eq!(lp_int(-4096), 3);
        assert_eq!(lp_int(40000), 5);
        assert_eq!(lp_int(i64::MIN), 10);
        assert_eq!(lp_str(b"abc"), 5);
        assert_eq!(lp_str(b"12"), 2);
        assert_eq!(lp_str(b"012"), 5);
        assert_eq!(lp_str(&[b'x'; 63]), 65);
        assert_eq!(lp_str(&[b'x'; 64]), 67);
        assert_eq!(lp_str(&[b'x'; 126]), 130);
    }

    #[test]
    fn append_range_delete() {
        let mut log = Log::default();
        let lim = NodeLimits { max_bytes: 4096, max_entries: 3 };
        for i in 1..=10u64 {
            let v = i.to_string();
            let pairs: Vec<&[u8]> =
                if i % 2 == 0 { vec![b"a", v.as_bytes()] } else { vec![b"b", v.as_bytes(), b"c", b"x"] };
            log.append(id(i, i), &pairs, lim);
        }
        assert_eq!(log.len(), 10);
        assert_eq!(log.node_count(), 4);
        let ids: Vec<u64> = log.range(id(3, 0), id(8, 8), false).map(|e| e.id.ms).collect();
        assert_eq!(ids, [3, 4, 5, 6, 7, 8]);
        let ids: Vec<u64> = log.range(id(3, 4), id(8, 7), true).map(|e| e.id.ms).collect();
        assert_eq!(ids, [7, 6, 5, 4]);
        let e = log.get(id(5, 5)).unwrap();
        let f: Vec<(&[u8], &[u8])> = e.fields().collect();
        assert_eq!(f, [(&b"b"[..], &b"5"[..]), (&b"c"[..], &b"x"[..])]);
        assert!(log.delete(id(5, 5)));
        assert!(!log.delete(id(5, 5)));
        assert!(log.get(id(5, 5)).is_none());
        assert!(log.delete(id(4, 4)));
        assert!(log.delete(id(6, 6)));
        assert_eq!(log.node_count(), 3);
        assert_eq!(log.len(), 7);
        assert_eq!(log.last_live_id(), Some(id(10, 10)));
    }

    #[test]
    fn trimming_follows_nodes() {
        let mut log = Log::default();
        let lim = NodeLimits { max_bytes: 4096, max_entries: 10 };
        for i in 1..=35u64 {
            log.append(id(i, 0), &[b"f", b"v"], lim);
        }
        assert_eq!(log.trim(Trim::MaxLen(30), true, 0), 0);
        assert_eq!(log.trim(Trim::MaxLen(25), true, 0), 10);
        assert_eq!(log.first_id, id(11, 0));
        assert_eq!(log.trim(Trim::MaxLen(20), false, 0), 5);
        assert_eq!(log.first_id, id(16, 0));
        assert_eq!(log.trim(Trim::MinId(id(22, 0)), false, 0), 6);
        assert_eq!(log.len(), 14);
        assert_eq!(log.trim(Trim::MinId(id(40, 0)), true, 5), 0);
        assert_eq!(log.trim(Trim::MinId(id(40, 0)), true, 0), 14);
        assert_eq!(log.first_id, StreamId::MIN);
        assert_eq!(log.node_count(), 0);
    }

    #[test]
    fn rax_node_counts() {
        let mut log = Log::default();
        assert_eq!(log.rax_nodes(), 1);
        let lim = NodeLimits { max_bytes: 4096, max_entries: 1 };
        log.append(id(1, 1), &[b"a", b"b"], lim);
        assert_eq!(log.rax_nodes(), 2);
        log.append(id(1, 2), &[b"a", b"b"], lim);
        // A 15-byte prefix, a branch and two leaves.
        assert_eq!(log.rax_nodes(), 4);
        log.append(id(2, 0), &[b"a", b"b"], lim);
        assert_eq!(log.rax_nodes(), 8);
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Append after the last ID: ms step, seq, field count, value size,
        /// and whether to reuse the fields `a`, `b`... (the master fields).
        Add(u64, u64, usize, usize, bool),
        /// Delete the n-th live entry (modulo the length), or a missing ID.
        Del(usize, bool),
        /// Trim to this length, exactly or approximately, with a LIMIT.
        MaxLen(u64, bool, u64),
        /// Trim below the n-th live entry's ID (or past the end).
        MinId(usize, bool, u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u64..3, 0u64..3, 1usize..4, 0usize..700, any::<bool>())
                .prop_map(|(ms, seq, n, size, same)| Op::Add(ms, seq, n, size, same)),
            2 => (any::<usize>(), any::<bool>()).prop_map(|(n, miss)| Op::Del(n, miss)),
            1 => (0u64..40, any::<bool>(), 0u64..30).prop_map(|(n, a, l)| Op::MaxLen(n, a, l)),
            1 => (any::<usize>(), any::<bool>(), 0u64..30).prop_map(|(n, a, l)| Op::MinId(n, a, l)),
        ]
    }

    type Pairs = Vec<(Vec<u8>, Vec<u8>)>;
    type Model = BTreeMap<StreamId, Pairs>;

    fn collect(r: Range<'_>) -> Vec<(StreamId, Pairs)> {
        r.map(|e| (e.id, e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect())).collect()
    }

    /// An approximate or limited trim removes a prefix of what an exact one
    /// would, and only whole nodes when approximate.
    fn check_trim(
        log: &mut Log,
        model: &mut Model,
        trim: Trim,
        approx: bool,
        limit: u64,
    ) -> Result<(), TestCaseError> {
        let nodes_before: Vec<(StreamId, u32)> = log.nodes.iter().map(|(&m, n)| (m, n.live)).collect();
        let exact: Vec<StreamId> = match trim {
            Trim::MaxLen(max) => {
                model.keys().take(model.len().saturating_sub(max as usize)).copied().collect()
            }
            Trim::MinId(min) => model.range(..min).map(|(&id, _)| id).collect(),
        };
        let removed = log.trim(trim, approx, limit);
        prop_assert!(removed as usize <= exact.len());
        if !approx && limit == 0 {
            prop_assert_eq!(removed as usize, exact.len());
        }
        if limit > 0 {
            prop_assert!(removed <= limit);
        }
        for id in &exact[..removed as usize] {
            model.remove(id);
        }
        if approx {
            // Whole nodes from the head, nothing else.
            let gone: u64 =
                nodes_before.iter().take(nodes_before.len() - log.node_count()).map(|n| n.1 as u64).sum();
            prop_assert_eq!(gone, removed);
            prop_assert!(log
                .nodes
                .iter()
                .map(|(&m, n)| (m, n.live))
                .eq(nodes_before[nodes_before.len() - log.node_count()..].iter().copied()));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The log against a BTreeMap model, with node limits small enough
        /// (and values big enough) to cross node boundaries by count and by bytes.
        #[test]
        fn log_matches_a_model(
            max_entries in prop_oneof![Just(0usize), 1usize..6, Just(100)],
            max_bytes in prop_oneof![Just(0usize), 200usize..2000, Just(4096)],
            ops in proptest::collection::vec(op(), 1..120),
            bounds in proptest::collection::vec((any::<usize>(), any::<usize>(), 0u64..3), 4),
        ) {
            let lim = NodeLimits { max_bytes, max_entries };
            let mut log = Log::default();
            let mut model: Model = BTreeMap::new();
            let mut added = 0u64;
            let mut last = StreamId::MIN;
            for op in ops {
                let nth = |n: usize| -> Option<StreamId> {
                    (!model.is_empty()).then(|| *model.keys().nth(n % model.len()).unwrap())
                };
                match op {
                    Op::Add(ms, seq, n, size, same) => {
                        let id = StreamId::new(last.ms + ms, if ms == 0 { last.seq + 1 + seq } else { seq });
                        prop_assert_eq!(log.next_id(IdRequest::Exact(id), 0), Ok(id));
                        let fields: Vec<Vec<u8>> = (0..n)
                            .map(|i| if same { vec![b'a' + i as u8] } else { format!("f{}{}", added % 3, i).into_bytes() })
                            .collect();
                        let value = vec![b'x'; size];
                        let number = added.to_string().into_bytes();
                        let mut pairs: Vec<&[u8]> = Vec::new();
                        let mut entry = Vec::new();
                        for (i, f) in fields.iter().enumerate() {
                            let v: &[u8] = if i % 2 == 0 { &number } else { &value };
                            pairs.push(f);
                            pairs.push(v);
                            entry.push((f.clone(), v.to_vec()));
                        }
                        log.append(id, &pairs, lim);
                        model.insert(id, entry);
                        added += 1;
                        last = id;
                    }
                    Op::Del(n, miss) => {
                        let id = if miss { last.incr().unwrap() } else { nth(n).unwrap_or(StreamId::new(1, 1)) };
                        let there = model.remove(&id).is_some();
                        prop_assert_eq!(log.delete(id), there);
                        let gone = if there { vec![id] } else { Vec::new() };
                        log.note_deleted(&gone);
                    }
                    Op::MaxLen(max, approx, limit) => {
                        check_trim(&mut log, &mut model, Trim::MaxLen(max), approx, if approx { limit } else { 0 })?;
                    }
                    Op::MinId(n, approx, limit) => {
                        let min = if n % 5 == 0 { last.incr().unwrap() } else { nth(n).unwrap_or(StreamId::MIN) };
                        check_trim(&mut log, &mut model, Trim::MinId(min), approx, if approx { limit } else { 0 })?;
                    }
                }
                prop_assert_eq!(log.len(), model.len() as u64);
                prop_assert_eq!(log.entries_added, added);
                prop_assert_eq!(log.last_id, last);
                let first = model.keys().next().copied();
                prop_assert_eq!(log.first_id, first.unwrap_or(StreamId::MIN));
                prop_assert_eq!(log.first_live_id(), first);
                prop_assert_eq!(log.last_live_id(), model.keys().next_back().copied());
                for node in log.nodes.values() {
                    prop_assert!(max_entries == 0 || (node.live + node.deleted) as usize <= max_entries);
                }
                let want: Vec<_> = model.iter().map(|(&k, v)| (k, v.clone())).collect();
                prop_assert_eq!(collect(log.range(StreamId::MIN, StreamId::MAX, false)), want.clone());
                let mut rev = want;
                rev.reverse();
                prop_assert_eq!(collect(log.range(StreamId::MIN, StreamId::MAX, true)), rev);
            }
            // Ranges between arbitrary IDs around the live ones.
            let ids: Vec<StreamId> = model.keys().copied().collect();
            for &(a, b, shift) in &bounds {
                let pick = |n: usize| -> StreamId {
                    if ids.is_empty() {
                        return StreamId::new(n as u64 % 5, 0);
                    }
                    let id = ids[n % ids.len()];
                    match shift {
                        0 => id,
                        1 => id.incr().unwrap(),
                        _ => id.decr().unwrap_or(StreamId::MIN),
                    }
                };
                let (start, end) = (pick(a), pick(b));
                let want: Vec<_> = if start <= end {
                    model.range(start..=end).map(|(&k, v)| (k, v.clone())).collect()
                } else {
                    Vec::new()
                };
                prop_assert_eq!(collect(log.range(start, end, false)), want.clone());
                let mut rev = want;
                rev.reverse();
                prop_assert_eq!(collect(log.range(start, end, true)), rev);
                for id in [start, end] {
                    prop_assert_eq!(log.contains(id), model.contains_key(&id));
                }
            }
        }
    }
}
