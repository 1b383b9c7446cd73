//! The list type: a deque of compact chunks, Redis's quicklist idea.
//!
//! A list is a `VecDeque` of chunks, each one byte buffer holding a run of
//! elements back to back, every element written with its length both before
//! and after it (1 byte for up to 127 bytes, 2 up to 16 KB, then 5 or 9), so
//! a chunk can be walked from either end. A chunk takes elements until it
//! holds 8 KB (Redis's default `list-max-listpack-size -2`); then a new chunk
//! starts. Short elements thus cost their bytes plus two, against 24 or more
//! for a pointer per element, and reading a range walks contiguous memory.
//!
//! The data of a chunk sits in the middle of its buffer (`buf[lo..hi]`) with
//! free room on both sides, so pushing and popping at either end of the list
//! is amortised O(1): only the end chunk is touched, no bytes move. Reaching
//! index `i` walks the chunk counts from the nearer end of the list, then the
//! entries of one chunk from its nearer end; a replacement or an insertion in
//! the middle moves at most one chunk's bytes, splitting a chunk that
//! overflows. Redis 7.0 reports every list as `quicklist`, whatever its size.

use std::collections::VecDeque;
use std::fmt;

/// Entry bytes a chunk takes before a push starts a new chunk (Redis's
/// default `list-max-listpack-size -2`: 8 KB per quicklist node). An element
/// larger than this gets a chunk of its own.
const CHUNK_MAX: usize = 8192;
/// The smallest buffer a chunk gets; buffers double from here up to `CHUNK_MAX`.
const MIN_CAP: usize = 16;
/// Length tags: a first byte below 0x80 is the length itself, 0x80..=0xBF
/// holds the top 6 bits of a 14-bit length, and these two announce a 4- or
/// 8-byte little-endian length.
const TAG32: u8 = 0xC0;
const TAG64: u8 = 0xC1;

/// One end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

impl End {
    pub fn other(self) -> End {
        match self {
            End::Head => End::Tail,
            End::Tail => End::Head,
        }
    }
}

/// Bytes used to write a length `n`, once.
#[inline]
fn len_bytes(n: usize) -> usize {
    if n < 0x80 {
        1
    } else if n < 1 << 14 {
        2
    } else if n <= u32::MAX as usize {
        5
    } else {
        9
    }
}

/// Bytes an element of `n` bytes takes in a chunk.
#[inline]
fn entry_size(n: usize) -> usize {
    n + 2 * len_bytes(n)
}

/// Writes `data` as an entry filling all of `dst` (`entry_size(data.len())` bytes).
fn encode(dst: &mut [u8], data: &[u8]) {
    let n = data.len();
    let k = len_bytes(n);
    let end = dst.len();
    debug_assert_eq!(end, entry_size(n));
    match k {
        1 => {
            dst[0] = n as u8;
            dst[end - 1] = n as u8;
        }
        2 => {
            let top = 0x80 | (n >> 8) as u8;
            dst[0] = top;
            dst[1] = n as u8;
            dst[end - 2] = n as u8;
            dst[end - 1] = top;
        }
        5 => {
            let le = (n as u32).to_le_bytes();
            dst[0] = TAG32;
            dst[1..5].copy_from_slice(&le);
            dst[end - 5..end - 1].copy_from_slice(&le);
            dst[end - 1] = TAG32;
        }
        _ => {
            let le = (n as u64).to_le_bytes();
            dst[0] = TAG64;
            dst[1..9].copy_from_slice(&le);
            dst[end - 9..end - 1].copy_from_slice(&le);
            dst[end - 1] = TAG64;
        }
    }
    dst[k..k + n].copy_from_slice(data);
}

fn le_usize(b: &[u8]) -> usize {
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    u64::from_le_bytes(w) as usize
}

