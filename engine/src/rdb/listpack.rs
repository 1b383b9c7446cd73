//! Redis's compact blobs as they appear inside RDB values: listpacks (read
//! and written), and the older ziplists, intsets and zipmaps (read; intsets
//! written too).
//!
//! Every reader here takes untrusted bytes: each length is checked against
//! what is left before anything is read or allocated, and any inconsistency
//! (a header that disagrees with the size, an entry running past the end, a
//! back-length that does not match its entry) is a `None`, never a panic.

/// One element of a listpack or ziplist: the blobs store integers apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// The element as bytes, integers written in decimal (into `scratch`).
    pub fn bytes<'s>(&self, scratch: &'s mut itoa::Buffer) -> &'s [u8]
    where
        'a: 's,
    {
        match self {
            Elem::Int(n) => scratch.format(*n).as_bytes(),
            Elem::Str(s) => s,
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes(&mut itoa::Buffer::new()).to_vec()
    }

    /// The element as an integer: stored as one, or a string that is one
    /// (Redis's `lpGetIntegerIfValid`).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Elem::Int(n) => Some(*n),
            Elem::Str(s) => crate::num::parse_i64(s),
        }
    }
}

// ---------------------------------------------------------------------------
// Listpack.
//
// Header: total bytes (u32 LE), element count (u16 LE, 65535 = unknown).
// Each element: an encoding byte (with inline length or value bits), the
// data, then a back-length (the size of encoding + data, written from its
// last byte backwards in 7-bit groups) so the pack can be walked backwards.
// A 0xFF byte ends the pack.

const LP_HEADER: usize = 6;
const LP_EOF: u8 = 0xFF;
const LP_COUNT_UNKNOWN: u16 = u16::MAX;

/// The bytes the back-length of an element of `len` bytes takes.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

fn put_backlen(out: &mut Vec<u8>, len: usize) {
    let n = backlen_size(len);
    // The first byte holds the most significant group and no continuation
    // bit; each following byte a lower group with the bit set.
    for i in (0..n).rev() {
        let group = ((len >> (7 * i)) & 127) as u8;
        out.push(if i == n - 1 { group } else { group | 128 });
    }
}

/// Builds a listpack element by element.
pub struct LpWriter {
    buf: Vec<u8>,
    count: usize,
}

impl Default for LpWriter {
    fn default() -> Self {
        LpWriter::new()
    }
}

