//! LZF, the compression Redis applies to RDB strings longer than 20 bytes.
//!
//! A compressed stream is a sequence of runs, each opened by a control byte:
//! below 32 it announces `ctrl + 1` literal bytes; otherwise its top three
//! bits are a match length less two (7 meaning a length byte follows) and its
//! low five bits, with the next byte, the distance back, less one, to copy
//! from in the output produced so far. Copies may overlap their source.
//!
//! Shoal reads LZF (redis-server compresses what it DUMPs) and writes it too,
//! for long strings, so that a payload crossing the network stays small.

/// Decompresses `input` into exactly `len` bytes; `None` when the stream is
/// malformed or does not produce exactly `len` bytes.
pub fn decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(ip..ip.checked_add(run)?)?;
            if out.len() + run > len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut run = ctrl >> 5;
            if run == 7 {
                run += *input.get(ip)? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(ip)? as usize + 1;
            ip += 1;
            let run = run + 2;
            if out.len() + run > len || back > out.len() {
                return None;
            }
            let from = out.len() - back;
            if back >= run {
                out.extend_from_within(from..from + run);
            } else {
                // The copy overlaps what it writes: byte by byte.
                for i in 0..run {
                    let b = out[from + i];
                    out.push(b);
                }
            }
        }
    }
    (out.len() == len).then_some(out)
}

/// Matches may start at most this far back (13 bits of distance).
const MAX_OFF: usize = 1 << 13;
/// The longest match one run can copy (7 + 255, plus the implied 2).
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// The longest literal run.
const MAX_LIT: usize = 1 << 5;
const HASH_BITS: u32 = 14;

/// Compresses `input`; `None` when the result would not be at most
/// `max_out` bytes (Redis keeps a string compressed only when that saves at
/// least four bytes, and the caller says so through `max_out`).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    if input.len() >= u32::MAX as usize {
        return None;
    }
    TABLE.with(|t| {
        let mut table = t.borrow_mut();
        table.fill(0);
        compress_with(input, max_out, &mut table)
    })
}

thread_local! {
    /// The match table, kept between calls: allocating and zeroing a fresh
    /// one per string cost more than compressing an 8 KiB list node.
    static TABLE: std::cell::RefCell<Vec<u32>> = std::cell::RefCell::new(vec![0; 1 << HASH_BITS]);
}

fn compress_with(input: &[u8], max_out: usize, table: &mut [u32]) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out = Vec::with_capacity(max_out.min(n + n / 32 + 1));
    let hash = |p: usize| -> usize {
        let v = (input[p] as u32) << 16 | (input[p + 1] as u32) << 8 | input[p + 2] as u32;
        (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
    };
    // Literals wait in `lit_start..ip` until a match (or the end) flushes them.
    let mut lit_start = 0;
    let mut ip = 0;
    let flush = |out: &mut Vec<u8>, lits: &[u8]| {
        for chunk in lits.chunks(MAX_LIT) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
    };
    while ip + 2 < n {
        let h = hash(ip);
        // Table entries hold position + 1, so that 0 means empty.
        let cand = table[h] as usize;
        table[h] = (ip + 1) as u32;
        if cand > 0 {
            let r = cand - 1;
            let off = ip - r - 1;
            if off < MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                let max_len = (n - ip).min(MAX_REF);
                let mut len = 3;
                while len < max_len && input[r + len] == input[ip + len] {
                    len += 1;
                }
                flush(&mut out, &input[lit_start..ip]);
                let l = len - 2;
                if l < 7 {
                    out.push(((l << 5) | (off >> 8)) as u8);
                } else {
                    out.push(((7 << 5) | (off >> 8)) as u8);
                    out.push((l - 7) as u8);
                }
                out.push((off & 0xff) as u8);
                if out.len() > max_out {
                    return None;
                }
                ip += len;
                lit_start = ip;
                continue;
            }
        }
        ip += 1;
    }
    flush(&mut out, &input[lit_start..]);
    (out.len() <= max_out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_literals_and_overlapping_matches() {
        // "abc" as literals, then a 6-byte match one back... of distance 3: "abcabc".
        let c = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(decompress(&c, 9).unwrap(), b"abcabcabc");
        // Distance 1 repeats the last byte (an overlapping copy).
        let c = [0, b'x', (3 << 5), 0];
        assert_eq!(decompress(&c, 6).unwrap(), b"xxxxxx");
        // A long match: length byte after a 7.
        let c = [0, b'y', (7 << 5), 10, 0];
        assert_eq!(decompress(&c, 1 + 19).unwrap(), vec![b'y'; 20]);
    }

    #[test]
    fn rejects_malformed_streams() {
        assert_eq!(decompress(&[2, b'a'], 3), None); // literal past the end
        assert_eq!(decompress(&[0, b'a', (1 << 5), 5], 4), None); // reference before the start
        assert_eq!(decompress(&[0, b'a'], 2), None); // too short
        assert_eq!(decompress(&[1, b'a', b'b'], 1), None); // too long
        assert_eq!(decompress(&[(1 << 5)], 3), None); // missing distance byte
        assert_eq!(decompress(&[], 0), Some(Vec::new()));
    }

    #[test]
    fn compresses_repetitive_data() {
        let data = b"hello hello hello hello hello hello hello hello".repeat(20);
        let c = compress(&data, data.len() - 4).unwrap();
        assert!(c.len() < data.len() / 10);
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
        let random: Vec<u8> = (0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        assert_eq!(compress(&random, random.len() - 4), None);
    }

    proptest! {
        #[test]
        fn round_trips(data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..3000)) {
            if let Some(c) = compress(&data, data.len() + data.len() / 16 + 16) {
                prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), len in 0usize..300) {
            let _ = decompress(&data, len);
        }
    }
}