/// The element whose entry starts at `at`: (offset of its data, its length).
#[inline]
fn decode_head(buf: &[u8], at: usize) -> (usize, usize) {
    let b = buf[at];
    if b < 0x80 {
        (at + 1, b as usize)
    } else if b < 0xC0 {
        (at + 2, ((b & 0x3f) as usize) << 8 | buf[at + 1] as usize)
    } else if b == TAG32 {
        (at + 5, le_usize(&buf[at + 1..at + 5]))
    } else {
        (at + 9, le_usize(&buf[at + 1..at + 9]))
    }
}

/// The element whose entry ends just before `end`: (offset of its data, its length).
#[inline]
fn decode_tail(buf: &[u8], end: usize) -> (usize, usize) {
    let b = buf[end - 1];
    let (n, k) = if b < 0x80 {
        (b as usize, 1)
    } else if b < 0xC0 {
        (((b & 0x3f) as usize) << 8 | buf[end - 2] as usize, 2)
    } else if b == TAG32 {
        (le_usize(&buf[end - 5..end - 1]), 5)
    } else {
        (le_usize(&buf[end - 9..end - 1]), 9)
    };
    (end - k - n, n)
}

/// Where the entry after the one starting at `at` starts.
#[inline]
fn next_entry(buf: &[u8], at: usize) -> usize {
    let (d, n) = decode_head(buf, at);
    d + n + len_bytes(n)
}

/// Where the entry ending at `end` starts.
#[inline]
fn prev_entry(buf: &[u8], end: usize) -> usize {
    let (d, n) = decode_tail(buf, end);
    d - len_bytes(n)
}

/// A run of entries in `buf[lo..hi]`.
#[derive(Clone)]
struct Chunk {
    buf: Box<[u8]>,
    lo: usize,
    hi: usize,
    count: usize,
}

impl Chunk {
    /// An empty chunk of `cap` bytes, its free room on the side `end` grows.
    fn empty(cap: usize, grows: End) -> Chunk {
        let at = if grows == End::Head { cap } else { 0 };
        Chunk { buf: vec![0u8; cap].into_boxed_slice(), lo: at, hi: at, count: 0 }
    }

    #[inline]
    fn used(&self) -> usize {
        self.hi - self.lo
    }

    fn cap(&self) -> usize {
        self.buf.len()
    }

    /// Moves the data into a new buffer of `cap` bytes, starting at `lo`.
    fn realloc(&mut self, cap: usize, lo: usize) {
        let used = self.used();
        debug_assert!(lo + used <= cap);
        let mut buf = vec![0u8; cap].into_boxed_slice();
        buf[lo..lo + used].copy_from_slice(&self.buf[self.lo..self.hi]);
        self.buf = buf;
        self.lo = lo;
        self.hi = lo + used;
    }

    /// Makes sure `n` free bytes follow `hi` (`front` = false) or precede `lo`.
    fn reserve(&mut self, n: usize, front: bool) {
        let room = if front { self.lo } else { self.cap() - self.hi };
        if room >= n {
            return;
        }
        let used = self.used();
        let want = used + n;
        if self.cap() >= CHUNK_MAX && want <= self.cap() {
            // A full-size buffer does not grow: share the free room out again.
            let lo = (self.cap() - want) / 2 + if front { n } else { 0 };
            self.buf.copy_within(self.lo..self.hi, lo);
            self.lo = lo;
            self.hi = lo + used;
            return;
        }
        let cap = (self.cap() * 2).clamp(MIN_CAP, CHUNK_MAX).max(want);
        // Keep the room the other side had, as far as it fits.
        let lo = if front {
            let back = (self.cap() - self.hi).min(cap - want);
            cap - back - used
        } else {
            self.lo.min(cap - want)
        };
        self.realloc(cap, lo);
    }

    fn push(&mut self, end: End, v: &[u8]) {
        let n = entry_size(v.len());
        match end {
            End::Head => {
                self.reserve(n, true);
                self.lo -= n;
                encode(&mut self.buf[self.lo..self.lo + n], v);
            }
            End::Tail => {
                self.reserve(n, false);
                encode(&mut self.buf[self.hi..self.hi + n], v);
                self.hi += n;
            }
        }
        self.count += 1;
    }

