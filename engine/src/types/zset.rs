//! The sorted set: members with a double score, ordered by (score, member).
//!
//! Two encodings, as in Redis. A small set is one compact byte buffer (what
//! OBJECT ENCODING calls `listpack`): the entries one after the other in
//! order, each a varint header (member length and whether the score is a
//! small integer), the member bytes, then the score as a zigzag varint or the
//! eight bytes of the double. Ten short members with integer scores take
//! about a hundred bytes in one allocation. Every operation on it is a scan,
//! which at the sizes it is kept to (`zset-max-listpack-entries`, 128 by
//! default) is faster than following pointers.
//!
//! Past the thresholds the set becomes a skiplist (`skiplist`), Redis's
//! structure: nodes in an arena (indexes instead of pointers), each level
//! link carrying its span so that a rank or the node at a rank is found in
//! O(log n), and a hash index from member to node for O(1) score lookup.
//! A node keeps its arena slot for as long as its member stays in the set
//! (a score update relinks it in place), which is what lets ZSCAN walk the
//! arena with a cursor. Conversion only goes one way, as in Redis.
//!
//! Ranks are 0-based and ascending throughout; scores are never NaN (the
//! commands refuse them), and compare with `<` so that `-0` equals `0`.

use hashbrown::HashTable;
use std::cmp::Ordering;
use std::hash::BuildHasher;

/// The encoding thresholds (Redis's `zset-max-listpack-entries/value`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Limits {
    /// Whether a set of `len` members, the longest `max_member` bytes long,
    /// stays compact.
    pub fn fits(&self, len: usize, max_member: usize) -> bool {
        len <= self.entries && max_member <= self.value
    }
}

/// The order of a sorted set: by score, then by member bytes.
#[inline]
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

