//! Bitmap commands: strings read and written bit by bit.
//!
//! A bitmap is an ordinary string value: bit 0 is the most significant bit
//! of the first byte. Commands that write a bit past the end grow the string
//! with zero bytes, as far as `proto-max-bulk-len` allows, and leave it in the
//! `raw` encoding. Integer-encoded strings are read as their decimal digits.
//!
//! Writers that may end up changing nothing (SETBIT of a bit already set,
//! BITFIELD SET of the same value, BITFIELD ... OVERFLOW FAIL) work out their
//! effect on a read-only view first and take a write lookup only when the
//! value really changes, so that WATCH sees exactly the writes Redis signals.
//! (Redis also makes the value `raw` on such an idle write; without a write
//! lookup that leaves WATCH alone, Shoal leaves the encoding as it was.)

use crate::command::one_key;
use crate::command::{eq_ic, flags::*, Command, Group, KeySpec, Keys, Run};
use crate::error::{CmdError, CmdResult, NOT_INTEGER, STRING_TOO_LONG, SYNTAX, WRONGTYPE};
use crate::num;
use crate::shard::Ctx;
use crate::value::{Str, Value};

const BIT_OFFSET: CmdError = CmdError::new("ERR bit offset is not an integer or out of range");
const BIT_VALUE: CmdError = CmdError::new("ERR bit is not an integer or out of range");
const BIT_ARGUMENT: CmdError = CmdError::new("ERR The bit argument must be 1 or 0.");
const NOT_SINGLE_SOURCE: CmdError = CmdError::new("ERR BITOP NOT must be called with a single source key.");
const BITFIELD_TYPE: CmdError = CmdError::new(
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
);
const OVERFLOW_TYPE: CmdError = CmdError::new("ERR Invalid OVERFLOW type specified");
const RO_GET_ONLY: CmdError = CmdError::new("ERR BITFIELD_RO only supports the GET subcommand");

const BITMAP: Command = Command { group: Group::Bitmap, keys: Keys::ONE, ..Command::DEFAULT };

pub static COMMANDS: &[Command] = &[
    Command {
        name: "setbit",
        arity: 4,
        flags: WRITE | DENYOOM,
        since: "2.2.0",
        summary: "Sets or clears one bit of a string, growing it with zero bytes as needed.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(setbit),
        ..BITMAP
    },
    Command {
        name: "getbit",
        arity: 3,
        flags: READONLY | FAST,
        since: "2.2.0",
        summary: "Returns one bit of a string (0 past its end).",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(getbit),
        ..BITMAP
    },
    Command {
        name: "bitcount",
        arity: -2,
        flags: READONLY,
        since: "2.6.0",
        complexity: "O(N)",
        summary: "Counts the set bits of a string, or of a range of its bytes or bits.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(bitcount),
        ..BITMAP
    },
    Command {
        name: "bitpos",
        arity: -3,
        flags: READONLY,
        since: "2.8.7",
        complexity: "O(N)",
        summary: "Finds the first set or clear bit of a string, or of a range of its bytes or bits.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(bitpos),
        ..BITMAP
    },
    Command {
        name: "bitop",
        arity: -4,
        flags: WRITE | DENYOOM,
        keys: Keys { first: 2, last: -1, step: 1 },
        since: "2.6.0",
        complexity: "O(N)",
        summary: "Stores the bitwise AND, OR, XOR of strings, or the NOT of one, in a key.",
        key_specs: &[
            KeySpec { begin: 2, last: 0, step: 1, flags: "OW UPDATE" },
            KeySpec { begin: 3, last: -1, step: 1, flags: "RO ACCESS" },
        ],
        run: Run::Shard(bitop),
        ..BITMAP
    },
    Command {
        name: "bitfield",
        arity: -2,
        flags: WRITE | DENYOOM,
        since: "3.2.0",
        complexity: "O(1) for each subcommand specified",
        summary: "Reads, writes and increments integers of any width from 1 to 64 bits at any bit offset of a string.",
        key_specs: &[one_key("RW ACCESS UPDATE VARIABLE_FLAGS")],
        run: Run::Shard(bitfield),
        ..BITMAP
    },
    Command {
        name: "bitfield_ro",
        arity: -2,
        flags: READONLY | FAST,
        since: "6.0.0",
        complexity: "O(1) for each subcommand specified",
        summary: "Reads integers of any width from a string: BITFIELD limited to GET.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(bitfield_ro),
        ..BITMAP
    },
];

/// Reads a bit offset as Redis's `getBitOffsetFromArgument`: a non-negative
/// integer whose byte lies below `proto-max-bulk-len`. With `width` (BITFIELD)
/// the form `#n` means the n-th field of that width, `n * width`; the product
/// wraps as the C multiplication does, and is then checked like any offset.
fn bit_offset(arg: &[u8], width: Option<u32>, max_bulk: u64) -> Result<u64, CmdError> {
    let (hash, digits) = match (arg.first(), width) {
        (Some(b'#'), Some(w)) if w > 0 => (Some(w), &arg[1..]),
        _ => (None, arg),
    };
    let mut n = num::parse_i64(digits).ok_or(BIT_OFFSET)?;
    if let Some(w) = hash {
        n = n.wrapping_mul(w as i64);
    }
    if n < 0 || (n as u64 >> 3) >= max_bulk {
        return Err(BIT_OFFSET);
    }
    Ok(n as u64)
}

/// The bit at `offset` (0 past the end).
fn bit_at(bytes: &[u8], offset: u64) -> u8 {
    match usize::try_from(offset >> 3).ok().and_then(|i| bytes.get(i)) {
        Some(b) => (b >> (7 - (offset & 7))) & 1,
        None => 0,
    }
}

/// SETBIT key offset value: replies with the bit's previous value.
///
/// A missing key is created (even to clear a bit), a short string is padded
/// with zero bytes up to the offset's byte; either counts as a change, as
/// does flipping the bit. Setting a bit to what it already is changes nothing.
fn setbit(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    let offset = bit_offset(argv[2], None, ctx.shard.config.proto_max_bulk_len)?;
    let on = num::parse_i64(argv[3]).ok_or(BIT_VALUE)?;
    if on & !1 != 0 {
        return Err(BIT_VALUE);
    }
    let on = on as u8;
    let need = (offset >> 3) as usize + 1;
    let db = ctx.db();
    let old = match db.peek(key, now).map(|e| e.value()) {
        None => None,
        Some(Value::Str(s)) => {
            let mut scratch = itoa::Buffer::new();
            let bytes = s.bytes(&mut scratch);
            Some((bit_at(bytes, offset), bytes.len()))
        }
        Some(_) => return Err(WRONGTYPE),
    };
    let changed = old.is_none_or(|(bit, len)| len < need || bit != on);
    let old_bit = match old {
        Some((bit, _)) if !changed => bit,
        Some((bit, _)) => {
            let Some(Value::Str(s)) = db.write(key, now) else { unreachable!("checked by peek") };
            set_bit(grow(s.make_raw(), need)?, offset, on);
            bit
        }
        None => {
            let mut bytes = Vec::new();
            set_bit(grow(&mut bytes, need)?, offset, on);
            db.insert_new(key, Value::Str(Str::raw(bytes)), 0, now);
            0
        }
    };
    if changed {
        ctx.dirty(1);
    }
    ctx.out.int(old_bit as i64);
    Ok(())
}

/// Pads `bytes` with zeros to at least `len` bytes.
fn grow(bytes: &mut Vec<u8>, len: usize) -> Result<&mut Vec<u8>, CmdError> {
    if bytes.len() < len {
        bytes.try_reserve_exact(len - bytes.len()).map_err(|_| STRING_TOO_LONG)?;
        bytes.resize(len, 0);
    }
    Ok(bytes)
}

fn set_bit(bytes: &mut [u8], offset: u64, on: u8) {
    let byte = &mut bytes[(offset >> 3) as usize];
    let shift = 7 - (offset & 7);
    *byte = (*byte & !(1 << shift)) | (on << shift);
}

fn getbit(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(argv[2], None, ctx.shard.config.proto_max_bulk_len)?;
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let bit = match db.read(argv[1], now) {
        None => 0,
        Some(Value::Str(s)) => {
            let mut scratch = itoa::Buffer::new();
            bit_at(s.bytes(&mut scratch), offset)
        }
        Some(_) => return Err(WRONGTYPE),
    };
    out.int(bit as i64);
    Ok(())
}

/// Reads `BYTE` or `BIT`: whether the range is in bits.
fn range_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(arg, "bit") {
        Ok(true)
    } else if eq_ic(arg, "byte") {
        Ok(false)
    } else {
        Err(SYNTAX)
    }
}

/// Turns a range given in units of `total` (bytes, or bits) into an inclusive
/// range of bits of the string: negative indexes count from the end, and
/// both ends are clamped to the string. `None` when the range is empty.
fn bit_range(start: i64, end: i64, total: i64, in_bits: bool) -> Option<(u64, u64)> {
    let start = if start < 0 { total + start } else { start }.max(0);
    let end = if end < 0 { total + end } else { end }.max(0).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits { (start, end) } else { (start * 8, end * 8 + 7) })
}