    /// Replaces the `old` bytes at `at` by a gap of `new` bytes and returns
    /// where the gap now starts (the data may have moved), moving whichever
    /// side of `at` is shorter.
    fn open_gap(&mut self, at: usize, old: usize, new: usize) -> usize {
        debug_assert!(self.lo <= at && at + old <= self.hi);
        let (before, after) = (at - self.lo, self.hi - at - old);
        if new <= old {
            let d = old - new;
            if before <= after {
                self.buf.copy_within(self.lo..at, self.lo + d);
                self.lo += d;
                return at + d;
            }
            self.buf.copy_within(at + old..self.hi, at + new);
            self.hi -= d;
            return at;
        }
        let d = new - old;
        let front_ok = self.lo >= d;
        let back_ok = self.cap() - self.hi >= d;
        if front_ok && (before <= after || !back_ok) {
            self.buf.copy_within(self.lo..at, self.lo - d);
            self.lo -= d;
            return at - d;
        }
        if back_ok {
            self.buf.copy_within(at + old..self.hi, at + new);
            self.hi += d;
            return at;
        }
        // Grow, with the free room split between both sides.
        let used = self.used();
        let cap = (self.cap() * 2).max(used + d).max(MIN_CAP);
        let lo = (cap - used - d) / 2;
        let mut buf = vec![0u8; cap].into_boxed_slice();
        buf[lo..lo + before].copy_from_slice(&self.buf[self.lo..at]);
        let tail_at = lo + before + new;
        buf[tail_at..tail_at + after].copy_from_slice(&self.buf[at + old..self.hi]);
        self.buf = buf;
        self.lo = lo;
        self.hi = tail_at + after;
        lo + before
    }

    /// Gives memory back when the buffer is mostly empty.
    fn fit(&mut self) {
        let used = self.used();
        if self.cap() > 64 && used < self.cap() / 4 {
            let cap = (used * 2).max(MIN_CAP);
            self.realloc(cap, (cap - used) / 2);
        }
    }

    /// Splits off the entries from byte `at` on into a new chunk.
    fn split_off(&mut self, at: usize) -> Chunk {
        let mut moved = 0;
        let mut p = at;
        while p < self.hi {
            p = next_entry(&self.buf, p);
            moved += 1;
        }
        let len = self.hi - at;
        let cap = len.max(MIN_CAP);
        let mut buf = vec![0u8; cap].into_boxed_slice();
        buf[..len].copy_from_slice(&self.buf[at..self.hi]);
        self.hi = at;
        self.count -= moved;
        self.fit();
        Chunk { buf, lo: 0, hi: len, count: moved }
    }

    /// Appends all of `other`'s entries.
    fn append(&mut self, other: &Chunk) {
        let n = other.used();
        self.reserve(n, false);
        self.buf[self.hi..self.hi + n].copy_from_slice(&other.buf[other.lo..other.hi]);
        self.hi += n;
        self.count += other.count;
    }

    /// Removes up to `limit` entries equal to `v`, the first ones met from
    /// the head (or the tail), compacting in one pass. Returns how many went.
    fn remove_matching(&mut self, v: &[u8], limit: usize, from_tail: bool) -> usize {
        let mut removed = 0;
        if !from_tail {
            let (mut r, mut w) = (self.lo, self.lo);
            while r < self.hi {
                let (d, n) = decode_head(&self.buf, r);
                let next = d + n + len_bytes(n);
                if removed < limit && &self.buf[d..d + n] == v {
                    removed += 1;
                } else {
                    if w != r {
                        self.buf.copy_within(r..next, w);
                    }
                    w += next - r;
                }
                r = next;
            }
            self.hi = w;
        } else {
            let (mut r, mut w) = (self.hi, self.hi);
            while r > self.lo {
                let (d, n) = decode_tail(&self.buf, r);
                let start = d - len_bytes(n);
                if removed < limit && &self.buf[d..d + n] == v {
                    removed += 1;
                } else {
                    if w != r {
                        self.buf.copy_within(start..r, w - (r - start));
                    }
                    w -= r - start;
                }
                r = start;
            }
            self.lo = w;
        }
        self.count -= removed;
        removed
    }
}

