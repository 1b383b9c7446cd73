//! The hash type.
//!
//! A small hash is one buffer of entries, field then value, in insertion
//! order (Redis's *listpack*, which OBJECT ENCODING reports): no per-field
//! allocation, no pointers, found by a linear walk that stays inside a few
//! cache lines. It converts to the general *hashtable* encoding ([`Dense`])
//! once it holds more than `hash-max-listpack-entries` fields or any field or
//! value longer than `hash-max-listpack-value` bytes, and never converts back.
//!
//! Each entry of the buffer starts with a tag byte:
//! - `0x00..=0x7F`: a string of that many bytes follows;
//! - `0x80..=0xBF`: the integer `tag - 0x80` (0 to 63), nothing follows;
//! - `0xC1..=0xC8`: an integer in `tag - 0xC0` little-endian two's complement bytes;
//! - `0xF0`: a string whose length follows as a LEB128 varint, then its bytes.
//!
//! Only canonical integers (Redis's `string2ll`: what a client reads back is
//! exactly what it wrote) are stored as integers, so `30` takes one byte and
//! a Unix time five, as in a listpack.

pub use crate::types::set::{Dense, Item, Keyed};

use crate::bytes::SmallBytes;
use crate::num;

/// Redis's `LISTPACK_MAX_SAFETY_SIZE`: a listpack never grows past 1 GiB.
const PACK_MAX_BYTES: usize = 1 << 30;

const TAG_SMALL_INT: u8 = 0x80;
const TAG_INT: u8 = 0xC0;
const TAG_LONG_STR: u8 = 0xF0;

/// Appends the encoding of one entry.
fn encode(v: &[u8], out: &mut Vec<u8>) {
    match num::parse_i64(v) {
        Some(n) if (0..64).contains(&n) => out.push(TAG_SMALL_INT + n as u8),
        Some(n) => {
            let bytes = int_width(n);
            out.push(TAG_INT + bytes as u8);
            out.extend_from_slice(&n.to_le_bytes()[..bytes]);
        }
        None if v.len() < 0x80 => {
            out.push(v.len() as u8);
            out.extend_from_slice(v);
        }
        None => {
            out.push(TAG_LONG_STR);
            let mut len = v.len() as u64;
            loop {
                let byte = (len & 0x7F) as u8;
                len >>= 7;
                if len == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
            out.extend_from_slice(v);
        }
    }
}

/// The encoded size of one entry.
fn encoded_len(v: &[u8]) -> usize {
    match num::parse_i64(v) {
        Some(n) if (0..64).contains(&n) => 1,
        Some(n) => 1 + int_width(n),
        None if v.len() < 0x80 => 1 + v.len(),
        None => 1 + varint_len(v.len() as u64) + v.len(),
    }
}

fn varint_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// The fewest bytes that hold `n` in two's complement.
fn int_width(n: i64) -> usize {
    (1..8)
        .find(|&b| {
            let bits = 8 * b as u32;
            let min = -(1i64 << (bits - 1));
            (min..-min).contains(&n)
        })
        .unwrap_or(8)
}

/// Decodes the entry at `p`: the element and where the next entry starts.
fn decode(buf: &[u8], p: usize) -> (Item<'_>, usize) {
    let tag = buf[p];
    match tag {
        0x00..=0x7F => {
            let end = p + 1 + tag as usize;
            (Item::Bytes(&buf[p + 1..end]), end)
        }
        0x80..=0xBF => (Item::Int((tag - TAG_SMALL_INT) as i64), p + 1),
        0xC1..=0xC8 => {
            let n = (tag - TAG_INT) as usize;
            let mut le = [0u8; 8];
            le[..n].copy_from_slice(&buf[p + 1..p + 1 + n]);
            // Sign-extend from the top byte stored.
            let shift = 64 - 8 * n as u32;
            let v = (i64::from_le_bytes(le) << shift) >> shift;
            (Item::Int(v), p + 1 + n)
        }
        _ => {
            let (mut len, mut shift, mut q) = (0u64, 0u32, p + 1);
            loop {
                let b = buf[q];
                q += 1;
                len |= ((b & 0x7F) as u64) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    break;
                }
            }
            let end = q + len as usize;
            (Item::Bytes(&buf[q..end]), end)
        }
    }
}

/// Replaces `range` of a packed buffer with `with`, reallocating it to its exact new size.
fn splice(buf: &mut Box<[u8]>, range: std::ops::Range<usize>, with: &[u8]) {
    let mut v = Vec::from(std::mem::take(buf));
    if with.len() > range.len() {
        v.reserve_exact(with.len() - range.len());
    }
    v.splice(range, with.iter().copied());
    *buf = v.into_boxed_slice();
}

