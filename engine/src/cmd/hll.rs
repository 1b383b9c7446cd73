//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, and the PFDEBUG and
//! PFSELFTEST internals.
//!
//! A HyperLogLog is a string value holding Redis's exact byte layout, so that
//! GET, SET, DUMP/RESTORE and RDB files carry it between Shoal and Redis
//! unchanged:
//!
//! ```text
//! "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | cached cardinality (u64 LE)
//! ```
//!
//! The top bit of the cached cardinality's last byte marks the cache stale.
//! 16384 registers (P = 14) of 6 bits follow: packed from the least
//! significant bit in the dense form (12288 bytes), or run-length coded in
//! the sparse form with three opcodes: ZERO `00xxxxxx` (1-64 empty
//! registers), XZERO `01xxxxxx yyyyyyyy` (1-16384 empty registers) and VAL
//! `1vvvvvxx` (1-4 registers of value 1-32). A new HyperLogLog is sparse; it
//! becomes dense for good once a register exceeds 32 or the sparse form
//! would pass `hll-sparse-max-bytes`. Elements are hashed with MurmurHash64A
//! (seed 0xadc83b19) and counts estimated as Redis 7 does (Ertl's improved
//! estimator). Every transformation below follows Redis's step by step,
//! including where it merges adjacent opcodes, because the bytes must match.

use crate::command::{eq_ic, flags::*, Command, Group, KeySpec, Keys, Run};
use crate::error::{CmdError, CmdResult, WRONGTYPE};
use crate::shard::Ctx;
use crate::value::{Str, Value};

const NOT_HLL: CmdError = CmdError::new("WRONGTYPE Key is not a valid HyperLogLog string value.");
const CORRUPT: CmdError = CmdError::new("INVALIDOBJ Corrupted HLL object detected");
const NO_KEY: CmdError = CmdError::new("ERR The specified key does not exist");
const NOT_SPARSE: CmdError = CmdError::new("ERR HLL encoding is not sparse");

/// Register index bits.
pub const HLL_P: u32 = 14;
/// Hash bits left for the run of zeros.
const HLL_Q: usize = 64 - HLL_P as usize;
pub const REGISTERS: usize = 1 << HLL_P;
const REGISTER_MAX: u8 = 63;
/// The header: magic, encoding, 3 unused bytes, 8 bytes of cached cardinality.
pub const HEADER: usize = 16;
/// The length of every dense HyperLogLog.
pub const DENSE_SIZE: usize = HEADER + (REGISTERS * 6).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
/// Redis's default `hll-sparse-max-bytes`: the longest a sparse form may grow.
pub const SPARSE_MAX_BYTES: usize = 3000;
const SPARSE_VAL_MAX: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln(2)
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
const HASH_SEED: u64 = 0xadc8_3b19;

const HLL: Command = Command { group: Group::Hyperloglog, keys: Keys::ONE, ..Command::DEFAULT };

pub static COMMANDS: &[Command] = &[
    Command {
        name: "pfadd",
        arity: -2,
        flags: WRITE | DENYOOM | FAST,
        since: "2.8.9",
        complexity: "O(1) to add every element.",
        summary: "Adds elements to a HyperLogLog, creating it if needed.",
        key_specs: &[KeySpec { begin: 1, last: 0, step: 1, flags: "RW INSERT" }],
        run: Run::Shard(pfadd),
        ..HLL
    },
    Command {
        name: "pfcount",
        arity: -2,
        flags: READONLY | MAY_REPLICATE,
        keys: Keys::ALL,
        since: "2.8.9",
        complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        summary: "Estimates the number of distinct elements added to a HyperLogLog, or to the union of several.",
        key_specs: &[KeySpec { begin: 1, last: -1, step: 1, flags: "RW ACCESS" }],
        run: Run::Shard(pfcount),
        ..HLL
    },
    Command {
        name: "pfmerge",
        arity: -2,
        flags: WRITE | DENYOOM,
        keys: Keys::ALL,
        since: "2.8.9",
        complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
        summary: "Stores the union of HyperLogLogs in a key, itself included.",
        key_specs: &[
            KeySpec { begin: 1, last: 0, step: 1, flags: "RW ACCESS INSERT" },
            KeySpec { begin: 2, last: -1, step: 1, flags: "RO ACCESS" },
        ],
        run: Run::Shard(pfmerge),
        ..HLL
    },
    Command {
        name: "pfdebug",
        arity: 3,
        flags: WRITE | DENYOOM | ADMIN,
        keys: Keys { first: 2, last: 2, step: 1 },
        since: "2.8.9",
        complexity: "N/A",
        summary: "Shows a HyperLogLog's registers, opcodes or encoding, or makes it dense (internal).",
        key_specs: &[KeySpec { begin: 2, last: 0, step: 1, flags: "RW ACCESS" }],
        run: Run::Shard(pfdebug),
        ..HLL
    },
    Command {
        name: "pfselftest",
        arity: 1,
        flags: ADMIN,
        keys: Keys::NONE,
        since: "2.8.9",
        complexity: "N/A",
        summary: "Checks the HyperLogLog implementation: register access and estimation error (internal).",
        run: Run::Shard(pfselftest),
        ..HLL
    },
];

/// A sparse form that does not add up to 16384 registers.
#[derive(Debug, PartialEq, Eq)]
struct Corrupt;

impl From<Corrupt> for CmdError {
    fn from(_: Corrupt) -> CmdError {
        CORRUPT
    }
}

/// MurmurHash2, 64-bit version (MurmurHash64A), reading words little-endian
/// as Redis does on every platform.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the length of the `0...01` pattern
/// of the rest of its hash (1 to Q + 1).
fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, HASH_SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> HLL_P) | (1 << HLL_Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A new, empty HyperLogLog: sparse, one XZERO covering every register.
pub fn new_hll() -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.resize(HEADER, 0);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(SPARSE_XZERO_MAX_LEN);
        v.extend_from_slice(&xzero_op(run));
        left -= run;
    }
    v
}

/// Whether `bytes` is a string PFADD, PFCOUNT and PFMERGE accept, as Redis's
/// `isHLLObjectOrReply` judges it: the header, a known encoding, and the exact
/// length when dense. A sparse form is only checked when it is decoded.
pub fn is_hll(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER
        && &bytes[..4] == b"HYLL"
        && bytes[4] <= SPARSE
        && (bytes[4] != DENSE || bytes.len() == DENSE_SIZE)
}

