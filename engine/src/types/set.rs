//! The set type, and the pieces it shares with the hash type.
//!
//! A set of canonical 64-bit integers stays an *intset* (Redis's name, which
//! OBJECT ENCODING reports): one sorted buffer of fixed-width little-endian
//! integers, the width the smallest of 2, 4 or 8 bytes that holds every
//! member, found by binary search. The first member that is not a canonical
//! integer, or one member past `set-max-intset-entries`, converts the set to a
//! *hashtable*, and it never converts back (Redis 7.0 has no listpack sets).
//!
//! The hashtable encoding of sets and hashes is [`Dense`]: the elements in a
//! dense vector, found through a hashbrown index of positions, as the
//! keyspace's own slot tables are (see `crate::table`). Deletion moves the last
//! element into the hole, so a cursor that walks positions from the end
//! towards zero returns every element that stayed for the whole walk at least
//! once (Redis's SSCAN/HSCAN guarantee), and a uniformly random element is one
//! index away.

use crate::bytes::SmallBytes;
use crate::keyspace::Rng;
use crate::num;
use crate::reply::Reply;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Redis caps the intset size at 2^30 members, whatever the configuration says.
const INTSET_HARD_MAX: usize = 1 << 30;

/// One element of a set or one field or value of a hash, as stored: compact
/// encodings keep canonical integers as numbers, so an element is either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl<'a> Item<'a> {
    /// The bytes a client sees; integers are rendered into `scratch`.
    pub fn bytes<'s>(&self, scratch: &'s mut itoa::Buffer) -> &'s [u8]
    where
        'a: 's,
    {
        match *self {
            Item::Bytes(b) => b,
            Item::Int(n) => scratch.format(n).as_bytes(),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes(&mut itoa::Buffer::new()).to_vec()
    }

    /// The length of the client-visible bytes.
    pub fn len(&self) -> usize {
        match *self {
            Item::Bytes(b) => b.len(),
            Item::Int(n) => itoa::Buffer::new().format(n).len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the element as a bulk string.
    pub fn reply(&self, out: &mut Reply<'_>) {
        match *self {
            Item::Bytes(b) => out.bulk(b),
            Item::Int(n) => out.bulk_int(n),
        }
    }

    /// Whether the element equals the client's bytes `b` (whose integer value, if
    /// canonical, is `int`).
    pub fn eq_arg(&self, b: &[u8], int: Option<i64>) -> bool {
        match *self {
            Item::Bytes(x) => x == b,
            Item::Int(n) => int == Some(n),
        }
    }

    /// Whether the element matches a glob pattern (SSCAN/HSCAN MATCH).
    pub fn matches(&self, pattern: &[u8]) -> bool {
        let mut scratch = itoa::Buffer::new();
        crate::glob::matches(pattern, self.bytes(&mut scratch), false)
    }
}

/// An element of a [`Dense`] table: anything with a byte-string key.
pub trait Keyed {
    fn key(&self) -> &[u8];
}

impl Keyed for SmallBytes {
    fn key(&self) -> &[u8] {
        self
    }
}

/// The general ("hashtable") encoding of sets and hashes: elements in a
/// dense vector, indexed by a hash table of their positions.
#[derive(Clone)]
pub struct Dense<E> {
    entries: Vec<E>,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl<E: Keyed> Default for Dense<E> {
    fn default() -> Self {
        Dense::with_capacity(0)
    }
}

impl<E: Keyed> Dense<E> {
    pub fn with_capacity(n: usize) -> Dense<E> {
        Dense {
            entries: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The position of the element with this key.
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index.find(self.hasher.hash_one(key), |&i| entries[i as usize].key() == key).map(|&i| i as usize)
    }

    pub fn at(&self, i: usize) -> &E {
        &self.entries[i]
    }

    pub fn at_mut(&mut self, i: usize) -> &mut E {
        &mut self.entries[i]
    }

    pub fn entries(&self) -> &[E] {
        &self.entries
    }

    /// Adds an element whose key is not in the table. Returns its position.
    pub fn insert_new(&mut self, e: E) -> usize {
        debug_assert!(self.find(e.key()).is_none());
        let i = self.entries.len();
        let hash = self.hasher.hash_one(e.key());
        self.entries.push(e);
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.insert_unique(hash, i as u32, |&j| hasher.hash_one(entries[j as usize].key()));
        i
    }

    /// Removes the element at `i`, moving the last element into its place.
    pub fn remove_at(&mut self, i: usize) -> E {
        let hash = self.hasher.hash_one(self.entries[i].key());
        if let Ok(slot) = self.index.find_entry(hash, |&j| j as usize == i) {
            slot.remove();
        }
        let last = self.entries.len() - 1;
        if i != last {
            let moved = self.hasher.hash_one(self.entries[last].key());
            if let Some(p) = self.index.find_mut(moved, |&j| j as usize == last) {
                *p = i as u32;
            }
        }
        let e = self.entries.swap_remove(i);
        self.shrink();
        e
    }

    /// Removes the element with this key.
    pub fn remove(&mut self, key: &[u8]) -> Option<E> {
        let i = self.find(key)?;
        Some(self.remove_at(i))
    }

    /// Gives memory back after mass deletion, as Redis's dict resizes.
    fn shrink(&mut self) {
        if self.entries.capacity() > 16 && self.entries.len() < self.entries.capacity() / 4 {
            self.entries.shrink_to(self.entries.len() * 2);
            let (entries, hasher) = (&self.entries, &self.hasher);
            self.index.shrink_to(entries.len(), |&j| hasher.hash_one(entries[j as usize].key()));
        }
    }

    /// The position of a uniformly random element (the table must not be empty).
    pub fn random(&self, rng: &mut Rng) -> usize {
        rng.below(self.entries.len() as u64) as usize
    }

    /// One step of a cursor walk: visits up to `count` positions below
    /// `cursor` (0 = start from the end) and returns the next cursor, 0 when
    /// the walk is complete. A position is the cursor itself, so a cursor
    /// larger than the table (after deletions) simply resumes at its end.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a E)) -> u64 {
        let len = self.entries.len();
        let mut pos = if cursor == 0 { len } else { (cursor.min(len as u64)) as usize };
        let mut visited = 0;
        while pos > 0 && visited < count {
            pos -= 1;
            visited += 1;
            f(&self.entries[pos]);
        }
        pos as u64
    }

    /// Heap bytes owned by the table itself (not by its elements' own buffers).
    pub fn heap_size(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<E>() + self.index.capacity() * (4 + 1)
    }
}

/// The integer width of an intset, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Width {
    W2 = 2,
    W4 = 4,
    W8 = 8,
}

impl Width {
    fn of(v: i64) -> Width {
        if i16::try_from(v).is_ok() {
            Width::W2
        } else if i32::try_from(v).is_ok() {
            Width::W4
        } else {
            Width::W8
        }
    }
}

/// A sorted set of integers in one buffer, each `width` bytes, little-endian.
#[derive(Clone, PartialEq, Eq)]
pub struct IntSet {
    data: Box<[u8]>,
    width: Width,
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet { data: Box::default(), width: Width::W2 }
    }
}

impl IntSet {
    pub fn len(&self) -> usize {
        self.data.len() / self.width as usize
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The `i`-th smallest member.
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width as usize;
        read_int(&self.data[i * w..(i + 1) * w])
    }

    /// Binary search: `Ok(position)` of `v`, or `Err(insertion point)`.
    fn search(&self, v: i64) -> Result<usize, usize> {
        if Width::of(v) > self.width {
            // Out of the range of every member.
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Adds `v`; false when it was already there. Widens every member when
    /// `v` needs more bytes (never narrows back, as Redis).
    pub fn insert(&mut self, v: i64) -> bool {
        let Err(at) = self.search(v) else {
            return false;
        };
        let width = self.width.max(Width::of(v));
        let w = width as usize;
        let mut out = Vec::with_capacity((self.len() + 1) * w);
        let push = |out: &mut Vec<u8>, x: i64| out.extend_from_slice(&x.to_le_bytes()[..w]);
        if width == self.width {
            out.extend_from_slice(&self.data[..at * w]);
            push(&mut out, v);
            out.extend_from_slice(&self.data[at * w..]);
        } else {
            for i in 0..at {
                push(&mut out, self.get(i));
            }
            push(&mut out, v);
            for i in at..self.len() {
                push(&mut out, self.get(i));
            }
        }
        self.data = out.into_boxed_slice();
        self.width = width;
        true
    }

    pub fn remove(&mut self, v: i64) -> bool {
        let Ok(at) = self.search(v) else {
            return false;
        };
        let w = self.width as usize;
        let mut out = Vec::with_capacity(self.data.len() - w);
        out.extend_from_slice(&self.data[..at * w]);
        out.extend_from_slice(&self.data[(at + 1) * w..]);
        self.data = out.into_boxed_slice();
        true
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    pub fn heap_size(&self) -> usize {
        self.data.len()
    }
}

fn read_int(b: &[u8]) -> i64 {
    match b.len() {
        2 => i16::from_le_bytes([b[0], b[1]]) as i64,
        4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
        _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
    }
}

/// A Redis set.
#[derive(Clone, Default)]
pub struct Set {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Ints(IntSet),
    Table(Box<Dense<SmallBytes>>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Ints(IntSet::default())
    }
}

impl Set {
    /// An empty set (an intset until a member says otherwise).
    pub fn new() -> Set {
        Set::default()
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes owned, for memory accounting (the box holding
    /// the set included).
    pub fn heap_size(&self) -> usize {
        std::mem::size_of::<Set>()
            + match &self.repr {
                Repr::Ints(s) => s.heap_size(),
                Repr::Table(t) => {
                    std::mem::size_of::<Dense<SmallBytes>>()
                        + t.heap_size()
                        + t.entries().iter().map(|m| m.heap_size()).sum::<usize>()
                }
            }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(s) => s.len(),
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(s) => num::parse_i64(member).is_some_and(|v| s.contains(v)),
            Repr::Table(t) => t.find(member).is_some(),
        }
    }

    /// Membership of an element of another set.
    pub fn contains_item(&self, item: Item<'_>) -> bool {
        match (&self.repr, item) {
            (Repr::Ints(s), Item::Int(v)) => s.contains(v),
            (Repr::Ints(s), Item::Bytes(b)) => num::parse_i64(b).is_some_and(|v| s.contains(v)),
            (Repr::Table(t), item) => t.find(item.bytes(&mut itoa::Buffer::new())).is_some(),
        }
    }

    /// Adds a member; false when it was already there. `max_intset` is
    /// `set-max-intset-entries`: an intset converts past it, or on the first
    /// member that is not a canonical integer.
    pub fn insert(&mut self, member: &[u8], max_intset: usize) -> bool {
        if let Repr::Ints(s) = &mut self.repr {
            match num::parse_i64(member) {
                Some(v) => {
                    if !s.insert(v) {
                        return false;
                    }
                    if s.len() > max_intset.min(INTSET_HARD_MAX) {
                        self.convert();
                    }
                    return true;
                }
                None => self.convert(),
            }
        }
        let Repr::Table(t) = &mut self.repr else { unreachable!("converted above") };
        if t.find(member).is_some() {
            return false;
        }
        t.insert_new(SmallBytes::new(member));
        true
    }

    /// Adds an element of another set (see [`Set::insert`]).
    pub fn insert_item(&mut self, item: Item<'_>, max_intset: usize) -> bool {
        match (&mut self.repr, item) {
            (Repr::Ints(s), Item::Int(v)) => {
                if !s.insert(v) {
                    return false;
                }
                if s.len() > max_intset.min(INTSET_HARD_MAX) {
                    self.convert();
                }
                true
            }
            _ => self.insert(item.bytes(&mut itoa::Buffer::new()), max_intset),
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(s) => num::parse_i64(member).is_some_and(|v| s.remove(v)),
            Repr::Table(t) => t.remove(member).is_some(),
        }
    }

    pub fn remove_item(&mut self, item: Item<'_>) -> bool {
        match (&mut self.repr, item) {
            (Repr::Ints(s), Item::Int(v)) => s.remove(v),
            _ => self.remove(item.bytes(&mut itoa::Buffer::new())),
        }
    }

    fn convert(&mut self) {
        if let Repr::Ints(s) = &self.repr {
            let mut t = Dense::with_capacity(s.len() + 1);
            let mut scratch = itoa::Buffer::new();
            for v in s.iter() {
                t.insert_new(SmallBytes::new(scratch.format(v).as_bytes()));
            }
            self.repr = Repr::Table(Box::new(t));
        }
    }

    /// The `i`-th member in iteration order (ascending for an intset).
    pub fn at(&self, i: usize) -> Item<'_> {
        match &self.repr {
            Repr::Ints(s) => Item::Int(s.get(i)),
            Repr::Table(t) => Item::Bytes(t.at(i)),
        }
    }

    /// A uniformly random member (the set must not be empty).
    pub fn random(&self, rng: &mut Rng) -> Item<'_> {
        self.at(rng.below(self.len() as u64) as usize)
    }

    /// The members in iteration order: ascending for an intset, the table's
    /// order otherwise.
    pub fn iter(&self) -> impl Iterator<Item = Item<'_>> + '_ {
        (0..self.len()).map(move |i| self.at(i))
    }

    /// One SSCAN step. An intset returns everything at once with cursor 0
    /// (as Redis does for its compact encodings); a table walks positions.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(Item<'a>)) -> u64 {
        match &self.repr {
            Repr::Ints(s) => {
                s.iter().for_each(|v| f(Item::Int(v)));
                0
            }
            Repr::Table(t) => t.scan(cursor, count, |m| f(Item::Bytes(m))),
        }
    }
}

impl PartialEq for Set {
    /// Equal members, whatever the encoding or order.
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains_item(m))
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Set({}) ", self.encoding())?;
        f.debug_set().entries(self.iter().map(|m| String::from_utf8_lossy(&m.to_vec()).into_owned())).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn handles_stay_small() {
        assert_eq!(std::mem::size_of::<Set>(), 24);
        assert_eq!(std::mem::size_of::<Item<'_>>(), 16);
    }

    #[test]
    fn intset_widens_and_stays_sorted() {
        let mut s = IntSet::default();
        for v in [5, -3, 1000, 0] {
            assert!(s.insert(v));
        }
        assert_eq!(s.width, Width::W2);
        assert!(!s.insert(5));
        assert!(s.insert(70000));
        assert_eq!(s.width, Width::W4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width, Width::W8);
        assert_eq!(s.iter().collect::<Vec<_>>(), [i64::MIN, -3, 0, 5, 1000, 70000]);
        assert!(s.contains(70000) && !s.contains(70001) && !s.contains(i64::MAX));
        assert!(s.remove(-3) && !s.remove(-3));
        assert_eq!(s.iter().collect::<Vec<_>>(), [i64::MIN, 0, 5, 1000, 70000]);
        assert_eq!(s.width, Width::W8);
    }

    #[test]
    fn encodings_follow_redis() {
        let mut s = Set::new();
        for m in ["1", "2", "-9223372036854775808", "9223372036854775807"] {
            assert!(s.insert(m.as_bytes(), 512));
        }
        assert_eq!(s.encoding(), "intset");
        assert!(s.insert(b"-0", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"-0") && s.contains(b"9223372036854775807") && !s.contains(b"3"));
        let mut s = Set::new();
        for i in 0..3 {
            s.insert(i.to_string().as_bytes(), 3);
        }
        assert_eq!(s.encoding(), "intset");
        s.insert(b"3", 3);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn dense_scan_sees_everything_without_changes() {
        let mut t: Dense<SmallBytes> = Dense::default();
        for i in 0..100 {
            t.insert_new(SmallBytes::new(i.to_string().as_bytes()));
        }
        let (mut seen, mut cursor) = (BTreeSet::new(), 0);
        loop {
            cursor = t.scan(cursor, 7, |m| assert!(seen.insert(m.to_vec())));
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 100);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add(String),
        Rem(String),
    }

    fn member() -> impl Strategy<Value = String> {
        prop_oneof![
            (-40i64..40).prop_map(|n| n.to_string()),
            Just("-0".to_string()),
            Just("007".to_string()),
            (0u8..6).prop_map(|c| format!("m{c}")),
            any::<i64>().prop_map(|n| n.to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// The set against a BTreeSet model, across the intset/hashtable boundary.
        #[test]
        fn set_matches_a_model(
            max in 0usize..20,
            ops in proptest::collection::vec(prop_oneof![
                member().prop_map(Op::Add),
                member().prop_map(Op::Rem),
            ], 1..120),
        ) {
            let mut s = Set::new();
            let mut model = BTreeSet::new();
            let mut was_table = false;
            for op in ops {
                match op {
                    Op::Add(m) => prop_assert_eq!(s.insert(m.as_bytes(), max), model.insert(m.clone())),
                    Op::Rem(m) => prop_assert_eq!(s.remove(m.as_bytes()), model.remove(&m)),
                }
                prop_assert_eq!(s.len(), model.len());
                let all_ints = model.iter().all(|m| num::parse_i64(m.as_bytes()).is_some());
                if s.encoding() == "hashtable" {
                    was_table = true;
                } else {
                    prop_assert!(!was_table, "a hashtable never goes back to an intset");
                    prop_assert!(all_ints && model.len() <= max);
                }
                let got: BTreeSet<String> =
                    s.iter().map(|m| String::from_utf8(m.to_vec()).unwrap()).collect();
                prop_assert_eq!(&got, &model);
                if s.encoding() == "intset" {
                    let ints: Vec<i64> = s.iter().map(|m| match m { Item::Int(v) => v, _ => unreachable!() }).collect();
                    prop_assert!(ints.windows(2).all(|w| w[0] < w[1]));
                }
            }
        }

        /// A cursor walk of a table returns every member present for the
        /// whole walk, whatever is added and removed between its steps.
        #[test]
        fn dense_scan_guarantee(
            initial in proptest::collection::btree_set(0u16..300, 0..150),
            steps in proptest::collection::vec(
                (1usize..8, proptest::collection::vec((any::<bool>(), 0u16..300), 0..6)), 1..80),
        ) {
            let mut t: Dense<SmallBytes> = Dense::default();
            let mut present = BTreeSet::new();
            for k in &initial {
                t.insert_new(SmallBytes::new(k.to_string().as_bytes()));
                present.insert(*k);
            }
            let mut stayed = present.clone();
            let mut seen = BTreeSet::new();
            let mut cursor = 0;
            for (count, changes) in steps {
                cursor = t.scan(cursor, count, |m| {
                    seen.insert(std::str::from_utf8(m).unwrap().parse::<u16>().unwrap());
                });
                for (add, k) in changes {
                    let key = k.to_string();
                    if add {
                        if t.find(key.as_bytes()).is_none() {
                            t.insert_new(SmallBytes::new(key.as_bytes()));
                        }
                        present.insert(k);
                    } else {
                        t.remove(key.as_bytes());
                        present.remove(&k);
                        stayed.remove(&k);
                    }
                }
                if cursor == 0 {
                    for k in &stayed {
                        prop_assert!(seen.contains(k), "{} stayed but was not returned", k);
                    }
                    return Ok(());
                }
            }
            prop_assert_eq!(t.len(), present.len());
        }
    }
}