/// A field the client named, with its integer reading precomputed for
/// comparisons against integer entries.
struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    fn new(bytes: &'a [u8]) -> Needle<'a> {
        Needle { bytes, int: num::parse_i64(bytes) }
    }
}

/// Where a field sits in a pack: the start of its entry, the start of its
/// value's entry, and the end of the value's entry.
struct Found {
    field: usize,
    value: usize,
    end: usize,
}

fn pack_find(buf: &[u8], field: &Needle<'_>) -> Option<Found> {
    let mut p = 0;
    while p < buf.len() {
        let (f, v) = decode(buf, p);
        let (_, end) = decode(buf, v);
        if f.eq_arg(field.bytes, field.int) {
            return Some(Found { field: p, value: v, end });
        }
        p = end;
    }
    None
}

/// One field of a hash in the hashtable encoding.
#[derive(Clone, Debug)]
pub struct Pair {
    pub field: SmallBytes,
    pub value: SmallBytes,
}

impl Keyed for Pair {
    fn key(&self) -> &[u8] {
        &self.field
    }
}

/// Iterates the (field, value) pairs of a pack.
pub struct PackIter<'a> {
    buf: &'a [u8],
    p: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (Item<'a>, Item<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.p >= self.buf.len() {
            return None;
        }
        let (f, v) = decode(self.buf, self.p);
        let (v, end) = decode(self.buf, v);
        self.p = end;
        Some((f, v))
    }
}

/// The size limits of the compact encoding, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `hash-max-listpack-entries`.
    pub entries: usize,
    /// `hash-max-listpack-value`.
    pub value: usize,
}

/// A Redis hash.
#[derive(Clone)]
pub struct Hash {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// The compact encoding: `len` pairs in `buf`.
    Pack {
        buf: Box<[u8]>,
        len: u32,
    },
    Table(Box<Dense<Pair>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash { repr: Repr::Pack { buf: Box::default(), len: 0 } }
    }
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Pack { .. } => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes owned, for memory accounting (the box holding
    /// the hash included).
    pub fn heap_size(&self) -> usize {
        std::mem::size_of::<Hash>()
            + match &self.repr {
                Repr::Pack { buf, .. } => buf.len(),
                Repr::Table(t) => {
                    std::mem::size_of::<Dense<Pair>>()
                        + t.heap_size()
                        + t.entries().iter().map(|p| p.field.heap_size() + p.value.heap_size()).sum::<usize>()
                }
            }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack { len, .. } => *len as usize,
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<Item<'_>> {
        match &self.repr {
            Repr::Pack { buf, .. } => {
                let found = pack_find(buf, &Needle::new(field))?;
                Some(decode(buf, found.value).0)
            }
            Repr::Table(t) => t.find(field).map(|i| Item::Bytes(&t.at(i).value)),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.repr {
            Repr::Pack { buf, .. } => pack_find(buf, &Needle::new(field)).is_some(),
            Repr::Table(t) => t.find(field).is_some(),
        }
    }

    /// Converts a compact hash before a write when any of `args` (the fields
    /// and values about to be written) is too long for it, or when they could
    /// push the buffer past its safety size: Redis's `hashTypeTryConversion`,
    /// which looks at every argument first, so a long value converts the hash
    /// even when its field turns out to be a duplicate.
    pub fn prepare(&mut self, args: &[&[u8]], limits: Limits) {
        let Repr::Pack { buf, .. } = &self.repr else {
            return;
        };
        let mut sum = 0usize;
        for a in args {
            if a.len() > limits.value {
                self.convert();
                return;
            }
            sum = sum.saturating_add(a.len());
        }
        if buf.len().saturating_add(sum) > PACK_MAX_BYTES {
            self.convert();
        }
    }

    /// Sets a field; returns true when the field is new. A compact hash
    /// converts first when the field or value is too long, and after the
    /// insertion when it holds too many fields.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if let Repr::Pack { .. } = self.repr {
            if field.len() > limits.value || value.len() > limits.value {
                self.convert();
            }
        }
        match &mut self.repr {
            Repr::Pack { buf, len } => {
                let inserted = match pack_find(buf, &Needle::new(field)) {
                    Some(found) => {
                        let mut enc = Vec::with_capacity(encoded_len(value));
                        encode(value, &mut enc);
                        splice(buf, found.value..found.end, &enc);
                        false
                    }
                    None => {
                        let mut v = Vec::from(std::mem::take(buf));
                        v.reserve_exact(encoded_len(field) + encoded_len(value));
                        encode(field, &mut v);
                        encode(value, &mut v);
                        *buf = v.into_boxed_slice();
                        *len += 1;
                        true
                    }
                };
                if *len as usize > limits.entries {
                    self.convert();
                }
                inserted
            }
            Repr::Table(t) => match t.find(field) {
                Some(i) => {
                    t.at_mut(i).value = SmallBytes::new(value);
                    false
                }
                None => {
                    t.insert_new(Pair { field: SmallBytes::new(field), value: SmallBytes::new(value) });
                    true
                }
            },
        }
    }