/// The bytes of a value that must hold a HyperLogLog: WRONGTYPE for other
/// types, and Redis's own WRONGTYPE wording for strings that are not one
/// (integer-encoded strings never are).
fn hll_bytes(value: &Value) -> Result<&[u8], CmdError> {
    match value {
        Value::Str(Str::Emb(b)) if is_hll(b) => Ok(b),
        Value::Str(Str::Raw(b)) if is_hll(b) => Ok(b),
        Value::Str(_) => Err(NOT_HLL),
        _ => Err(WRONGTYPE),
    }
}

// ---- Dense registers: 6 bits each, packed from the least significant bit.

fn dense_get(regs: &[u8], i: usize) -> u8 {
    let (byte, fb) = (i * 6 / 8, (i * 6) & 7);
    let b0 = regs[byte] as u32;
    // Past the last byte Redis reads the string's NUL terminator.
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let (byte, fb) = (i * 6 / 8, (i * 6) & 7);
    let v = val as u32;
    regs[byte] &= !((REGISTER_MAX as u32) << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(b1) = regs.get_mut(byte + 1) {
        *b1 &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *b1 |= (v >> (8 - fb)) as u8;
    }
}

/// Raises register `i` to `count` if it is lower; returns whether it did.
fn dense_update(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

// ---- Sparse opcodes.

fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}

fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}

fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}

fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}

fn val_len(op: u8) -> usize {
    (op & 3) as usize + 1
}

fn val_op(value: u8, len: usize) -> u8 {
    (((value as usize - 1) << 2) | (len - 1)) as u8 | 0x80
}

fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | 0x40, (l & 0xff) as u8]
}

/// The byte at `i`, or 0 past the end (the C string's terminator).
fn byte_at(v: &[u8], i: usize) -> u8 {
    v.get(i).copied().unwrap_or(0)
}

/// The registers covered by the opcode at `p`, and the opcode's length.
fn op_span(v: &[u8], p: usize) -> (usize, usize) {
    let op = v[p];
    if is_zero(op) {
        ((op & 0x3f) as usize + 1, 1)
    } else if is_val(op) {
        (val_len(op), 1)
    } else {
        ((((op & 0x3f) as usize) << 8 | byte_at(v, p + 1) as usize) + 1, 2)
    }
}

/// Where register `index` lies in a sparse form: the opcode's position, the
/// first register it covers, its span, and the opcode before it.
struct Found {
    p: usize,
    first: usize,
    span: usize,
    prev: Option<usize>,
}