/// Counts the set bits of `bytes` from bit `from` to bit `to`, inclusive.
fn count_bits(bytes: &[u8], from: u64, to: u64) -> u64 {
    let (first, last) = ((from >> 3) as usize, (to >> 3) as usize);
    let mut count: u64 = bytes[first..=last].iter().map(|b| b.count_ones() as u64).sum();
    // Take back the bits of the edge bytes that lie outside the range.
    if from & 7 != 0 {
        count -= (bytes[first] >> (8 - (from & 7))).count_ones() as u64;
    }
    count -= (bytes[last] & (0xffu8 >> (to & 7) >> 1)).count_ones() as u64;
    count
}

/// BITCOUNT key [start end [BYTE|BIT]]
///
/// The key is looked up before the range is read: a missing key counts 0
/// whatever the arguments. Two negative indexes in the wrong order count 0
/// before the unit is even looked at, as in Redis.
fn bitcount(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let s = match db.read(argv[1], now) {
        None => {
            out.int(0);
            return Ok(());
        }
        Some(Value::Str(s)) => s,
        Some(_) => return Err(WRONGTYPE),
    };
    let mut scratch = itoa::Buffer::new();
    let bytes = s.bytes(&mut scratch);
    let len = bytes.len() as i64;
    let range = match argv.len() {
        2 => bit_range(0, len - 1, len, false),
        4 | 5 => {
            let start = num::parse_i64(argv[2]).ok_or(NOT_INTEGER)?;
            let end = num::parse_i64(argv[3]).ok_or(NOT_INTEGER)?;
            if start < 0 && end < 0 && start > end {
                out.int(0);
                return Ok(());
            }
            let in_bits = argv.len() == 5 && range_unit(argv[4])?;
            bit_range(start, end, if in_bits { len * 8 } else { len }, in_bits)
        }
        _ => return Err(SYNTAX),
    };
    out.int(range.map_or(0, |(from, to)| count_bits(bytes, from, to)) as i64);
    Ok(())
}

/// The first bit equal to `bit` from bit `from` to bit `to`, inclusive.
fn find_bit(bytes: &[u8], bit: u8, from: u64, to: u64) -> Option<u64> {
    let (first, last) = ((from >> 3) as usize, (to >> 3) as usize);
    // Each byte flipped if need be so that the bits looked for are ones,
    // with the bits outside the range cleared.
    let wanted = |i: usize| {
        let mut b = if bit == 1 { bytes[i] } else { !bytes[i] };
        if i == first {
            b &= 0xff >> (from & 7);
        }
        if i == last {
            b &= !(0xffu8 >> (to & 7) >> 1);
        }
        b
    };
    let skip = if bit == 1 { 0x00 } else { 0xff };
    let mut i = first;
    while i <= last {
        let b = wanted(i);
        if b != 0 {
            return Some(i as u64 * 8 + b.leading_zeros() as u64);
        }
        i += 1;
        // Whole bytes with nothing to find, quickly.
        if i < last {
            i += bytes[i..last].iter().position(|&b| b != skip).unwrap_or(last - i);
        }
    }
    None
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
///
/// Redis's answers when the bit is not there: -1 when looking for a 1, or
/// for a 0 in an explicit range; but for a 0 with no end given, the string
/// counts as padded with zeros, so the answer is the first bit past the end.
/// A missing key is all zeros (0 for a clear bit, -1 for a set one), and an
/// empty range (an empty string included) answers -1.
fn bitpos(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let bit = num::parse_i64(argv[2]).ok_or(NOT_INTEGER)?;
    if bit != 0 && bit != 1 {
        return Err(BIT_ARGUMENT);
    }
    let bit = bit as u8;
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let s = match db.read(argv[1], now) {
        None => {
            out.int(if bit == 1 { -1 } else { 0 });
            return Ok(());
        }
        Some(Value::Str(s)) => s,
        Some(_) => return Err(WRONGTYPE),
    };
    let mut scratch = itoa::Buffer::new();
    let bytes = s.bytes(&mut scratch);
    let len = bytes.len() as i64;
    let (range, end_given) = match argv.len() {
        3 => (bit_range(0, len - 1, len, false), false),
        4..=6 => {
            let start = num::parse_i64(argv[3]).ok_or(NOT_INTEGER)?;
            let in_bits = argv.len() == 6 && range_unit(argv[5])?;
            let end = match argv.get(4) {
                Some(e) => num::parse_i64(e).ok_or(NOT_INTEGER)?,
                None => len - 1,
            };
            let total = if in_bits { len * 8 } else { len };
            (bit_range(start, end, total, in_bits), argv.len() >= 5)
        }
        _ => return Err(SYNTAX),
    };
    let pos = match range {
        None => -1,
        Some((from, to)) => match find_bit(bytes, bit, from, to) {
            Some(p) => p as i64,
            None if bit == 0 && !end_given => to as i64 + 1,
            None => -1,
        },
    };
    out.int(pos);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]: replies with the length of
/// the result, the longest source (missing keys are empty strings, shorter
/// ones are padded with zeros). An empty result deletes the destination;
/// any other is stored as a new `raw` string without a TTL.
fn bitop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let op = if eq_ic(argv[1], "and") {
        BitOp::And
    } else if eq_ic(argv[1], "or") {
        BitOp::Or
    } else if eq_ic(argv[1], "xor") {
        BitOp::Xor
    } else if eq_ic(argv[1], "not") {
        BitOp::Not
    } else {
        return Err(SYNTAX);
    };
    if op == BitOp::Not && argv.len() != 4 {
        return Err(NOT_SINGLE_SOURCE);
    }
    let (dest, sources, now) = (argv[2], &argv[3..], ctx.now);
    let db = ctx.db();
    // First pass: type checks and lengths, one read per source, in order.
    let mut max_len = 0;
    for key in sources {
        match db.read(key, now) {
            None => {}
            Some(Value::Str(s)) => max_len = max_len.max(s.len()),
            Some(_) => return Err(WRONGTYPE),
        }
    }
    if max_len == 0 {
        if db.remove(dest, now).is_some() {
            ctx.dirty(1);
        }
        ctx.out.int(0);
        return Ok(());
    }
    let mut res = Vec::new();
    res.try_reserve_exact(max_len).map_err(|_| STRING_TOO_LONG)?;
    res.resize(max_len, 0);
    let mut scratch = itoa::Buffer::new();
    for (i, key) in sources.iter().enumerate() {
        let src: &[u8] = match db.peek(key, now).map(|e| e.value()) {
            Some(Value::Str(s)) => s.bytes(&mut scratch),
            _ => &[],
        };
        let padded = src.iter().copied().chain(std::iter::repeat(0));
        match (op, i) {
            (BitOp::Not, _) => res.iter_mut().zip(padded).for_each(|(r, b)| *r = !b),
            (_, 0) => res.iter_mut().zip(padded).for_each(|(r, b)| *r = b),
            (BitOp::And, _) => res.iter_mut().zip(padded).for_each(|(r, b)| *r &= b),
            (BitOp::Or, _) => res.iter_mut().zip(src).for_each(|(r, b)| *r |= b),
            (BitOp::Xor, _) => res.iter_mut().zip(src).for_each(|(r, b)| *r ^= b),
        }
    }
    db.set(dest, Value::Str(Str::raw(res)), 0, false, now);
    ctx.dirty(1);
    ctx.out.int(max_len as i64);
    Ok(())
}

/// What BITFIELD does when a SET or INCRBY result does not fit its field.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FieldOp {
    Get,
    Set(i64),
    Incrby(i64),
}

/// One BITFIELD operation, as parsed.
#[derive(Clone, Copy, Debug)]
struct Field {
    op: FieldOp,
    offset: u64,
    bits: u32,
    signed: bool,
    overflow: Overflow,
}

/// Reads a field type, `i1`..`i64` or `u1`..`u63` (lower case only). As
/// Redis reads the width with `strlen`, a NUL byte ends the argument.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(BITFIELD_TYPE),
    };
    let digits = &arg[1..];
    let digits = &digits[..digits.iter().position(|&b| b == 0).unwrap_or(digits.len())];
    match num::parse_i64(digits) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(BITFIELD_TYPE),
    }
}

/// Parses BITFIELD's operations with Redis's rules: each needs all of its
/// arguments, else the whole command is a syntax error; errors are reported
/// in argument order, before the key is looked at.
fn parse_fields(argv: &[&[u8]], max_bulk: u64) -> Result<Vec<Field>, CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < argv.len() {
        let (sub, rest) = (argv[j], argv.len() - j - 1);
        let op = if eq_ic(sub, "get") && rest >= 2 {
            FieldOp::Get
        } else if eq_ic(sub, "set") && rest >= 3 {
            FieldOp::Set(0)
        } else if eq_ic(sub, "incrby") && rest >= 3 {
            FieldOp::Incrby(0)
        } else if eq_ic(sub, "overflow") && rest >= 1 {
            let kind = argv[j + 1];
            overflow = if eq_ic(kind, "wrap") {
                Overflow::Wrap
            } else if eq_ic(kind, "sat") {
                Overflow::Sat
            } else if eq_ic(kind, "fail") {
                Overflow::Fail
            } else {
                return Err(OVERFLOW_TYPE);
            };
            j += 2;
            continue;
        } else {
            return Err(SYNTAX);
        };
        let (signed, bits) = field_type(argv[j + 1])?;
        let offset = bit_offset(argv[j + 2], Some(bits), max_bulk)?;
        let op = match op {
            FieldOp::Get => FieldOp::Get,
            FieldOp::Set(_) => FieldOp::Set(num::parse_i64(argv[j + 3]).ok_or(NOT_INTEGER)?),
            FieldOp::Incrby(_) => FieldOp::Incrby(num::parse_i64(argv[j + 3]).ok_or(NOT_INTEGER)?),
        };
        fields.push(Field { op, offset, bits, signed, overflow });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    Ok(fields)
}

