//! Hash commands.
//!
//! Lookups follow Redis's split: the read commands count a keyspace hit or
//! miss (`Db::read`); the write commands do not, and look at the key with
//! `Db::peek` first whenever they may end up changing nothing (a wrong type,
//! HDEL of absent fields, a failed HINCRBY), so that a WATCHing client only
//! sees real changes.

use crate::command::one_key;
use crate::command::{eq_ic, flags::*, Command, Group, Keys, Run};
use crate::error::{CmdError, CmdResult, NOT_FLOAT, NOT_INTEGER, OVERFLOW, SYNTAX};
use crate::keyspace::{Db, Rng};
use crate::num;
use crate::reply::Reply;
use crate::shard::Ctx;
use crate::types::hash::{Hash, Item, Limits};
use crate::value::Value;
use rustc_apfloat::Float;

const HASH_NOT_INTEGER: CmdError = CmdError::new("ERR hash value is not an integer");
const HASH_NOT_FLOAT: CmdError = CmdError::new("ERR hash value is not a float");
const NAN_OR_INFINITY_ARG: CmdError = CmdError::new("ERR value is NaN or Infinity");
const NAN_OR_INFINITY: CmdError = CmdError::new("ERR increment would produce NaN or Infinity");
pub(crate) const INVALID_CURSOR: CmdError = CmdError::new("ERR invalid cursor");
/// The text of Redis's `getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)` for LONG_MIN.
pub(crate) const COUNT_RANGE: CmdError = CmdError::new(
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
);
const WITHVALUES_RANGE: CmdError = CmdError::new("ERR value is out of range");
/// A negative count repeats elements, so its reply is as long as the client
/// asks. Redis builds it whatever its size (until memory runs out); Shoal
/// refuses a reply whose elements alone would pass `proto-max-bulk-len`.
const REPLY_TOO_LARGE: CmdError =
    CmdError::new("ERR count is too large: the reply would exceed proto-max-bulk-len");

const HASH: Command = Command { group: Group::Hash, keys: Keys::ONE, ..Command::DEFAULT };

pub static COMMANDS: &[Command] = &[
    Command {
        name: "hset",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        since: "2.0.0",
        complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
        summary: "Creates or modifies the value of a field in a hash.",
        key_specs: &[one_key("RW UPDATE")],
        run: Run::Shard(hset),
        ..HASH
    },
    Command {
        name: "hsetnx",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        since: "2.0.0",
        summary: "Sets the value of a field in a hash only when the field doesn't exist.",
        key_specs: &[one_key("RW INSERT")],
        run: Run::Shard(hsetnx),
        ..HASH
    },
    Command {
        name: "hget",
        arity: 3,
        flags: READONLY | FAST,
        since: "2.0.0",
        summary: "Returns the value of a field in a hash.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(hget),
        ..HASH
    },
    Command {
        name: "hmget",
        arity: -3,
        flags: READONLY | FAST,
        since: "2.0.0",
        complexity: "O(N) where N is the number of fields being requested.",
        summary: "Returns the values of all fields in a hash.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(hmget),
        ..HASH
    },
    Command {
        name: "hmset",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        since: "2.0.0",
        complexity: "O(N) where N is the number of fields being set.",
        summary: "Sets the values of multiple fields (deprecated: HSET takes several pairs).",
        key_specs: &[one_key("RW UPDATE")],
        run: Run::Shard(hmset),
        ..HASH
    },
    Command {
        name: "hdel",
        arity: -3,
        flags: WRITE | FAST,
        since: "2.0.0",
        complexity: "O(N) where N is the number of fields to be removed.",
        summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
        key_specs: &[one_key("RW DELETE")],
        run: Run::Shard(hdel),
        ..HASH
    },
    Command {
        name: "hexists",
        arity: 3,
        flags: READONLY | FAST,
        since: "2.0.0",
        summary: "Determines whether a field exists in a hash.",
        key_specs: &[one_key("RO")],
        run: Run::Shard(hexists),
        ..HASH
    },
    Command {
        name: "hlen",
        arity: 2,
        flags: READONLY | FAST,
        since: "2.0.0",
        summary: "Returns the number of fields in a hash.",
        key_specs: &[one_key("RO")],
        run: Run::Shard(hlen),
        ..HASH
    },
    Command {
        name: "hstrlen",
        arity: 3,
        flags: READONLY | FAST,
        since: "3.2.0",
        summary: "Returns the length of the value of a field.",
        key_specs: &[one_key("RO")],
        run: Run::Shard(hstrlen),
        ..HASH
    },
    Command {
        name: "hkeys",
        arity: 2,
        flags: READONLY,
        since: "2.0.0",
        complexity: "O(N) where N is the size of the hash.",
        summary: "Returns all fields in a hash.",
        tips: "nondeterministic_output_order",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(hkeys),
        ..HASH
    },
    Command {
        name: "hvals",
        arity: 2,
        flags: READONLY,
        since: "2.0.0",
        complexity: "O(N) where N is the size of the hash.",
        summary: "Returns all values in a hash.",
        tips: "nondeterministic_output_order",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(hvals),
        ..HASH
    },
    Command {
        name: "hgetall",
        arity: 2,
        flags: READONLY,
        since: "2.0.0",
        complexity: "O(N) where N is the size of the hash.",
        summary: "Returns all fields and values in a hash.",
        tips: "nondeterministic_output_order",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(hgetall),
        ..HASH
    },
    Command {
        name: "hincrby",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        since: "2.0.0",
        summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(hincrby),
        ..HASH
    },
    Command {
        name: "hincrbyfloat",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        since: "2.6.0",
        summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(hincrbyfloat),
        ..HASH
    },
    Command {
        name: "hrandfield",
        arity: -2,
        flags: READONLY,
        since: "6.2.0",
        complexity: "O(N) where N is the number of fields returned",
        summary: "Returns one or more random fields from a hash.",
        tips: "nondeterministic_output",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(hrandfield),
        ..HASH
    },
    Command {
        name: "hscan",
        arity: -3,
        flags: READONLY,
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        summary: "Iterates over fields and values of a hash.",
        tips: "nondeterministic_output",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(hscan),
        ..HASH
    },
];

fn limits(ctx: &Ctx<'_>) -> Limits {
    Limits {
        entries: ctx.shard.config.hash_max_listpack_entries,
        value: ctx.shard.config.hash_max_listpack_value,
    }
}

/// A read lookup (Redis's `lookupKeyRead`: counts a hit or a miss).
fn read<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a Hash>, CmdError> {
    match db.read(key, now) {
        None => Ok(None),
        Some(v) => v.hash().map(Some),
    }
}

/// A write lookup without stamping the key: the hash, if the key holds one;
/// WRONGTYPE if it holds something else.
fn peek<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a Hash>, CmdError> {
    match db.peek(key, now) {
        None => Ok(None),
        Some(e) => e.value().hash().map(Some),
    }
}