/// A Redis sorted set.
#[derive(Clone, Default)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Pack(Pack),
    Skip(Box<SkipList>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Pack(Pack::default())
    }
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    /// Builds a set from distinct members in any order, in the encoding
    /// Redis gives a stored result (ZUNIONSTORE, ZRANGESTORE, GEOSEARCHSTORE...):
    /// compact when every member fits.
    pub fn from_entries(mut entries: Vec<(Vec<u8>, f64)>, lim: Limits) -> ZSet {
        entries.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
        let longest = entries.iter().map(|e| e.0.len()).max().unwrap_or(0);
        if lim.fits(entries.len(), longest) {
            let mut buf =
                Vec::with_capacity(PACK_HEADER + entries.iter().map(|e| e.0.len() + 3).sum::<usize>());
            buf.extend_from_slice(&(entries.len() as u32).to_le_bytes());
            for (m, s) in &entries {
                encode_entry(&mut buf, m, *s);
            }
            ZSet { repr: Repr::Pack(Pack { buf: buf.into_boxed_slice() }) }
        } else {
            let mut list = SkipList::new();
            for (m, s) in entries {
                list.insert(m.into_boxed_slice(), s);
            }
            ZSet { repr: Repr::Skip(Box::new(list)) }
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Skip(_) => "skiplist",
        }
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.buf.len(),
            Repr::Skip(s) => std::mem::size_of::<SkipList>() + s.heap_size(),
        }
    }

    /// Whether the set is in the compact encoding.
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Pack(_))
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len(),
            Repr::Skip(s) => s.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|(_, e)| e.score),
            Repr::Skip(s) => s.find(member).map(|id| s.nodes[id as usize].score),
        }
    }

    /// The 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|(i, _)| i),
            Repr::Skip(s) => s.find(member).map(|id| s.rank_of(id) - 1),
        }
    }

    /// Adds a member that is not in the set, converting to a skiplist first
    /// when the set would outgrow its compact encoding.
    pub fn insert(&mut self, member: &[u8], score: f64, lim: Limits) {
        if let Repr::Pack(p) = &self.repr {
            if p.len() + 1 > lim.entries || member.len() > lim.value {
                self.convert();
            }
        }
        match &mut self.repr {
            Repr::Pack(p) => p.insert(member, score),
            Repr::Skip(s) => {
                s.insert(member.into(), score);
            }
        }
    }

    /// Changes the score of a member that is in the set.
    pub fn update(&mut self, member: &[u8], score: f64) {
        match &mut self.repr {
            Repr::Pack(p) => {
                if let Some((_, e)) = p.find(member) {
                    p.splice(e.start, e.end, &[], -1);
                    p.insert(member, score);
                }
            }
            Repr::Skip(s) => {
                if let Some(id) = s.find(member) {
                    s.update_score(id, score);
                }
            }
        }
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => match p.find(member) {
                Some((_, e)) => {
                    p.splice(e.start, e.end, &[], -1);
                    true
                }
                None => false,
            },
            Repr::Skip(s) => s.remove(member),
        }
    }

    /// The member and score at ascending rank `rank`.
    pub fn at(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.iter_from(rank, false).next()
    }

    /// Every member in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// Members from ascending rank `rank` on, upwards, or downwards when
    /// `rev` (rank `len-1` is the first member in descending order).
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        let len = self.len();
        if rank >= len {
            return Iter { inner: IterInner::Empty, left: 0 };
        }
        let left = if rev { rank + 1 } else { len - rank };
        let inner = match &self.repr {
            Repr::Pack(p) if !rev => {
                let mut pos = PACK_HEADER;
                for _ in 0..rank {
                    pos = p.entry_at(pos).end;
                }
                IterInner::Pack { buf: &p.buf, pos }
            }
            Repr::Pack(p) => {
                let mut offsets = Vec::with_capacity(rank + 1);
                let mut pos = PACK_HEADER;
                for _ in 0..=rank {
                    offsets.push(pos);
                    pos = p.entry_at(pos).end;
                }
                IterInner::PackRev { buf: &p.buf, offsets }
            }
            Repr::Skip(s) => IterInner::Skip { list: s, node: s.by_rank(rank + 1), rev },
        };
        Iter { inner, left }
    }

    /// How many members, from the lowest up, satisfy `pred` before the first
    /// one that does not. For a predicate that holds on a prefix of the order
    /// (a score at most `max`, a member before `min`...) this is where that
    /// prefix ends: O(log n) on a skiplist. The compact encoding scans.
    pub fn count_while(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.iter().take_while(|(m, s)| pred(*s, m)).count(),
            Repr::Skip(s) => s.count_while(pred),
        }
    }

    /// Removes the members of ascending ranks `start..end`.
    pub fn remove_range(&mut self, start: usize, end: usize) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match &mut self.repr {
            Repr::Pack(p) => {
                let mut pos = PACK_HEADER;
                for _ in 0..start {
                    pos = p.entry_at(pos).end;
                }
                let from = pos;
                for _ in start..end {
                    pos = p.entry_at(pos).end;
                }
                p.splice(from, pos, &[], -((end - start) as i64));
            }
            Repr::Skip(s) => s.remove_rank_range(start + 1, end),
        }
    }

    /// Removes and returns the lowest (or with `max`, the highest) member.
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let rank = if max { len - 1 } else { 0 };
        let (m, s) = self.at(rank).map(|(m, s)| (m.to_vec(), s))?;
        self.remove_range(rank, rank + 1);
        Some((m, s))
    }

    /// One step of ZSCAN over a skiplist: visits up to `count` members from
    /// `cursor` (looking at no more than ten times as many arena slots) and
    /// returns the next cursor, 0 at the end. A compact set is visited whole
    /// in one call, as Redis does, and the cursor is then always 0.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        match &self.repr {
            Repr::Pack(p) => {
                for (m, s) in p.iter() {
                    f(m, s);
                }
                0
            }
            Repr::Skip(s) => {
                let slots = s.nodes.len() as u64;
                let mut at = cursor.max(1);
                let mut seen = 0usize;
                let mut budget = count.saturating_mul(10).max(1);
                while at < slots && seen < count && budget > 0 {
                    let n = &s.nodes[at as usize];
                    if !n.is_free() {
                        f(&n.member, n.score);
                        seen += 1;
                    }
                    at += 1;
                    budget -= 1;
                }
                if at >= slots {
                    0
                } else {
                    at
                }
            }
        }
    }

    fn convert(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut list = SkipList::new();
            for (m, s) in p.iter() {
                list.insert(m.into(), s);
            }
            self.repr = Repr::Skip(Box::new(list));
        }
    }

    /// Checks the internal invariants (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        let v: Vec<(Vec<u8>, f64)> = self.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(v.len(), self.len());
        for w in v.windows(2) {
            assert_eq!(cmp_entry(w[0].1, &w[0].0, w[1].1, &w[1].0), Ordering::Less);
        }
        for (i, (m, s)) in v.iter().enumerate() {
            assert_eq!(self.score(m), Some(*s));
            assert_eq!(self.rank(m), Some(i));
            assert_eq!(self.at(i).map(|(m, s)| (m.to_vec(), s)), Some((m.clone(), *s)));
        }
        let rev: Vec<Vec<u8>> = if v.is_empty() {
            Vec::new()
        } else {
            self.iter_from(v.len() - 1, true).map(|(m, _)| m.to_vec()).collect()
        };
        let mut fwd: Vec<Vec<u8>> = v.iter().map(|e| e.0.clone()).collect();
        fwd.reverse();
        assert_eq!(rev, fwd);
        if let Repr::Skip(s) = &self.repr {
            s.check();
        }
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.iter().zip(other.iter()).all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
    }
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s))).finish()
    }
}