impl LpWriter {
    pub fn new() -> LpWriter {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; LP_HEADER]);
        LpWriter { buf, count: 0 }
    }

    /// The size of a finished pack with no elements.
    pub const EMPTY_BYTES: usize = LP_HEADER + 1;

    /// The bytes [`LpWriter::push`] adds for `s`.
    pub fn entry_size(s: &[u8]) -> usize {
        let enc = match crate::num::parse_i64(s) {
            Some(v) => int_size(v),
            None => {
                let header = match s.len() {
                    0..=63 => 1,
                    64..=4095 => 2,
                    _ => 5,
                };
                header + s.len()
            }
        };
        enc + backlen_size(enc)
    }

    /// The size the finished pack would have.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends a string, as an integer when it is a canonical one (as
    /// Redis's `lpAppend` does).
    pub fn push(&mut self, s: &[u8]) {
        if let Some(n) = crate::num::parse_i64(s) {
            return self.push_int(n);
        }
        let start = self.buf.len();
        let len = s.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf.push(0xE0 | (len >> 8) as u8);
            self.buf.push((len & 0xff) as u8);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let enc = self.buf.len() - start;
        put_backlen(&mut self.buf, enc);
        self.count += 1;
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        match v {
            0..=127 => self.buf.push(v as u8),
            -4096..=4095 => {
                let u = (v as u64) & 0x1fff;
                self.buf.push(0xC0 | (u >> 8) as u8);
                self.buf.push((u & 0xff) as u8);
            }
            -32768..=32767 => {
                self.buf.push(0xF1);
                self.buf.extend_from_slice(&(v as i16).to_le_bytes());
            }
            -8_388_608..=8_388_607 => {
                self.buf.push(0xF2);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            -2_147_483_648..=2_147_483_647 => {
                self.buf.push(0xF3);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                self.buf.push(0xF4);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        let enc = self.buf.len() - start;
        put_backlen(&mut self.buf, enc);
        self.count += 1;
    }

    pub fn push_elem(&mut self, e: Elem<'_>) {
        match e {
            Elem::Int(n) => self.push_int(n),
            Elem::Str(s) => self.push(s),
        }
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(LP_EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = if self.count < LP_COUNT_UNKNOWN as usize { self.count as u16 } else { LP_COUNT_UNKNOWN };
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// The encoded size of an integer element, before its back-length.
fn int_size(v: i64) -> usize {
    match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    }
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| acc << 8 | x as u64)
}

/// Decodes the listpack element at `p` (not the terminator): the element
/// and the offset of the next one.
fn lp_entry(lp: &[u8], p: usize) -> Option<(Elem<'_>, usize)> {
    let b = *lp.get(p)?;
    // (encoding bytes, data bytes, whether the data is a string)
    let (header, data_len, string) = match b {
        0x00..=0x7F => (1, 0, false),
        0x80..=0xBF => (1, (b & 0x3f) as usize, true),
        0xC0..=0xDF => (1, 1, false),
        0xE0..=0xEF => (2, ((b as usize & 0x0f) << 8) | *lp.get(p + 1)? as usize, true),
        0xF0 => (5, le(lp.get(p + 1..p + 5)?) as usize, true),
        0xF1 => (1, 2, false),
        0xF2 => (1, 3, false),
        0xF3 => (1, 4, false),
        0xF4 => (1, 8, false),
        _ => return None,
    };
    let data_at = p.checked_add(header)?;
    let data = lp.get(data_at..data_at.checked_add(data_len)?)?;
    let elem = match b {
        _ if string => Elem::Str(data),
        0x00..=0x7F => Elem::Int(b as i64),
        0xC0..=0xDF => Elem::Int(sign_extend(((b as u64 & 0x1f) << 8) | data[0] as u64, 13)),
        0xF4 => Elem::Int(le(data) as i64),
        _ => Elem::Int(sign_extend(le(data), 8 * data_len as u32)),
    };
    let enc = header + data_len;
    let back_at = data_at + data_len;
    let back = lp.get(back_at..back_at.checked_add(backlen_size(enc))?)?;
    // The back-length must decode (from its last byte backwards) to `enc`.
    let mut v = 0usize;
    for (i, &byte) in back.iter().rev().enumerate() {
        v |= ((byte & 127) as usize) << (7 * i);
        let last = i + 1 == back.len();
        if (byte & 128 != 0) == last {
            return None;
        }
    }
    if v != enc {
        return None;
    }
    Some((elem, back_at + back.len()))
}

/// The elements of a listpack, checked whole first: `None` if it is malformed.
pub fn lp_elements(lp: &[u8]) -> Option<Vec<Elem<'_>>> {
    if lp.len() < LP_HEADER + 1 || le(&lp[..4]) != lp.len() as u64 || lp[lp.len() - 1] != LP_EOF {
        return None;
    }
    let count = le(&lp[4..6]) as u16;
    let end = lp.len() - 1;
    let body = &lp[..end];
    let mut out = Vec::with_capacity(if count == LP_COUNT_UNKNOWN { 0 } else { count as usize });
    let mut p = LP_HEADER;
    while p < end {
        let (e, next) = lp_entry(body, p)?;
        out.push(e);
        p = next;
    }
    if p != end || (count != LP_COUNT_UNKNOWN && count as usize != out.len()) {
        return None;
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// Ziplist (Redis before 7.0).
//
// Header: total bytes (u32 LE), offset of the last entry (u32 LE), count
// (u16 LE, 65535 = unknown). Each entry: the previous entry's size (1 byte,
// or 0xFE and a u32 LE), an encoding, the data. 0xFF ends the list.

const ZL_HEADER: usize = 10;
const ZL_END: u8 = 0xFF;

/// The elements of a ziplist, checked whole: `None` if it is malformed.
pub fn zl_elements(zl: &[u8]) -> Option<Vec<Elem<'_>>> {
    if zl.len() < ZL_HEADER + 1 || le(&zl[..4]) != zl.len() as u64 || zl[zl.len() - 1] != ZL_END {
        return None;
    }
    let tail = le(&zl[4..8]) as usize;
    let count = le(&zl[8..10]) as u16;
    let end = zl.len() - 1;
    if tail > end {
        return None;
    }
    let body = &zl[..end];
    let mut out = Vec::new();
    let (mut p, mut prev_size, mut last) = (ZL_HEADER, 0usize, None);
    while p < end {
        let start = p;
        let prevlen = match body[p] {
            0xFE => {
                let v = le(body.get(p + 1..p + 5)?) as usize;
                p += 5;
                v
            }
            0xFF => return None,
            v => {
                p += 1;
                v as usize
            }
        };
        if prevlen != prev_size {
            return None;
        }
        let b = *body.get(p)?;
        let elem = match b >> 6 {
            0..=2 => {
                let (hdr, len) = match b >> 6 {
                    0 => (1, (b & 0x3f) as usize),
                    1 => (2, ((b as usize & 0x3f) << 8) | *body.get(p + 1)? as usize),
                    _ => {
                        let l = body.get(p + 1..p + 5)?;
                        (5, u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
                    }
                };
                let s = body.get(p + hdr..(p + hdr).checked_add(len)?)?;
                p += hdr + len;
                Elem::Str(s)
            }
            _ => {
                let width = match b {
                    0xC0 => 2,
                    0xD0 => 4,
                    0xE0 => 8,
                    0xF0 => 3,
                    0xFE => 1,
                    0xF1..=0xFD => 0,
                    _ => return None,
                };
                let data = body.get(p + 1..p + 1 + width)?;
                let v = match width {
                    0 => (b & 0x0f) as i64 - 1,
                    8 => le(data) as i64,
                    w => sign_extend(le(data), 8 * w as u32),
                };
                p += 1 + width;
                Elem::Int(v)
            }
        };
        out.push(elem);
        prev_size = p - start;
        last = Some(start);
    }
    if let Some(l) = last {
        if l != tail {
            return None;
        }
    }
    if count != u16::MAX && count as usize != out.len() {
        return None;
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// Intset: encoding width (u32 LE: 2, 4 or 8), count (u32 LE), then the
// members in ascending order, each that many bytes little-endian.

/// The members of an intset, which must be strictly ascending.
pub fn intset_members(blob: &[u8]) -> Option<Vec<i64>> {
    if blob.len() < 8 {
        return None;
    }
    let width = le(&blob[..4]) as usize;
    let count = le(&blob[4..8]) as usize;
    if !matches!(width, 2 | 4 | 8) || count.checked_mul(width)? != blob.len() - 8 {
        return None;
    }
    let members: Vec<i64> =
        blob[8..].chunks_exact(width).map(|c| sign_extend(le(c), 8 * width as u32)).collect();
    if members.windows(2).any(|w| w[0] >= w[1]) {
        return None;
    }
    Some(members)
}

/// An intset of `members` (ascending, distinct), in the narrowest width.
pub fn intset_blob(members: &[i64]) -> Vec<u8> {
    let width: usize = match members.iter().fold((0i64, 0i64), |(lo, hi), &v| (lo.min(v), hi.max(v))) {
        (lo, hi) if lo >= i16::MIN as i64 && hi <= i16::MAX as i64 => 2,
        (lo, hi) if lo >= i32::MIN as i64 && hi <= i32::MAX as i64 => 4,
        _ => 8,
    };
    let mut out = Vec::with_capacity(8 + members.len() * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for v in members {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

// ---------------------------------------------------------------------------
// Zipmap (Redis 2.4 hashes): a count byte, then per pair the field length,
// the field, the value length, a byte of free space, the value and that
// many free bytes. Lengths are one byte below 254, else 254 and a u32 LE.

/// The (field, value) pairs of a zipmap.
pub fn zipmap_pairs(zm: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    if zm.len() < 2 || zm[zm.len() - 1] != 0xFF {
        return None;
    }
    let end = zm.len() - 1;
    let body = &zm[..end];
    let len_at = |p: &mut usize| -> Option<usize> {
        match *body.get(*p)? {
            254 => {
                let v = le(body.get(*p + 1..*p + 5)?) as usize;
                *p += 5;
                Some(v)
            }
            255 => None,
            v => {
                *p += 1;
                Some(v as usize)
            }
        }
    };
    let mut out = Vec::new();
    let mut p = 1;
    while p < end {
        let flen = len_at(&mut p)?;
        let field = body.get(p..p.checked_add(flen)?)?;
        p += flen;
        let vlen = len_at(&mut p)?;
        let free = *body.get(p)? as usize;
        p += 1;
        let value = body.get(p..p.checked_add(vlen)?)?;
        p += vlen;
        p = p.checked_add(free)?;
        if p > end {
            return None;
        }
        out.push((field, value));
    }
    if out.is_empty() || (zm[0] < 254 && zm[0] as usize != out.len()) {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_size_is_what_push_adds() {
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for v in [
            0i64,
            127,
            128,
            -1,
            4095,
            -4096,
            4096,
            32767,
            -32769,
            8_388_607,
            -8_388_609,
            i32::MAX as i64,
            i64::MIN,
        ] {
            cases.push(v.to_string().into_bytes());
        }
        for n in [0, 1, 63, 64, 127, 128, 4095, 4096, 16_383, 70_000] {
            cases.push(vec![b'z'; n]);
        }
        cases.push(b"007".to_vec());
        cases.push(b"-0".to_vec());
        for c in cases {
            let mut lp = LpWriter::new();
            assert_eq!(lp.bytes(), LpWriter::EMPTY_BYTES);
            lp.push(&c);
            assert_eq!(
                lp.bytes(),
                LpWriter::EMPTY_BYTES + LpWriter::entry_size(&c),
                "{:?}",
                String::from_utf8_lossy(&c)
            );
        }
    }

    #[test]
    fn listpack_round_trip_every_encoding() {
        let ints = [
            0i64,
            1,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            2_147_483_647,
            -2_147_483_648,
            2_147_483_648,
            i64::MAX,
            i64::MIN,
        ];
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let mut w = LpWriter::new();
        for v in ints {
            w.push_int(v);
        }
        w.push(b"");
        w.push(b"hello");
        w.push(&mid);
        w.push(&long);
        w.push(b"0123");
        w.push(b"-17");
        let lp = w.finish();
        let els = lp_elements(&lp).unwrap();
        let mut want: Vec<Elem<'_>> = ints.iter().map(|&v| Elem::Int(v)).collect();
        want.extend([
            Elem::Str(b""),
            Elem::Str(b"hello"),
            Elem::Str(&mid),
            Elem::Str(&long),
            Elem::Str(b"0123"),
        ]);
        want.push(Elem::Int(-17));
        assert_eq!(els, want);
    }

    #[test]
    fn listpack_matches_redis_bytes() {
        // What redis-server 7.0 DUMPs for `RPUSH l a 1 -5 300` (the node's listpack).
        let mut w = LpWriter::new();
        for e in [&b"a"[..], b"1", b"-5", b"300"] {
            w.push(e);
        }
        let lp = w.finish();
        assert_eq!(lp, [0x12, 0, 0, 0, 4, 0, 0x81, b'a', 2, 1, 1, 0xDF, 0xFB, 2, 0xC1, 0x2C, 2, 0xFF]);
    }

    #[test]
    fn listpack_rejects_damage() {
        let mut w = LpWriter::new();
        w.push(b"abc");
        w.push_int(1000);
        let lp = w.finish();
        assert!(lp_elements(&lp).is_some());
        for cut in 0..lp.len() {
            assert!(lp_elements(&lp[..cut]).is_none());
        }
        let mut bad = lp.clone();
        bad[4] = 3; // count
        assert!(lp_elements(&bad).is_none());
        let mut bad = lp.clone();
        bad[10] = 9; // back-length of "abc"
        assert!(lp_elements(&bad).is_none());
    }

    #[test]
    fn backlen_bytes() {
        for (len, want) in [
            (5usize, vec![5u8]),
            (200, vec![1, 200 & 127 | 128]),
            (16383, vec![0, 255, 255]),
            (2_097_152, vec![1, 128, 128, 128]),
        ] {
            let mut v = Vec::new();
            put_backlen(&mut v, len);
            assert_eq!(v, want, "{len}");
        }
    }

    /// A ziplist built by hand the way Redis lays one out.
    fn ziplist(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = ZL_HEADER;
        for e in entries {
            tail = ZL_HEADER + body.len();
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(0xFE);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(e);
            prev = body.len() - start;
        }
        let mut zl = Vec::new();
        zl.extend_from_slice(&((ZL_HEADER + body.len() + 1) as u32).to_le_bytes());
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(ZL_END);
        zl
    }

    #[test]
    fn ziplist_every_encoding() {
        let long = vec![b'z'; 300];
        let mut l14 = vec![0x40 | 1, 44];
        l14.extend_from_slice(&long);
        let mut l32 = vec![0x80, 0, 0, 0, 3];
        l32.extend_from_slice(b"abc");
        let zl = ziplist(&[
            vec![0x03, b'f', b'o', b'o'],
            l14,
            l32,
            vec![0xF1],
            vec![0xFD],
            vec![0xFE, 0x80],
            vec![0xC0, 0x00, 0x80],
            vec![0xF0, 0xFF, 0xFF, 0x7F],
            vec![0xD0, 0xFF, 0xFF, 0xFF, 0xFF],
            vec![0xE0, 1, 0, 0, 0, 0, 0, 0, 0x80],
        ]);
        let els = zl_elements(&zl).unwrap();
        assert_eq!(
            els,
            vec![
                Elem::Str(b"foo"),
                Elem::Str(&long),
                Elem::Str(b"abc"),
                Elem::Int(0),
                Elem::Int(12),
                Elem::Int(-128),
                Elem::Int(-32768),
                Elem::Int(8_388_607),
                Elem::Int(-1),
                Elem::Int(i64::MIN + 1),
            ]
        );
        for cut in 0..zl.len() {
            assert!(zl_elements(&zl[..cut]).is_none());
        }
    }

    #[test]
    fn intsets() {
        for members in [vec![1i64, 2, 3], vec![-70000, 5], vec![i64::MIN, 0, i64::MAX]] {
            let blob = intset_blob(&members);
            assert_eq!(intset_members(&blob).unwrap(), members);
        }
        assert_eq!(intset_blob(&[1, 2])[..4], [2, 0, 0, 0]);
        assert!(intset_members(&intset_blob(&[2, 1])).is_none());
        assert!(intset_members(&[2, 0, 0, 0, 1, 0, 0, 0, 5]).is_none());
    }

    #[test]
    fn zipmaps() {
        let zm = b"\x02\x03foo\x03\x00bar\x05hello\x05\x02worldxx\xff";
        let pairs = zipmap_pairs(zm).unwrap();
        assert_eq!(pairs, vec![(&b"foo"[..], &b"bar"[..]), (&b"hello"[..], &b"world"[..])]);
        assert!(zipmap_pairs(b"\x00\xff").is_none());
        assert!(zipmap_pairs(b"\x01\x03foo\x03\x00ba\xff").is_none());
    }
}