/// A string seen through the changes a BITFIELD makes to it: reads fall
/// through to the stored bytes (zeros past their end) unless the byte has
/// been written. The changes are applied to the stored value afterwards, and
/// only if there are any, so an idle BITFIELD never counts as a write.
struct Patched<'a> {
    base: &'a [u8],
    patch: std::collections::BTreeMap<u64, u8>,
}

impl Patched<'_> {
    fn byte(&self, i: u64) -> u8 {
        match self.patch.get(&i) {
            Some(&b) => b,
            None => usize::try_from(i).ok().and_then(|i| self.base.get(i)).copied().unwrap_or(0),
        }
    }

    fn get(&self, offset: u64, bits: u32) -> u64 {
        let mut v = 0u64;
        for pos in offset..offset + bits as u64 {
            v = (v << 1) | ((self.byte(pos >> 3) >> (7 - (pos & 7))) & 1) as u64;
        }
        v
    }

    fn set(&mut self, offset: u64, bits: u32, value: u64) {
        for (k, pos) in (offset..offset + bits as u64).enumerate() {
            let bit = ((value >> (bits as usize - 1 - k)) & 1) as u8;
            let shift = 7 - (pos & 7);
            let b = (self.byte(pos >> 3) & !(1 << shift)) | (bit << shift);
            self.patch.insert(pos >> 3, b);
        }
    }
}