/// An iterator over members and scores, in one direction.
pub struct Iter<'a> {
    inner: IterInner<'a>,
    left: usize,
}

enum IterInner<'a> {
    Empty,
    Pack { buf: &'a [u8], pos: usize },
    PackRev { buf: &'a [u8], offsets: Vec<usize> },
    Skip { list: &'a SkipList, node: u32, rev: bool },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        match &mut self.inner {
            IterInner::Empty => None,
            IterInner::Pack { buf, pos } => {
                let buf: &'a [u8] = buf;
                let e = decode_entry(buf, *pos);
                *pos = e.end;
                Some((&buf[e.member.0..e.member.1], e.score))
            }
            IterInner::PackRev { buf, offsets } => {
                let buf: &'a [u8] = buf;
                let e = decode_entry(buf, offsets.pop()?);
                Some((&buf[e.member.0..e.member.1], e.score))
            }
            IterInner::Skip { list, node, rev } => {
                let list: &'a SkipList = list;
                if *node == NIL {
                    return None;
                }
                let n = &list.nodes[*node as usize];
                *node = if *rev { n.back } else { n.levels[0].next };
                Some((&n.member, n.score))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

// ---------------------------------------------------------------------------
// The compact encoding.

/// Bytes before the first entry: the member count, u32 little-endian.
const PACK_HEADER: usize = 4;

/// Integral scores below this magnitude are stored as varints.
const INT_SCORE_LIMIT: f64 = 9007199254740992.0; // 2^53

#[derive(Clone, Default)]
struct Pack {
    /// Empty for an empty set; otherwise the header and the entries.
    buf: Box<[u8]>,
}

/// One decoded entry: its byte span, the span of its member and its score.
struct PackEntry {
    start: usize,
    member: (usize, usize),
    score: f64,
    end: usize,
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
fn read_varint(buf: &[u8], mut pos: usize) -> (u64, usize) {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return (v, pos);
        }
        shift += 7;
    }
}

/// The score as an integer when it is one that a varint keeps exactly.
/// `-0` becomes `0`, as in Redis's listpack (which stores the score's text,
/// and takes `-0` for the integer 0); a skiplist keeps the sign.
fn int_score(score: f64) -> Option<i64> {
    (score.fract() == 0.0 && score.abs() < INT_SCORE_LIMIT).then_some(score as i64)
}

fn encode_entry(out: &mut Vec<u8>, member: &[u8], score: f64) {
    let int = int_score(score);
    write_varint(out, ((member.len() as u64) << 1) | int.is_none() as u64);
    out.extend_from_slice(member);
    match int {
        Some(n) => write_varint(out, ((n << 1) ^ (n >> 63)) as u64),
        None => out.extend_from_slice(&score.to_le_bytes()),
    }
}

#[inline]
fn decode_entry(buf: &[u8], start: usize) -> PackEntry {
    let (header, pos) = read_varint(buf, start);
    let mlen = (header >> 1) as usize;
    let member = (pos, pos + mlen);
    let pos = pos + mlen;
    if header & 1 == 1 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[pos..pos + 8]);
        PackEntry { start, member, score: f64::from_le_bytes(b), end: pos + 8 }
    } else {
        let (z, end) = read_varint(buf, pos);
        let n = ((z >> 1) as i64) ^ -((z & 1) as i64);
        PackEntry { start, member, score: n as f64, end }
    }
}

struct PackIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (&'a [u8], f64);

    #[inline]
    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let e = decode_entry(self.buf, self.pos);
        self.pos = e.end;
        Some((&self.buf[e.member.0..e.member.1], e.score))
    }
}