/// A position in a list: a chunk and the byte offset of an entry (or of the
/// end of the chunk's data) in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    chunk: usize,
    at: usize,
}

/// A Redis list.
#[derive(Clone, Default)]
pub struct List {
    chunks: VecDeque<Chunk>,
    len: usize,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    /// The name OBJECT ENCODING reports: Redis 7.0 keeps every list in a quicklist.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Chunk>()
            + self.chunks.iter().map(Chunk::cap).sum::<usize>()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// How many chunks hold the elements (what freeing the list costs).
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an element at one end.
    pub fn push(&mut self, end: End, v: &[u8]) {
        let n = entry_size(v.len());
        let fits = match end {
            End::Head => self.chunks.front(),
            End::Tail => self.chunks.back(),
        }
        .is_some_and(|c| c.used() + n <= CHUNK_MAX);
        if !fits {
            if self.chunks.capacity() == 0 {
                // Most lists are one chunk: no room for more until needed.
                self.chunks.reserve_exact(1);
            }
            let c = Chunk::empty(n.max(MIN_CAP), end);
            match end {
                End::Head => self.chunks.push_front(c),
                End::Tail => self.chunks.push_back(c),
            }
        }
        let c = match end {
            End::Head => self.chunks.front_mut(),
            End::Tail => self.chunks.back_mut(),
        };
        c.expect("an end chunk").push(end, v);
        self.len += 1;
    }

    pub fn push_back(&mut self, v: &[u8]) {
        self.push(End::Tail, v)
    }

    pub fn push_front(&mut self, v: &[u8]) {
        self.push(End::Head, v)
    }

    /// The element at one end.
    pub fn peek(&self, end: End) -> Option<&[u8]> {
        let (c, (d, n)) = match end {
            End::Head => self.chunks.front().map(|c| (c, decode_head(&c.buf, c.lo)))?,
            End::Tail => self.chunks.back().map(|c| (c, decode_tail(&c.buf, c.hi)))?,
        };
        Some(&c.buf[d..d + n])
    }