    /// Removes a field; false when it was not there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack { buf, len } => match pack_find(buf, &Needle::new(field)) {
                Some(found) => {
                    splice(buf, found.field..found.end, &[]);
                    *len -= 1;
                    true
                }
                None => false,
            },
            Repr::Table(t) => t.remove(field).is_some(),
        }
    }

    fn convert(&mut self) {
        if let Repr::Pack { buf, len } = &self.repr {
            let mut t = Dense::with_capacity(*len as usize + 1);
            let mut sf = itoa::Buffer::new();
            let mut sv = itoa::Buffer::new();
            for (f, v) in (PackIter { buf, p: 0 }) {
                let field = SmallBytes::new(f.bytes(&mut sf));
                t.insert_new(Pair { field, value: SmallBytes::new(v.bytes(&mut sv)) });
            }
            self.repr = Repr::Table(Box::new(t));
        }
    }

    /// The pairs in iteration order: insertion order for the compact
    /// encoding, the table's order otherwise.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Pack { buf, .. } => Iter::Pack(PackIter { buf, p: 0 }),
            Repr::Table(t) => Iter::Table(t.entries().iter()),
        }
    }

    /// Random access to the pairs: O(1) for a table; a compact hash is
    /// walked once to collect them.
    pub fn pairs(&self) -> Pairs<'_> {
        match &self.repr {
            Repr::Pack { buf, .. } => Pairs::Pack(PackIter { buf, p: 0 }.collect()),
            Repr::Table(t) => Pairs::Table(t.entries()),
        }
    }

    /// One HSCAN step. A compact hash returns everything at once with
    /// cursor 0 (as Redis does); a table walks positions (`count` fields per call).
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(Item<'a>, Item<'a>)) -> u64 {
        match &self.repr {
            Repr::Pack { buf, .. } => {
                for (k, v) in (PackIter { buf, p: 0 }) {
                    f(k, v);
                }
                0
            }
            Repr::Table(t) => t.scan(cursor, count, |p| f(Item::Bytes(&p.field), Item::Bytes(&p.value))),
        }
    }
}

/// Iterates the pairs of a hash.
pub enum Iter<'a> {
    Pack(PackIter<'a>),
    Table(std::slice::Iter<'a, Pair>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (Item<'a>, Item<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Pack(p) => p.next(),
            Iter::Table(t) => t.next().map(|p| (Item::Bytes(&p.field), Item::Bytes(&p.value))),
        }
    }
}

/// The pairs of a hash, indexable.
pub enum Pairs<'a> {
    Pack(Vec<(Item<'a>, Item<'a>)>),
    Table(&'a [Pair]),
}