/// Runs `f` on the hash at `key` for writing, creating an empty one when the
/// key is absent (Redis's `hashTypeLookupWriteOrCreate`); a new hash is only
/// stored if `f` left fields in it. The type is checked before the key is
/// stamped as written.
fn upsert<T>(
    db: &mut Db,
    key: &[u8],
    now: u64,
    f: impl FnOnce(&mut Hash) -> Result<T, CmdError>,
) -> Result<T, CmdError> {
    if peek(db, key, now)?.is_some() {
        if let Some(v) = db.write(key, now) {
            return f(v.hash_mut()?);
        }
    }
    let mut h = Hash::new();
    let out = f(&mut h)?;
    if !h.is_empty() {
        db.insert_new(key, Value::Hash(Box::new(h)), 0, now);
    }
    Ok(out)
}

fn hset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    hset_generic(ctx, argv, "hset")
}

fn hmset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    hset_generic(ctx, argv, "hmset")
}

/// HSET/HMSET key field value [field value ...]: HSET replies with the
/// number of new fields, HMSET with OK. Every pair counts as a change.
fn hset_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], name: &str) -> CmdResult {
    if argv.len() % 2 != 0 {
        return Err(CmdError::wrong_arity(name));
    }
    let (key, now, lim) = (argv[1], ctx.now, limits(ctx));
    let created = upsert(ctx.db(), key, now, |h| {
        h.prepare(&argv[2..], lim);
        Ok(argv[2..].chunks_exact(2).filter(|p| h.set(p[0], p[1], lim)).count())
    })?;
    ctx.dirty(((argv.len() - 2) / 2) as u64);
    if name == "hset" {
        ctx.out.int(created as i64);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn hsetnx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, field, value, now, lim) = (argv[1], argv[2], argv[3], ctx.now, limits(ctx));
    if peek(ctx.db(), key, now)?.is_some_and(|h| h.contains(field)) {
        ctx.out.int(0);
        return Ok(());
    }
    upsert(ctx.db(), key, now, |h| {
        h.prepare(&argv[2..4], lim);
        Ok(h.set(field, value, lim))
    })?;
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

fn hget(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    match read(db, argv[1], now)?.and_then(|h| h.get(argv[2])) {
        Some(v) => v.reply(out),
        None => out.null(),
    }
    Ok(())
}

/// HMGET: a missing key is an empty hash (a null per field).
fn hmget(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let h = read(db, argv[1], now)?;
    out.array(argv.len() - 2);
    for field in &argv[2..] {
        match h.and_then(|h| h.get(field)) {
            Some(v) => v.reply(out),
            None => out.null(),
        }
    }
    Ok(())
}

/// HDEL key field [field ...]: deletes the key with its last field.
fn hdel(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    let db = ctx.db();
    let any = peek(db, key, now)?.is_some_and(|h| argv[2..].iter().any(|f| h.contains(f)));
    let mut deleted = 0;
    if any {
        if let Some(v) = db.write(key, now) {
            let h = v.hash_mut()?;
            for f in &argv[2..] {
                deleted += h.remove(f) as i64;
            }
            if h.is_empty() {
                db.remove(key, now);
            }
        }
    }
    ctx.dirty(deleted as u64);
    ctx.out.int(deleted);
    Ok(())
}

fn hexists(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let found = read(ctx.db(), argv[1], now)?.is_some_and(|h| h.contains(argv[2]));
    ctx.out.int(found as i64);
    Ok(())
}

fn hlen(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let len = read(ctx.db(), argv[1], now)?.map_or(0, |h| h.len());
    ctx.out.int(len as i64);
    Ok(())
}

fn hstrlen(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let len = read(ctx.db(), argv[1], now)?.and_then(|h| h.get(argv[2])).map_or(0, |v| v.len());
    ctx.out.int(len as i64);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Keys,
    Values,
    Both,
}

/// HKEYS, HVALS, HGETALL: arrays, or a map for HGETALL (empty when the key is missing).
fn getall(ctx: &mut Ctx<'_>, key: &[u8], part: Part) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let h = read(db, key, now)?;
    let len = h.map_or(0, |h| h.len());
    if part == Part::Both {
        out.map(len);
    } else {
        out.array(len);
    }
    for (f, v) in h.into_iter().flat_map(|h| h.iter()) {
        if part != Part::Values {
            f.reply(out);
        }
        if part != Part::Keys {
            v.reply(out);
        }
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    getall(ctx, argv[1], Part::Keys)
}

fn hvals(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    getall(ctx, argv[1], Part::Values)
}

fn hgetall(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    getall(ctx, argv[1], Part::Both)
}

/// HINCRBY key field increment: the field must hold a canonical integer
/// (`string2ll`); a missing field counts as 0.
fn hincrby(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let incr = num::parse_i64(argv[3]).ok_or(NOT_INTEGER)?;
    let (key, field, now, lim) = (argv[1], argv[2], ctx.now, limits(ctx));
    let db = ctx.db();
    let current = match peek(db, key, now)?.and_then(|h| h.get(field)) {
        None => 0,
        Some(Item::Int(n)) => n,
        Some(Item::Bytes(b)) => num::parse_i64(b).ok_or(HASH_NOT_INTEGER)?,
    };
    let value = current.checked_add(incr).ok_or(OVERFLOW)?;
    let mut text = itoa::Buffer::new();
    let text = text.format(value).as_bytes();
    upsert(db, key, now, |h| Ok(h.set(field, text, lim)))?;
    ctx.dirty(1);
    ctx.out.int(value);
    Ok(())
}

/// HINCRBYFLOAT key field increment: C `long double` arithmetic and
/// printing, exactly as INCRBYFLOAT (see `crate::num::long_double`). The
/// increment is checked before the key, the stored value after.
fn hincrbyfloat(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    use crate::num::long_double;
    let incr = long_double::parse(argv[3]).ok_or(NOT_FLOAT)?;
    if incr.is_nan() || incr.is_infinite() {
        return Err(NAN_OR_INFINITY_ARG);
    }
    let (key, field, now, lim) = (argv[1], argv[2], ctx.now, limits(ctx));
    let db = ctx.db();
    let current = match peek(db, key, now)?.and_then(|h| h.get(field)) {
        None => long_double::from_i64(0),
        Some(Item::Int(n)) => long_double::from_i64(n),
        Some(Item::Bytes(b)) => long_double::parse(b).ok_or(HASH_NOT_FLOAT)?,
    };
    let sum = long_double::add(current, incr).ok_or(NAN_OR_INFINITY)?;
    let text = long_double::format(sum);
    upsert(db, key, now, |h| Ok(h.set(field, &text, lim)))?;
    ctx.dirty(1);
    ctx.out.bulk(&text);
    ctx.propagate_line(&[b"HSET", key, field, &text]);
    Ok(())
}

/// Runs `f` with the shard's random generator lent out beside the rest of
/// the context (the generator lives in the shard, next to the databases).
pub(crate) fn with_rng<T>(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut Ctx<'_>, &mut Rng) -> T) -> T {
    let mut rng = ctx.shard.rng.clone();
    let out = f(ctx, &mut rng);
    ctx.shard.rng = rng;
    out
}

/// Reads a `count` that may be negative, as Redis's
/// `getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)`.
pub(crate) fn parse_signed_count(arg: &[u8]) -> Result<i64, CmdError> {
    match num::parse_i64(arg) {
        None => Err(NOT_INTEGER),
        Some(i64::MIN) => Err(COUNT_RANGE),
        Some(n) => Ok(n),
    }
}

/// Refuses a repeated-sampling reply of `elements` bulk strings that could
/// not fit in `proto-max-bulk-len` bytes (each takes at least 6).
pub(crate) fn check_reply_size(proto_max_bulk_len: u64, elements: u64) -> CmdResult {
    if elements.saturating_mul(6) > proto_max_bulk_len {
        return Err(REPLY_TOO_LARGE);
    }
    Ok(())
}

/// `count` distinct positions below `size` (count < size), uniformly: Robert
/// Floyd's sampling, O(count) time and memory whatever the size.
pub(crate) fn distinct_positions(rng: &mut Rng, size: usize, count: usize) -> Vec<usize> {
    let mut chosen = hashbrown::HashSet::with_capacity(count);
    let mut order = Vec::with_capacity(count);
    for j in size - count..size {
        let t = rng.below(j as u64 + 1) as usize;
        let pick = if chosen.insert(t) { t } else { j };
        if pick == j {
            chosen.insert(j);
        }
        order.push(pick);
    }
    order
}

/// HRANDFIELD key [count [WITHVALUES]]. The count is read, and WITHVALUES
/// checked, before the key is looked up.
fn hrandfield(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() >= 3 {
        let count = parse_signed_count(argv[2])?;
        if argv.len() > 4 || (argv.len() == 4 && !eq_ic(argv[3], "withvalues")) {
            return Err(SYNTAX);
        }
        let withvalues = argv.len() == 4;
        if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return Err(WITHVALUES_RANGE);
        }
        return with_rng(ctx, |ctx, rng| hrandfield_count(ctx, rng, argv[1], count, withvalues));
    }
    with_rng(ctx, |ctx, rng| {
        let now = ctx.now;
        let (db, out) = ctx.parts();
        match read(db, argv[1], now)? {
            None => out.null(),
            Some(h) => {
                let i = rng.below(h.len() as u64) as usize;
                h.pairs().at(i).0.reply(out);
            }
        }
        Ok(())
    })
}

/// Redis's cases: a negative count samples with repetition, in random order;
/// a count at least the size returns the whole hash in its order; a smaller
/// one returns that many distinct fields (in the hash's order when it is
/// compact, as a listpack's unique sampling does). In RESP3 each field comes
/// with its value as a two-element array; in RESP2 they alternate.
fn hrandfield_count(ctx: &mut Ctx<'_>, rng: &mut Rng, key: &[u8], count: i64, withvalues: bool) -> CmdResult {
    let now = ctx.now;
    let max_reply = ctx.shard.config.proto_max_bulk_len;
    let Ctx { shard, db, out, .. } = ctx;
    let Some(h) = read(shard.db(*db), key, now)? else {
        out.array(0);
        return Ok(());
    };
    let (n, size) = (count.unsigned_abs(), h.len());
    if n == 0 {
        out.array(0);
        return Ok(());
    }
    let pairs = h.pairs();
    let resp3 = out.resp3();
    let header = |out: &mut Reply<'_>, len: usize| {
        out.array(if withvalues && !resp3 { len * 2 } else { len });
    };
    let emit = |out: &mut Reply<'_>, (f, v): (Item<'_>, Item<'_>)| {
        if withvalues && resp3 {
            out.array(2);
        }
        f.reply(out);
        if withvalues {
            v.reply(out);
        }
    };
    if count < 0 || n == 1 {
        check_reply_size(max_reply, if withvalues { n.saturating_mul(2) } else { n })?;
        header(out, n as usize);
        for _ in 0..n {
            emit(out, pairs.at(rng.below(size as u64) as usize));
        }
        return Ok(());
    }
    if n >= size as u64 {
        header(out, size);
        for i in 0..size {
            emit(out, pairs.at(i));
        }
        return Ok(());
    }
    let mut picks = distinct_positions(rng, size, n as usize);
    if h.encoding() == "listpack" {
        picks.sort_unstable();
    }
    header(out, picks.len());
    for i in picks {
        emit(out, pairs.at(i));
    }
    Ok(())
}