    /// Removes and returns the element at one end.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let v = self.peek(end)?.to_vec();
        self.discard(end, 1);
        Some(v)
    }

    /// Removes `n` elements (all, if fewer) from one end.
    pub fn discard(&mut self, end: End, n: usize) {
        let mut n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let c = match end {
                End::Head => self.chunks.front_mut(),
                End::Tail => self.chunks.back_mut(),
            }
            .expect("counts match the chunks");
            if c.count <= n {
                n -= c.count;
                match end {
                    End::Head => self.chunks.pop_front(),
                    End::Tail => self.chunks.pop_back(),
                };
                continue;
            }
            for _ in 0..n {
                match end {
                    End::Head => c.lo = next_entry(&c.buf, c.lo),
                    End::Tail => c.hi = prev_entry(&c.buf, c.hi),
                }
            }
            c.count -= n;
            if n > 1 {
                c.fit();
            }
            n = 0;
        }
    }

    /// Where the element at index `i` (< len) starts.
    fn locate(&self, i: usize) -> Pos {
        debug_assert!(i < self.len);
        let (chunk, local) = if i < self.len / 2 {
            let (mut i, mut ci) = (i, 0);
            loop {
                let c = &self.chunks[ci];
                if i < c.count {
                    break (ci, i);
                }
                i -= c.count;
                ci += 1;
            }
        } else {
            let (mut back, mut ci) = (self.len - 1 - i, self.chunks.len() - 1);
            loop {
                let c = &self.chunks[ci];
                if back < c.count {
                    break (ci, c.count - 1 - back);
                }
                back -= c.count;
                ci -= 1;
            }
        };
        let c = &self.chunks[chunk];
        let at = if local < c.count / 2 {
            (0..local).fold(c.lo, |p, _| next_entry(&c.buf, p))
        } else {
            let end = (local + 1..c.count).fold(c.hi, |p, _| prev_entry(&c.buf, p));
            prev_entry(&c.buf, end)
        };
        Pos { chunk, at }
    }

    /// The element at index `i` from the head, if there is one.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let p = self.locate(i);
        let c = &self.chunks[p.chunk];
        let (d, n) = decode_head(&c.buf, p.at);
        Some(&c.buf[d..d + n])
    }

    /// Replaces the element at index `i`; false when there is none.
    pub fn set(&mut self, i: usize, v: &[u8]) -> bool {
        if i >= self.len {
            return false;
        }
        let p = self.locate(i);
        let c = &mut self.chunks[p.chunk];
        let (d, n) = decode_head(&c.buf, p.at);
        let (old, new) = (d + n + len_bytes(n) - p.at, entry_size(v.len()));
        let at = c.open_gap(p.at, old, new);
        encode(&mut c.buf[at..at + new], v);
        if c.used() > CHUNK_MAX && c.count > 1 {
            self.split_in_half(p.chunk);
        } else if new < old {
            c.fit();
        }
        true
    }

    fn split_in_half(&mut self, ci: usize) {
        let c = &self.chunks[ci];
        let at = (0..c.count / 2).fold(c.lo, |p, _| next_entry(&c.buf, p));
        let tail = self.chunks[ci].split_off(at);
        self.chunks.insert(ci + 1, tail);
    }

    /// The position of the first element equal to `v` from the head.
    pub fn find(&self, v: &[u8]) -> Option<Pos> {
        for (ci, c) in self.chunks.iter().enumerate() {
            let mut p = c.lo;
            while p < c.hi {
                let (d, n) = decode_head(&c.buf, p);
                if &c.buf[d..d + n] == v {
                    return Some(Pos { chunk: ci, at: p });
                }
                p = d + n + len_bytes(n);
            }
        }
        None
    }

    /// Inserts `v` next to the element at `pos` (from [`List::find`]).
    pub fn insert(&mut self, pos: Pos, after: bool, v: &[u8]) {
        let at = if after { next_entry(&self.chunks[pos.chunk].buf, pos.at) } else { pos.at };
        self.insert_at(pos.chunk, at, v);
        self.len += 1;
    }

    /// Inserts at byte `at` of chunk `ci` (an entry boundary).
    fn insert_at(&mut self, ci: usize, at: usize, v: &[u8]) {
        let n = entry_size(v.len());
        let c = &mut self.chunks[ci];
        if c.used() + n <= CHUNK_MAX {
            let at = c.open_gap(at, 0, n);
            encode(&mut c.buf[at..at + n], v);
            c.count += 1;
            return;
        }
        // The chunk is full: put the element at a chunk boundary instead.
        let at_start = at == c.lo;
        if !at_start && at != c.hi {
            let tail = c.split_off(at);
            self.chunks.insert(ci + 1, tail);
        }
        let (before, after) = if at_start { (ci.checked_sub(1), Some(ci)) } else { (Some(ci), Some(ci + 1)) };
        let room = |c: &Chunk| c.used() + n <= CHUNK_MAX;
        if let Some(b) = before.filter(|&b| room(&self.chunks[b])) {
            self.chunks[b].push(End::Tail, v);
        } else if let Some(a) = after.filter(|&a| a < self.chunks.len() && room(&self.chunks[a])) {
            self.chunks[a].push(End::Head, v);
        } else {
            let mut c = Chunk::empty(n.max(MIN_CAP), End::Tail);
            c.push(End::Tail, v);
            self.chunks.insert(before.map_or(0, |b| b + 1), c);
        }
    }

    /// Removes up to `limit` elements equal to `v` (all of them when `limit`
    /// is 0), the first ones met from the head, or from the tail. Returns how
    /// many were removed.
    pub fn remove_matching(&mut self, v: &[u8], limit: usize, from_tail: bool) -> usize {
        let limit = if limit == 0 { usize::MAX } else { limit };
        let mut removed = 0;
        for k in 0..self.chunks.len() {
            if removed == limit {
                break;
            }
            let ci = if from_tail { self.chunks.len() - 1 - k } else { k };
            removed += self.chunks[ci].remove_matching(v, limit - removed, from_tail);
        }
        if removed > 0 {
            self.len -= removed;
            self.compact();
        }
        removed
    }

    /// Drops empty chunks, merges neighbours that fit in one and shrinks
    /// sparse buffers, in one pass.
    fn compact(&mut self) {
        let old = std::mem::take(&mut self.chunks);
        let mut out: VecDeque<Chunk> = VecDeque::with_capacity(old.len());
        for c in old {
            if c.count == 0 {
                continue;
            }
            if let Some(last) = out.back_mut() {
                if last.used() + c.used() <= CHUNK_MAX {
                    last.append(&c);
                    continue;
                }
            }
            out.push_back(c);
        }
        for c in out.iter_mut() {
            c.fit();
        }
        self.chunks = out;
    }

    /// Iterates from the head; reversible.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, self.len)
    }

    /// Iterates over the elements with index in `start..end` (clamped to the
    /// list), head to tail or, reversed, tail to head.
    pub fn range(&self, start: usize, end: usize) -> Iter<'_> {
        let end = end.min(self.len);
        if start >= end {
            return Iter {
                list: self,
                front: Pos { chunk: 0, at: 0 },
                back: Pos { chunk: 0, at: 0 },
                left: 0,
            };
        }
        let front = self.locate(start);
        let back = if end == self.len {
            let last = self.chunks.len() - 1;
            Pos { chunk: last, at: self.chunks[last].hi }
        } else {
            self.locate(end)
        };
        Iter { list: self, front, back, left: end - start }
    }

    #[cfg(test)]
    fn check(&self) {
        let mut total = 0;
        for c in &self.chunks {
            assert!(c.count > 0, "empty chunk");
            assert!(c.lo <= c.hi && c.hi <= c.cap());
            let mut p = c.lo;
            let mut k = 0;
            while p < c.hi {
                p = next_entry(&c.buf, p);
                k += 1;
            }
            assert_eq!(p, c.hi);
            assert_eq!(k, c.count);
            total += k;
        }
        assert_eq!(total, self.len);
    }
}