fn sparse_find(v: &[u8], index: usize) -> Result<Found, Corrupt> {
    let (mut p, mut first, mut span, mut prev) = (HEADER, 0, 0, None);
    while p < v.len() {
        let (s, oplen) = op_span(v, p);
        span = s;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= v.len() {
        return Err(Corrupt);
    }
    Ok(Found { p, first, span, prev })
}

/// The dense form of a sparse HyperLogLog: the header is kept (cached
/// cardinality included) with the encoding changed.
fn sparse_to_dense(v: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HEADER].copy_from_slice(&v[..HEADER]);
    dense[4] = DENSE;
    let regs = &mut dense[HEADER..];
    let (mut idx, mut p) = (0usize, HEADER);
    while p < v.len() {
        let op = v[p];
        if is_val(op) {
            let (run, val) = (val_len(op), val_value(op));
            if run + idx > REGISTERS {
                break;
            }
            for r in idx..idx + run {
                dense_set(regs, r, val);
            }
            idx += run;
            p += 1;
        } else {
            let (run, oplen) = op_span(v, p);
            idx += run;
            p += oplen;
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(dense)
}

/// Makes `v` dense (a no-op when it already is).
fn make_dense(v: &mut Vec<u8>) -> Result<(), Corrupt> {
    if v[4] == SPARSE {
        *v = sparse_to_dense(v)?;
    }
    Ok(())
}

/// Converts to dense and raises register `index` to `count`, which is
/// known to be above its current value.
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    make_dense(v)?;
    dense_update(&mut v[HEADER..], index, count);
    Ok(true)
}

/// Raises register `index` of a sparse HyperLogLog to `count` if it is
/// lower, as Redis's `hllSparseSet`: the opcode holding the register is
/// rewritten in place or split into up to three (XZERO-VAL-XZERO at worst),
/// then equal VAL opcodes around it are merged. The form turns dense when
/// `count` exceeds what VAL can hold or the string would pass `max_bytes`.
fn sparse_set(v: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX {
        return promote(v, index, count);
    }
    let Found { p, first, span, prev } = sparse_find(v, index)?;
    let mut end = v.len();
    let op = v[p];
    let oldlen = if is_xzero(op) { 2 } else { 1 };
    let next = Some(p + oldlen).filter(|&n| n < end);
    let in_place = if is_val(op) {
        if val_value(op) >= count {
            return Ok(false);
        }
        span == 1
    } else {
        is_zero(op) && span == 1
    };
    if in_place {
        v[p] = val_op(count, 1);
    } else {
        let mut seq = Vec::with_capacity(5);
        let last = first + span - 1;
        let empty_run = |seq: &mut Vec<u8>, len: usize| {
            if len > SPARSE_ZERO_MAX_LEN {
                seq.extend_from_slice(&xzero_op(len));
            } else {
                seq.push(zero_op(len));
            }
        };
        if is_val(op) {
            let cur = val_value(op);
            if index != first {
                seq.push(val_op(cur, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(cur, last - index));
            }
        } else {
            if index != first {
                empty_run(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                empty_run(&mut seq, last - index);
            }
        }
        let new_len = end + seq.len() - oldlen;
        if new_len > end && new_len > max_bytes {
            return promote(v, index, count);
        }
        let tail = next.map(|n| v[n..].to_vec()).unwrap_or_default();
        v.truncate(p);
        v.extend_from_slice(&seq);
        v.extend_from_slice(&tail);
        v.resize(new_len, 0);
        end = new_len;
    }
    // Merge runs of equal VAL opcodes, looking at up to five opcodes from
    // the one before the change.
    let mut p = prev.unwrap_or(HEADER);
    let mut budget = 5;
    while p < end && budget > 0 {
        budget -= 1;
        let op = v[p];
        if is_xzero(op) {
            p += 2;
            continue;
        }
        if is_zero(op) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(v[p + 1]) && val_value(op) == val_value(v[p + 1]) {
            let len = val_len(op) + val_len(v[p + 1]);
            if len <= SPARSE_VAL_MAX_LEN {
                v[p + 1] = val_op(val_value(op), len);
                v.remove(p);
                end -= 1;
                continue;
            }
        }
        p += 1;
    }
    invalidate(v);
    Ok(true)
}

/// Marks the cached cardinality stale.
fn invalidate(v: &mut [u8]) {
    v[15] |= 0x80;
}

/// The cached cardinality, when it is valid.
fn cached(v: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(v[8..16].try_into().expect("8 bytes"));
    (v[15] & 0x80 == 0).then_some(card)
}

/// Adds one element; returns whether a register changed.
fn add(v: &mut Vec<u8>, element: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(element);
    if v[4] == DENSE {
        Ok(dense_update(&mut v[HEADER..], index, count))
    } else {
        sparse_set(v, index, count, max_bytes)
    }
}

/// Whether adding an element would change a register, found without
/// changing anything. Fails where adding it would find the sparse form corrupt.
fn would_change(v: &[u8], element: &[u8]) -> Result<bool, Corrupt> {
    let (index, count) = pattern(element);
    if v[4] == DENSE {
        return Ok(count > dense_get(&v[HEADER..], index));
    }
    if count > SPARSE_VAL_MAX {
        return Ok(true);
    }
    let f = sparse_find(v, index)?;
    let op = v[f.p];
    Ok(!is_val(op) || val_value(op) < count)
}

/// How many registers hold each value. For a sparse form, also whether its
/// runs fail to add up to 16384 registers.
fn histogram(v: &[u8]) -> ([i64; 64], bool) {
    let mut hist = [0i64; 64];
    let regs = &v[HEADER..];
    if v[4] == DENSE {
        for i in 0..REGISTERS {
            hist[dense_get(regs, i) as usize] += 1;
        }
        return (hist, false);
    }
    let (mut idx, mut p) = (0usize, HEADER);
    while p < v.len() {
        let op = v[p];
        let (run, oplen) = op_span(v, p);
        idx += run;
        hist[if is_val(op) { val_value(op) as usize } else { 0 }] += run as i64;
        p += oplen;
    }
    (hist, idx != REGISTERS)
}

/// Ertl's sigma function (arXiv:1702.01284), as Redis computes it.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

/// Ertl's tau function, as Redis computes it.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from the register histogram (Redis's `hllCount`),
/// in the same order of floating-point operations.
fn estimate(hist: &[i64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - hist[HLL_Q + 1] as f64) / m);
    for j in (1..=HLL_Q).rev() {
        z += hist[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(hist[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimate of one HyperLogLog; fails on a corrupt sparse form.
fn count(v: &[u8]) -> Result<u64, Corrupt> {
    let (hist, invalid) = histogram(v);
    if invalid {
        return Err(Corrupt);
    }
    Ok(estimate(&hist))
}

/// Raises each of `max` to the matching register of `v`.
fn merge_into(max: &mut [u8; REGISTERS], v: &[u8]) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        let regs = &v[HEADER..];
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let (mut i, mut p) = (0usize, HEADER);
    while p < v.len() {
        let op = v[p];
        if is_val(op) {
            let (run, val) = (val_len(op), val_value(op));
            if run + i > REGISTERS {
                break;
            }
            for m in &mut max[i..i + run] {
                *m = (*m).max(val);
            }
            i += run;
            p += 1;
        } else {
            let (run, oplen) = op_span(v, p);
            i += run;
            p += oplen;
        }
    }
    if i != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

/// The estimate for registers held one per byte (a merge of several).
fn count_registers(max: &[u8; REGISTERS]) -> u64 {
    let mut hist = [0i64; 64];
    for &r in max.iter() {
        hist[r as usize & 63] += 1;
    }
    estimate(&hist)
}

/// `hll-sparse-max-bytes`.
fn sparse_max_bytes(ctx: &Ctx<'_>) -> usize {
    ctx.shard.config.hll_sparse_max_bytes
}

/// PFADD key [element ...]: 1 when a register changed or the key was
/// created, else 0. An existing value is written only when an element
/// changes a register, so an idle PFADD is no write for WATCH (nor, unlike
/// Redis, does it turn an `embstr` value `raw`).
fn pfadd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, elements, now) = (argv[1], &argv[2..], ctx.now);
    let max_bytes = sparse_max_bytes(ctx);
    let db = ctx.db();
    let first_change = match db.peek(key, now) {
        None => None,
        Some(e) => {
            let v = hll_bytes(e.value())?;
            let mut found = None;
            for (i, el) in elements.iter().enumerate() {
                if would_change(v, el)? {
                    found = Some(i);
                    break;
                }
            }
            match found {
                Some(i) => Some(i),
                None => {
                    ctx.out.int(0);
                    return Ok(());
                }
            }
        }
    };
    let mut updated = 0;
    match first_change {
        None => {
            let mut v = new_hll();
            for el in elements {
                updated += add(&mut v, el, max_bytes)? as u64;
            }
            invalidate(&mut v);
            db.insert_new(key, Value::Str(Str::raw(v)), 0, now);
            updated += 1;
        }
        Some(i) => {
            let Some(Value::Str(s)) = db.write(key, now) else { unreachable!("checked by peek") };
            let v = s.make_raw();
            for el in &elements[i..] {
                updated += add(v, el, max_bytes)? as u64;
            }
            if updated > 0 {
                invalidate(v);
            }
        }
    }
    ctx.dirty(updated);
    ctx.out.int((updated > 0) as i64);
    Ok(())
}

/// PFCOUNT key [key ...]
///
/// One key: the cached cardinality, or a fresh estimate that is then
/// cached in the value (a write, as in Redis). Several keys: the estimate of
/// their union, computed aside; nothing is written. Missing keys are empty.
fn pfcount(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    if argv.len() > 2 {
        let mut max = [0u8; REGISTERS];
        let db = ctx.db();
        for key in &argv[1..] {
            if let Some(v) = db.read(key, now) {
                merge_into(&mut max, hll_bytes(v)?)?;
            }
        }
        ctx.out.int(count_registers(&max) as i64);
        return Ok(());
    }
    let key = argv[1];
    let db = ctx.db();
    let card = match db.read(key, now) {
        None => 0,
        Some(v) => {
            let v = hll_bytes(v)?;
            match cached(v) {
                Some(card) => card,
                None => {
                    let card = count(v)?;
                    let Some(Value::Str(s)) = db.write(key, now) else { unreachable!("just read") };
                    s.make_raw()[8..16].copy_from_slice(&card.to_le_bytes());
                    ctx.dirty(1);
                    card
                }
            }
        }
    };
    ctx.out.int(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]: the destination becomes the union of
/// itself and the sources (missing keys are empty). It stays sparse unless
/// one of them is dense or the union does not fit the sparse form. It is
/// always written, even when nothing changes.
fn pfmerge(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (dest, now) = (argv[1], ctx.now);
    let max_bytes = sparse_max_bytes(ctx);
    let mut max = [0u8; REGISTERS];
    let mut use_dense = false;
    let db = ctx.db();
    for key in &argv[1..] {
        if let Some(v) = db.read(key, now) {
            let v = hll_bytes(v)?;
            use_dense |= v[4] == DENSE;
            merge_into(&mut max, v)?;
        }
    }
    let mut created = None;
    let v = match db.write(dest, now) {
        Some(Value::Str(s)) => s.make_raw(),
        _ => created.insert(new_hll()),
    };
    if use_dense {
        make_dense(v)?;
    }
    for (i, &m) in max.iter().enumerate().filter(|(_, &m)| m != 0) {
        if v[4] == DENSE {
            dense_update(&mut v[HEADER..], i, m);
        } else {
            // The sources were checked, so the destination is sound.
            let _ = sparse_set(v, i, m, max_bytes);
        }
    }
    invalidate(v);
    if let Some(v) = created {
        db.insert_new(dest, Value::Str(Str::raw(v)), 0, now);
    }
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
///
/// GETREG lists the 16384 registers (making a sparse value dense first, a
/// write), DECODE spells out a sparse value's opcodes, ENCODING names the
/// form, TODENSE converts (1 if it did). The key is checked before the
/// subcommand's name.
fn pfdebug(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (sub, key, now) = (argv[1], argv[2], ctx.now);
    let (db, out) = ctx.parts();
    let v = match db.peek(key, now) {
        None => return Err(NO_KEY),
        Some(e) => hll_bytes(e.value())?,
    };
    let sparse = v[4] == SPARSE;
    if eq_ic(sub, "getreg") || eq_ic(sub, "todense") {
        let mut converted = false;
        let v: &[u8] = if sparse {
            let dense = sparse_to_dense(v)?;
            let Some(Value::Str(s)) = db.write(key, now) else { unreachable!("just peeked") };
            *s = Str::raw(dense);
            converted = true;
            match s {
                Str::Raw(d) => d,
                _ => unreachable!(),
            }
        } else {
            v
        };
        if eq_ic(sub, "getreg") {
            out.array(REGISTERS);
            for i in 0..REGISTERS {
                out.int(dense_get(&v[HEADER..], i) as i64);
            }
        } else {
            out.int(converted as i64);
        }
        if converted {
            ctx.dirty(1);
        }
    } else if eq_ic(sub, "decode") {
        if !sparse {
            return Err(NOT_SPARSE);
        }
        let mut text = String::new();
        let mut p = HEADER;
        while p < v.len() {
            let op = v[p];
            let (run, oplen) = op_span(v, p);
            if is_zero(op) {
                text += &format!("z:{run} ");
            } else if is_xzero(op) {
                text += &format!("Z:{run} ");
            } else {
                text += &format!("v:{},{run} ", val_value(op));
            }
            p += oplen;
        }
        out.bulk(text.trim_matches(' ').as_bytes());
    } else if eq_ic(sub, "encoding") {
        out.simple(if sparse { b"sparse" } else { b"dense" });
    } else {
        return Err(CmdError::owned(format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        )));
    }
    Ok(())
}

/// PFSELFTEST: Redis's self-test of the implementation, run on Shoal's.
/// First, 1000 rounds of random values written to and read back from the
/// 16384 packed registers; then ten million distinct elements added to a
/// dense and a sparse HyperLogLog side by side, checking at 1, 10, 100...
/// that the sparse one stays sparse while small, that both estimate the
/// same, and that the error stays within six standard errors.
fn pfselftest(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let max_bytes = sparse_max_bytes(ctx);
    let result = selftest(&mut ctx.shard.rng, max_bytes, 10_000_000);
    match result {
        Ok(()) => {
            ctx.out.ok();
            Ok(())
        }
        Err(e) => Err(CmdError::owned(e)),
    }
}

fn selftest(rng: &mut crate::keyspace::Rng, max_bytes: usize, elements: u64) -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_SIZE - HEADER];
    let mut values = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, val) in values.iter_mut().enumerate() {
            *val = (rng.next_u64() & REGISTER_MAX as u64) as u8;
            dense_set(&mut regs, i, *val);
        }
        for (i, &val) in values.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != val {
                return Err(format!("TESTFAILED Register {i} should be {val} but is {got}"));
            }
        }
    }

    let mut dense = vec![0u8; DENSE_SIZE];
    let mut sparse = new_hll();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rng.next_u64();
    for j in 1..=elements {
        let element = (j ^ seed).to_le_bytes();
        let (index, run) = pattern(&element);
        dense_update(&mut dense[HEADER..], index, run);
        add(&mut sparse, &element, max_bytes).map_err(|_| "TESTFAILED sparse HLL corrupted".to_string())?;
        if j != checkpoint {
            continue;
        }
        if j < (max_bytes / 2) as u64 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count_registers_of(&dense);
        if Ok(card) != count(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = checkpoint.abs_diff(card);
        let maxerr = if j == 10 { 1 } else { (relerr * 6.0 * checkpoint as f64).ceil() as u64 };
        if abserr > maxerr {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

fn count_registers_of(dense: &[u8]) -> u64 {
    estimate(&histogram(dense).0)
}

#[cfg(test)]
mod tests {
    //! Byte layouts, replies and estimates recorded from redis-server 7.0.15.

    use super::*;
    use crate::shard::Shard;
    use crate::testing::{run, run_raw, shard};
    use proptest::prelude::*;

    type Table = &'static [(&'static [&'static str], &'static str)];

    /// Arguments and replies are Latin-1 text here: one char per byte.
    fn exec(s: &mut Shard, argv: &[&str]) -> String {
        if argv[0] == "LPUSH" {
            s.db(0).set(argv[1].as_bytes(), Value::List(Box::default()), 0, false, 0);
            return ":1\r\n".into();
        }
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.chars().map(|c| c as u32 as u8).collect()).collect();
        run_raw(s, &argv).iter().map(|&b| b as char).collect()
    }

    fn check(table: Table) {
        let mut s = shard();
        for (argv, want) in table {
            assert_eq!(&exec(&mut s, argv), want, "{argv:?}");
        }
    }

    /// The stored bytes of `key`.
    fn bytes(s: &mut Shard, key: &str) -> Vec<u8> {
        s.db(0).peek(key.as_bytes(), 0).expect("key").value().as_str().expect("string").to_vec()
    }

    /// FNV-1a, to compare long values with the digests taken from Redis.
    fn fnv(b: &[u8]) -> u64 {
        b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &c| (h ^ c as u64).wrapping_mul(0x100_0000_01b3))
    }

    fn element(pattern: &str, i: usize) -> String {
        match pattern {
            "el" => format!("el:{i}"),
            "num" => i.to_string(),
            _ => format!("x{}", i * 7919 % 100_003),
        }
    }

    fn add_range(s: &mut Shard, key: &str, pattern: &str, range: std::ops::Range<usize>, batch: usize) {
        let all: Vec<String> = range.map(|i| element(pattern, i)).collect();
        for chunk in all.chunks(batch) {
            let mut argv = vec!["PFADD", key];
            argv.extend(chunk.iter().map(String::as_str));
            run(s, &argv);
        }
    }

    #[test]
    fn murmur_and_patterns() {
        // Where redis-server's PFDEBUG DECODE puts these elements.
        assert_eq!(pattern(b"a"), (12711, 2));
        assert_eq!(pattern(b"hello world!"), (8716, 3));
        assert_eq!(murmur64a(b"", 0), 0);
    }

    #[test]
    fn pfadd_pfcount() {
        check(PFADD_PFCOUNT);
    }

    #[test]
    fn pfmerge() {
        check(PFMERGE);
    }

    #[test]
    fn errors() {
        check(ERRORS);
    }

    #[test]
    fn corrupt_values() {
        check(CORRUPT);
    }

    #[test]
    fn pfdebug() {
        check(PFDEBUG);
        let mut s = shard();
        run(&mut s, &["PFADD", "h", "a", "b", "c"]);
        let regs = run(&mut s, &["PFDEBUG", "GETREG", "h"]);
        assert!(regs.starts_with("*16384\r\n:0\r\n"));
        assert_eq!(regs.matches(":1\r\n").count(), 2);
        assert_eq!(regs.matches(":2\r\n").count(), 1);
        assert_eq!(bytes(&mut s, "h").len(), DENSE_SIZE, "GETREG makes it dense");
        assert_eq!(run(&mut s, &["PFCOUNT", "h"]), ":3\r\n");
    }

    /// PFADD sequences (element pattern, count, elements per call): the
    /// estimate, the digest of the value before and after PFCOUNT cached
    /// it, and its length, as redis-server gives them. They cover the
    /// sparse form, its promotion at 3000 bytes, and the dense form.
    const SEQUENCES: &[(&str, usize, usize, u64, u64, u64, usize)] = &[
        ("el", 50, 1, 50, 0xcd675e133dc828d8, 0xd9b1a3831ed65196, 163),
        ("num", 300, 7, 302, 0x94605fa4d669e286, 0xb05caddd71f5758b, 698),
        ("mix", 900, 30, 901, 0x69fa3db559353dc6, 0xcf6262f22b4813de, 1741),
        ("el", 1500, 100, 1495, 0x614dd3f0a9d0ae56, 0x0c2f012b24ae4eb6, 2686),
        ("num", 2500, 1, 2517, 0xeb8602af5f672216, 0x05cdab76afad6630, 12304),
        ("mix", 4000, 13, 4029, 0x2f1f8d1969ead712, 0xe5c2ded55e2624ae, 12304),
        ("el", 30000, 1000, 30071, 0x9c0702883b5c2c61, 0xc8bfec2b59aee555, 12304),
        ("num", 100000, 500, 99565, 0x6ec04028d59d8fa6, 0xe06f8585e625cb6e, 12304),
    ];

    #[test]
    fn same_bytes_as_redis() {
        let mut s = shard();
        for &(pattern, n, batch, card, before, after, len) in SEQUENCES {
            let key = format!("{pattern}:{n}:{batch}");
            add_range(&mut s, &key, pattern, 0..n, batch);
            let v = bytes(&mut s, &key);
            assert_eq!((fnv(&v), v.len()), (before, len), "{key}");
            assert_eq!(run(&mut s, &["PFCOUNT", &key]), format!(":{card}\r\n"), "{key}");
            assert_eq!(fnv(&bytes(&mut s, &key)), after, "{key}");
        }
    }

    #[test]
    fn merges_match_redis() {
        let mut s = shard();
        add_range(&mut s, "s1", "el", 0..40, 100);
        add_range(&mut s, "s2", "num", 0..60, 100);
        add_range(&mut s, "big", "mix", 0..5000, 100);
        add_range(&mut s, "mid", "el", 100..700, 100);
        let merges: &[(&[&str], u64, u64, usize)] = &[
            (&["m1", "s1", "s2"], 100, 0x4631bd47639997f4, 291),
            (&["m2", "s1", "big"], 5055, 0xae552fbd6f563396, 12304),
            (&["m3", "s2", "mid"], 657, 0xdc3bee62ec664dbf, 1301),
            (&["m4", "s1", "s2", "mid"], 699, 0x8df3f5a49e188663, 1374),
            (&["s1", "s2"], 100, 0x4631bd47639997f4, 291),
        ];
        for (keys, card, digest, len) in merges {
            let mut argv = vec!["PFMERGE"];
            argv.extend_from_slice(keys);
            assert_eq!(run(&mut s, &argv), "+OK\r\n");
            let v = bytes(&mut s, keys[0]);
            assert_eq!((fnv(&v), v.len()), (*digest, *len), "{keys:?}");
            assert_eq!(run(&mut s, &["PFCOUNT", keys[0]]), format!(":{card}\r\n"));
        }
        let unions: &[(&[&str], u64)] =
            &[(&["s1", "s2"], 100), (&["s2", "big", "mid"], 5676), (&["m1", "m2", "m3", "m4"], 5717)];
        for (keys, card) in unions {
            let mut argv = vec!["PFCOUNT"];
            argv.extend_from_slice(keys);
            assert_eq!(run(&mut s, &argv), format!(":{card}\r\n"));
        }
    }

    #[test]
    fn large_cardinality_error_bound() {
        let mut s = shard();
        add_range(&mut s, "big", "el", 0..1_000_000, 1000);
        // Redis's estimate for the same elements, within 0.42% of the truth
        // (the standard error is 1.04 / sqrt(16384) = 0.81%).
        assert_eq!(run(&mut s, &["PFCOUNT", "big"]), ":995821\r\n");
        add_range(&mut s, "big2", "num", 0..200_000, 1000);
        let got: f64 = run(&mut s, &["PFCOUNT", "big2"])[1..].trim().parse().unwrap();
        assert!((got - 200_000.0).abs() / 200_000.0 < 3.0 * 0.0081, "{got}");
    }

    #[test]
    fn writes_only_when_something_changes() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["PFADD", "h", "a", "b"]), ":1\r\n");
        assert_eq!(s.dirty, 3, "the creation and each changed register");
        let v = s.db(0).version(b"h", 0);
        assert_eq!(run(&mut s, &["PFADD", "h", "a", "b"]), ":0\r\n");
        assert_eq!(run(&mut s, &["PFADD", "h"]), ":0\r\n");
        assert_eq!((s.dirty, s.db(0).version(b"h", 0)), (3, v));
        // PFCOUNT caches the estimate in the value: a write, once.
        assert_eq!(run(&mut s, &["PFCOUNT", "h"]), ":2\r\n");
        assert_eq!(s.dirty, 4);
        let v = s.db(0).version(b"h", 0);
        assert_eq!(run(&mut s, &["PFCOUNT", "h"]), ":2\r\n");
        assert_eq!(run(&mut s, &["PFCOUNT", "h", "h"]), ":2\r\n");
        assert_eq!((s.dirty, s.db(0).version(b"h", 0)), (4, v));
        assert_eq!(run(&mut s, &["PFADD", "h", "a", "c", "b"]), ":1\r\n");
        assert_eq!(s.dirty, 5);
        // PFMERGE always writes.
        assert_eq!(run(&mut s, &["PFMERGE", "h"]), "+OK\r\n");
        assert_eq!(s.dirty, 6);
        assert_ne!(s.db(0).version(b"h", 0), v);
    }

    #[test]
    fn values_set_from_redis_bytes() {
        // An HLL built by redis-server (PFADD h a b c d), then SET into Shoal.
        let mut s = shard();
        let redis = b"HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x80\\{\x80Dv\x80P\xb1\x84K\xfb\x80BZ";
        let argv = vec![b"SET".to_vec(), b"h".to_vec(), redis.to_vec()];
        assert_eq!(run_raw(&mut s, &argv), b"+OK\r\n");
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "h"]), "$6\r\nembstr\r\n");
        assert_eq!(run(&mut s, &["PFADD", "h", "a", "d"]), ":0\r\n");
        assert_eq!(run(&mut s, &["PFCOUNT", "h"]), ":4\r\n");
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "h"]), "$3\r\nraw\r\n");
        assert_eq!(bytes(&mut s, "h")[8..16], [4, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn selftest_passes() {
        let mut rng = crate::keyspace::Rng::new(7);
        assert_eq!(selftest(&mut rng, SPARSE_MAX_BYTES, 100_000), Ok(()));
        assert_eq!(selftest(&mut rng, 200, 10_000), Ok(()));
    }

    /// Every register of a HyperLogLog, decoded.
    fn registers(v: &[u8]) -> Vec<u8> {
        let dense = if v[4] == DENSE { v.to_vec() } else { sparse_to_dense(v).expect("sound") };
        (0..REGISTERS).map(|i| dense_get(&dense[HEADER..], i)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Adds and merges against a plain array of registers, with sparse
        /// limits small and large enough to cross the promotion to dense.
        #[test]
        fn registers_match_a_model(
            max_bytes in prop_oneof![Just(20usize), 30usize..200, Just(SPARSE_MAX_BYTES)],
            batches in proptest::collection::vec(
                proptest::collection::vec((0usize..REGISTERS, 1u8..52), 0..40), 1..12),
        ) {
            let mut model = vec![0u8; REGISTERS];
            let mut v = new_hll();
            for batch in &batches {
                for &(i, c) in batch {
                    let changed = if v[4] == DENSE {
                        dense_update(&mut v[HEADER..], i, c)
                    } else {
                        let was = v.len();
                        let r = sparse_set(&mut v, i, c, max_bytes).expect("sound");
                        prop_assert!(v[4] == DENSE || v.len() <= max_bytes.max(was));
                        r
                    };
                    prop_assert_eq!(changed, c > model[i]);
                    model[i] = model[i].max(c);
                }
                prop_assert_eq!(registers(&v), model.clone());
                if v[4] == SPARSE {
                    prop_assert!(model.iter().all(|&r| r <= 32));
                    prop_assert!(v.len() <= max_bytes.max(18), "{} bytes", v.len());
                }
                let mut hist = [0i64; 64];
                for &r in &model {
                    hist[r as usize] += 1;
                }
                prop_assert_eq!(count(&v), Ok(estimate(&hist)));
                let mut max = [0u8; REGISTERS];
                merge_into(&mut max, &v).expect("sound");
                prop_assert_eq!(&max[..], &model[..]);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// No damaged HyperLogLog makes a command panic, and whatever a
        /// command leaves behind is still a string.
        #[test]
        fn corrupt_values_never_panic(
            seed in proptest::collection::vec(0u32..5000, 0..60),
            dense in any::<bool>(),
            damage in proptest::collection::vec((any::<u16>(), any::<u8>()), 0..6),
            cut in proptest::option::of(any::<u16>()),
            extra in proptest::collection::vec(any::<u8>(), 0..4),
            elements in proptest::collection::vec(0u32..5000, 0..8),
        ) {
            let mut v = new_hll();
            for e in &seed {
                add(&mut v, e.to_string().as_bytes(), SPARSE_MAX_BYTES).expect("sound");
            }
            if dense {
                make_dense(&mut v).expect("sound");
            }
            for (at, byte) in damage {
                let i = HEADER + at as usize % (v.len() - HEADER).max(1);
                if i < v.len() {
                    v[i] = byte;
                }
            }
            if let Some(c) = cut {
                v.truncate((HEADER + c as usize % 64).min(v.len()));
            }
            v.extend_from_slice(&extra);
            let mut s = shard();
            let set = vec![b"SET".to_vec(), b"h".to_vec(), v];
            run_raw(&mut s, &set);
            let mut cmds: Vec<Vec<String>> = vec![
                vec!["PFCOUNT".into(), "h".into()],
                vec!["PFCOUNT".into(), "h".into(), "nokey".into()],
                vec!["PFDEBUG".into(), "DECODE".into(), "h".into()],
                vec!["PFMERGE".into(), "d".into(), "h".into()],
            ];
            let mut pfadd = vec!["PFADD".to_string(), "h".into()];
            pfadd.extend(elements.iter().map(|e| e.to_string()));
            cmds.push(pfadd);
            cmds.push(vec!["PFCOUNT".into(), "h".into()]);
            cmds.push(vec!["PFMERGE".into(), "h".into(), "d".into()]);
            cmds.push(vec!["PFDEBUG".into(), "GETREG".into(), "h".into()]);
            cmds.push(vec!["PFCOUNT".into(), "h".into()]);
            for argv in cmds {
                let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
                let reply = exec(&mut s, &refs);
                prop_assert!(reply.ends_with("\r\n"), "{:?} -> {:?}", refs, reply);
            }
        }
    }

    const PFADD_PFCOUNT: Table = &[
        (&["PFADD", "h"], ":1\r\n"),
        (&["PFADD", "h"], ":0\r\n"),
        (&["GET", "h"], "$18\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}\u{ff}\r\n"),
        (&["OBJECT", "ENCODING", "h"], "$3\r\nraw\r\n"),
        (&["PFCOUNT", "h"], ":0\r\n"),
        (&["GET", "h"], "$18\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{7f}\u{ff}\r\n"),
        (&["PFADD", "h", "a", "b", "c", "a"], ":1\r\n"),
        (&["PFADD", "h", "a"], ":0\r\n"),
        (&["PFADD", "h", "c", "b"], ":0\r\n"),
        (&["PFCOUNT", "h"], ":3\r\n"),
        (&["GET", "h"], "$27\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{3}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}`\u{f3}\u{80}P\u{b1}\u{84}K\u{fb}\u{80}BZ\r\n"),
        (&["PFADD", "h", "d"], ":1\r\n"),
        (&["GET", "h"], "$30\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{3}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\\{\u{80}Dv\u{80}P\u{b1}\u{84}K\u{fb}\u{80}BZ\r\n"),
        (&["PFCOUNT", "h"], ":4\r\n"),
        (&["GET", "h"], "$30\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{4}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\\{\u{80}Dv\u{80}P\u{b1}\u{84}K\u{fb}\u{80}BZ\r\n"),
        (&["PFCOUNT", "nokey"], ":0\r\n"),
        (&["PFCOUNT", "nokey", "h"], ":4\r\n"),
        (&["PFCOUNT", "nokey", "nokey2"], ":0\r\n"),
        (&["EXISTS", "nokey"], ":0\r\n"),
        (&["PFADD", "h2", "c", "d", "e", "f"], ":1\r\n"),
        (&["PFCOUNT", "h", "h2"], ":6\r\n"),
        (&["PFCOUNT", "h2", "h", "h", "nokey"], ":6\r\n"),
        (&["GET", "h2"], "$30\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}Fm\u{80}V\u{c}\u{80}Dv\u{80}Z?\u{80}D\u{c9}\r\n"),
        (&["PFADD"], "-ERR wrong number of arguments for 'pfadd' command\r\n"),
        (&["PFCOUNT"], "-ERR wrong number of arguments for 'pfcount' command\r\n"),
        (&["PFADD", "e", ""], ":1\r\n"),
        (&["PFCOUNT", "e"], ":1\r\n"),
        (&["PFADD", "bin", "\u{0}", "\u{ff}\u{fe}", "a b"], ":1\r\n"),
        (&["GET", "bin"], "$27\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}B\u{8d}\u{84}S\u{7}\u{80}L\u{ef}\u{84}]v\r\n"),
    ];

    const PFMERGE: Table = &[
        (&["PFADD", "a", "1", "2", "3"], ":1\r\n"),
        (&["PFADD", "b", "3", "4", "5", "6"], ":1\r\n"),
        (&["PFMERGE", "d", "a", "b"], "+OK\r\n"),
        (&["GET", "d"], "$36\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}A\u{ee}\u{84}H#\u{80}SQ\u{80}Mt\u{80}Q,\u{8c}@\u{cf}\u{84}C\"\r\n"),
        (&["PFCOUNT", "d"], ":6\r\n"),
        (&["PFMERGE", "d"], "+OK\r\n"),
        (&["GET", "d"], "$36\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{6}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}A\u{ee}\u{84}H#\u{80}SQ\u{80}Mt\u{80}Q,\u{8c}@\u{cf}\u{84}C\"\r\n"),
        (&["PFMERGE", "new"], "+OK\r\n"),
        (&["GET", "new"], "$18\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}\u{ff}\r\n"),
        (&["PFCOUNT", "new"], ":0\r\n"),
        (&["PFMERGE", "new2", "nokey"], "+OK\r\n"),
        (&["GET", "new2"], "$18\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}\u{ff}\r\n"),
        (&["PFMERGE", "a", "a"], "+OK\r\n"),
        (&["GET", "a"], "$27\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}]f\u{80}Mt\u{80}Q,\u{8c}C\u{f3}\r\n"),
        (&["PFMERGE", "b", "a"], "+OK\r\n"),
        (&["PFCOUNT", "b"], ":6\r\n"),
        (&["SET", "s", "x", "EX", "100"], "+OK\r\n"),
        (&["PFMERGE", "s", "a"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["PFMERGE"], "-ERR wrong number of arguments for 'pfmerge' command\r\n"),
    ];

    const ERRORS: Table = &[
        (&["SET", "s", "hello"], "+OK\r\n"),
        (&["PFADD", "s", "a"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["PFCOUNT", "s"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["PFCOUNT", "s", "nokey"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["PFCOUNT", "nokey", "s"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["PFMERGE", "s"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["PFMERGE", "d", "s"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["EXISTS", "d"], ":0\r\n"),
        (&["PFMERGE", "d", "nokey", "s"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["EXISTS", "d"], ":0\r\n"),
        (&["SET", "n", "123"], "+OK\r\n"),
        (&["PFADD", "n", "a"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["PFCOUNT", "n"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["SET", "short", "HYLL"], "+OK\r\n"),
        (&["PFADD", "short", "a"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["SET", "fake", "HYLL\u{2}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}"], "+OK\r\n"),
        (&["PFADD", "fake", "a"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["SET", "fake", "HYLL\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}"], "+OK\r\n"),
        (&["PFADD", "fake", "a"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["PFCOUNT", "fake"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (
            &["SET", "fake", "HYLL\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}"],
            "+OK\r\n",
        ),
        (&["PFCOUNT", "fake"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (
            &["SET", "fake", "hyll\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{7f}\u{ff}"],
            "+OK\r\n",
        ),
        (&["PFCOUNT", "fake"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["LPUSH", "l", "a"], ":1\r\n"),
        (&["PFADD", "l", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["PFCOUNT", "l"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (
            &["PFCOUNT", "l", "nokey"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ),
        (&["PFMERGE", "l"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["PFMERGE", "d", "l"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (
            &["PFDEBUG", "GETREG", "l"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ),
    ];

    const CORRUPT: Table = &[
        (&["SET", "c", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}"], "+OK\r\n"),
        (&["PFCOUNT", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["PFCOUNT", "c", "nokey"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["PFADD", "c", "a"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["PFMERGE", "d", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["EXISTS", "d"], ":0\r\n"),
        (&["PFMERGE", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["SET", "c", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}\u{fe}"], "+OK\r\n"),
        (&["PFCOUNT", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["PFADD", "c", "a"], ":1\r\n"),
        (&["PFADD", "c", "b"], ":1\r\n"),
        (&["GET", "c"], "$24\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}q\u{a6}\u{84}K\u{fb}\u{80}BY\r\n"),
        (&["PFADD", "c", "foo"], ":1\r\n"),
        (&["GET", "c"], "$27\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\\\u{b3}\u{90}T\u{f1}\u{84}K\u{fb}\u{80}BY\r\n"),
        (&["SET", "c", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}\u{ff}\u{7f}\u{ff}"], "+OK\r\n"),
        (&["PFCOUNT", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["PFCOUNT", "c", "nokey"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["PFADD", "c", "a"], ":1\r\n"),
        (&["GET", "c"], "$23\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}q\u{a6}\u{84}NW\u{7f}\u{ff}\r\n"),
        (&["PFMERGE", "d", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["SET", "c", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}\u{ff}"], "+OK\r\n"),
        (&["PFADD", "c", "a"], ":1\r\n"),
        (&["SET", "c", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}\u{fe}\u{83}"], "+OK\r\n"),
        (&["PFCOUNT", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["PFADD", "c", "a", "b", "c"], ":1\r\n"),
        (&["GET", "c"], "$28\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}`\u{f3}\u{80}P\u{b1}\u{84}K\u{fb}\u{80}BY\u{83}\r\n"),
        (&["SET", "c", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}\u{fe}\u{fd}"], "+OK\r\n"),
        (&["PFCOUNT", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["SET", "c", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{5}\u{0}\u{0}\u{0}\u{7f}\u{ff}"], "+OK\r\n"),
        (&["PFCOUNT", "c"], ":21474836480\r\n"),
        (&["PFADD", "c", "a"], ":1\r\n"),
        (&["PFCOUNT", "c"], ":1\r\n"),
        (&["GET", "c"], "$21\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}q\u{a6}\u{84}NW\r\n"),
        (&["SET", "c", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}"], "+OK\r\n"),
        (&["PFCOUNT", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["PFADD", "c", "a"], ":1\r\n"),
        (&["GET", "c"], "$20\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}q\u{a6}\u{84}M\r\n"),
        (&["SET", "c", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}@"], "+OK\r\n"),
        (&["PFCOUNT", "c"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["PFADD", "c", "a"], "-INVALIDOBJ Corrupted HLL object detected\r\n"),
        (&["GET", "c"], "$17\r\nHYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}@\r\n"),
        (&["PFDEBUG", "DECODE", "c"], "$3\r\nZ:1\r\n"),
    ];

    const PFDEBUG: Table = &[
        (&["PFDEBUG", "GETREG", "nokey"], "-ERR The specified key does not exist\r\n"),
        (&["PFDEBUG", "FOO", "nokey"], "-ERR The specified key does not exist\r\n"),
        (&["PFADD", "h", "a", "b", "c"], ":1\r\n"),
        (&["PFDEBUG", "FOO", "h"], "-ERR Unknown PFDEBUG subcommand 'FOO'\r\n"),
        (&["PFDEBUG", "ENCODING", "h"], "+sparse\r\n"),
        (&["PFDEBUG", "DECODE", "h"], "$44\r\nZ:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n"),
        (&["PFDEBUG", "decode", "h"], "$44\r\nZ:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n"),
        (&["PFDEBUG", "TODENSE", "h"], ":1\r\n"),
        (&["PFDEBUG", "ENCODING", "h"], "+dense\r\n"),
        (&["PFDEBUG", "TODENSE", "h"], ":0\r\n"),
        (&["PFDEBUG", "DECODE", "h"], "-ERR HLL encoding is not sparse\r\n"),
        (&["PFCOUNT", "h"], ":3\r\n"),
        (&["PFADD", "h", "d"], ":1\r\n"),
        (&["PFCOUNT", "h"], ":4\r\n"),
        (&["PFDEBUG", "GETREG"], "-ERR wrong number of arguments for 'pfdebug' command\r\n"),
        (&["PFDEBUG", "GETREG", "h", "extra"], "-ERR wrong number of arguments for 'pfdebug' command\r\n"),
        (&["SET", "s", "foo"], "+OK\r\n"),
        (&["PFDEBUG", "ENCODING", "s"], "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
        (&["PFADD", "e"], ":1\r\n"),
        (&["PFDEBUG", "DECODE", "e"], "$7\r\nZ:16384\r\n"),
    ];
}