impl<'a> Pairs<'a> {
    pub fn len(&self) -> usize {
        match self {
            Pairs::Pack(v) => v.len(),
            Pairs::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn at(&self, i: usize) -> (Item<'a>, Item<'a>) {
        match self {
            Pairs::Pack(v) => v[i],
            Pairs::Table(t) => (Item::Bytes(&t[i].field), Item::Bytes(&t[i].value)),
        }
    }
}

impl PartialEq for Hash {
    /// The same fields with the same values, whatever the encoding or order.
    fn eq(&self, other: &Hash) -> bool {
        let mut s = itoa::Buffer::new();
        self.len() == other.len()
            && self.iter().all(|(f, v)| other.get(f.bytes(&mut s)).is_some_and(|w| w.to_vec() == v.to_vec()))
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({}) ", self.encoding())?;
        let text = |i: Item<'_>| String::from_utf8_lossy(&i.to_vec()).into_owned();
        f.debug_map().entries(self.iter().map(|(k, v)| (text(k), text(v)))).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    const LIMITS: Limits = Limits { entries: 512, value: 64 };

    #[test]
    fn handles_stay_small() {
        assert_eq!(std::mem::size_of::<Hash>(), 24);
    }

    #[test]
    fn entries_round_trip() {
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"0".to_vec(),
            b"63".to_vec(),
            b"64".to_vec(),
            b"-1".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-129".to_vec(),
            b"1700000000".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"-0".to_vec(),
            b"007".to_vec(),
            b"field".to_vec(),
            vec![b'x'; 127],
            vec![b'y'; 128],
            vec![b'z'; 20000],
        ];
        for c in cases {
            let mut buf = Vec::new();
            encode(&c, &mut buf);
            assert_eq!(buf.len(), encoded_len(&c), "{:?}", String::from_utf8_lossy(&c));
            let (item, end) = decode(&buf, 0);
            assert_eq!(end, buf.len());
            assert_eq!(item.to_vec(), c);
        }
        let mut buf = Vec::new();
        encode(b"30", &mut buf);
        assert_eq!(buf.len(), 1);
        buf.clear();
        encode(b"1700000000", &mut buf);
        assert_eq!(buf.len(), 5);
    }

    #[test]
    fn pack_keeps_insertion_order_and_updates_in_place() {
        let mut h = Hash::new();
        assert!(h.set(b"a", b"1", LIMITS));
        assert!(h.set(b"b", b"two", LIMITS));
        assert!(h.set(b"c", b"-3", LIMITS));
        assert!(!h.set(b"a", b"uno", LIMITS));
        let got: Vec<(Vec<u8>, Vec<u8>)> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(
            got,
            [
                (b"a".to_vec(), b"uno".to_vec()),
                (b"b".to_vec(), b"two".to_vec()),
                (b"c".to_vec(), b"-3".to_vec())
            ]
        );
        assert!(h.remove(b"b") && !h.remove(b"b"));
        assert_eq!(h.len(), 2);
        assert_eq!(h.get(b"c"), Some(Item::Int(-3)));
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn conversions_follow_redis() {
        let lim = Limits { entries: 2, value: 4 };
        let mut h = Hash::new();
        h.set(b"a", b"1", lim);
        h.set(b"b", b"1234", lim);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"c", b"1", lim);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 3);
        let mut h = Hash::new();
        h.set(b"a", b"12345", lim);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.set(b"a", b"1", lim);
        h.prepare(&[b"a", b"1", b"b", b"toolong"], lim);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(Item::Bytes(b"1")));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Set(String, String),
        Del(String),
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            (-300i64..300).prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            Just("-0".to_string()),
            Just("".to_string()),
            "[a-c]{1,3}",
            "[a-z]{0,10}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// The hash against a HashMap model, across the listpack/hashtable boundary.
        #[test]
        fn hash_matches_a_model(
            entries in 0usize..12,
            value in 0usize..8,
            ops in proptest::collection::vec(prop_oneof![
                (text(), text()).prop_map(|(f, v)| Op::Set(f, v)),
                text().prop_map(Op::Del),
            ], 1..100),
        ) {
            let lim = Limits { entries, value };
            let mut h = Hash::new();
            let mut model: HashMap<String, String> = HashMap::new();
            let mut order: Vec<String> = Vec::new();
            let mut was_table = false;
            for op in ops {
                match op {
                    Op::Set(f, v) => {
                        h.prepare(&[f.as_bytes(), v.as_bytes()], lim);
                        let new = h.set(f.as_bytes(), v.as_bytes(), lim);
                        prop_assert_eq!(new, model.insert(f.clone(), v).is_none());
                        if new {
                            order.push(f);
                        }
                    }
                    Op::Del(f) => {
                        prop_assert_eq!(h.remove(f.as_bytes()), model.remove(&f).is_some());
                        order.retain(|x| *x != f);
                    }
                }
                prop_assert_eq!(h.len(), model.len());
                if h.encoding() == "hashtable" {
                    was_table = true;
                } else {
                    prop_assert!(!was_table);
                    prop_assert!(model.len() <= entries);
                    prop_assert!(model.iter().all(|(f, v)| f.len() <= value && v.len() <= value));
                    // The compact encoding keeps insertion order.
                    let fields: Vec<String> =
                        h.iter().map(|(f, _)| String::from_utf8(f.to_vec()).unwrap()).collect();
                    prop_assert_eq!(&fields, &order);
                }
                for (f, v) in &model {
                    prop_assert_eq!(h.get(f.as_bytes()).map(|i| i.to_vec()), Some(v.clone().into_bytes()));
                }
                let pairs = h.pairs();
                prop_assert_eq!(pairs.len(), model.len());
            }
        }
    }
}