impl Pack {
    fn len(&self) -> usize {
        if self.buf.is_empty() {
            0
        } else {
            u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize
        }
    }

    fn iter(&self) -> PackIter<'_> {
        PackIter { buf: &self.buf, pos: PACK_HEADER.min(self.buf.len()) }
    }

    fn entry_at(&self, pos: usize) -> PackEntry {
        decode_entry(&self.buf, pos)
    }

    /// The rank and entry of `member`.
    fn find(&self, member: &[u8]) -> Option<(usize, PackEntry)> {
        let mut pos = PACK_HEADER;
        let mut i = 0;
        while pos < self.buf.len() {
            let e = decode_entry(&self.buf, pos);
            if &self.buf[e.member.0..e.member.1] == member {
                return Some((i, e));
            }
            pos = e.end;
            i += 1;
        }
        None
    }

    /// Inserts a member known to be absent at its place in the order.
    fn insert(&mut self, member: &[u8], score: f64) {
        let mut pos = PACK_HEADER.min(self.buf.len());
        while pos < self.buf.len() {
            let e = decode_entry(&self.buf, pos);
            if cmp_entry(score, member, e.score, &self.buf[e.member.0..e.member.1]) == Ordering::Less {
                break;
            }
            pos = e.end;
        }
        let mut entry = Vec::with_capacity(member.len() + 11);
        encode_entry(&mut entry, member, score);
        if self.buf.is_empty() {
            let mut buf = Vec::with_capacity(PACK_HEADER + entry.len());
            buf.extend_from_slice(&1u32.to_le_bytes());
            buf.extend_from_slice(&entry);
            self.buf = buf.into_boxed_slice();
        } else {
            self.splice(pos, pos, &entry, 1);
        }
    }

    /// Replaces bytes `start..end` with `with`, adjusting the count by `delta`.
    /// The buffer is reallocated to its exact new size.
    fn splice(&mut self, start: usize, end: usize, with: &[u8], delta: i64) {
        let len = (self.len() as i64 + delta) as usize;
        if len == 0 {
            self.buf = Box::default();
            return;
        }
        let mut buf = Vec::with_capacity(self.buf.len() - (end - start) + with.len());
        buf.extend_from_slice(&(len as u32).to_le_bytes());
        buf.extend_from_slice(&self.buf[PACK_HEADER..start]);
        buf.extend_from_slice(with);
        buf.extend_from_slice(&self.buf[end..]);
        self.buf = buf.into_boxed_slice();
    }
}

// ---------------------------------------------------------------------------
// The skiplist.

const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;
const MAX_LEVEL: usize = 32;

#[derive(Clone, Copy, Debug)]
struct Level {
    next: u32,
    /// How many nodes this link skips over, counting the one it reaches.
    span: u32,
}

const NO_LINK: Level = Level { next: NIL, span: 0 };