/// An iterator over a range of a list's elements, from either end.
pub struct Iter<'a> {
    list: &'a List,
    /// The next entry from the front: it may be the end of a chunk's data,
    /// when the next element is at the start of the following chunk.
    front: Pos,
    /// One past the next entry from the back (may be a chunk's start).
    back: Pos,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let chunks = &self.list.chunks;
        let mut c = &chunks[self.front.chunk];
        while self.front.at >= c.hi {
            self.front.chunk += 1;
            c = &chunks[self.front.chunk];
            self.front.at = c.lo;
        }
        let (d, n) = decode_head(&c.buf, self.front.at);
        self.front.at = d + n + len_bytes(n);
        Some(&c.buf[d..d + n])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let chunks = &self.list.chunks;
        let mut c = &chunks[self.back.chunk];
        while self.back.at <= c.lo {
            self.back.chunk -= 1;
            c = &chunks[self.back.chunk];
            self.back.at = c.hi;
        }
        let (d, n) = decode_tail(&c.buf, self.back.at);
        self.back.at = d - len_bytes(n);
        Some(&c.buf[d..d + n])
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(String::from_utf8_lossy)).finish()
    }
}

impl<'a> FromIterator<&'a [u8]> for List {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> List {
        let mut l = List::new();
        for v in iter {
            l.push_back(v);
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn elem(tag: usize, size: usize) -> Vec<u8> {
        let mut v = format!("{tag}:").into_bytes();
        v.resize(size.max(v.len()), b'a' + (tag % 26) as u8);
        v
    }

    #[test]
    fn length_tiers_round_trip() {
        for n in [0, 1, 127, 128, 16383, 16384, 70000] {
            let v = vec![7u8; n];
            let mut buf = vec![0u8; entry_size(n)];
            encode(&mut buf, &v);
            assert_eq!(decode_head(&buf, 0), (len_bytes(n), n));
            assert_eq!(decode_tail(&buf, buf.len()), (len_bytes(n), n));
        }
        assert_eq!(entry_size(3), 5);
        assert_eq!(entry_size(200), 204);
    }

    #[test]
    fn pushes_and_pops_at_both_ends() {
        let mut l = List::new();
        for i in 0..5000 {
            l.push_back(&elem(i, 3));
            l.push_front(&elem(i, 3));
        }
        l.check();
        assert_eq!(l.len(), 10000);
        assert!(l.chunks.len() > 2);
        assert_eq!(l.get(0), Some(&elem(4999, 3)[..]));
        assert_eq!(l.get(9999), Some(&elem(4999, 3)[..]));
        assert_eq!(l.get(5000), Some(&elem(0, 3)[..]));
        for i in (0..5000).rev() {
            assert_eq!(l.pop(End::Head), Some(elem(i, 3)));
            assert_eq!(l.pop(End::Tail), Some(elem(i, 3)));
        }
        assert!(l.is_empty());
        assert!(l.chunks.is_empty());
    }

    #[test]
    fn big_elements_get_their_own_chunk() {
        let mut l = List::new();
        l.push_back(b"a");
        l.push_back(&vec![b'x'; 20000]);
        l.push_back(b"b");
        l.check();
        assert_eq!(l.chunks.len(), 3);
        assert_eq!(l.get(1).map(|v| v.len()), Some(20000));
        assert!(l.set(1, b"small"));
        assert!(l.set(0, &vec![b'y'; 9000]));
        l.check();
        assert_eq!(l.iter().map(|v| v.len()).collect::<Vec<_>>(), [9000, 5, 1]);
    }

    #[test]
    fn memory_is_compact() {
        let mut l = List::new();
        for i in 0..100_000 {
            l.push_back(&elem(i % 10, 10));
        }
        // 12 bytes per element, plus less than one partly used chunk.
        assert!(l.heap_size() < 100_000 * 12 + 3 * CHUNK_MAX, "{}", l.heap_size());
        let mut small = List::new();
        small.push_back(b"x");
        assert!(small.heap_size() <= 64 + MIN_CAP, "{}", small.heap_size());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Push(bool, usize, usize),
        Pop(bool),
        Discard(bool, usize),
        Set(usize, usize, usize),
        Insert(usize, bool, usize, usize),
        Remove(usize, usize, bool),
        Range(usize, usize),
    }

    fn size() -> impl Strategy<Value = usize> {
        prop_oneof![8 => 0usize..20, 2 => 100usize..300, 1 => 7000usize..9000, 1 => 16380usize..16390]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<bool>(), 0usize..6, size()).prop_map(|(h, t, s)| Op::Push(h, t, s)),
            2 => any::<bool>().prop_map(Op::Pop),
            1 => (any::<bool>(), 0usize..50).prop_map(|(h, n)| Op::Discard(h, n)),
            2 => (any::<usize>(), 0usize..6, size()).prop_map(|(i, t, s)| Op::Set(i, t, s)),
            2 => (any::<usize>(), any::<bool>(), 0usize..6, size()).prop_map(|(i, a, t, s)| Op::Insert(i, a, t, s)),
            1 => (0usize..6, 0usize..4, any::<bool>()).prop_map(|(t, n, r)| Op::Remove(t, n, r)),
            2 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::Range(a, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn behaves_like_a_vecdeque(ops in proptest::collection::vec(op(), 1..300)) {
            let mut l = List::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for op in ops {
                match op {
                    Op::Push(head, t, s) => {
                        let v = elem(t, s);
                        if head { l.push_front(&v); m.push_front(v) } else { l.push_back(&v); m.push_back(v) }
                    }
                    Op::Pop(head) => {
                        let (a, b) = if head { (l.pop(End::Head), m.pop_front()) } else { (l.pop(End::Tail), m.pop_back()) };
                        prop_assert_eq!(a, b);
                    }
                    Op::Discard(head, n) => {
                        l.discard(if head { End::Head } else { End::Tail }, n);
                        for _ in 0..n.min(m.len()) {
                            if head { m.pop_front(); } else { m.pop_back(); }
                        }
                    }
                    Op::Set(i, t, s) => {
                        let v = elem(t, s);
                        let i = if m.is_empty() { i % 3 } else { i % (m.len() + 2) };
                        prop_assert_eq!(l.set(i, &v), i < m.len());
                        if i < m.len() { m[i] = v; }
                    }
                    Op::Insert(t, after, nt, s) => {
                        let pivot = elem(t, 0);
                        let v = elem(nt, s);
                        let found = l.find(&pivot);
                        let mi = m.iter().position(|e| e.starts_with(&pivot[..]) && e.len() == pivot.len());
                        prop_assert_eq!(found.is_some(), mi.is_some());
                        if let (Some(p), Some(i)) = (found, mi) {
                            l.insert(p, after, &v);
                            m.insert(if after { i + 1 } else { i }, v);
                        }
                    }
                    Op::Remove(t, n, tail) => {
                        let v = elem(t, 0);
                        let got = l.remove_matching(&v, n, tail);
                        let limit = if n == 0 { usize::MAX } else { n };
                        let mut removed = 0;
                        if tail {
                            let mut i = m.len();
                            while i > 0 && removed < limit {
                                i -= 1;
                                if m[i] == v { m.remove(i); removed += 1; }
                            }
                        } else {
                            let mut i = 0;
                            while i < m.len() && removed < limit {
                                if m[i] == v { m.remove(i); removed += 1; } else { i += 1; }
                            }
                        }
                        prop_assert_eq!(got, removed);
                    }
                    Op::Range(a, b) => {
                        let n = m.len() + 2;
                        let (a, b) = (a % n, b % n);
                        let want: Vec<&[u8]> = m.iter().skip(a).take(b.saturating_sub(a)).map(|v| &v[..]).collect();
                        prop_assert_eq!(l.range(a, b).collect::<Vec<_>>(), want.clone());
                        let rev: Vec<&[u8]> = want.into_iter().rev().collect();
                        prop_assert_eq!(l.range(a, b).rev().collect::<Vec<_>>(), rev);
                    }
                }
                l.check();
                prop_assert_eq!(l.len(), m.len());
                prop_assert_eq!(l.peek(End::Head), m.front().map(|v| &v[..]));
                prop_assert_eq!(l.peek(End::Tail), m.back().map(|v| &v[..]));
            }
            prop_assert!(l.iter().eq(m.iter().map(|v| &v[..])));
            for (i, v) in m.iter().enumerate() {
                prop_assert_eq!(l.get(i), Some(&v[..]));
            }
            // Both directions at once meet in the middle.
            let mut it = l.iter();
            let mut k = 0;
            while let Some(x) = if k % 2 == 0 { it.next() } else { it.next_back() } {
                let want = if k % 2 == 0 { &m[k / 2] } else { &m[m.len() - 1 - k / 2] };
                prop_assert_eq!(x, &want[..]);
                k += 1;
            }
            prop_assert_eq!(k, m.len());
        }
    }
}