/// The stored value of a field of `bits` bits: `v` as a signed integer
/// (sign-extended) or as an unsigned one.
fn field_value(v: u64, bits: u32, signed: bool) -> i64 {
    if signed && bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// `value + incr` fitted to a field, Redis's checkSigned/UnsignedBitfieldOverflow:
/// `Ok` when it fits, else `Err` with what WRAP or SAT make of it (FAIL
/// writes nothing). For unsigned fields `value` is the field's bits, or for
/// SET the new value's two's complement bits, as in Redis: `SET u8 0 -1`
/// overflows, saturating to 255.
fn fit(
    value: i64,
    unsigned_bits: u64,
    incr: i64,
    bits: u32,
    signed: bool,
    mode: Overflow,
) -> Result<u64, u64> {
    let (sum, min, max) = if signed {
        let max = if bits == 64 { i64::MAX as i128 } else { (1i128 << (bits - 1)) - 1 };
        (value as i128 + incr as i128, -max - 1, max)
    } else {
        (unsigned_bits as i128 + incr as i128, 0, (1i128 << bits) - 1)
    };
    if (min..=max).contains(&sum) {
        return Ok(sum as u64);
    }
    let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    Err(match mode {
        Overflow::Sat if sum > max => max as u64,
        Overflow::Sat => min as u64,
        _ => {
            let raw = if signed { value as u64 } else { unsigned_bits }.wrapping_add(incr as u64) & mask;
            field_value(raw, bits, signed) as u64
        }
    })
}

fn bitfield(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, argv, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, argv, true)
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset
/// increment] [OVERFLOW WRAP|SAT|FAIL] ...
///
/// With only GETs (and BITFIELD_RO) the key is read. Otherwise it is created
/// or grown to reach the farthest bit written, which counts as a change to
/// every operation that does not fail; each operation that changes its
/// field's value counts one more. Replies: GET the value, SET the old value,
/// INCRBY the new one, null for an operation that failed under OVERFLOW FAIL.
fn bitfield_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], read_only: bool) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    let fields = parse_fields(argv, ctx.shard.config.proto_max_bulk_len)?;
    let writes = fields.iter().any(|f| f.op != FieldOp::Get);
    let (db, out) = ctx.parts();
    let mut scratch = itoa::Buffer::new();
    if !writes {
        let base: &[u8] = match db.read(key, now) {
            None => &[],
            Some(Value::Str(s)) => s.bytes(&mut scratch),
            Some(_) => return Err(WRONGTYPE),
        };
        let view = Patched { base, patch: Default::default() };
        out.array(fields.len());
        for f in &fields {
            out.int(field_value(view.get(f.offset, f.bits), f.bits, f.signed));
        }
        return Ok(());
    }
    if read_only {
        return Err(RO_GET_ONLY);
    }
    let highest = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + f.bits as u64 - 1)
        .max()
        .unwrap_or(0);
    let need = (highest >> 3) as usize + 1;
    let (exists, base): (bool, &[u8]) = match db.peek(key, now).map(|e| e.value()) {
        None => (false, &[]),
        Some(Value::Str(s)) => (true, s.bytes(&mut scratch)),
        Some(_) => return Err(WRONGTYPE),
    };
    // Created or padded: Redis counts this as a change of every field written.
    let grown = !exists || base.len() < need;
    let mut view = Patched { base, patch: Default::default() };
    let mut changes = 0;
    out.array(fields.len());
    for f in &fields {
        let (bits, signed) = (f.bits, f.signed);
        let old_bits = view.get(f.offset, bits);
        let old = field_value(old_bits, bits, signed);
        let (reply, new) = match f.op {
            FieldOp::Get => {
                out.int(old);
                continue;
            }
            FieldOp::Set(v) => match fit(v, v as u64, 0, bits, signed, f.overflow) {
                Ok(n) => (old, n),
                Err(_) if f.overflow == Overflow::Fail => {
                    out.null();
                    continue;
                }
                Err(n) => (old, n),
            },
            FieldOp::Incrby(d) => match fit(old, old_bits, d, bits, signed, f.overflow) {
                Ok(n) => (n as i64, n),
                Err(_) if f.overflow == Overflow::Fail => {
                    out.null();
                    continue;
                }
                Err(n) => (n as i64, n),
            },
        };
        out.int(reply);
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        view.set(f.offset, bits, new & mask);
        if grown || old_bits != new & mask {
            changes += 1;
        }
    }
    let patch = view.patch;
    if grown || changes > 0 {
        let mut bytes = Vec::new();
        let target = match db.write(key, now) {
            Some(Value::Str(s)) => s.make_raw(),
            _ => &mut bytes,
        };
        grow(target, need)?;
        for (i, b) in patch {
            target[i as usize] = b;
        }
        if !exists {
            db.insert_new(key, Value::Str(Str::raw(bytes)), 0, now);
        }
    }
    ctx.dirty(changes);
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The tables below are redis-server 7.0.15's replies, recorded command
    //! by command (each table starts from an empty database).

    use crate::shard::{EngineConfig, Shard};
    use crate::testing::{run, run_proto, run_raw, shard};
    use crate::value::Value;

    type Table = &'static [(&'static [&'static str], &'static str)];

    /// Arguments and replies are Latin-1 text here: one char per byte.
    fn latin1(s: &str) -> Vec<u8> {
        s.chars().map(|c| c as u32 as u8).collect()
    }

    /// Runs a command given as Latin-1 text; `LPUSH key ...` stands for
    /// creating a list (the list commands live elsewhere).
    pub(super) fn exec(s: &mut Shard, argv: &[&str]) -> String {
        if argv[0] == "LPUSH" {
            s.db(0).set(argv[1].as_bytes(), Value::List(Box::default()), 0, false, 0);
            return ":1\r\n".into();
        }
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| latin1(a)).collect();
        run_raw(s, &argv).iter().map(|&b| b as char).collect()
    }

    fn check(table: Table) {
        let mut s = shard();
        for (argv, want) in table {
            assert_eq!(&exec(&mut s, argv), want, "{argv:?}");
        }
    }

    #[test]
    fn setbit_getbit() {
        check(SETBIT_GETBIT);
    }

    #[test]
    fn bitcount() {
        check(BITCOUNT);
    }

    #[test]
    fn bitpos() {
        check(BITPOS);
    }

    #[test]
    fn bitop() {
        check(BITOP);
    }

    #[test]
    fn bitfield() {
        check(BITFIELD);
    }

    #[test]
    fn bitfield_ro() {
        check(BITFIELD_RO);
    }

    fn shard_with_limit(max: u64) -> Shard {
        let config = EngineConfig { proto_max_bulk_len: max, ..EngineConfig::default() };
        Shard::new(config, |_| 0, 1)
    }

    fn version(s: &mut Shard, key: &str) -> Option<u32> {
        s.db(0).version(key.as_bytes(), 0)
    }

    #[test]
    fn offsets_stop_at_proto_max_bulk_len() {
        let mut s = shard_with_limit(100);
        let err = "-ERR bit offset is not an integer or out of range\r\n";
        assert_eq!(run(&mut s, &["SETBIT", "k", "799", "1"]), ":0\r\n");
        assert_eq!(run(&mut s, &["STRLEN", "k"]), ":100\r\n");
        assert_eq!(run(&mut s, &["SETBIT", "k", "800", "1"]), err);
        assert_eq!(run(&mut s, &["GETBIT", "k", "800"]), err);
        assert_eq!(run(&mut s, &["BITFIELD", "k", "GET", "u8", "#99"]), "*1\r\n:1\r\n");
        assert_eq!(run(&mut s, &["BITFIELD", "k", "GET", "u8", "#100"]), err);
        // The offset is checked, not the field's end: Redis lets a field
        // starting in the last byte reach past it.
        assert_eq!(run(&mut s, &["BITFIELD", "k", "SET", "u16", "799", "65535"]), "*1\r\n:32768\r\n");
        assert_eq!(run(&mut s, &["STRLEN", "k"]), ":102\r\n");
    }

    #[test]
    fn only_real_changes_are_writes() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["SETBIT", "k", "3", "0"]), ":0\r\n");
        assert_eq!(s.dirty, 1, "creating the key is a change");
        let v = version(&mut s, "k");
        assert_eq!(run(&mut s, &["SETBIT", "k", "3", "0"]), ":0\r\n");
        assert_eq!(run(&mut s, &["SETBIT", "k", "7", "0"]), ":0\r\n");
        assert_eq!(
            run(&mut s, &["BITFIELD", "k", "SET", "u8", "0", "0", "INCRBY", "u4", "0", "0"]),
            "*2\r\n:0\r\n:0\r\n"
        );
        assert_eq!(
            run(&mut s, &["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"]),
            "*1\r\n$-1\r\n"
        );
        assert_eq!((s.dirty, version(&mut s, "k")), (1, v));
        assert_eq!(run(&mut s, &["SETBIT", "k", "3", "1"]), ":0\r\n");
        assert_eq!(s.dirty, 2);
        assert_ne!(version(&mut s, "k"), v);
        // Padding counts as a change, even when the bit stays clear; with
        // BITFIELD it counts once per field written.
        assert_eq!(run(&mut s, &["SETBIT", "k", "15", "0"]), ":0\r\n");
        assert_eq!(s.dirty, 3);
        assert_eq!(
            run(&mut s, &["BITFIELD", "k", "SET", "u8", "16", "0", "SET", "u8", "24", "0", "GET", "u8", "0"]),
            "*3\r\n:0\r\n:0\r\n:16\r\n"
        );
        assert_eq!(s.dirty, 5);
        assert_eq!(run(&mut s, &["STRLEN", "k"]), ":4\r\n");
        // A failed field on a new key: the key is created all the same, with no change counted.
        assert_eq!(
            run(&mut s, &["BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u2", "8", "7"]),
            "*1\r\n$-1\r\n"
        );
        assert_eq!(run(&mut s, &["GET", "n"]), "$2\r\n\0\0\r\n");
        assert_eq!(s.dirty, 5);
        // BITOP always writes, or deletes an existing destination.
        assert_eq!(run(&mut s, &["BITOP", "OR", "d", "k"]), ":4\r\n");
        assert_eq!(run(&mut s, &["BITOP", "OR", "d", "nokey"]), ":0\r\n");
        assert_eq!(run(&mut s, &["BITOP", "OR", "d", "nokey"]), ":0\r\n");
        assert_eq!(s.dirty, 7);
    }

    #[test]
    fn reads_count_hits_and_misses() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "abc"]);
        let stats = |s: &mut Shard| (s.db(0).stats.hits, s.db(0).stats.misses);
        for cmd in [
            &["GETBIT", "k", "1"][..],
            &["BITCOUNT", "k"],
            &["BITPOS", "k", "1"],
            &["BITFIELD", "k", "GET", "u8", "0"],
            &["BITFIELD_RO", "k", "GET", "u8", "0"],
            &["BITOP", "AND", "d", "k", "none"],
            &["GETBIT", "none", "1"],
        ] {
            run(&mut s, cmd);
        }
        assert_eq!(stats(&mut s), (6, 2));
        // Write lookups count nothing.
        run(&mut s, &["SETBIT", "k", "1", "1"]);
        run(&mut s, &["BITFIELD", "k", "SET", "u8", "0", "1"]);
        assert_eq!(stats(&mut s), (6, 2));
    }

    #[test]
    fn resp3_null_for_failed_fields() {
        let mut s = shard();
        let argv = ["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "200", "GET", "u8", "0"];
        assert_eq!(run_proto(&mut s, 0, true, &argv), "*2\r\n_\r\n:0\r\n");
    }

    #[test]
    fn long_strings() {
        let mut s = shard();
        // 1000 bytes of 0xff with one clear bit, then zeros.
        for i in 0..8000 {
            run(&mut s, &["SETBIT", "k", &i.to_string(), "1"]);
        }
        run(&mut s, &["SETBIT", "k", "5555", "0"]);
        run(&mut s, &["SETBIT", "k", "9000", "0"]);
        assert_eq!(run(&mut s, &["BITCOUNT", "k"]), ":7999\r\n");
        assert_eq!(run(&mut s, &["BITCOUNT", "k", "3", "5556", "BIT"]), ":5553\r\n");
        assert_eq!(run(&mut s, &["BITPOS", "k", "0"]), ":5555\r\n");
        assert_eq!(run(&mut s, &["BITPOS", "k", "0", "695"]), ":8000\r\n");
        assert_eq!(run(&mut s, &["BITPOS", "k", "0", "5556", "-1", "BIT"]), ":8000\r\n");
        assert_eq!(run(&mut s, &["BITPOS", "k", "1", "5556", "-1", "BIT"]), ":5556\r\n");
        assert_eq!(run(&mut s, &["BITPOS", "k", "1", "7999", "-1", "BIT"]), ":7999\r\n");
        assert_eq!(run(&mut s, &["BITPOS", "k", "1", "8000", "-1", "BIT"]), ":-1\r\n");
        assert_eq!(run(&mut s, &["BITOP", "NOT", "n", "k"]), ":1126\r\n");
        assert_eq!(run(&mut s, &["BITPOS", "n", "1"]), ":5555\r\n");
        assert_eq!(run(&mut s, &["BITPOS", "n", "0", "0", "-1"]), ":0\r\n");
        assert_eq!(run(&mut s, &["BITCOUNT", "n"]), ":1009\r\n");
    }

    mod model {
        //! The bitmap commands against a bit-by-bit model of one string.

        use super::*;
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Op {
            SetBit(u64, u8),
            GetBit(u64),
            Set(Vec<u8>),
            Count(Option<(i64, i64, Option<bool>)>),
            Pos(u8, Option<i64>, Option<i64>, Option<bool>),
            Field(Vec<(u8, bool, u32, u64, i64, u8)>),
            Combine(u8),
        }

        fn op() -> impl Strategy<Value = Op> {
            let idx = -40i64..40;
            prop_oneof![
                4 => (0u64..160, 0u8..2).prop_map(|(o, v)| Op::SetBit(o, v)),
                2 => (0u64..200).prop_map(Op::GetBit),
                1 => prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..12),
                    (-1000i64..1000).prop_map(|n| n.to_string().into_bytes()),
                    proptest::collection::vec(prop_oneof![Just(0u8), Just(0xffu8)], 0..12),
                ]
                .prop_map(Op::Set),
                3 => proptest::option::of((idx.clone(), idx.clone(), proptest::option::of(any::<bool>())))
                    .prop_map(Op::Count),
                3 => (
                    0u8..2,
                    proptest::option::of(idx.clone()),
                    proptest::option::of(idx.clone()),
                    proptest::option::of(any::<bool>()),
                )
                    .prop_map(|(b, s, e, u)| Op::Pos(b, s, e, u)),
                4 => proptest::collection::vec(
                    (0u8..3, any::<bool>(), 1u32..65, 0u64..120, prop_oneof![any::<i64>(), -300i64..300], 0u8..3),
                    1..4
                )
                .prop_map(Op::Field),
                1 => (0u8..4).prop_map(Op::Combine),
            ]
        }

        fn bit(v: &[u8], i: u64) -> u8 {
            v.get((i / 8) as usize).map_or(0, |b| (b >> (7 - i % 8)) & 1)
        }

        /// Redis's index rules, unit by unit: `None` for an empty range.
        fn units(start: i64, end: i64, total: i64) -> Option<(i64, i64)> {
            let s = if start < 0 { (total + start).max(0) } else { start };
            let e = if end < 0 { (total + end).max(0) } else { end }.min(total - 1);
            (s <= e).then_some((s, e))
        }

        fn model_count(v: &[u8], arg: Option<(i64, i64, Option<bool>)>) -> i64 {
            let len = v.len() as i64;
            let Some((s, e, unit)) = arg else {
                return v.iter().map(|b| b.count_ones() as i64).sum();
            };
            if s < 0 && e < 0 && s > e {
                return 0;
            }
            let bits = unit == Some(true);
            match units(s, e, if bits { len * 8 } else { len }) {
                None => 0,
                Some((s, e)) if bits => (s..=e).map(|i| bit(v, i as u64) as i64).sum(),
                Some((s, e)) => (s..=e).map(|i| v[i as usize].count_ones() as i64).sum(),
            }
        }

        fn field_get(v: &[u8], offset: u64, bits: u32) -> u64 {
            (offset..offset + bits as u64).fold(0, |acc, i| (acc << 1) | bit(v, i) as u64)
        }

        fn field_set(v: &mut Vec<u8>, offset: u64, bits: u32, value: u64) {
            for (k, i) in (offset..offset + bits as u64).enumerate() {
                let b = (value >> (bits as usize - 1 - k)) & 1;
                let byte = (i / 8) as usize;
                if byte >= v.len() {
                    v.resize(byte + 1, 0);
                }
                v[byte] = (v[byte] & !(1 << (7 - i % 8))) | ((b as u8) << (7 - i % 8));
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]
            #[test]
            fn bitmaps_match_a_bit_model(ops in proptest::collection::vec(op(), 1..40)) {
                let mut s = shard();
                let mut model: Option<Vec<u8>> = None;
                let other = b"\x0f\xf0\xaa".to_vec();
                exec(&mut s, &["SET", "j", "\u{f}\u{f0}\u{aa}"]);
                for op in ops {
                    let cur = model.clone().unwrap_or_default();
                    let (argv, want): (Vec<String>, String) = match &op {
                        Op::SetBit(o, b) => {
                            let old = bit(&cur, *o);
                            let mut v = cur.clone();
                            field_set(&mut v, *o, 1, *b as u64);
                            model = Some(v);
                            (vec!["SETBIT".into(), "k".into(), o.to_string(), b.to_string()], format!(":{old}\r\n"))
                        }
                        Op::GetBit(o) => {
                            (vec!["GETBIT".into(), "k".into(), o.to_string()], format!(":{}\r\n", bit(&cur, *o)))
                        }
                        Op::Set(bytes) => {
                            model = Some(bytes.clone());
                            (vec!["SET".into(), "k".into(), bytes.iter().map(|&b| b as char).collect()], "+OK\r\n".into())
                        }
                        Op::Count(arg) => {
                            let mut argv = vec!["BITCOUNT".to_string(), "k".into()];
                            if let Some((a, b, u)) = arg {
                                argv.extend([a.to_string(), b.to_string()]);
                                if let Some(u) = u {
                                    argv.push(if *u { "BIT" } else { "BYTE" }.into());
                                }
                            }
                            (argv, format!(":{}\r\n", model_count(&cur, *arg)))
                        }
                        Op::Pos(b, st, e, u) => {
                            let mut argv = vec!["BITPOS".to_string(), "k".into(), b.to_string()];
                            let (st, e, u) = match (st, e, u) {
                                (Some(st), Some(e), Some(u)) => (Some(*st), Some(*e), Some(*u)),
                                (Some(st), Some(e), None) => (Some(*st), Some(*e), None),
                                (Some(st), None, _) => (Some(*st), None, None),
                                (None, _, _) => (None, None, None),
                            };
                            argv.extend(st.map(|x| x.to_string()));
                            argv.extend(e.map(|x| x.to_string()));
                            argv.extend(u.map(|u| if u { "BIT" } else { "BYTE" }.to_string()));
                            let want = if model.is_none() {
                                if *b == 1 { -1 } else { 0 }
                            } else {
                                model_pos_full(&cur, *b, st, e, u)
                            };
                            (argv, format!(":{want}\r\n"))
                        }
                        Op::Field(fields) => {
                            let mut argv = vec!["BITFIELD".to_string(), "k".into()];
                            let mut v = cur.clone();
                            let mut replies = Vec::new();
                            let writes = fields.iter().any(|f| f.0 != 0);
                            for &(kind, signed, bits, offset, value, ow) in fields {
                                let bits = if signed { bits } else { bits.min(63) };
                                let ty = format!("{}{bits}", if signed { 'i' } else { 'u' });
                                let ow_name = ["WRAP", "SAT", "FAIL"][ow as usize];
                                argv.extend(["OVERFLOW".into(), ow_name.to_string()]);
                                let raw = field_get(&v, offset, bits);
                                let old: i128 = if signed && bits < 64 && raw >> (bits - 1) == 1 {
                                    raw as i128 - (1i128 << bits)
                                } else if signed {
                                    raw as i64 as i128
                                } else {
                                    raw as i128
                                };
                                let (min, max) = if signed {
                                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                                } else {
                                    (0, (1i128 << bits) - 1)
                                };
                                let target = match kind {
                                    0 => {
                                        argv.extend(["GET".into(), ty, offset.to_string()]);
                                        replies.push(format!(":{old}\r\n"));
                                        continue;
                                    }
                                    1 => {
                                        argv.extend(["SET".into(), ty, offset.to_string(), value.to_string()]);
                                        if signed { value as i128 } else { value as u64 as i128 }
                                    }
                                    _ => {
                                        argv.extend(["INCRBY".into(), ty, offset.to_string(), value.to_string()]);
                                        old + value as i128
                                    }
                                };
                                let new = if (min..=max).contains(&target) {
                                    target
                                } else if ow == 1 {
                                    target.clamp(min, max)
                                } else if ow == 0 {
                                    (target - min).rem_euclid(1i128 << bits) + min
                                } else {
                                    replies.push("$-1\r\n".into());
                                    continue;
                                };
                                replies.push(format!(":{}\r\n", if kind == 1 { old } else { new }));
                                field_set(&mut v, offset, bits, new as u64);
                            }
                            if writes {
                                let need = fields
                                    .iter()
                                    .filter(|f| f.0 != 0)
                                    .map(|f| {
                                        let bits = if f.1 { f.2 } else { f.2.min(63) };
                                        ((f.3 + bits as u64 - 1) / 8 + 1) as usize
                                    })
                                    .max()
                                    .unwrap_or(0);
                                if v.len() < need {
                                    v.resize(need, 0);
                                }
                                model = Some(v);
                            }
                            (argv, format!("*{}\r\n{}", replies.len(), replies.concat()))
                        }
                        Op::Combine(which) => {
                            let name = ["AND", "OR", "XOR", "NOT"][*which as usize];
                            let n = cur.len().max(if *which == 3 { 0 } else { other.len() });
                            let at = |v: &[u8], i: usize| v.get(i).copied().unwrap_or(0);
                            let res: Vec<u8> = (0..n)
                                .map(|i| match which {
                                    0 => at(&cur, i) & at(&other, i),
                                    1 => at(&cur, i) | at(&other, i),
                                    2 => at(&cur, i) ^ at(&other, i),
                                    _ => !at(&cur, i),
                                })
                                .collect();
                            let mut argv = vec!["BITOP".to_string(), name.into(), "d".into(), "k".into()];
                            if *which != 3 {
                                argv.push("j".into());
                            }
                            let got = exec(&mut s, &argv.iter().map(String::as_str).collect::<Vec<_>>());
                            prop_assert_eq!(got, format!(":{n}\r\n"));
                            let want = if n == 0 {
                                "$-1\r\n".to_string()
                            } else {
                                format!("${n}\r\n{}\r\n", res.iter().map(|&b| b as char).collect::<String>())
                            };
                            (vec!["GET".into(), "d".into()], want)
                        }
                    };
                    let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
                    prop_assert_eq!(exec(&mut s, &refs), want, "{:?}", refs);
                    let stored = exec(&mut s, &["GET", "k"]);
                    let expect = match &model {
                        None => "$-1\r\n".to_string(),
                        Some(v) => format!("${}\r\n{}\r\n", v.len(), v.iter().map(|&b| b as char).collect::<String>()),
                    };
                    prop_assert_eq!(stored, expect, "after {:?}", refs);
                }
            }
        }

        fn model_pos_full(v: &[u8], b: u8, s: Option<i64>, e: Option<i64>, unit: Option<bool>) -> i64 {
            let len = v.len() as i64;
            let bits = unit == Some(true);
            let total = if bits { len * 8 } else { len };
            let Some((s, e2)) = units(s.unwrap_or(0), e.unwrap_or(len - 1), total) else {
                return -1;
            };
            let (from, to) = if bits { (s, e2) } else { (s * 8, e2 * 8 + 7) };
            match (from..=to).find(|&i| bit(v, i as u64) == b) {
                Some(i) => i,
                None if b == 0 && e.is_none() => to + 1,
                None => -1,
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// No input makes a bitmap command panic.
        #[test]
        fn bitmap_commands_never_panic(
            cmd in proptest::sample::select(vec![
                "SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITOP", "BITFIELD", "BITFIELD_RO",
            ]),
            stored in "[0-9a-z\\x00-\\xff]{0,12}",
            args in proptest::collection::vec(
                proptest::prop_oneof![
                    "-?[0-9]{1,20}",
                    "#-?[0-9]{1,20}",
                    "[iu][0-9]{1,3}",
                    "(GET|SET|INCRBY|OVERFLOW|WRAP|SAT|FAIL|BIT|BYTE|AND|OR|XOR|NOT|k|j)",
                    "(9223372036854775807|-9223372036854775808|4294967295|0|1|-1)",
                    ".{0,4}",
                ],
                0..9,
            ),
        ) {
            let mut s = shard_with_limit(4096);
            exec(&mut s, &["SET", "k", &stored]);
            exec(&mut s, &["SET", "j", "1"]);
            let mut argv = vec![cmd];
            if cmd != "BITOP" {
                argv.push("k");
            }
            argv.extend(args.iter().map(String::as_str));
            if argv.len() < 2 {
                argv.push("k");
            }
            let reply = exec(&mut s, &argv);
            proptest::prop_assert!(reply.ends_with("\r\n"), "{argv:?} -> {reply:?}");
        }
    }

    const SETBIT_GETBIT: Table = &[
        (&["SETBIT", "k", "7", "1"], ":0\r\n"),
        (&["GET", "k"], "$1\r\n\u{1}\r\n"),
        (&["SETBIT", "k", "7", "1"], ":1\r\n"),
        (&["SETBIT", "k", "7", "0"], ":1\r\n"),
        (&["SETBIT", "k", "0", "1"], ":0\r\n"),
        (&["GET", "k"], "$1\r\n\u{80}\r\n"),
        (&["SETBIT", "k", "17", "1"], ":0\r\n"),
        (&["GET", "k"], "$3\r\n\u{80}\u{0}@\r\n"),
        (&["STRLEN", "k"], ":3\r\n"),
        (&["OBJECT", "ENCODING", "k"], "$3\r\nraw\r\n"),
        (&["GETBIT", "k", "0"], ":1\r\n"),
        (&["GETBIT", "k", "1"], ":0\r\n"),
        (&["GETBIT", "k", "17"], ":1\r\n"),
        (&["GETBIT", "k", "100"], ":0\r\n"),
        (&["GETBIT", "k", "4294967295"], ":0\r\n"),
        (&["GETBIT", "k", "4294967296"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["GETBIT", "k", "-1"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["GETBIT", "k", "abc"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["GETBIT", "nokey", "5"], ":0\r\n"),
        (&["SETBIT", "k", "-1", "1"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["SETBIT", "k", "4294967296", "1"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["SETBIT", "k", "abc", "1"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["SETBIT", "k", "1", "2"], "-ERR bit is not an integer or out of range\r\n"),
        (&["SETBIT", "k", "1", "-1"], "-ERR bit is not an integer or out of range\r\n"),
        (&["SETBIT", "k", "1", "x"], "-ERR bit is not an integer or out of range\r\n"),
        (&["SETBIT", "k", "x", "5"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["SETBIT", "k", "1", "01"], "-ERR bit is not an integer or out of range\r\n"),
        (&["SETBIT", "new", "20", "0"], ":0\r\n"),
        (&["GET", "new"], "$3\r\n\u{0}\u{0}\u{0}\r\n"),
        (&["OBJECT", "ENCODING", "new"], "$3\r\nraw\r\n"),
        (&["SET", "n", "12"], "+OK\r\n"),
        (&["GETBIT", "n", "2"], ":1\r\n"),
        (&["GETBIT", "n", "3"], ":1\r\n"),
        (&["SETBIT", "n", "6", "1"], ":0\r\n"),
        (&["GET", "n"], "$2\r\n32\r\n"),
        (&["OBJECT", "ENCODING", "n"], "$3\r\nraw\r\n"),
        (&["SET", "e", ""], "+OK\r\n"),
        (&["GETBIT", "e", "0"], ":0\r\n"),
        (&["SETBIT", "e", "0", "0"], ":0\r\n"),
        (&["GET", "e"], "$1\r\n\u{0}\r\n"),
        (&["LPUSH", "l", "a"], ":1\r\n"),
        (
            &["SETBIT", "l", "0", "1"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ),
        (&["GETBIT", "l", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["SETBIT", "k"], "-ERR wrong number of arguments for 'setbit' command\r\n"),
        (&["GETBIT", "k"], "-ERR wrong number of arguments for 'getbit' command\r\n"),
    ];
    const BITCOUNT: Table = &[
        (&["BITCOUNT", "nokey"], ":0\r\n"),
        (&["BITCOUNT", "nokey", "1"], ":0\r\n"),
        (&["BITCOUNT", "nokey", "a", "b"], ":0\r\n"),
        (&["BITCOUNT", "nokey", "0", "1", "foo"], ":0\r\n"),
        (&["SET", "k", "foobar"], "+OK\r\n"),
        (&["BITCOUNT", "k"], ":26\r\n"),
        (&["BITCOUNT", "k", "0", "0"], ":4\r\n"),
        (&["BITCOUNT", "k", "1", "1"], ":6\r\n"),
        (&["BITCOUNT", "k", "1", "1", "BYTE"], ":6\r\n"),
        (&["BITCOUNT", "k", "5", "30", "BIT"], ":17\r\n"),
        (&["BITCOUNT", "k", "5", "30", "bit"], ":17\r\n"),
        (&["BITCOUNT", "k", "-1", "-1"], ":4\r\n"),
        (&["BITCOUNT", "k", "-2", "-1", "bit"], ":1\r\n"),
        (&["BITCOUNT", "k", "-100", "100"], ":26\r\n"),
        (&["BITCOUNT", "k", "-100", "100", "BIT"], ":26\r\n"),
        (&["BITCOUNT", "k", "4", "2"], ":0\r\n"),
        (&["BITCOUNT", "k", "-1", "-2"], ":0\r\n"),
        (&["BITCOUNT", "k", "-1", "-2", "foo"], ":0\r\n"),
        (&["BITCOUNT", "k", "0", "-2", "foo"], "-ERR syntax error\r\n"),
        (&["BITCOUNT", "k", "1"], "-ERR syntax error\r\n"),
        (&["BITCOUNT", "k", "1", "2", "bit", "extra"], "-ERR syntax error\r\n"),
        (&["BITCOUNT", "k", "a", "1"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITCOUNT", "k", "1", "a"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITCOUNT", "k", "0", "9223372036854775807", "BIT"], ":26\r\n"),
        (&["BITCOUNT", "k", "-9223372036854775808", "-1", "BIT"], ":26\r\n"),
        (&["BITCOUNT", "k", "7", "7", "BIT"], ":0\r\n"),
        (&["BITCOUNT", "k", "9", "9", "BIT"], ":1\r\n"),
        (&["BITCOUNT", "k", "1", "6", "BIT"], ":4\r\n"),
        (&["BITCOUNT", "k", "47", "47", "BIT"], ":0\r\n"),
        (&["BITCOUNT", "k", "48", "48", "BIT"], ":0\r\n"),
        (&["SET", "n", "255"], "+OK\r\n"),
        (&["BITCOUNT", "n"], ":11\r\n"),
        (&["BITCOUNT", "n", "0", "0"], ":3\r\n"),
        (&["SET", "e", ""], "+OK\r\n"),
        (&["BITCOUNT", "e"], ":0\r\n"),
        (&["BITCOUNT", "e", "0", "-1"], ":0\r\n"),
        (&["BITCOUNT", "e", "0", "-1", "bit"], ":0\r\n"),
        (&["LPUSH", "l", "a"], ":1\r\n"),
        (&["BITCOUNT", "l"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (
            &["BITCOUNT", "l", "a", "b"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ),
        (&["BITCOUNT"], "-ERR wrong number of arguments for 'bitcount' command\r\n"),
    ];
    const BITPOS: Table = &[
        (&["BITPOS", "nokey", "0"], ":0\r\n"),
        (&["BITPOS", "nokey", "1"], ":-1\r\n"),
        (&["BITPOS", "nokey", "1", "abc"], ":-1\r\n"),
        (&["BITPOS", "nokey", "2"], "-ERR The bit argument must be 1 or 0.\r\n"),
        (&["BITPOS", "nokey", "x"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITPOS", "nokey", "-1"], "-ERR The bit argument must be 1 or 0.\r\n"),
        (&["SET", "k", "\u{ff}\u{f0}\u{0}"], "+OK\r\n"),
        (&["BITPOS", "k", "0"], ":12\r\n"),
        (&["BITPOS", "k", "1"], ":0\r\n"),
        (&["BITPOS", "k", "0", "1"], ":12\r\n"),
        (&["BITPOS", "k", "1", "2"], ":-1\r\n"),
        (&["BITPOS", "k", "1", "2", "-1"], ":-1\r\n"),
        (&["BITPOS", "k", "0", "0", "0"], ":-1\r\n"),
        (&["BITPOS", "k", "0", "0", "1"], ":12\r\n"),
        (&["BITPOS", "k", "1", "1", "1"], ":8\r\n"),
        (&["BITPOS", "k", "0", "2"], ":16\r\n"),
        (&["BITPOS", "k", "0", "3"], ":-1\r\n"),
        (&["BITPOS", "k", "1", "3"], ":-1\r\n"),
        (&["BITPOS", "k", "0", "-1"], ":16\r\n"),
        (&["BITPOS", "k", "1", "-1"], ":-1\r\n"),
        (&["BITPOS", "k", "0", "7", "15", "BIT"], ":12\r\n"),
        (&["BITPOS", "k", "1", "7", "15", "bit"], ":7\r\n"),
        (&["BITPOS", "k", "0", "0", "11", "BIT"], ":-1\r\n"),
        (&["BITPOS", "k", "0", "0", "12", "BIT"], ":12\r\n"),
        (&["BITPOS", "k", "0", "3", "5", "BIT"], ":-1\r\n"),
        (&["BITPOS", "k", "1", "12", "23", "BIT"], ":-1\r\n"),
        (&["BITPOS", "k", "1", "12", "23", "BYTE"], ":-1\r\n"),
        (&["BITPOS", "k", "0", "12", "23", "BIT"], ":12\r\n"),
        (&["BITPOS", "k", "1", "-5", "-1", "BIT"], ":-1\r\n"),
        (&["BITPOS", "k", "0", "-5", "-1", "BIT"], ":19\r\n"),
        (&["BITPOS", "k", "0", "100", "200", "BIT"], ":-1\r\n"),
        (&["BITPOS", "k", "1", "0", "-1", "foo"], "-ERR syntax error\r\n"),
        (&["BITPOS", "k", "1", "a"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITPOS", "k", "1", "0", "a"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITPOS", "k", "1", "0", "a", "foo"], "-ERR syntax error\r\n"),
        (&["BITPOS", "k", "1", "a", "0", "foo"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITPOS", "k", "1", "0", "1", "bit", "extra"], "-ERR syntax error\r\n"),
        (&["BITPOS", "k", "3"], "-ERR The bit argument must be 1 or 0.\r\n"),
        (&["SET", "ones", "\u{ff}\u{ff}"], "+OK\r\n"),
        (&["BITPOS", "ones", "0"], ":16\r\n"),
        (&["BITPOS", "ones", "0", "0"], ":16\r\n"),
        (&["BITPOS", "ones", "0", "0", "-1"], ":-1\r\n"),
        (&["BITPOS", "ones", "0", "1"], ":16\r\n"),
        (&["BITPOS", "ones", "0", "0", "15", "bit"], ":-1\r\n"),
        (&["BITPOS", "ones", "0", "3", "bit"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITPOS", "ones", "1", "0", "-1"], ":0\r\n"),
        (&["BITPOS", "ones", "0", "5", "2"], ":-1\r\n"),
        (&["SET", "zeros", "\u{0}\u{0}\u{0}"], "+OK\r\n"),
        (&["BITPOS", "zeros", "1"], ":-1\r\n"),
        (&["BITPOS", "zeros", "0"], ":0\r\n"),
        (&["BITPOS", "zeros", "1", "0", "-1"], ":-1\r\n"),
        (&["BITPOS", "zeros", "1", "1", "100", "bit"], ":-1\r\n"),
        (&["SET", "e", ""], "+OK\r\n"),
        (&["BITPOS", "e", "0"], ":-1\r\n"),
        (&["BITPOS", "e", "1"], ":-1\r\n"),
        (&["BITPOS", "e", "0", "0"], ":-1\r\n"),
        (&["BITPOS", "e", "0", "0", "-1"], ":-1\r\n"),
        (&["SET", "n", "12"], "+OK\r\n"),
        (&["BITPOS", "n", "1"], ":2\r\n"),
        (&["BITPOS", "n", "0"], ":0\r\n"),
        (&["BITPOS", "n", "0", "1", "1"], ":8\r\n"),
        (&["LPUSH", "l", "a"], ":1\r\n"),
        (&["BITPOS", "l", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["BITPOS", "l", "2"], "-ERR The bit argument must be 1 or 0.\r\n"),
        (&["BITPOS"], "-ERR wrong number of arguments for 'bitpos' command\r\n"),
        (&["BITPOS", "k"], "-ERR wrong number of arguments for 'bitpos' command\r\n"),
    ];
    const BITOP: Table = &[
        (&["SET", "a", "\u{f}\u{f0}"], "+OK\r\n"),
        (&["SET", "b", "\u{ff}"], "+OK\r\n"),
        (&["SET", "c", "\u{1}\u{2}\u{3}\u{4}"], "+OK\r\n"),
        (&["BITOP", "AND", "dest", "a", "b"], ":2\r\n"),
        (&["GET", "dest"], "$2\r\n\u{f}\u{0}\r\n"),
        (&["OBJECT", "ENCODING", "dest"], "$3\r\nraw\r\n"),
        (&["BITOP", "OR", "dest", "a", "b", "c"], ":4\r\n"),
        (&["GET", "dest"], "$4\r\n\u{ff}\u{f2}\u{3}\u{4}\r\n"),
        (&["BITOP", "XOR", "dest", "a", "b", "c"], ":4\r\n"),
        (&["GET", "dest"], "$4\r\n\u{f1}\u{f2}\u{3}\u{4}\r\n"),
        (&["BITOP", "NOT", "dest", "a"], ":2\r\n"),
        (&["GET", "dest"], "$2\r\n\u{f0}\u{f}\r\n"),
        (&["BITOP", "not", "dest", "b"], ":1\r\n"),
        (&["GET", "dest"], "$1\r\n\u{0}\r\n"),
        (&["BITOP", "NOT", "dest", "a", "b"], "-ERR BITOP NOT must be called with a single source key.\r\n"),
        (&["BITOP", "NOT", "dest"], "-ERR wrong number of arguments for 'bitop' command\r\n"),
        (&["BITOP", "NOT", "dest", "nokey"], ":0\r\n"),
        (&["EXISTS", "dest"], ":0\r\n"),
        (&["BITOP", "AND", "dest", "nokey", "nokey2"], ":0\r\n"),
        (&["BITOP", "AND", "dest", "a", "nokey"], ":2\r\n"),
        (&["GET", "dest"], "$2\r\n\u{0}\u{0}\r\n"),
        (&["BITOP", "OR", "dest", "nokey", "a"], ":2\r\n"),
        (&["GET", "dest"], "$2\r\n\u{f}\u{f0}\r\n"),
        (&["BITOP", "FOO", "dest", "a"], "-ERR syntax error\r\n"),
        (&["BITOP", "AN", "dest", "a"], "-ERR syntax error\r\n"),
        (&["SET", "dest2", "x", "EX", "100"], "+OK\r\n"),
        (&["BITOP", "OR", "dest2", "a"], ":2\r\n"),
        (&["TTL", "dest2"], ":-1\r\n"),
        (&["GET", "dest2"], "$2\r\n\u{f}\u{f0}\r\n"),
        (&["LPUSH", "l", "a"], ":1\r\n"),
        (&["BITOP", "OR", "dest", "a", "l"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["BITOP", "OR", "l", "a"], ":2\r\n"),
        (&["TYPE", "l"], "+string\r\n"),
        (&["GET", "l"], "$2\r\n\u{f}\u{f0}\r\n"),
        (&["SET", "n", "12"], "+OK\r\n"),
        (&["BITOP", "OR", "dest", "n"], ":2\r\n"),
        (&["GET", "dest"], "$2\r\n12\r\n"),
        (&["BITOP", "AND", "a", "a", "c"], ":4\r\n"),
        (&["GET", "a"], "$4\r\n\u{1}\u{0}\u{0}\u{0}\r\n"),
        (&["SET", "e", ""], "+OK\r\n"),
        (&["BITOP", "OR", "dest", "e"], ":0\r\n"),
        (&["EXISTS", "dest"], ":0\r\n"),
        (&["BITOP", "AND", "dest", "a", "e"], ":4\r\n"),
        (&["GET", "dest"], "$4\r\n\u{0}\u{0}\u{0}\u{0}\r\n"),
        (&["SET", "big", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], "+OK\r\n"),
        (&["SET", "big2", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"], "+OK\r\n"),
        (&["BITOP", "AND", "dest", "big", "big2"], ":92\r\n"),
        (&["GET", "dest"], "$92\r\n```````````````````````````````````````````````````````````````````````\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\r\n"),
        (&["BITOP", "XOR", "dest", "big", "big2", "big"], ":92\r\n"),
        (&["GET", "dest"], "$92\r\nbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n"),
        (&["BITOP", "NOT", "dest", "big2"], ":92\r\n"),
        (&["GET", "dest"], "$92\r\n\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\u{9d}\r\n"),
        (&["BITOP", "OR", "dest"], "-ERR wrong number of arguments for 'bitop' command\r\n"),
        (&["BITOP", "OR"], "-ERR wrong number of arguments for 'bitop' command\r\n"),
    ];
    const BITFIELD: Table = &[
        (&["BITFIELD", "k"], "*0\r\n"),
        (&["EXISTS", "k"], ":0\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "0"], "*1\r\n:0\r\n"),
        (&["EXISTS", "k"], ":0\r\n"),
        (&["BITFIELD", "k", "SET", "u8", "0", "255"], "*1\r\n:0\r\n"),
        (&["GET", "k"], "$1\r\n\u{ff}\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "0", "GET", "i8", "0", "GET", "u4", "0", "GET", "i4", "4", "GET", "u1", "7", "GET", "i64", "0", "GET", "u63", "0", "GET", "i1", "0"], "*8\r\n:255\r\n:-1\r\n:15\r\n:-1\r\n:1\r\n:-72057594037927936\r\n:9187343239835811840\r\n:-1\r\n"),
        (&["BITFIELD", "k", "SET", "i8", "#1", "-100", "GET", "u8", "8", "GET", "i8", "8"], "*3\r\n:0\r\n:156\r\n:-100\r\n"),
        (&["GET", "k"], "$2\r\n\u{ff}\u{9c}\r\n"),
        (&["BITFIELD", "k", "INCRBY", "u2", "100", "1", "GET", "u2", "100"], "*2\r\n:1\r\n:1\r\n"),
        (&["GET", "k"], "$13\r\n\u{ff}\u{9c}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{4}\r\n"),
        (&["BITFIELD", "k", "INCRBY", "u2", "100", "1"], "*1\r\n:2\r\n"),
        (&["BITFIELD", "k", "INCRBY", "u2", "100", "1"], "*1\r\n:3\r\n"),
        (&["BITFIELD", "k", "INCRBY", "u2", "100", "1"], "*1\r\n:0\r\n"),
        (&["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u2", "100", "5", "INCRBY", "u2", "100", "-10"], "*2\r\n:3\r\n:0\r\n"),
        (&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "5", "INCRBY", "u2", "100", "2", "GET", "u2", "100"], "*3\r\n$-1\r\n:2\r\n:2\r\n"),
        (&["BITFIELD", "k", "OVERFLOW", "WRAP", "INCRBY", "i5", "100", "15", "INCRBY", "i5", "100", "2", "OVERFLOW", "SAT", "INCRBY", "i5", "100", "100", "INCRBY", "i5", "100", "-100"], "*4\r\n:-1\r\n:1\r\n:15\r\n:-16\r\n"),
        (&["BITFIELD", "k", "OVERFLOW", "fail", "INCRBY", "i5", "100", "-100", "OVERFLOW", "wrap", "INCRBY", "i5", "100", "-100"], "*2\r\n$-1\r\n:12\r\n"),
        (&["BITFIELD", "k", "SET", "u8", "0", "-1"], "*1\r\n:255\r\n"),
        (&["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "SET", "u8", "0", "256", "SET", "i8", "0", "200", "SET", "i8", "0", "-200"], "*4\r\n:255\r\n:255\r\n:-1\r\n:127\r\n"),
        (&["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u8", "0", "-1", "SET", "u8", "0", "256", "SET", "i8", "0", "200", "SET", "i8", "0", "-129", "SET", "i8", "0", "-128"], "*5\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n:-128\r\n"),
        (&["BITFIELD", "k", "OVERFLOW", "WRAP", "SET", "u8", "0", "-1", "SET", "u8", "0", "256", "SET", "i8", "0", "200", "SET", "i8", "0", "-129"], "*4\r\n:128\r\n:255\r\n:0\r\n:-56\r\n"),
        (&["BITFIELD", "k", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "INCRBY", "i64", "0", "1", "INCRBY", "i64", "0", "9223372036854775807"], "*5\r\n:9195224539183710208\r\n:-9223372036854775808\r\n:-9223372036854775808\r\n:-9223372036854775807\r\n:0\r\n"),
        (&["BITFIELD", "k", "SET", "i64", "0", "-9223372036854775808", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "OVERFLOW", "WRAP", "INCRBY", "i64", "0", "-1", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "1", "INCRBY", "i64", "0", "-9223372036854775808"], "*5\r\n:0\r\n:-9223372036854775808\r\n:9223372036854775807\r\n$-1\r\n:-1\r\n"),
        (&["BITFIELD", "k", "SET", "u63", "0", "9223372036854775807", "INCRBY", "u63", "0", "1", "SET", "u63", "0", "-1", "OVERFLOW", "SAT", "SET", "u63", "0", "-1", "INCRBY", "u63", "0", "-9223372036854775808", "INCRBY", "u63", "0", "9223372036854775807"], "*6\r\n:9223372036854775807\r\n:0\r\n:0\r\n:9223372036854775807\r\n:0\r\n:9223372036854775807\r\n"),
        (&["BITFIELD", "k", "INCRBY", "u63", "0", "-9223372036854775808", "OVERFLOW", "FAIL", "INCRBY", "u63", "0", "-1", "INCRBY", "u63", "0", "9223372036854775807"], "*3\r\n:9223372036854775807\r\n:9223372036854775806\r\n$-1\r\n"),
        (&["GET", "k"], "$14\r\n\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{fd}\u{0}\u{0}\u{0}\u{0}\u{6}\u{0}\r\n"),
        (&["BITFIELD", "k", "SET", "i64", "3", "-1", "GET", "u8", "0", "GET", "u8", "8", "GET", "i64", "3", "GET", "u63", "4"], "*5\r\n:-24\r\n:255\r\n:255\r\n:-1\r\n:9223372036854775807\r\n"),
        (&["GET", "k"], "$14\r\n\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{e0}\u{0}\u{0}\u{0}\u{6}\u{0}\r\n"),
        (&["BITFIELD", "k", "GET", "u64", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "i65", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "u0", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "i0", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "U8", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "I8", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "8", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "u", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "u08", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "u8\u{0}zz", "0"], "*1\r\n:255\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "-1"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "abc"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "4294967295"], "*1\r\n:0\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "4294967296"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "#536870911"], "*1\r\n:0\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "#536870912"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "#-1"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "##1"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "#"], "-ERR bit offset is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "#2305843009213693953"], "*1\r\n:255\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "#2305843009213693952"], "*1\r\n:255\r\n"),
        (&["BITFIELD", "k", "SET", "u8", "0"], "-ERR syntax error\r\n"),
        (&["BITFIELD", "k", "SET", "u8", "0", "x"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "SET", "u8", "0", "1.5"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "INCRBY", "u8", "0"], "-ERR syntax error\r\n"),
        (&["BITFIELD", "k", "GET", "u8"], "-ERR syntax error\r\n"),
        (&["BITFIELD", "k", "GET"], "-ERR syntax error\r\n"),
        (&["BITFIELD", "k", "FOO"], "-ERR syntax error\r\n"),
        (&["BITFIELD", "k", "OVERFLOW"], "-ERR syntax error\r\n"),
        (&["BITFIELD", "k", "OVERFLOW", "FOO", "GET", "u8", "0"], "-ERR Invalid OVERFLOW type specified\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "0", "OVERFLOW", "FOO"], "-ERR Invalid OVERFLOW type specified\r\n"),
        (&["BITFIELD", "k", "GET", "u8", "0", "GET", "u65", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "GET", "u65", "0", "SET", "u8", "0", "x"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "k", "SET", "u8", "0", "x", "GET", "u65", "0"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITFIELD", "k", "OVERFLOW", "SAT"], "*0\r\n"),
        (&["BITFIELD", "k", "get", "u8", "0", "set", "u8", "0", "1", "incrby", "u8", "0", "1", "overflow", "sat"], "*3\r\n:255\r\n:255\r\n:2\r\n"),
        (&["LPUSH", "l", "a"], ":1\r\n"),
        (&["BITFIELD", "l", "GET", "u8", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["BITFIELD", "l", "SET", "u8", "0", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["BITFIELD", "l", "GET", "u65", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD", "l"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["SET", "n", "12"], "+OK\r\n"),
        (&["BITFIELD", "n", "GET", "u8", "0", "GET", "u16", "0"], "*2\r\n:49\r\n:12594\r\n"),
        (&["BITFIELD", "n", "SET", "u8", "0", "50"], "*1\r\n:49\r\n"),
        (&["GET", "n"], "$2\r\n22\r\n"),
        (&["OBJECT", "ENCODING", "n"], "$3\r\nraw\r\n"),
        (&["BITFIELD", "new", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "5"], "*1\r\n$-1\r\n"),
        (&["EXISTS", "new"], ":1\r\n"),
        (&["GET", "new"], "$13\r\n\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\r\n"),
        (&["BITFIELD", "new2", "SET", "u8", "#3", "1", "GET", "u32", "0"], "*2\r\n:0\r\n:1\r\n"),
        (&["GET", "new2"], "$4\r\n\u{0}\u{0}\u{0}\u{1}\r\n"),
        (&["BITFIELD", "new2", "GET", "u8", "1000"], "*1\r\n:0\r\n"),
    ];
    const BITFIELD_RO: Table = &[
        (&["BITFIELD_RO", "k", "GET", "u8", "0"], "*1\r\n:0\r\n"),
        (&["EXISTS", "k"], ":0\r\n"),
        (&["SET", "k", "\u{80}\u{1}"], "+OK\r\n"),
        (&["BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i8", "0", "GET", "u16", "0", "GET", "i4", "12", "GET", "u8", "#1", "GET", "u8", "#5"], "*6\r\n:128\r\n:-128\r\n:32769\r\n:1\r\n:1\r\n:0\r\n"),
        (&["BITFIELD_RO", "k"], "*0\r\n"),
        (&["BITFIELD_RO", "k", "SET", "u8", "0", "1"], "-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
        (&["BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"], "-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
        (&["BITFIELD_RO", "k", "OVERFLOW", "SAT", "GET", "u8", "0"], "*1\r\n:128\r\n"),
        (&["BITFIELD_RO", "k", "GET", "u64", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
        (&["BITFIELD_RO", "k", "SET", "u8", "0", "x"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITFIELD_RO", "k", "FOO"], "-ERR syntax error\r\n"),
        (&["LPUSH", "l", "a"], ":1\r\n"),
        (&["BITFIELD_RO", "l", "GET", "u8", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["BITFIELD_RO", "l", "SET", "u8", "0", "1"], "-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
        (&["BITFIELD_RO"], "-ERR wrong number of arguments for 'bitfield_ro' command\r\n"),
    ];
}