/// Reads a SCAN cursor as Redis's `parseScanCursorOrReply` (`strtoul`): an
/// optional sign (a negative cursor wraps), decimal digits, nothing else; no
/// leading space. The empty string is cursor 0.
pub(crate) fn parse_cursor(arg: &[u8]) -> Option<u64> {
    if arg.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The options of HSCAN, SSCAN and ZSCAN after the cursor.
pub(crate) struct ScanOpts<'a> {
    pub count: usize,
    /// `None` when there is no pattern or it is `*`.
    pub pattern: Option<&'a [u8]>,
}

impl ScanOpts<'_> {
    pub fn keep(&self, item: Item<'_>) -> bool {
        self.pattern.is_none_or(|p| item.matches(p))
    }
}

/// Parses `[MATCH pattern] [COUNT count]` from `argv[3]`, with Redis's
/// errors: a COUNT that is not an integer, then one below 1 (a syntax
/// error), then anything else, or an option without its value.
pub(crate) fn parse_scan_opts<'a>(argv: &[&'a [u8]]) -> Result<ScanOpts<'a>, CmdError> {
    let mut opts = ScanOpts { count: 10, pattern: None };
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - i >= 2;
        if eq_ic(argv[i], "count") && more {
            let n = num::parse_i64(argv[i + 1]).ok_or(NOT_INTEGER)?;
            if n < 1 {
                return Err(SYNTAX);
            }
            opts.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if eq_ic(argv[i], "match") && more {
            opts.pattern = (argv[i + 1] != b"*").then_some(argv[i + 1]);
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    Ok(opts)
}

/// Writes a SCAN-family reply: the next cursor, then the elements.
pub(crate) fn reply_scan(out: &mut Reply<'_>, cursor: u64, items: &[Item<'_>]) {
    out.array(2);
    out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    out.array(items.len());
    for i in items {
        i.reply(out);
    }
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]. The cursor is checked
/// before the key, the options after it (a missing key ignores them).
fn hscan(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[2]).ok_or(INVALID_CURSOR)?;
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let Some(h) = read(db, argv[1], now)? else {
        reply_scan(out, 0, &[]);
        return Ok(());
    };
    let opts = parse_scan_opts(argv)?;
    let mut items = Vec::new();
    let next = h.scan(cursor, opts.count, |f, v| {
        if opts.keep(f) {
            items.push(f);
            items.push(v);
        }
    });
    reply_scan(out, next, &items);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::test_resp::{parse, Resp};
    use crate::shard::Shard;
    use crate::testing::{run, run_proto, shard};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashSet};

    const NOW: u64 = 1_700_000_000_000;

    fn c(s: &mut Shard, argv: &[&str], expect: &str) {
        assert_eq!(run(s, argv), expect, "{argv:?}");
    }

    fn c3(s: &mut Shard, argv: &[&str], expect: &str) {
        assert_eq!(run_proto(s, NOW, true, argv), expect, "{argv:?} (RESP3)");
    }

    fn encoding(s: &mut Shard, key: &str) -> &'static str {
        s.db(0).peek(key.as_bytes(), NOW).map_or("none", |e| e.value().encoding())
    }

    /// Replies recorded from redis-server 7.0.15, in order, on one keyspace.
    #[test]
    fn replies_match_redis() {
        let mut s = shard();
        c(&mut s, &["hset", "h", "a", "1", "b", "2"], ":2\r\n");
        c(&mut s, &["hset", "h", "a", "3", "c"], "-ERR wrong number of arguments for 'hset' command\r\n");
        c(&mut s, &["hset", "h", "a", "1", "b", "2", "c", "3"], ":1\r\n");
        c(&mut s, &["hset", "h"], "-ERR wrong number of arguments for 'hset' command\r\n");
        c(&mut s, &["hmset", "h", "a", "1", "b"], "-ERR wrong number of arguments for 'hmset' command\r\n");
        c(&mut s, &["hmset", "h", "a", "1", "c", "5"], "+OK\r\n");
        c(&mut s, &["hget", "h", "a"], "$1\r\n1\r\n");
        c(&mut s, &["hget", "h", "c"], "$1\r\n5\r\n");
        c(&mut s, &["hget", "h", "nosuch"], "$-1\r\n");
        c(&mut s, &["hget", "nosuch", "a"], "$-1\r\n");
        c(&mut s, &["hmget", "h", "a", "nosuch", "b"], "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
        c(&mut s, &["hmget", "nosuch", "a", "b"], "*2\r\n$-1\r\n$-1\r\n");
        c(&mut s, &["hsetnx", "h", "a", "9"], ":0\r\n");
        c(&mut s, &["hsetnx", "h", "d", "4"], ":1\r\n");
        c(&mut s, &["hsetnx", "h2", "x", "y"], ":1\r\n");
        c(&mut s, &["hsetnx", "h", "a"], "-ERR wrong number of arguments for 'hsetnx' command\r\n");
        c(
            &mut s,
            &["hgetall", "h"],
            "*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n",
        );
        c(&mut s, &["hkeys", "h"], "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n");
        c(&mut s, &["hvals", "h"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n5\r\n$1\r\n4\r\n");
        c(&mut s, &["hlen", "h"], ":4\r\n");
        c(&mut s, &["hlen", "nosuch"], ":0\r\n");
        c(&mut s, &["hexists", "h", "a"], ":1\r\n");
        c(&mut s, &["hexists", "h", "zz"], ":0\r\n");
        c(&mut s, &["hexists", "nosuch", "a"], ":0\r\n");
        c(&mut s, &["hstrlen", "h", "a"], ":1\r\n");
        c(&mut s, &["hstrlen", "h", "nosuch"], ":0\r\n");
        c(&mut s, &["hstrlen", "nosuch", "a"], ":0\r\n");
        c(
            &mut s,
            &["hset", "h", "neg", "-123", "big", "9223372036854775807", "s", "hello world", "e", ""],
            ":4\r\n",
        );
        c(&mut s, &["hstrlen", "h", "neg"], ":4\r\n");
        c(&mut s, &["hstrlen", "h", "big"], ":19\r\n");
        c(&mut s, &["hstrlen", "h", "e"], ":0\r\n");
        c(&mut s, &["hget", "h", "e"], "$0\r\n\r\n");
        c(&mut s, &["hgetall", "h"], "*16\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$3\r\nneg\r\n$4\r\n-123\r\n$3\r\nbig\r\n$19\r\n9223372036854775807\r\n$1\r\ns\r\n$11\r\nhello world\r\n$1\r\ne\r\n$0\r\n\r\n");
        c(&mut s, &["hdel", "h", "nosuch"], ":0\r\n");
        c(&mut s, &["hdel", "h", "a", "nosuch", "b"], ":2\r\n");
        c(&mut s, &["hgetall", "h"], "*12\r\n$1\r\nc\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$3\r\nneg\r\n$4\r\n-123\r\n$3\r\nbig\r\n$19\r\n9223372036854775807\r\n$1\r\ns\r\n$11\r\nhello world\r\n$1\r\ne\r\n$0\r\n\r\n");
        c(&mut s, &["hdel", "nosuch", "a"], ":0\r\n");
        c(&mut s, &["hdel", "h", "c", "d", "neg", "big", "s", "e"], ":6\r\n");
        c(&mut s, &["exists", "h"], ":0\r\n");
        c(&mut s, &["hdel", "h"], "-ERR wrong number of arguments for 'hdel' command\r\n");
        c(&mut s, &["hincrby", "h", "f", "5"], ":5\r\n");
        c(&mut s, &["hincrby", "h", "f", "-10"], ":-5\r\n");
        c(&mut s, &["hincrby", "h", "f", "abc"], "-ERR value is not an integer or out of range\r\n");
        c(&mut s, &["hincrby", "h", "f", "1.5"], "-ERR value is not an integer or out of range\r\n");
        c(
            &mut s,
            &["hincrby", "h", "f", "9223372036854775808"],
            "-ERR value is not an integer or out of range\r\n",
        );
        c(&mut s, &["hincrby", "h", "f", "9223372036854775807"], ":9223372036854775802\r\n");
        c(
            &mut s,
            &["hincrby", "h", "f", "9223372036854775807"],
            "-ERR increment or decrement would overflow\r\n",
        );
        c(
            &mut s,
            &[
                "hset",
                "h",
                "m",
                "9223372036854775807",
                "n",
                "-9223372036854775808",
                "str",
                "abc",
                "sp",
                " 1",
                "z",
                "01",
                "w",
                "1.0",
            ],
            ":6\r\n",
        );
        c(&mut s, &["hincrby", "h", "m", "1"], "-ERR increment or decrement would overflow\r\n");
        c(&mut s, &["hincrby", "h", "m", "0"], ":9223372036854775807\r\n");
        c(&mut s, &["hincrby", "h", "m", "-1"], ":9223372036854775806\r\n");
        c(&mut s, &["hincrby", "h", "n", "-1"], "-ERR increment or decrement would overflow\r\n");
        c(&mut s, &["hincrby", "h", "n", "1"], ":-9223372036854775807\r\n");
        c(&mut s, &["hincrby", "h", "str", "1"], "-ERR hash value is not an integer\r\n");
        c(&mut s, &["hincrby", "h", "sp", "1"], "-ERR hash value is not an integer\r\n");
        c(&mut s, &["hincrby", "h", "z", "1"], "-ERR hash value is not an integer\r\n");
        c(&mut s, &["hincrby", "h", "w", "1"], "-ERR hash value is not an integer\r\n");
        c(&mut s, &["hincrby", "nosuch2", "f", "3"], ":3\r\n");
        c(&mut s, &["hget", "nosuch2", "f"], "$1\r\n3\r\n");
        c(&mut s, &["hincrby", "h"], "-ERR wrong number of arguments for 'hincrby' command\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "a", "10.5"], "$4\r\n10.5\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "a", "0.1"], "$4\r\n10.6\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "a", "-5.0e+3"], "$23\r\n-4989.39999999999999991\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "b", "1.5"], "$3\r\n1.5\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "b", "0.5"], "$1\r\n2\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "b", "abc"], "-ERR value is not a valid float\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "b", "inf"], "-ERR value is NaN or Infinity\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "b", "-inf"], "-ERR value is NaN or Infinity\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "b", "nan"], "-ERR value is not a valid float\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "b", ""], "-ERR value is not a valid float\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "b", " 1"], "-ERR value is not a valid float\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "b", "1e5000"], "-ERR value is not a valid float\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "c", "1e308"], "$308\r\n99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "c", "1e308"], "$309\r\n199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096\r\n");
        c(&mut s, &["hset", "hf", "s", "abc", "i", "17", "inf", "inf"], ":3\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "s", "1"], "-ERR hash value is not a float\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "i", "0.25"], "$5\r\n17.25\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "inf", "1"], "-ERR increment would produce NaN or Infinity\r\n");
        c(
            &mut s,
            &["hincrbyfloat", "hf", "big", "1e70"],
            "$71\r\n10000000000000000000222479489586148259025995410601157579323600873193472\r\n",
        );
        c(&mut s, &["hincrbyfloat", "hf", "x", "0x10"], "$2\r\n16\r\n");
        c(&mut s, &["hincrbyfloat", "hf", "x", "3.0000000000000000001"], "$2\r\n19\r\n");
        c(&mut s, &["set", "str", "x"], "+OK\r\n");
        c(
            &mut s,
            &["hset", "str", "a", "b"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hsetnx", "str", "a", "b"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hget", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hmget", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hmset", "str", "a", "b"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hdel", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hexists", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["hlen", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
        c(
            &mut s,
            &["hstrlen", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hkeys", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hvals", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hgetall", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hincrby", "str", "a", "1"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["hincrby", "str", "a", "x"], "-ERR value is not an integer or out of range\r\n");
        c(
            &mut s,
            &["hincrbyfloat", "str", "a", "1"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["hincrbyfloat", "str", "a", "x"], "-ERR value is not a valid float\r\n");
        c(
            &mut s,
            &["hrandfield", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["hrandfield", "str", "1"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["hrandfield", "str", "x"], "-ERR value is not an integer or out of range\r\n");
        c(
            &mut s,
            &["hscan", "str", "0"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["hscan", "str", "x"], "-ERR invalid cursor\r\n");
        c(
            &mut s,
            &["hscan", "str", "0", "count", "0"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["hset", "r", "a", "1", "b", "2", "c", "3"], ":3\r\n");
        c(&mut s, &["hrandfield", "r", "3"], "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
        c(&mut s, &["hrandfield", "r", "10"], "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
        c(
            &mut s,
            &["hrandfield", "r", "3", "withvalues"],
            "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c(&mut s, &["hrandfield", "r", "0"], "*0\r\n");
        c(&mut s, &["hrandfield", "r", "0", "withvalues"], "*0\r\n");
        c(&mut s, &["hrandfield", "nosuch", "3"], "*0\r\n");
        c(&mut s, &["hrandfield", "nosuch", "-3", "withvalues"], "*0\r\n");
        c(&mut s, &["hrandfield", "nosuch"], "$-1\r\n");
        c(&mut s, &["hrandfield", "r", "x"], "-ERR value is not an integer or out of range\r\n");
        c(&mut s, &["hrandfield", "r", "1", "2"], "-ERR syntax error\r\n");
        c(&mut s, &["hrandfield", "r", "1", "withvalues", "x"], "-ERR syntax error\r\n");
        c(
            &mut s,
            &["hrandfield", "r", "-9223372036854775808"],
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
        );
        c(
            &mut s,
            &["hrandfield", "r", "4611686018427387904", "withvalues"],
            "-ERR value is out of range\r\n",
        );
        c(
            &mut s,
            &["hrandfield", "r", "-4611686018427387904", "withvalues"],
            "-ERR value is out of range\r\n",
        );
        c(
            &mut s,
            &["hrandfield", "r", "4611686018427387903", "withvalues"],
            "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c(
            &mut s,
            &["hscan", "r", "0"],
            "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c(&mut s, &["hscan", "r", "0", "match", "a*"], "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
        c(
            &mut s,
            &["hscan", "r", "0", "match", "*", "count", "1"],
            "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c(
            &mut s,
            &["hscan", "r", "7", "count", "1"],
            "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c(&mut s, &["hscan", "r", "x"], "-ERR invalid cursor\r\n");
        c(&mut s, &["hscan", "r", " 0"], "-ERR invalid cursor\r\n");
        c(
            &mut s,
            &["hscan", "r", "-1"],
            "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c(
            &mut s,
            &["hscan", "r", "+0"],
            "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c(
            &mut s,
            &["hscan", "r", ""],
            "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c(
            &mut s,
            &["hscan", "r", "18446744073709551615"],
            "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c(&mut s, &["hscan", "r", "18446744073709551616"], "-ERR invalid cursor\r\n");
        c(&mut s, &["hscan", "r", "0", "count", "0"], "-ERR syntax error\r\n");
        c(&mut s, &["hscan", "r", "0", "count", "-1"], "-ERR syntax error\r\n");
        c(&mut s, &["hscan", "r", "0", "count", "x"], "-ERR value is not an integer or out of range\r\n");
        c(&mut s, &["hscan", "r", "0", "count"], "-ERR syntax error\r\n");
        c(&mut s, &["hscan", "r", "0", "match"], "-ERR syntax error\r\n");
        c(&mut s, &["hscan", "r", "0", "novalues"], "-ERR syntax error\r\n");
        c(&mut s, &["hscan", "r", "0", "type", "string"], "-ERR syntax error\r\n");
        c(&mut s, &["hscan", "nosuch", "0", "count", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
        c(&mut s, &["hscan", "nosuch", "x"], "-ERR invalid cursor\r\n");
        c(&mut s, &["hset", "ri", "1", "10", "22", "-3", "333", "x"], ":3\r\n");
        c(&mut s, &["hscan", "ri", "0", "match", "2*"], "*2\r\n$1\r\n0\r\n*2\r\n$2\r\n22\r\n$2\r\n-3\r\n");
        c(&mut s, &["hscan", "ri", "0", "match", "*3"], "*2\r\n$1\r\n0\r\n*2\r\n$3\r\n333\r\n$1\r\nx\r\n");
        c(
            &mut s,
            &["hgetall", "ri"],
            "*6\r\n$1\r\n1\r\n$2\r\n10\r\n$2\r\n22\r\n$2\r\n-3\r\n$3\r\n333\r\n$1\r\nx\r\n",
        );
        c3(
            &mut s,
            &["hgetall", "r"],
            "%3\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c3(&mut s, &["hgetall", "nosuch"], "%0\r\n");
        c3(
            &mut s,
            &["hrandfield", "r", "3", "withvalues"],
            "*3\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c3(
            &mut s,
            &["hrandfield", "r", "10", "withvalues"],
            "*3\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c3(&mut s, &["hrandfield", "r", "3"], "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
        c3(&mut s, &["hrandfield", "nosuch"], "_\r\n");
        c3(&mut s, &["hrandfield", "nosuch", "2", "withvalues"], "*0\r\n");
        c3(
            &mut s,
            &["hscan", "r", "0"],
            "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        );
        c3(&mut s, &["hincrbyfloat", "r", "a", "1.5"], "$3\r\n2.5\r\n");
        c3(&mut s, &["hkeys", "nosuch"], "*0\r\n");
        c3(&mut s, &["hmget", "nosuch", "a"], "*1\r\n_\r\n");
        c3(&mut s, &["hget", "nosuch", "a"], "_\r\n");
    }

    fn small_limits(entries: usize, value: usize) -> Shard {
        let mut s = shard();
        s.config.hash_max_listpack_entries = entries;
        s.config.hash_max_listpack_value = value;
        s
    }

    #[test]
    fn encodings_follow_the_limits() {
        let mut s = small_limits(4, 8);
        c(&mut s, &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"], ":4\r\n");
        assert_eq!(encoding(&mut s, "h"), "listpack");
        c(&mut s, &["HSET", "h", "e", "5"], ":1\r\n");
        assert_eq!(encoding(&mut s, "h"), "hashtable");
        // Deleting back below the limit never converts back.
        c(&mut s, &["HDEL", "h", "a", "b", "c", "d"], ":4\r\n");
        assert_eq!(encoding(&mut s, "h"), "hashtable");
        // A long value or field converts, even for an existing field or a
        // pair whose field is a duplicate (every argument is looked at first).
        c(&mut s, &["HSET", "v", "f", "12345678"], ":1\r\n");
        assert_eq!(encoding(&mut s, "v"), "listpack");
        c(&mut s, &["HSET", "v", "f", "123456789"], ":0\r\n");
        assert_eq!(encoding(&mut s, "v"), "hashtable");
        c(&mut s, &["HSET", "w", "f", "1"], ":1\r\n");
        c(&mut s, &["HSETNX", "w", "f", "123456789"], ":0\r\n");
        assert_eq!(encoding(&mut s, "w"), "listpack");
        c(&mut s, &["HSETNX", "w", "longfield", "1"], ":1\r\n");
        assert_eq!(encoding(&mut s, "w"), "hashtable");
        // HINCRBY and HINCRBYFLOAT convert on the value they store.
        c(&mut s, &["HSET", "n", "f", "1"], ":1\r\n");
        c(&mut s, &["HINCRBY", "n", "f", "99999999"], ":100000000\r\n");
        assert_eq!(encoding(&mut s, "n"), "hashtable");
        c(&mut s, &["HINCRBYFLOAT", "x", "f", "1e10"], "$11\r\n10000000000\r\n");
        assert_eq!(encoding(&mut s, "x"), "hashtable");
        // Zero entries allowed: every hash is a hashtable.
        let mut s = small_limits(0, 64);
        c(&mut s, &["HSET", "h", "a", "1"], ":1\r\n");
        assert_eq!(encoding(&mut s, "h"), "hashtable");
        // Empty fields and values fit any value limit.
        let mut s = small_limits(8, 0);
        c(&mut s, &["HSET", "h", "", ""], ":1\r\n");
        assert_eq!(encoding(&mut s, "h"), "listpack");
    }

    #[test]
    fn hashtable_replies_hold_every_pair() {
        let mut s = small_limits(2, 64);
        c(&mut s, &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "-4"], ":4\r\n");
        assert_eq!(encoding(&mut s, "h"), "hashtable");
        let pairs = |r: Resp| -> BTreeMap<String, String> {
            let items = r.items();
            items.chunks(2).map(|p| (p[0].text(), p[1].text())).collect()
        };
        let expect: BTreeMap<String, String> = [("a", "1"), ("b", "2"), ("c", "3"), ("d", "-4")]
            .iter()
            .map(|(f, v)| (f.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs(parse(&run(&mut s, &["HGETALL", "h"]))), expect);
        assert!(run_proto(&mut s, NOW, true, &["HGETALL", "h"]).starts_with("%4\r\n"));
        c(&mut s, &["HGET", "h", "d"], "$2\r\n-4\r\n");
        c(&mut s, &["HSTRLEN", "h", "d"], ":2\r\n");
        c(&mut s, &["HINCRBY", "h", "d", "4"], ":0\r\n");
        c(&mut s, &["HINCRBYFLOAT", "h", "d", "0.5"], "$3\r\n0.5\r\n");
        c(&mut s, &["HDEL", "h", "a", "b", "c", "d"], ":4\r\n");
        c(&mut s, &["EXISTS", "h"], ":0\r\n");
    }

    /// A full HSCAN of a hashtable returns every pair at least once, in
    /// several calls, with nonzero cursors between them.
    #[test]
    fn hscan_walks_a_hashtable() {
        let mut s = small_limits(4, 64);
        for i in 0..100 {
            run(&mut s, &["HSET", "h", &format!("f{i}"), &i.to_string()]);
        }
        let (mut cursor, mut calls, mut seen) = ("0".to_string(), 0, BTreeMap::new());
        loop {
            let r = parse(&run(&mut s, &["HSCAN", "h", &cursor, "COUNT", "7"]));
            let parts = r.items();
            cursor = parts[0].text();
            for p in parts[1].items().chunks(2) {
                seen.insert(p[0].text(), p[1].text());
            }
            calls += 1;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 100);
        assert!(calls > 10, "{calls} calls");
        assert_eq!(seen["f42"], "42");
        // MATCH filters by field; COUNT bounds the fields visited per call.
        let r = parse(&run(&mut s, &["HSCAN", "h", "0", "MATCH", "f1*", "COUNT", "1000"]));
        assert_eq!(r.items()[0].text(), "0");
        assert_eq!(r.items()[1].items().len(), 2 * 11);
    }

    #[test]
    fn hrandfield_follows_redis_rules() {
        for limits in [(128, 64), (1, 64)] {
            let mut s = small_limits(limits.0, limits.1);
            run(&mut s, &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"]);
            let fields: HashSet<String> = ["a", "b", "c", "d", "e"].iter().map(|f| f.to_string()).collect();
            for _ in 0..50 {
                let one = parse(&run(&mut s, &["HRANDFIELD", "h"])).text();
                assert!(fields.contains(&one));
                // Negative: exactly |count|, repetitions allowed.
                let r = parse(&run(&mut s, &["HRANDFIELD", "h", "-20"]));
                assert_eq!(r.items().len(), 20);
                assert!(r.items().iter().all(|f| fields.contains(&f.text())));
                let r = parse(&run(&mut s, &["HRANDFIELD", "h", "-7", "WITHVALUES"]));
                assert_eq!(r.items().len(), 14);
                for p in r.items().chunks(2) {
                    assert_eq!(p[0].text().as_bytes()[0] - b'a' + b'1', p[1].text().as_bytes()[0]);
                }
                // Positive below the size: distinct fields.
                for n in 1..5 {
                    let r = parse(&run(&mut s, &["HRANDFIELD", "h", &n.to_string()]));
                    let got: HashSet<String> = r.items().iter().map(|f| f.text()).collect();
                    assert_eq!(got.len(), n, "{n}");
                    assert!(got.is_subset(&fields));
                }
                // RESP3 WITHVALUES: pairs as two-element arrays.
                let r = parse(&run_proto(&mut s, NOW, true, &["HRANDFIELD", "h", "3", "WITHVALUES"]));
                assert_eq!(r.items().len(), 3);
                assert!(r.items().iter().all(|p| p.items().len() == 2));
                let r = parse(&run_proto(&mut s, NOW, true, &["HRANDFIELD", "h", "-3", "WITHVALUES"]));
                assert!(r.items().iter().all(|p| p.items().len() == 2));
            }
            // Every field is drawn eventually.
            let mut drawn = HashSet::new();
            for _ in 0..200 {
                drawn.insert(parse(&run(&mut s, &["HRANDFIELD", "h"])).text());
            }
            assert_eq!(drawn, fields);
        }
    }

    #[test]
    fn huge_negative_counts_are_refused_not_built() {
        let mut s = shard();
        run(&mut s, &["HSET", "h", "a", "1"]);
        let r = run(&mut s, &["HRANDFIELD", "h", "-9223372036854775807"]);
        assert!(r.starts_with("-ERR count is too large"), "{r}");
        let r = run(&mut s, &["HRANDFIELD", "h", "-4611686018427387903", "WITHVALUES"]);
        assert!(r.starts_with("-ERR count is too large"), "{r}");
        // Large positive counts are bounded by the hash.
        c(&mut s, &["HRANDFIELD", "h", "9223372036854775807"], "*1\r\n$1\r\na\r\n");
        c(
            &mut s,
            &["HSCAN", "h", "0", "COUNT", "9223372036854775807"],
            "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        );
    }

    #[test]
    fn lookups_count_like_redis_and_writes_stamp_only_changes() {
        let mut s = shard();
        run(&mut s, &["HSET", "h", "a", "1"]);
        let stats = |s: &mut Shard| (s.db(0).stats.hits, s.db(0).stats.misses);
        let base = stats(&mut s);
        for cmd in [
            &["HSET", "h", "b", "2"][..],
            &["HSETNX", "h", "a", "2"],
            &["HDEL", "h", "zz"],
            &["HINCRBY", "h", "n", "1"],
            &["HINCRBYFLOAT", "h", "n", "1"],
            &["HDEL", "nosuch", "a"],
        ] {
            run(&mut s, cmd);
        }
        assert_eq!(stats(&mut s), base, "write lookups are not counted");
        for cmd in [
            &["HGET", "h", "a"][..],
            &["HMGET", "h", "a"],
            &["HLEN", "h"],
            &["HSTRLEN", "h", "a"],
            &["HEXISTS", "h", "a"],
            &["HGETALL", "h"],
            &["HKEYS", "h"],
            &["HVALS", "h"],
            &["HRANDFIELD", "h"],
            &["HSCAN", "h", "0"],
            &["HGET", "nosuch", "a"],
            &["HRANDFIELD", "nosuch", "3"],
        ] {
            run(&mut s, cmd);
        }
        assert_eq!(stats(&mut s), (base.0 + 10, base.1 + 2));
        let version = |s: &mut Shard| s.db(0).version(b"h", NOW);
        let v = version(&mut s);
        for cmd in [
            &["HDEL", "h", "zz"][..],
            &["HSETNX", "h", "a", "x"],
            &["HINCRBY", "h", "a", "x"],
            &["HINCRBYFLOAT", "h", "a", "x"],
            &["HGET", "h", "a"],
        ] {
            run(&mut s, cmd);
        }
        run(&mut s, &["HSET", "h", "s", "text"]);
        let v2 = version(&mut s);
        assert_ne!(v, v2);
        run(&mut s, &["HINCRBY", "h", "s", "1"]);
        run(&mut s, &["HINCRBYFLOAT", "h", "s", "1"]);
        assert_eq!(version(&mut s), v2, "failed increments leave the key alone");
        run(&mut s, &["SET", "str", "x"]);
        let vs = s.db(0).version(b"str", NOW);
        run(&mut s, &["HSET", "str", "a", "b"]);
        assert_eq!(s.db(0).version(b"str", NOW), vs, "WRONGTYPE leaves the key alone");
    }

    #[test]
    fn dirty_counts_like_redis() {
        let mut s = shard();
        let dirty = |s: &mut Shard, argv: &[&str]| {
            let before = s.dirty;
            run(s, argv);
            s.dirty - before
        };
        assert_eq!(dirty(&mut s, &["HSET", "h", "a", "1", "a", "2", "b", "3"]), 3);
        assert_eq!(dirty(&mut s, &["HMSET", "h", "a", "1"]), 1);
        assert_eq!(dirty(&mut s, &["HSETNX", "h", "a", "1"]), 0);
        assert_eq!(dirty(&mut s, &["HSETNX", "h", "c", "1"]), 1);
        assert_eq!(dirty(&mut s, &["HDEL", "h", "a", "zz", "b"]), 2);
        assert_eq!(dirty(&mut s, &["HINCRBY", "h", "c", "1"]), 1);
        assert_eq!(dirty(&mut s, &["HINCRBYFLOAT", "h", "c", "1"]), 1);
        assert_eq!(dirty(&mut s, &["HGETALL", "h"]), 0);
    }

    #[test]
    fn expired_hashes_are_gone() {
        let mut s = shard();
        run(&mut s, &["HSET", "h", "a", "1"]);
        run(&mut s, &["PEXPIRE", "h", "100"]);
        c(&mut s, &["HLEN", "h"], ":1\r\n");
        let later = NOW + 100;
        assert_eq!(crate::testing::run_at(&mut s, later, &["HLEN", "h"]), ":0\r\n");
        assert_eq!(crate::testing::run_at(&mut s, later, &["HSET", "h", "b", "2"]), ":1\r\n");
        assert_eq!(crate::testing::run_at(&mut s, later, &["TTL", "h"]), ":-1\r\n");
    }

    #[derive(Clone, Debug)]
    enum Op {
        Set(Vec<(u8, String)>),
        SetNx(u8, String),
        Del(Vec<u8>),
        Get(u8),
        IncrBy(u8, i64),
        Len,
        Exists(u8),
        GetAll,
        Strlen(u8),
    }

    fn field(f: u8) -> String {
        format!("f{}", f % 12)
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![(-100i64..100).prop_map(|n| n.to_string()), "[a-z]{0,12}", Just(i64::MAX.to_string()),]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            proptest::collection::vec((any::<u8>(), value()), 1..4).prop_map(Op::Set),
            (any::<u8>(), value()).prop_map(|(f, v)| Op::SetNx(f, v)),
            proptest::collection::vec(any::<u8>(), 1..4).prop_map(Op::Del),
            any::<u8>().prop_map(Op::Get),
            (any::<u8>(), -5i64..5).prop_map(|(f, n)| Op::IncrBy(f, n)),
            Just(Op::Len),
            any::<u8>().prop_map(Op::Exists),
            Just(Op::GetAll),
            any::<u8>().prop_map(Op::Strlen),
        ]
    }

    fn bulk(v: Option<&String>) -> String {
        v.map_or("$-1\r\n".to_string(), |v| format!("${}\r\n{v}\r\n", v.len()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The hash commands against a BTreeMap model, with limits small enough
        /// that sequences cross the listpack/hashtable boundary.
        #[test]
        fn commands_match_a_model(
            entries in 0usize..8,
            vlimit in 0usize..10,
            ops in proptest::collection::vec(op(), 1..50),
        ) {
            let mut s = small_limits(entries, vlimit);
            let mut model: BTreeMap<String, String> = BTreeMap::new();
            for op in ops {
                let (argv, expect): (Vec<String>, String) = match op {
                    Op::Set(pairs) => {
                        let mut argv = vec!["HSET".to_string(), "h".to_string()];
                        let mut new = 0;
                        for (f, v) in pairs {
                            new += model.insert(field(f), v.clone()).is_none() as i64;
                            argv.push(field(f));
                            argv.push(v);
                        }
                        (argv, format!(":{new}\r\n"))
                    }
                    Op::SetNx(f, v) => {
                        let new = !model.contains_key(&field(f));
                        if new {
                            model.insert(field(f), v.clone());
                        }
                        (vec!["HSETNX".into(), "h".into(), field(f), v], format!(":{}\r\n", new as i64))
                    }
                    Op::Del(fs) => {
                        let mut argv = vec!["HDEL".to_string(), "h".to_string()];
                        let mut n = 0;
                        for f in fs {
                            n += model.remove(&field(f)).is_some() as i64;
                            argv.push(field(f));
                        }
                        (argv, format!(":{n}\r\n"))
                    }
                    Op::Get(f) => (vec!["HGET".into(), "h".into(), field(f)], bulk(model.get(&field(f)))),
                    Op::IncrBy(f, n) => {
                        let cur = model.get(&field(f)).cloned();
                        let expect = match cur.as_deref().map(|c| crate::num::parse_i64(c.as_bytes())) {
                            Some(None) => "-ERR hash value is not an integer\r\n".to_string(),
                            other => match other.flatten().unwrap_or(0).checked_add(n) {
                                None => "-ERR increment or decrement would overflow\r\n".to_string(),
                                Some(v) => {
                                    model.insert(field(f), v.to_string());
                                    format!(":{v}\r\n")
                                }
                            },
                        };
                        (vec!["HINCRBY".into(), "h".into(), field(f), n.to_string()], expect)
                    }
                    Op::Len => (vec!["HLEN".into(), "h".into()], format!(":{}\r\n", model.len())),
                    Op::Exists(f) => (
                        vec!["HEXISTS".into(), "h".into(), field(f)],
                        format!(":{}\r\n", model.contains_key(&field(f)) as i64),
                    ),
                    Op::Strlen(f) => (
                        vec!["HSTRLEN".into(), "h".into(), field(f)],
                        format!(":{}\r\n", model.get(&field(f)).map_or(0, |v| v.len())),
                    ),
                    Op::GetAll => {
                        let got = parse(&run(&mut s, &["HGETALL", "h"]));
                        let got: BTreeMap<String, String> =
                            got.items().chunks(2).map(|p| (p[0].text(), p[1].text())).collect();
                        prop_assert_eq!(&got, &model);
                        continue;
                    }
                };
                let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
                prop_assert_eq!(run(&mut s, &refs), expect, "{:?}", refs);
                let enc = encoding(&mut s, "h");
                if model.is_empty() {
                    prop_assert_eq!(enc, "none");
                } else if model.len() > entries || model.iter().any(|(f, v)| f.len() > vlimit || v.len() > vlimit) {
                    prop_assert_eq!(enc, "hashtable");
                }
            }
        }

        /// No input makes a hash command panic.
        #[test]
        fn hash_commands_never_panic(
            cmd in proptest::sample::select(vec![
                "HSET", "HSETNX", "HGET", "HMGET", "HMSET", "HDEL", "HEXISTS", "HLEN", "HSTRLEN",
                "HKEYS", "HVALS", "HGETALL", "HINCRBY", "HINCRBYFLOAT", "HRANDFIELD", "HSCAN",
            ]),
            key in proptest::sample::select(vec!["small", "big", "str", "none"]),
            args in proptest::collection::vec(
                prop_oneof![
                    "-?[0-9]{1,20}",
                    "[0-9.eE+-]{0,8}",
                    "(WITHVALUES|MATCH|COUNT|withvalues|count|match|\\*|f[0-9]|inf|nan)",
                    ".{0,6}",
                ],
                0..6,
            ),
            resp3 in any::<bool>(),
        ) {
            let mut s = small_limits(4, 16);
            run(&mut s, &["HSET", "small", "f1", "1", "f2", "x"]);
            run(&mut s, &["HSET", "big", "f1", "1", "f2", "2", "f3", "3", "f4", "4", "f5", "5.5"]);
            run(&mut s, &["SET", "str", "1"]);
            let mut argv = vec![cmd, key];
            argv.extend(args.iter().map(String::as_str));
            let reply = run_proto(&mut s, NOW, resp3, &argv);
            prop_assert!(reply.ends_with("\r\n"), "{:?} -> {:?}", argv, reply);
        }
    }
}

/// A minimal RESP reader for the tests of replies whose content is random.
#[cfg(test)]
pub(crate) mod test_resp {
    #[derive(Clone, Debug, PartialEq)]
    pub enum Resp {
        Int(i64),
        Bulk(String),
        Nil,
        Simple(String),
        Error(String),
        Array(Vec<Resp>),
    }

    impl Resp {
        pub fn items(&self) -> &[Resp] {
            match self {
                Resp::Array(v) => v,
                other => panic!("not an array: {other:?}"),
            }
        }

        pub fn text(&self) -> String {
            match self {
                Resp::Bulk(s) | Resp::Simple(s) => s.clone(),
                Resp::Int(n) => n.to_string(),
                other => panic!("not a string: {other:?}"),
            }
        }
    }

    /// Parses one reply; maps and sets come out as (flat) arrays.
    pub fn parse(s: &str) -> Resp {
        let (r, rest) = parse_at(s);
        assert!(rest.is_empty(), "trailing bytes after the reply: {rest:?}");
        r
    }

    fn parse_at(s: &str) -> (Resp, &str) {
        let end = s.find("\r\n").expect("a line");
        let (line, rest) = (&s[1..end], &s[end + 2..]);
        match s.as_bytes()[0] {
            b':' => (Resp::Int(line.parse().unwrap()), rest),
            b'+' => (Resp::Simple(line.to_string()), rest),
            b'-' => (Resp::Error(line.to_string()), rest),
            b'_' => (Resp::Nil, rest),
            b'$' if line == "-1" => (Resp::Nil, rest),
            b'*' if line == "-1" => (Resp::Nil, rest),
            b'$' => {
                let n: usize = line.parse().unwrap();
                (Resp::Bulk(rest[..n].to_string()), &rest[n + 2..])
            }
            t @ (b'*' | b'~' | b'%') => {
                let mut n: usize = line.parse().unwrap();
                if t == b'%' {
                    n *= 2;
                }
                let mut items = Vec::with_capacity(n);
                let mut rest = rest;
                for _ in 0..n {
                    let (item, r) = parse_at(rest);
                    items.push(item);
                    rest = r;
                }
                (Resp::Array(items), rest)
            }
            other => panic!("unknown reply type {:?}", other as char),
        }
    }
}