/// A node's links, one per level. Three nodes in four have one level and
/// fifteen in sixteen at most two: those keep them inside the node, so a
/// search step reads the node's score and its next link from one place
/// instead of following a second pointer.
#[derive(Clone)]
enum Links {
    Inline { len: u8, links: [Level; 2] },
    Heap(Box<[Level]>),
}

impl Links {
    fn new(levels: usize) -> Links {
        if levels <= 2 {
            Links::Inline { len: levels as u8, links: [NO_LINK; 2] }
        } else {
            Links::Heap(vec![NO_LINK; levels].into_boxed_slice())
        }
    }
}

impl Default for Links {
    fn default() -> Self {
        Links::new(0)
    }
}

impl std::ops::Deref for Links {
    type Target = [Level];

    #[inline]
    fn deref(&self) -> &[Level] {
        match self {
            Links::Inline { len, links } => &links[..*len as usize],
            Links::Heap(links) => links,
        }
    }
}

impl std::ops::DerefMut for Links {
    #[inline]
    fn deref_mut(&mut self) -> &mut [Level] {
        match self {
            Links::Inline { len, links } => &mut links[..*len as usize],
            Links::Heap(links) => links,
        }
    }
}

#[derive(Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    /// The previous node (NIL for the first); for a free slot, the next free one.
    back: u32,
    /// Empty for a free slot.
    levels: Links,
}

impl Node {
    fn is_free(&self) -> bool {
        self.levels.is_empty()
    }
}

#[derive(Clone)]
struct SkipList {
    /// Slot 0 is the head, with every level.
    nodes: Vec<Node>,
    free: u32,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    level: usize,
    len: usize,
    tail: u32,
    seed: u64,
    member_bytes: usize,
    /// Links kept outside their nodes (nodes of three levels or more).
    link_count: usize,
}

impl SkipList {
    fn new() -> SkipList {
        let head = Node { member: Box::default(), score: 0.0, back: NIL, levels: Links::new(MAX_LEVEL) };
        let hasher = foldhash::fast::RandomState::default();
        let seed = hasher.hash_one(0x5eed_u64) | 1;
        SkipList {
            nodes: vec![head],
            free: NIL,
            index: HashTable::new(),
            hasher,
            level: 1,
            len: 0,
            tail: NIL,
            seed,
            member_bytes: 0,
            link_count: 0,
        }
    }

    fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.member_bytes
            + self.link_count * std::mem::size_of::<Level>()
            + MAX_LEVEL * std::mem::size_of::<Level>()
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
    }

    /// Redis's level distribution: each further level with probability 1/4.
    fn random_level(&mut self) -> usize {
        let mut x = self.seed;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.seed = x;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        // Two bits per level: a level is added while both are zero.
        let level = 1 + ((r | (1 << 62)).trailing_zeros() / 2) as usize;
        level.min(MAX_LEVEL)
    }

    #[inline]
    fn cmp_node(&self, id: u32, score: f64, member: &[u8]) -> Ordering {
        let n = &self.nodes[id as usize];
        cmp_entry(n.score, &n.member, score, member)
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        self.index.find(hash, |&id| *self.nodes[id as usize].member == *member).copied()
    }

    fn alloc(&mut self, member: Box<[u8]>, score: f64, level: usize) -> u32 {
        self.member_bytes += member.len();
        if level > 2 {
            self.link_count += level;
        }
        let node = Node { member, score, back: NIL, levels: Links::new(level) };
        if self.free != NIL {
            let id = self.free;
            self.free = self.nodes[id as usize].back;
            self.nodes[id as usize] = node;
            id
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    fn release(&mut self, id: u32) -> Box<[u8]> {
        let n = &mut self.nodes[id as usize];
        let member = std::mem::take(&mut n.member);
        self.member_bytes -= member.len();
        if n.levels.len() > 2 {
            self.link_count -= n.levels.len();
        }
        n.levels = Links::default();
        n.back = self.free;
        self.free = id;
        member
    }

    fn insert(&mut self, member: Box<[u8]>, score: f64) -> u32 {
        let level = self.random_level();
        let hash = self.hasher.hash_one(&*member);
        let id = self.alloc(member, score, level);
        self.link(id);
        let nodes = &self.nodes;
        let hasher = &self.hasher;
        self.index.insert_unique(hash, id, |&i| hasher.hash_one(&*nodes[i as usize].member));
        id
    }

    /// Links an allocated node into the list at its place.
    fn link(&mut self, id: u32) {
        let (score, level) = {
            let n = &self.nodes[id as usize];
            (n.score, n.levels.len())
        };
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let next = self.nodes[x as usize].levels[i].next;
                if next != NIL
                    && self.cmp_node(next, score, &self.nodes[id as usize].member) == Ordering::Less
                {
                    rank[i] += self.nodes[x as usize].levels[i].span as usize;
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.nodes[HEAD as usize].levels[i].span = self.len as u32;
            }
            self.level = level;
        }
        for i in 0..level {
            let u = update[i] as usize;
            let skipped = (rank[0] - rank[i]) as u32;
            let ul = self.nodes[u].levels[i];
            self.nodes[id as usize].levels[i] = Level { next: ul.next, span: ul.span - skipped };
            self.nodes[u].levels[i] = Level { next: id, span: skipped + 1 };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.nodes[u as usize].levels[i].span += 1;
        }
        self.nodes[id as usize].back = if update[0] == HEAD { NIL } else { update[0] };
        let next = self.nodes[id as usize].levels[0].next;
        if next != NIL {
            self.nodes[next as usize].back = id;
        } else {
            self.tail = id;
        }
        self.len += 1;
    }

    /// The nodes before node `id` at each level.
    fn predecessors(&self, id: u32) -> [u32; MAX_LEVEL] {
        let n = &self.nodes[id as usize];
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.nodes[x as usize].levels[i].next;
                if next != NIL && self.cmp_node(next, n.score, &n.member) == Ordering::Less {
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        update
    }

    /// Takes node `x` out of the links (its slot stays allocated).
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let u = u as usize;
            if self.nodes[u].levels[i].next == x {
                let xl = self.nodes[x as usize].levels[i];
                let ul = &mut self.nodes[u].levels[i];
                ul.span = ul.span + xl.span - 1;
                ul.next = xl.next;
            } else {
                self.nodes[u].levels[i].span -= 1;
            }
        }
        let (next, back) = (self.nodes[x as usize].levels[0].next, self.nodes[x as usize].back);
        if next != NIL {
            self.nodes[next as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.nodes[HEAD as usize].levels[self.level - 1].next == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    fn unindex(&mut self, id: u32) {
        let nodes = &self.nodes;
        let member = &nodes[id as usize].member;
        let hash = self.hasher.hash_one(&**member);
        if let Ok(e) = self.index.find_entry(hash, |&i| i == id) {
            e.remove();
        }
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let Some(id) = self.find(member) else {
            return false;
        };
        let update = self.predecessors(id);
        self.unlink(id, &update);
        self.unindex(id);
        self.release(id);
        true
    }

    /// Moves node `id` to the place of its new score, keeping its slot.
    fn update_score(&mut self, id: u32, score: f64) {
        let n = &self.nodes[id as usize];
        let (back, next) = (n.back, n.levels[0].next);
        let stays = (back == NIL || self.cmp_node(back, score, &n.member) == Ordering::Less)
            && (next == NIL || self.cmp_node(next, score, &n.member) == Ordering::Greater);
        if stays {
            self.nodes[id as usize].score = score;
            return;
        }
        let update = self.predecessors(id);
        self.unlink(id, &update);
        let n = &mut self.nodes[id as usize];
        n.score = score;
        for l in n.levels.iter_mut() {
            *l = Level { next: NIL, span: 0 };
        }
        n.back = NIL;
        self.link(id);
    }

    /// The 1-based rank of node `id`.
    fn rank_of(&self, id: u32) -> usize {
        let n = &self.nodes[id as usize];
        let mut rank = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.nodes[x as usize].levels[i].next;
                if next != NIL && self.cmp_node(next, n.score, &n.member) != Ordering::Greater {
                    rank += self.nodes[x as usize].levels[i].span as usize;
                    x = next;
                } else {
                    break;
                }
            }
            if x == id {
                return rank;
            }
        }
        rank
    }

    /// The node of 1-based rank `rank`, NIL when out of range.
    fn by_rank(&self, rank: usize) -> u32 {
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.nodes[x as usize].levels[i];
                if l.next != NIL && traversed + l.span as usize <= rank {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return if x == HEAD { NIL } else { x };
            }
        }
        NIL
    }

    fn count_while(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        let mut n = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.nodes[x as usize].levels[i];
                if l.next == NIL {
                    break;
                }
                let nx = &self.nodes[l.next as usize];
                if !pred(nx.score, &nx.member) {
                    break;
                }
                n += l.span as usize;
                x = l.next;
            }
        }
        n
    }

    /// Removes the nodes of 1-based ranks `start..=end`.
    fn remove_rank_range(&mut self, start: usize, end: usize) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.nodes[x as usize].levels[i];
                if l.next != NIL && traversed + (l.span as usize) < start {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        traversed += 1;
        let mut x = self.nodes[x as usize].levels[0].next;
        while x != NIL && traversed <= end {
            let next = self.nodes[x as usize].levels[0].next;
            self.unlink(x, &update);
            self.unindex(x);
            self.release(x);
            traversed += 1;
            x = next;
        }
    }

    #[cfg(test)]
    fn check(&self) {
        // Every level's spans add up to the ranks the bottom level gives.
        let mut rank_of = std::collections::HashMap::new();
        let mut x = self.nodes[0].levels[0].next;
        let mut r = 1;
        let mut prev = NIL;
        while x != NIL {
            rank_of.insert(x, r);
            assert_eq!(self.nodes[x as usize].back, prev);
            prev = x;
            r += 1;
            x = self.nodes[x as usize].levels[0].next;
        }
        assert_eq!(self.tail, prev);
        assert_eq!(rank_of.len(), self.len);
        assert_eq!(self.index.len(), self.len);
        for i in 0..self.level {
            let mut x = HEAD;
            let mut at = 0;
            loop {
                let l = self.nodes[x as usize].levels[i];
                if l.next == NIL {
                    break;
                }
                at += l.span as usize;
                assert_eq!(rank_of[&l.next], at, "level {i}");
                x = l.next;
            }
        }
        for (&id, _) in rank_of.iter() {
            assert_eq!(self.find(&self.nodes[id as usize].member), Some(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn lim(entries: usize, value: usize) -> Limits {
        Limits { entries, value }
    }

    #[test]
    fn small_sets_are_compact_and_small() {
        let mut z = ZSet::new();
        for i in 0..10 {
            z.insert(format!("member:{i}").as_bytes(), i as f64, lim(128, 64));
        }
        assert_eq!(z.encoding(), "listpack");
        // Four bytes of count, then per member a header byte, 8 bytes and a 1-byte score.
        assert_eq!(z.heap_size(), 4 + 10 * 10);
        assert!(std::mem::size_of::<ZSet>() <= 24);
        z.check();
    }

    #[test]
    fn scores_round_trip_in_the_compact_encoding() {
        let scores = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            1.5,
            0.1,
            1e300,
            -1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9007199254740991.0,
            9007199254740992.0,
            -9007199254740993.0,
            5e-324,
        ];
        let mut z = ZSet::new();
        for (i, s) in scores.iter().enumerate() {
            z.insert(i.to_string().as_bytes(), *s, lim(128, 64));
        }
        for (i, s) in scores.iter().enumerate() {
            let want = if *s == 0.0 { 0.0f64 } else { *s };
            assert_eq!(z.score(i.to_string().as_bytes()).map(f64::to_bits), Some(want.to_bits()));
        }
        z.check();
    }

    #[test]
    fn conversion_at_the_thresholds() {
        let mut z = ZSet::new();
        for i in 0..3 {
            z.insert(&[b'a' + i], i as f64, lim(3, 2));
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"d", 9.0, lim(3, 2));
        assert_eq!(z.encoding(), "skiplist");
        z.check();
        let mut z = ZSet::new();
        z.insert(b"ab", 1.0, lim(3, 2));
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"abc", 1.0, lim(3, 2));
        assert_eq!(z.encoding(), "skiplist");
        z.remove(b"abc");
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn big_skiplist_ranks() {
        let mut z = ZSet::new();
        for i in 0..5000u32 {
            let s = ((i * 7919) % 5000) as f64;
            z.insert(format!("m{i}").as_bytes(), s, lim(128, 64));
        }
        z.check();
        for i in (0..5000u32).step_by(3) {
            z.update(format!("m{i}").as_bytes(), -(i as f64));
        }
        z.check();
        z.remove_range(100, 2000);
        z.check();
        assert_eq!(z.len(), 3100);
        let n = z.count_while(|s, _| s < 0.0);
        assert_eq!(n, z.iter().filter(|e| e.1 < 0.0).count());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add(u8, i8),
        Remove(u8),
        RemoveRange(u8, u8),
        Pop(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<i8>()).prop_map(|(m, s)| Op::Add(m, s)),
            2 => any::<u8>().prop_map(Op::Remove),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::RemoveRange(a, b)),
            1 => any::<bool>().prop_map(Op::Pop),
        ]
    }

    fn member(m: u8) -> Vec<u8> {
        // Lengths 1..=4 around the value threshold of 3; 40 distinct members.
        let n = m % 40;
        vec![b'a' + n % 26; 1 + (n as usize % 4)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn matches_a_sorted_model(ops in proptest::collection::vec(op(), 1..120), entries in 0usize..12) {
            let l = lim(entries, 3);
            let mut z = ZSet::new();
            let mut model: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
            let mut compact = true;
            for op in ops {
                match op {
                    Op::Add(m, s) => {
                        let (m, s) = (member(m), s as f64 / 4.0);
                        if model.contains_key(&m) {
                            z.update(&m, s);
                        } else {
                            if model.len() + 1 > entries || m.len() > 3 {
                                compact = false;
                            }
                            z.insert(&m, s, l);
                        }
                        model.insert(m, s);
                    }
                    Op::Remove(m) => {
                        let m = member(m);
                        prop_assert_eq!(z.remove(&m), model.remove(&m).is_some());
                    }
                    Op::RemoveRange(a, b) => {
                        let (a, b) = (a as usize % 20, b as usize % 20);
                        let mut sorted: Vec<(Vec<u8>, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
                        sorted.sort_by(|x, y| cmp_entry(x.1, &x.0, y.1, &y.0));
                        for (m, _) in sorted.iter().skip(a).take(b.saturating_sub(a)) {
                            model.remove(m);
                        }
                        z.remove_range(a, b);
                    }
                    Op::Pop(max) => {
                        let mut sorted: Vec<(Vec<u8>, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
                        sorted.sort_by(|x, y| cmp_entry(x.1, &x.0, y.1, &y.0));
                        let want = if max { sorted.pop() } else if sorted.is_empty() { None } else { Some(sorted.remove(0)) };
                        if let Some((m, _)) = &want {
                            model.remove(m);
                        }
                        prop_assert_eq!(z.pop(max), want);
                    }
                }
                prop_assert_eq!(z.encoding(), if compact { "listpack" } else { "skiplist" });
                let mut sorted: Vec<(Vec<u8>, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
                sorted.sort_by(|x, y| cmp_entry(x.1, &x.0, y.1, &y.0));
                let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
                prop_assert_eq!(got, sorted);
                z.check();
            }
            let mut seen = Vec::new();
            let mut cursor = 0;
            loop {
                cursor = z.scan(cursor, 3, |m, _| seen.push(m.to_vec()));
                if cursor == 0 {
                    break;
                }
            }
            seen.sort();
            prop_assert_eq!(seen, model.keys().cloned().collect::<Vec<_>>());
        }
    }
}
