//! Set commands.
//!
//! As for hashes, reads count keyspace hits and misses and writes look
//! before they stamp a key. The multi-key commands (SINTER, SUNIONSTORE,
//! SMOVE...) find every key on this shard: the server gathers them first.
//!
//! Results of SUNION, SDIFF and the STORE variants are built as a new set,
//! whose encoding follows the usual rules (an intset when every member is an
//! integer and there are few enough), and are returned in that set's order,
//! as Redis does: a small all-integer result comes back sorted.

use crate::cmd::hash::{
    check_reply_size, distinct_positions, parse_cursor, parse_scan_opts, parse_signed_count, reply_scan,
    with_rng, INVALID_CURSOR,
};
use crate::command::{eq_ic, flags::*, numkeys_at_1, Command, Group, KeySpec, Keys, Run};
use crate::error::{CmdError, CmdResult, NOT_POSITIVE, SYNTAX};
use crate::keyspace::{Db, Rng};
use crate::num;
use crate::shard::Ctx;
use crate::types::set::{Item, Set};
use crate::value::Value;

const NUMKEYS: CmdError = CmdError::new("ERR numkeys should be greater than 0");
const NUMKEYS_TOO_MANY: CmdError = CmdError::new("ERR Number of keys can't be greater than number of args");
const LIMIT_NEGATIVE: CmdError = CmdError::new("ERR LIMIT can't be negative");

/// Redis's `SPOP_MOVE_STRATEGY_MUL`: when fewer than count/5 members would
/// remain, SPOP rebuilds the set from the survivors instead of removing.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

const SET: Command = Command { group: Group::Set, keys: Keys::ONE, ..Command::DEFAULT };

const fn key_at(begin: i32, last: i32, flags: &'static str) -> KeySpec {
    KeySpec { begin, last, step: 1, flags }
}

const STORE_KEYS: Keys = Keys { first: 1, last: -1, step: 1 };

pub static COMMANDS: &[Command] = &[
    Command {
        name: "sadd",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        summary: "Adds one or more members to a set. Creates the key if it doesn't exist.",
        key_specs: &[key_at(1, 0, "RW INSERT")],
        run: Run::Shard(sadd),
        ..SET
    },
    Command {
        name: "srem",
        arity: -3,
        flags: WRITE | FAST,
        complexity: "O(N) where N is the number of members to be removed.",
        summary: "Removes one or more members from a set. Deletes the set if the last member was removed.",
        key_specs: &[key_at(1, 0, "RW DELETE")],
        run: Run::Shard(srem),
        ..SET
    },
    Command {
        name: "sismember",
        arity: 3,
        flags: READONLY | FAST,
        summary: "Determines whether a member belongs to a set.",
        key_specs: &[key_at(1, 0, "RO")],
        run: Run::Shard(sismember),
        ..SET
    },
    Command {
        name: "smismember",
        arity: -3,
        flags: READONLY | FAST,
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements being checked for membership",
        summary: "Determines whether multiple members belong to a set.",
        key_specs: &[key_at(1, 0, "RO ACCESS")],
        run: Run::Shard(smismember),
        ..SET
    },
    Command {
        name: "smembers",
        arity: 2,
        flags: READONLY,
        complexity: "O(N) where N is the set cardinality.",
        summary: "Returns all members of a set.",
        tips: "nondeterministic_output_order",
        key_specs: &[key_at(1, 0, "RO ACCESS")],
        run: Run::Shard(smembers),
        ..SET
    },
    Command {
        name: "scard",
        arity: 2,
        flags: READONLY | FAST,
        summary: "Returns the number of members in a set.",
        key_specs: &[key_at(1, 0, "RO")],
        run: Run::Shard(scard),
        ..SET
    },
    Command {
        name: "spop",
        arity: -2,
        flags: WRITE | FAST,
        complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, 0, "RW ACCESS DELETE")],
        run: Run::Shard(spop),
        ..SET
    },
    Command {
        name: "srandmember",
        arity: -2,
        flags: READONLY,
        complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        summary: "Get one or multiple random members from a set",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, 0, "RO ACCESS")],
        run: Run::Shard(srandmember),
        ..SET
    },
    Command {
        name: "smove",
        arity: 4,
        flags: WRITE | FAST,
        keys: Keys::TWO,
        summary: "Moves a member from one set to another.",
        key_specs: &[key_at(1, 0, "RW ACCESS DELETE"), key_at(2, 0, "RW INSERT")],
        run: Run::Shard(smove),
        ..SET
    },
    Command {
        name: "sinter",
        arity: -2,
        flags: READONLY,
        keys: Keys::ALL,
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        summary: "Returns the intersect of multiple sets.",
        tips: "nondeterministic_output_order",
        key_specs: &[key_at(1, -1, "RO ACCESS")],
        run: Run::Shard(sinter),
        ..SET
    },
    Command {
        name: "sintercard",
        arity: -3,
        flags: READONLY | MOVABLE_KEYS,
        keys: Keys::NONE,
        since: "7.0.0",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        summary: "Returns the number of members of the intersect of multiple sets.",
        key_specs: &[key_at(1, 0, "RO ACCESS")],
        key_finder: Some(numkeys_at_1),
        run: Run::Shard(sintercard),
        ..SET
    },
    Command {
        name: "sinterstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: STORE_KEYS,
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        summary: "Stores the intersect of multiple sets in a key.",
        key_specs: &[key_at(1, 0, "RW UPDATE"), key_at(2, -1, "RO ACCESS")],
        run: Run::Shard(sinterstore),
        ..SET
    },
    Command {
        name: "sunion",
        arity: -2,
        flags: READONLY,
        keys: Keys::ALL,
        complexity: "O(N) where N is the total number of elements in all given sets.",
        summary: "Returns the union of multiple sets.",
        tips: "nondeterministic_output_order",
        key_specs: &[key_at(1, -1, "RO ACCESS")],
        run: Run::Shard(sunion),
        ..SET
    },
    Command {
        name: "sunionstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: STORE_KEYS,
        complexity: "O(N) where N is the total number of elements in all given sets.",
        summary: "Stores the union of multiple sets in a key.",
        key_specs: &[key_at(1, 0, "OW UPDATE"), key_at(2, -1, "RO ACCESS")],
        run: Run::Shard(sunionstore),
        ..SET
    },
    Command {
        name: "sdiff",
        arity: -2,
        flags: READONLY,
        keys: Keys::ALL,
        complexity: "O(N) where N is the total number of elements in all given sets.",
        summary: "Returns the difference of multiple sets.",
        tips: "nondeterministic_output_order",
        key_specs: &[key_at(1, -1, "RO ACCESS")],
        run: Run::Shard(sdiff),
        ..SET
    },
    Command {
        name: "sdiffstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: STORE_KEYS,
        complexity: "O(N) where N is the total number of elements in all given sets.",
        summary: "Stores the difference of multiple sets in a key.",
        key_specs: &[key_at(1, 0, "OW UPDATE"), key_at(2, -1, "RO ACCESS")],
        run: Run::Shard(sdiffstore),
        ..SET
    },
    Command {
        name: "sscan",
        arity: -3,
        flags: READONLY,
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        summary: "Iterates over members of a set.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, 0, "RO ACCESS")],
        run: Run::Shard(sscan),
        ..SET
    },
];

fn max_intset(ctx: &Ctx<'_>) -> usize {
    ctx.shard.config.set_max_intset_entries
}

/// A read lookup (Redis's `lookupKeyRead`: counts a hit or a miss).
fn read<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a Set>, CmdError> {
    match db.read(key, now) {
        None => Ok(None),
        Some(v) => v.set().map(Some),
    }
}

/// A write lookup without stamping the key: the set, if the key holds one.
fn peek<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a Set>, CmdError> {
    match db.peek(key, now) {
        None => Ok(None),
        Some(e) => e.value().set().map(Some),
    }
}

/// The set at `key` for writing; `None` when the key is absent. Call only
/// after a [`peek`] said it is a set and the command will change it.
fn write<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a mut Set>, CmdError> {
    match db.write(key, now) {
        None => Ok(None),
        Some(v) => v.set_mut().map(Some),
    }
}

/// Looks up every key as Redis's `lookupKeyRead` does (hits, misses, lazy
/// expiry), stopping at the first that is not a set. After it, [`set_ref`]
/// finds the same sets without mutable access, so that several can be held
/// at once.
fn read_all(db: &mut Db, keys: &[&[u8]], now: u64) -> CmdResult {
    for k in keys {
        if let Some(v) = db.read(k, now) {
            v.set()?;
        }
    }
    Ok(())
}

/// The set at `key`, found without touching the keyspace's state. Only for
/// keys that [`read_all`] looked up at the same instant (it already deleted
/// the expired ones).
fn set_ref<'a>(db: &'a Db, key: &[u8]) -> Option<&'a Set> {
    let (slot, hash) = db.locate(key);
    let table = db.slot(slot)?;
    let i = table.find(hash, key)?;
    table.at(i).value().set().ok()
}

/// SADD key member [member ...]: a new key is created; an existing one is
/// only written when a member is new.
fn sadd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, now, max) = (argv[1], ctx.now, max_intset(ctx));
    let db = ctx.db();
    let members = &argv[2..];
    let added = match peek(db, key, now)? {
        Some(s) if members.iter().all(|m| s.contains(m)) => 0,
        Some(_) => match write(db, key, now)? {
            Some(s) => members.iter().filter(|m| s.insert(m, max)).count(),
            None => 0,
        },
        None => {
            let mut s = Set::new();
            let added = members.iter().filter(|m| s.insert(m, max)).count();
            db.insert_new(key, Value::Set(Box::new(s)), 0, now);
            added
        }
    };
    ctx.dirty(added as u64);
    ctx.out.int(added as i64);
    Ok(())
}

/// SREM key member [member ...]: deletes the key with its last member.
fn srem(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    let db = ctx.db();
    let members = &argv[2..];
    let mut removed = 0;
    if peek(db, key, now)?.is_some_and(|s| members.iter().any(|m| s.contains(m))) {
        if let Some(s) = write(db, key, now)? {
            removed = members.iter().filter(|m| s.remove(m)).count();
            if s.is_empty() {
                db.remove(key, now);
            }
        }
    }
    ctx.dirty(removed as u64);
    ctx.out.int(removed as i64);
    Ok(())
}

fn sismember(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let found = read(ctx.db(), argv[1], now)?.is_some_and(|s| s.contains(argv[2]));
    ctx.out.int(found as i64);
    Ok(())
}

/// SMISMEMBER: a missing key is an empty set (a zero per member).
fn smismember(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let s = read(db, argv[1], now)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

fn scard(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let len = read(ctx.db(), argv[1], now)?.map_or(0, |s| s.len());
    ctx.out.int(len as i64);
    Ok(())
}

/// SMEMBERS: a set reply (RESP3 `~`) in the set's order.
fn smembers(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    match read(db, argv[1], now)? {
        None => out.set(0),
        Some(s) => {
            out.set(s.len());
            for m in s.iter() {
                m.reply(out);
            }
        }
    }
    Ok(())
}

/// SPOP key [count].
fn spop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    match argv.len() {
        2 => with_rng(ctx, |ctx, rng| spop_one(ctx, rng, argv[1])),
        3 => {
            let count = num::parse_i64(argv[2]).filter(|&n| n >= 0).ok_or(NOT_POSITIVE)?;
            with_rng(ctx, |ctx, rng| spop_count(ctx, rng, argv[1], count as u64))
        }
        _ => Err(SYNTAX),
    }
}

fn spop_one(ctx: &mut Ctx<'_>, rng: &mut Rng, key: &[u8]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    if peek(db, key, now)?.is_none() {
        out.null();
        return Ok(());
    }
    if let Some(s) = write(db, key, now)? {
        let member = s.random(rng);
        member.reply(out);
        let member = member.to_vec();
        s.remove(&member);
        if s.is_empty() {
            db.remove(key, now);
        }
        ctx.dirty(1);
        // The member drawn here, not one a replica would draw.
        ctx.propagate_line(&[b"SREM", key, &member]);
    }
    Ok(())
}

/// SPOP key count, with Redis's three cases: the whole set when the count
/// reaches its size (returned as a fresh set, deleted); random removals when
/// few are taken; otherwise the survivors are drawn and become a new set
/// (re-encoded: an all-integer remainder is an intset again), and the rest is
/// returned. Replies are sets (RESP3 `~`).
fn spop_count(ctx: &mut Ctx<'_>, rng: &mut Rng, key: &[u8], count: u64) -> CmdResult {
    let (now, max) = (ctx.now, max_intset(ctx));
    let (db, out) = ctx.parts();
    let size = match peek(db, key, now)? {
        None => {
            out.set(0);
            return Ok(());
        }
        Some(s) => s.len(),
    };
    if count == 0 {
        out.set(0);
        return Ok(());
    }
    let popped = count.min(size as u64) as usize;
    // The members taken, for the SREM a replica gets.
    let mut taken: Option<Vec<Vec<u8>>> = ctx.shard.propagated.is_some().then(Vec::new);
    let (db, out) = ctx.parts();
    if popped == size {
        if let Some(entry) = db.remove(key, now) {
            if let Value::Set(s) = entry.value() {
                let mut all = Set::new();
                for m in s.iter() {
                    all.insert_item(m, max);
                }
                out.set(all.len());
                for m in all.iter() {
                    m.reply(out);
                }
            }
        }
    } else if let Some(s) = write(db, key, now)? {
        let remaining = size - popped;
        out.set(popped);
        if remaining.saturating_mul(SPOP_MOVE_STRATEGY_MUL) > popped {
            for _ in 0..popped {
                let member = s.random(rng);
                member.reply(out);
                let member = member.to_vec();
                s.remove(&member);
                if let Some(t) = &mut taken {
                    t.push(member);
                }
            }
        } else {
            let mut kept = Set::new();
            for _ in 0..remaining {
                let member = s.random(rng).to_vec();
                kept.insert(&member, max);
                s.remove(&member);
            }
            for m in s.iter() {
                m.reply(out);
                if let Some(t) = &mut taken {
                    t.push(m.to_vec());
                }
            }
            *s = kept;
        }
    }
    ctx.dirty(popped as u64);
    match taken {
        _ if popped == size => ctx.propagate_line(&[b"DEL", key]),
        Some(members) => {
            let mut line = vec![b"SREM".to_vec(), key.to_vec()];
            line.extend(members);
            ctx.propagate(line);
        }
        None => {}
    }
    Ok(())
}

/// SRANDMEMBER key [count]. The count is read before the key is looked up.
fn srandmember(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    match argv.len() {
        2 => with_rng(ctx, |ctx, rng| {
            let now = ctx.now;
            let (db, out) = ctx.parts();
            match read(db, argv[1], now)? {
                None => out.null(),
                Some(s) => s.random(rng).reply(out),
            }
            Ok(())
        }),
        3 => {
            let count = parse_signed_count(argv[2])?;
            with_rng(ctx, |ctx, rng| srandmember_count(ctx, rng, argv[1], count))
        }
        _ => Err(SYNTAX),
    }
}

/// Redis's cases: a negative count samples with repetition; a count at
/// least the size returns the whole set in its order; a smaller one returns
/// that many distinct members. Always an array.
fn srandmember_count(ctx: &mut Ctx<'_>, rng: &mut Rng, key: &[u8], count: i64) -> CmdResult {
    let now = ctx.now;
    let max_reply = ctx.shard.config.proto_max_bulk_len;
    let (db, out) = ctx.parts();
    let Some(s) = read(db, key, now)? else {
        out.array(0);
        return Ok(());
    };
    let (n, size) = (count.unsigned_abs(), s.len());
    if n == 0 {
        out.array(0);
    } else if count < 0 || n == 1 {
        check_reply_size(max_reply, n)?;
        out.array(n as usize);
        for _ in 0..n {
            s.random(rng).reply(out);
        }
    } else if n >= size as u64 {
        out.array(size);
        for m in s.iter() {
            m.reply(out);
        }
    } else {
        let picks = distinct_positions(rng, size, n as usize);
        out.array(picks.len());
        for i in picks {
            s.at(i).reply(out);
        }
    }
    Ok(())
}

/// SMOVE source destination member. A missing source is 0 whatever the
/// destination holds; then both must be sets; moving within one set is a
/// membership test. The destination is created like SADD would.
fn smove(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (src, dst, member, now, max) = (argv[1], argv[2], argv[3], ctx.now, max_intset(ctx));
    let db = ctx.db();
    let Some(s) = peek(db, src, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let present = s.contains(member);
    let dst_exists = peek(db, dst, now)?.is_some();
    if src == dst || !present {
        ctx.out.int(present as i64);
        return Ok(());
    }
    if let Some(s) = write(db, src, now)? {
        s.remove(member);
        if s.is_empty() {
            db.remove(src, now);
        }
    }
    let added = if dst_exists {
        write(db, dst, now)?.is_some_and(|d| d.insert(member, max))
    } else {
        let mut d = Set::new();
        d.insert(member, max);
        db.insert_new(dst, Value::Set(Box::new(d)), 0, now);
        true
    };
    ctx.dirty(1 + added as u64);
    ctx.out.int(1);
    Ok(())
}

/// The members common to every set, in the order of the smallest one (the
/// first of the smallest, as Redis's sort by cardinality is stable), up to
/// `limit` of them (0 = all). Any missing key makes the result empty.
fn intersect<'a>(sets: &[Option<&'a Set>], limit: usize) -> Vec<Item<'a>> {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else {
        return Vec::new();
    };
    sets.sort_by_key(|s| s.len());
    let (first, rest) = (sets[0], &sets[1..]);
    let mut out = Vec::new();
    for m in first.iter() {
        if rest.iter().all(|s| std::ptr::eq(*s, first) || s.contains_item(m)) {
            out.push(m);
            if out.len() == limit {
                break;
            }
        }
    }
    out
}

/// SINTER key [key ...]: a set reply.
fn sinter(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let keys = &argv[1..];
    let (db, out) = ctx.parts();
    read_all(db, keys, now)?;
    let db: &Db = db;
    let sets: Vec<Option<&Set>> = keys.iter().map(|k| set_ref(db, k)).collect();
    let common = intersect(&sets, 0);
    out.set(common.len());
    for m in common {
        m.reply(out);
    }
    Ok(())
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit], with Redis's checks in
/// its order: numkeys, then the options, then the keys.
fn sintercard(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let numkeys = num::parse_i64(argv[1]).filter(|&n| n >= 1).ok_or(NUMKEYS)?;
    if numkeys > argv.len() as i64 - 2 {
        return Err(NUMKEYS_TOO_MANY);
    }
    let end = 2 + numkeys as usize;
    let mut limit = 0usize;
    let mut i = end;
    while i < argv.len() {
        if eq_ic(argv[i], "limit") && i + 1 < argv.len() {
            let n = num::parse_i64(argv[i + 1]).filter(|&n| n >= 0).ok_or(LIMIT_NEGATIVE)?;
            limit = usize::try_from(n).unwrap_or(usize::MAX);
            i += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    let now = ctx.now;
    let keys = &argv[2..end];
    let db = ctx.db();
    read_all(db, keys, now)?;
    let db: &Db = db;
    let sets: Vec<Option<&Set>> = keys.iter().map(|k| set_ref(db, k)).collect();
    let n = intersect(&sets, limit).len();
    ctx.out.int(n as i64);
    Ok(())
}

/// Stores a computed set at `dst` (replacing whatever was there, expiry
/// included), or deletes `dst` when the result is empty; replies with the
/// size.
fn store(ctx: &mut Ctx<'_>, dst: &[u8], result: Set) {
    let now = ctx.now;
    let len = result.len();
    let db = ctx.db();
    let changed = if len > 0 {
        db.set(dst, Value::Set(Box::new(result)), 0, false, now);
        true
    } else {
        db.remove(dst, now).is_some()
    };
    ctx.dirty(changed as u64);
    ctx.out.int(len as i64);
}

fn sinterstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (now, max) = (ctx.now, max_intset(ctx));
    let keys = &argv[2..];
    let db = ctx.db();
    read_all(db, keys, now)?;
    let db: &Db = db;
    let sets: Vec<Option<&Set>> = keys.iter().map(|k| set_ref(db, k)).collect();
    let mut result = Set::new();
    for m in intersect(&sets, 0) {
        result.insert_item(m, max);
    }
    store(ctx, argv[1], result);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// The union of the sets, or the members of the first that are in none of
/// the others, as a new set.
fn combine(db: &mut Db, keys: &[&[u8]], op: Op, now: u64, max: usize) -> Result<Set, CmdError> {
    read_all(db, keys, now)?;
    let db: &Db = db;
    let sets: Vec<Option<&Set>> = keys.iter().map(|k| set_ref(db, k)).collect();
    let mut result = Set::new();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    result.insert_item(m, max);
                }
            }
        }
        Op::Diff => {
            if let Some(first) = sets[0] {
                let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
                for m in first.iter() {
                    if !others.iter().any(|s| s.contains_item(m)) {
                        result.insert_item(m, max);
                    }
                }
            }
        }
    }
    Ok(result)
}

fn combine_reply(ctx: &mut Ctx<'_>, argv: &[&[u8]], op: Op) -> CmdResult {
    let (now, max) = (ctx.now, max_intset(ctx));
    let result = combine(ctx.db(), &argv[1..], op, now, max)?;
    ctx.out.set(result.len());
    for m in result.iter() {
        m.reply(&mut ctx.out);
    }
    Ok(())
}

fn combine_store(ctx: &mut Ctx<'_>, argv: &[&[u8]], op: Op) -> CmdResult {
    let (now, max) = (ctx.now, max_intset(ctx));
    let result = combine(ctx.db(), &argv[2..], op, now, max)?;
    store(ctx, argv[1], result);
    Ok(())
}

fn sunion(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    combine_reply(ctx, argv, Op::Union)
}

fn sdiff(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    combine_reply(ctx, argv, Op::Diff)
}

fn sunionstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    combine_store(ctx, argv, Op::Union)
}

fn sdiffstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    combine_store(ctx, argv, Op::Diff)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]: as HSCAN.
fn sscan(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[2]).ok_or(INVALID_CURSOR)?;
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let Some(s) = read(db, argv[1], now)? else {
        reply_scan(out, 0, &[]);
        return Ok(());
    };
    let opts = parse_scan_opts(argv)?;
    let mut items = Vec::new();
    let next = s.scan(cursor, opts.count, |m| {
        if opts.keep(m) {
            items.push(m);
        }
    });
    reply_scan(out, next, &items);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cmd::hash::test_resp::parse;
    use crate::shard::Shard;
    use crate::testing::{run, run_proto, shard};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const NOW: u64 = 1_700_000_000_000;

    fn c(s: &mut Shard, argv: &[&str], expect: &str) {
        assert_eq!(run(s, argv), expect, "{argv:?}");
    }

    fn c3(s: &mut Shard, argv: &[&str], expect: &str) {
        assert_eq!(run_proto(s, NOW, true, argv), expect, "{argv:?} (RESP3)");
    }

    /// Replies recorded from redis-server 7.0.15, in order, on one keyspace
    /// (without the ones whose order is a hashtable's).
    #[test]
    fn replies_match_redis() {
        let mut s = shard();
        c(&mut s, &["sadd", "s", "3", "1", "2"], ":3\r\n");
        c(&mut s, &["sadd", "s", "2", "4"], ":1\r\n");
        c(&mut s, &["sadd", "s"], "-ERR wrong number of arguments for 'sadd' command\r\n");
        c(&mut s, &["smembers", "s"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
        c(&mut s, &["scard", "s"], ":4\r\n");
        c(&mut s, &["scard", "nosuch"], ":0\r\n");
        c(&mut s, &["sismember", "s", "1"], ":1\r\n");
        c(&mut s, &["sismember", "s", "5"], ":0\r\n");
        c(&mut s, &["sismember", "s", "01"], ":0\r\n");
        c(&mut s, &["sismember", "nosuch", "1"], ":0\r\n");
        c(&mut s, &["smismember", "s", "1", "5", "2"], "*3\r\n:1\r\n:0\r\n:1\r\n");
        c(&mut s, &["smismember", "nosuch", "1", "2"], "*2\r\n:0\r\n:0\r\n");
        c(&mut s, &["smismember", "s"], "-ERR wrong number of arguments for 'smismember' command\r\n");
        c(&mut s, &["srem", "s", "5"], ":0\r\n");
        c(&mut s, &["srem", "s", "1", "5", "3"], ":2\r\n");
        c(&mut s, &["smembers", "s"], "*2\r\n$1\r\n2\r\n$1\r\n4\r\n");
        c(&mut s, &["srem", "nosuch", "a"], ":0\r\n");
        c(&mut s, &["srem", "s", "2", "4"], ":2\r\n");
        c(&mut s, &["exists", "s"], ":0\r\n");
        c(&mut s, &["sadd", "t", "a", "b", "c"], ":3\r\n");
        c(&mut s, &["sadd", "t", "a"], ":0\r\n");
        c(&mut s, &["srem", "t"], "-ERR wrong number of arguments for 'srem' command\r\n");
        c(&mut s, &["set", "str", "x"], "+OK\r\n");
        c(
            &mut s,
            &["sadd", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["srem", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sismember", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["smismember", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["smembers", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["scard", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["spop", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
        c(
            &mut s,
            &["spop", "str", "1"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["spop", "str", "x"], "-ERR value is out of range, must be positive\r\n");
        c(
            &mut s,
            &["srandmember", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["srandmember", "str", "1"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["srandmember", "str", "x"], "-ERR value is not an integer or out of range\r\n");
        c(
            &mut s,
            &["smove", "str", "t", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["smove", "t", "str", "a"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["smove", "nosuch", "str", "a"], ":0\r\n");
        c(
            &mut s,
            &["sinter", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sinter", "nosuch", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sintercard", "1", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sinterstore", "d", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sunion", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sunion", "nosuch", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sunionstore", "d", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sdiff", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sdiff", "nosuch", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sdiffstore", "d", "str"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(
            &mut s,
            &["sscan", "str", "0"],
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c(&mut s, &["sscan", "str", "x"], "-ERR invalid cursor\r\n");
        c(&mut s, &["sadd", "p", "5", "-1", "100"], ":3\r\n");
        c(&mut s, &["spop", "p", "0"], "*0\r\n");
        c(&mut s, &["spop", "p", "-1"], "-ERR value is out of range, must be positive\r\n");
        c(&mut s, &["spop", "p", "x"], "-ERR value is out of range, must be positive\r\n");
        c(&mut s, &["spop", "p", "1", "2"], "-ERR syntax error\r\n");
        c(&mut s, &["srandmember", "p", "3"], "*3\r\n$2\r\n-1\r\n$1\r\n5\r\n$3\r\n100\r\n");
        c(&mut s, &["srandmember", "p", "10"], "*3\r\n$2\r\n-1\r\n$1\r\n5\r\n$3\r\n100\r\n");
        c(&mut s, &["srandmember", "p", "0"], "*0\r\n");
        c(&mut s, &["srandmember", "p", "-0"], "-ERR value is not an integer or out of range\r\n");
        c(&mut s, &["srandmember", "nosuch", "3"], "*0\r\n");
        c(&mut s, &["srandmember", "nosuch", "-3"], "*0\r\n");
        c(&mut s, &["srandmember", "nosuch"], "$-1\r\n");
        c(&mut s, &["srandmember", "p", "x"], "-ERR value is not an integer or out of range\r\n");
        c(&mut s, &["srandmember", "p", "1", "2"], "-ERR syntax error\r\n");
        c(
            &mut s,
            &["srandmember", "p", "-9223372036854775808"],
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
        );
        c(&mut s, &["spop", "nosuch"], "$-1\r\n");
        c(&mut s, &["spop", "nosuch", "0"], "*0\r\n");
        c(&mut s, &["spop", "nosuch", "5"], "*0\r\n");
        c(&mut s, &["spop", "p", "3"], "*3\r\n$2\r\n-1\r\n$1\r\n5\r\n$3\r\n100\r\n");
        c(&mut s, &["exists", "p"], ":0\r\n");
        c(&mut s, &["sadd", "p2", "b", "a", "c"], ":3\r\n");
        c(&mut s, &["sadd", "p3", "1", "2", "3", "a"], ":4\r\n");
        c(&mut s, &["sadd", "m1", "1", "2", "a"], ":3\r\n");
        c(&mut s, &["sadd", "m2", "x"], ":1\r\n");
        c(&mut s, &["smove", "m1", "m2", "1"], ":1\r\n");
        c(&mut s, &["smove", "m1", "m2", "nosuch"], ":0\r\n");
        c(&mut s, &["smove", "m1", "m1", "2"], ":1\r\n");
        c(&mut s, &["smove", "m1", "m1", "nosuch"], ":0\r\n");
        c(&mut s, &["smove", "m1", "m3", "2"], ":1\r\n");
        c(&mut s, &["smembers", "m3"], "*1\r\n$1\r\n2\r\n");
        c(&mut s, &["smove", "m1", "m2", "a"], ":1\r\n");
        c(&mut s, &["exists", "m1"], ":0\r\n");
        c(&mut s, &["smove", "m2", "m2", "q"], ":0\r\n");
        c(&mut s, &["sadd", "a", "1", "2", "3", "4"], ":4\r\n");
        c(&mut s, &["sadd", "b", "2", "3", "4", "5"], ":4\r\n");
        c(&mut s, &["sadd", "c", "3", "4", "x"], ":3\r\n");
        c(&mut s, &["sinter", "a", "b"], "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
        c(&mut s, &["sinter", "a", "nosuch"], "*0\r\n");
        c(&mut s, &["sinter", "b", "a"], "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
        c(&mut s, &["sintercard", "2", "a", "b"], ":3\r\n");
        c(&mut s, &["sintercard", "3", "a", "b", "c"], ":2\r\n");
        c(&mut s, &["sintercard", "3", "a", "b", "nosuch"], ":0\r\n");
        c(&mut s, &["sintercard", "2", "a", "b", "limit", "1"], ":1\r\n");
        c(&mut s, &["sintercard", "2", "a", "b", "limit", "0"], ":3\r\n");
        c(&mut s, &["sintercard", "2", "a", "b", "LIMIT", "2", "limit", "1"], ":1\r\n");
        c(&mut s, &["sintercard", "0", "a"], "-ERR numkeys should be greater than 0\r\n");
        c(&mut s, &["sintercard", "-1", "a"], "-ERR numkeys should be greater than 0\r\n");
        c(&mut s, &["sintercard", "x", "a"], "-ERR numkeys should be greater than 0\r\n");
        c(
            &mut s,
            &["sintercard", "3", "a", "b"],
            "-ERR Number of keys can't be greater than number of args\r\n",
        );
        c(&mut s, &["sintercard", "1", "a", "b"], "-ERR syntax error\r\n");
        c(&mut s, &["sintercard", "2", "a", "b", "limit"], "-ERR syntax error\r\n");
        c(&mut s, &["sintercard", "2", "a", "b", "limit", "-1"], "-ERR LIMIT can't be negative\r\n");
        c(&mut s, &["sintercard", "2", "a", "b", "limit", "x"], "-ERR LIMIT can't be negative\r\n");
        c(&mut s, &["sintercard", "2", "a", "b", "foo", "1"], "-ERR syntax error\r\n");
        c(
            &mut s,
            &["sintercard", "9223372036854775807", "a"],
            "-ERR Number of keys can't be greater than number of args\r\n",
        );
        c(&mut s, &["sintercard"], "-ERR wrong number of arguments for 'sintercard' command\r\n");
        c(&mut s, &["sinterstore", "d", "a", "b"], ":3\r\n");
        c(&mut s, &["smembers", "d"], "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
        c(&mut s, &["sinterstore", "d", "a", "nosuch"], ":0\r\n");
        c(&mut s, &["exists", "d"], ":0\r\n");
        c(&mut s, &["sinterstore", "d", "a", "nosuch"], ":0\r\n");
        c(&mut s, &["sinterstore", "d", "a", "c"], ":2\r\n");
        c(&mut s, &["smembers", "d"], "*2\r\n$1\r\n3\r\n$1\r\n4\r\n");
        c(&mut s, &["sinterstore", "a", "a", "b"], ":3\r\n");
        c(&mut s, &["smembers", "a"], "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
        c(&mut s, &["sunion", "a", "b", "nosuch"], "*4\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n");
        c(&mut s, &["sunion", "nosuch"], "*0\r\n");
        c(&mut s, &["sunionstore", "u", "a", "b"], ":4\r\n");
        c(&mut s, &["smembers", "u"], "*4\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n");
        c(&mut s, &["sunionstore", "u", "nosuch"], ":0\r\n");
        c(&mut s, &["exists", "u"], ":0\r\n");
        c(&mut s, &["sdiff", "b", "a"], "*1\r\n$1\r\n5\r\n");
        c(&mut s, &["sdiff", "b", "nosuch", "a"], "*1\r\n$1\r\n5\r\n");
        c(&mut s, &["sdiff", "nosuch", "a"], "*0\r\n");
        c(&mut s, &["sdiff", "b", "b"], "*0\r\n");
        c(&mut s, &["sdiffstore", "df", "b", "a"], ":1\r\n");
        c(&mut s, &["smembers", "df"], "*1\r\n$1\r\n5\r\n");
        c(&mut s, &["sdiffstore", "df", "b", "b"], ":0\r\n");
        c(&mut s, &["exists", "df"], ":0\r\n");
        c(&mut s, &["set", "str2", "v"], "+OK\r\n");
        c(&mut s, &["sunionstore", "str2", "a"], ":3\r\n");
        c(&mut s, &["smembers", "str2"], "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
        c(&mut s, &["sdiffstore", "str2", "nosuch"], ":0\r\n");
        c(&mut s, &["exists", "str2"], ":0\r\n");
        c(&mut s, &["sadd", "sc", "3", "1", "2", "20"], ":4\r\n");
        c(
            &mut s,
            &["sscan", "sc", "0"],
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n20\r\n",
        );
        c(&mut s, &["sscan", "sc", "0", "match", "2*"], "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n2\r\n$2\r\n20\r\n");
        c(
            &mut s,
            &["sscan", "sc", "99", "count", "1"],
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n20\r\n",
        );
        c(&mut s, &["sscan", "sc", "x"], "-ERR invalid cursor\r\n");
        c(
            &mut s,
            &["sscan", "sc", "-1"],
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n20\r\n",
        );
        c(&mut s, &["sscan", "sc", "0", "count", "0"], "-ERR syntax error\r\n");
        c(&mut s, &["sscan", "sc", "0", "type", "set"], "-ERR syntax error\r\n");
        c(&mut s, &["sscan", "nosuch", "0", "count", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
        c(&mut s, &["sadd", "sc2", "b", "a", "c"], ":3\r\n");
        c3(&mut s, &["smembers", "sc"], "~4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n20\r\n");
        c3(&mut s, &["smembers", "nosuch"], "~0\r\n");
        c3(&mut s, &["sinter", "a", "b"], "~3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
        c3(&mut s, &["sinter", "a", "nosuch"], "~0\r\n");
        c3(&mut s, &["sunion", "a", "b"], "~4\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n");
        c3(&mut s, &["sdiff", "b", "a"], "~1\r\n$1\r\n5\r\n");
        c3(&mut s, &["spop", "nosuch", "3"], "~0\r\n");
        c3(&mut s, &["spop", "nosuch"], "_\r\n");
        c3(&mut s, &["spop", "sc2", "0"], "~0\r\n");
        c3(&mut s, &["srandmember", "sc", "10"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n20\r\n");
        c3(&mut s, &["srandmember", "nosuch", "3"], "*0\r\n");
        c3(&mut s, &["smismember", "sc", "1", "9"], "*2\r\n:1\r\n:0\r\n");
        c3(
            &mut s,
            &["sscan", "sc", "0"],
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n20\r\n",
        );
    }

    fn encoding(s: &mut Shard, key: &str) -> &'static str {
        s.db(0).peek(key.as_bytes(), NOW).map_or("none", |e| e.value().encoding())
    }

    fn with_max(max: usize) -> Shard {
        let mut s = shard();
        s.config.set_max_intset_entries = max;
        s
    }

    /// The members of a set-like reply, sorted.
    fn members(reply: &str) -> Vec<String> {
        let mut v: Vec<String> = parse(reply).items().iter().map(|m| m.text()).collect();
        v.sort();
        v
    }

    fn strs(v: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn encodings_follow_redis() {
        let mut s = with_max(4);
        c(&mut s, &["SADD", "s", "1", "2", "3", "4"], ":4\r\n");
        assert_eq!(encoding(&mut s, "s"), "intset");
        c(&mut s, &["SADD", "s", "5"], ":1\r\n");
        assert_eq!(encoding(&mut s, "s"), "hashtable");
        c(&mut s, &["SREM", "s", "1", "2", "3", "4"], ":4\r\n");
        assert_eq!(encoding(&mut s, "s"), "hashtable");
        for (member, enc) in [
            ("-0", "hashtable"),
            ("01", "hashtable"),
            (" 1", "hashtable"),
            ("9223372036854775807", "intset"),
            ("9223372036854775808", "hashtable"),
            ("a", "hashtable"),
        ] {
            run(&mut s, &["DEL", "t"]);
            run(&mut s, &["SADD", "t", "7", member]);
            assert_eq!(encoding(&mut s, "t"), enc, "{member}");
        }
        // SMOVE creates its destination like SADD.
        run(&mut s, &["SADD", "src", "1", "x"]);
        c(&mut s, &["SMOVE", "src", "d1", "1"], ":1\r\n");
        assert_eq!(encoding(&mut s, "d1"), "intset");
        c(&mut s, &["SMOVE", "src", "d2", "x"], ":1\r\n");
        assert_eq!(encoding(&mut s, "d2"), "hashtable");
        c(&mut s, &["EXISTS", "src"], ":0\r\n");
        // Stored results are encoded afresh: all-integer and small is an intset.
        run(&mut s, &["SADD", "mixed", "1", "2", "a"]);
        run(&mut s, &["SADD", "ints", "1", "2", "3"]);
        c(&mut s, &["SINTERSTORE", "i", "mixed", "ints"], ":2\r\n");
        assert_eq!(encoding(&mut s, "i"), "intset");
        c(&mut s, &["SDIFFSTORE", "d", "mixed", "ints"], ":1\r\n");
        assert_eq!(encoding(&mut s, "d"), "hashtable");
        c(&mut s, &["SUNIONSTORE", "u", "ints", "i"], ":3\r\n");
        assert_eq!(encoding(&mut s, "u"), "intset");
        // And come back sorted, as from an intset.
        c(&mut s, &["SDIFF", "mixed", "d"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    }

    /// SPOP that keeps only a fifth of the set rebuilds it from the
    /// survivors, so a hashtable of integers becomes an intset again.
    #[test]
    fn spop_rebuilds_a_small_remainder() {
        let mut s = with_max(8);
        let argv: Vec<String> =
            ["SADD", "s"].iter().map(|a| a.to_string()).chain((0..20).map(|i| i.to_string())).collect();
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        run(&mut s, &refs);
        assert_eq!(encoding(&mut s, "s"), "hashtable");
        // 20 members, 17 popped: 3 remain, 3 * 5 <= 17.
        let popped = members(&run(&mut s, &["SPOP", "s", "17"]));
        assert_eq!(popped.len(), 17);
        assert_eq!(encoding(&mut s, "s"), "intset");
        let rest = members(&run(&mut s, &["SMEMBERS", "s"]));
        assert_eq!(rest.len(), 3);
        let all: BTreeSet<String> = popped.iter().chain(&rest).cloned().collect();
        assert_eq!(all.len(), 20);
        // 10 popped of 20: the others are removed in place.
        run(&mut s, &["DEL", "s"]);
        run(&mut s, &refs);
        assert_eq!(members(&run(&mut s, &["SPOP", "s", "10"])).len(), 10);
        assert_eq!(encoding(&mut s, "s"), "hashtable");
        c(&mut s, &["SCARD", "s"], ":10\r\n");
    }

    #[test]
    fn spop_and_srandmember_follow_redis_rules() {
        for max in [512, 1] {
            let mut s = with_max(max);
            run(&mut s, &["SADD", "s", "1", "2", "3", "4", "5"]);
            let all = strs(&["1", "2", "3", "4", "5"]);
            for _ in 0..50 {
                let one = parse(&run(&mut s, &["SRANDMEMBER", "s"])).text();
                assert!(all.contains(&one));
                let r = members(&run(&mut s, &["SRANDMEMBER", "s", "-20"]));
                assert_eq!(r.len(), 20);
                assert!(r.iter().all(|m| all.contains(m)));
                for n in 1..5 {
                    let r = members(&run(&mut s, &["SRANDMEMBER", "s", &n.to_string()]));
                    let distinct: BTreeSet<&String> = r.iter().collect();
                    assert_eq!(distinct.len(), n);
                }
                assert_eq!(members(&run(&mut s, &["SRANDMEMBER", "s", "5"])), all);
                assert!(run_proto(&mut s, NOW, true, &["SRANDMEMBER", "s", "3"]).starts_with("*3\r\n"));
            }
            for n in [1, 2] {
                let r = run_proto(&mut s, NOW, true, &["SPOP", "s", &n.to_string()]);
                assert!(r.starts_with(&format!("~{n}\r\n")), "{r}");
            }
            c(&mut s, &["SCARD", "s"], ":2\r\n");
            let one = parse(&run(&mut s, &["SPOP", "s"])).text();
            c(&mut s, &["SISMEMBER", "s", &one], ":0\r\n");
            c(&mut s, &["SCARD", "s"], ":1\r\n");
            run(&mut s, &["SPOP", "s"]);
            c(&mut s, &["EXISTS", "s"], ":0\r\n");
        }
        let mut s = shard();
        run(&mut s, &["SADD", "s", "a"]);
        let r = run(&mut s, &["SRANDMEMBER", "s", "-9223372036854775807"]);
        assert!(r.starts_with("-ERR count is too large"), "{r}");
    }

    /// Replies whose order is a hashtable's are compared as sets.
    #[test]
    fn hashtable_replies_hold_every_member() {
        let mut s = shard();
        run(&mut s, &["SADD", "a", "x", "1", "2", "y"]);
        run(&mut s, &["SADD", "b", "1", "y", "z"]);
        run(&mut s, &["SADD", "c", "y", "1"]);
        assert_eq!(members(&run(&mut s, &["SMEMBERS", "a"])), strs(&["x", "1", "2", "y"]));
        assert_eq!(members(&run(&mut s, &["SINTER", "a", "b"])), strs(&["1", "y"]));
        assert_eq!(members(&run(&mut s, &["SINTER", "a", "b", "c"])), strs(&["1", "y"]));
        assert_eq!(members(&run(&mut s, &["SUNION", "a", "b"])), strs(&["x", "1", "2", "y", "z"]));
        assert_eq!(members(&run(&mut s, &["SDIFF", "a", "b"])), strs(&["x", "2"]));
        assert_eq!(members(&run(&mut s, &["SPOP", "a", "10"])), strs(&["x", "1", "2", "y"]));
        c(&mut s, &["EXISTS", "a"], ":0\r\n");
        c(&mut s, &["SMOVE", "b", "c", "z"], ":1\r\n");
        assert_eq!(members(&run(&mut s, &["SMEMBERS", "c"])), strs(&["y", "1", "z"]));
        c(&mut s, &["SMOVE", "b", "c", "y"], ":1\r\n");
        c(&mut s, &["SCARD", "c"], ":3\r\n");
    }

    #[test]
    fn sscan_walks_a_hashtable() {
        let mut s = with_max(4);
        for i in 0..100 {
            run(&mut s, &["SADD", "s", &format!("m{i}")]);
        }
        let (mut cursor, mut calls, mut seen) = ("0".to_string(), 0, BTreeSet::new());
        loop {
            let r = parse(&run(&mut s, &["SSCAN", "s", &cursor, "COUNT", "9"]));
            cursor = r.items()[0].text();
            seen.extend(r.items()[1].items().iter().map(|m| m.text()));
            calls += 1;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 100);
        assert!(calls > 10);
        let r = parse(&run(&mut s, &["SSCAN", "s", "0", "MATCH", "m9?", "COUNT", "100"]));
        assert_eq!(r.items()[1].items().len(), 10);
    }

    #[test]
    fn lookups_count_like_redis_and_writes_stamp_only_changes() {
        let mut s = shard();
        run(&mut s, &["SADD", "s", "1"]);
        run(&mut s, &["SADD", "t", "1"]);
        let stats = |s: &mut Shard| (s.db(0).stats.hits, s.db(0).stats.misses);
        let base = stats(&mut s);
        for cmd in
            [&["SADD", "s", "2"][..], &["SREM", "s", "9"], &["SMOVE", "s", "t", "1"], &["SPOP", "nosuch"]]
        {
            run(&mut s, cmd);
        }
        assert_eq!(stats(&mut s), base);
        for cmd in [
            &["SISMEMBER", "s", "1"][..],
            &["SMISMEMBER", "s", "1"],
            &["SCARD", "s"],
            &["SMEMBERS", "s"],
            &["SRANDMEMBER", "s"],
            &["SSCAN", "s", "0"],
            &["SINTER", "s", "t", "nosuch"],
            &["SUNIONSTORE", "d", "s", "nosuch"],
            &["SINTERCARD", "2", "s", "t"],
        ] {
            run(&mut s, cmd);
        }
        assert_eq!(stats(&mut s), (base.0 + 11, base.1 + 2));
        let v = s.db(0).version(b"s", NOW);
        for cmd in
            [&["SADD", "s", "2"][..], &["SREM", "s", "9"], &["SMOVE", "s", "t", "9"], &["SPOP", "s", "0"]]
        {
            run(&mut s, cmd);
        }
        assert_eq!(s.db(0).version(b"s", NOW), v);
    }

    #[test]
    fn dirty_counts_like_redis() {
        let mut s = shard();
        let dirty = |s: &mut Shard, argv: &[&str]| {
            let before = s.dirty;
            run(s, argv);
            s.dirty - before
        };
        assert_eq!(dirty(&mut s, &["SADD", "s", "1", "2", "2", "3"]), 3);
        assert_eq!(dirty(&mut s, &["SADD", "s", "1"]), 0);
        assert_eq!(dirty(&mut s, &["SREM", "s", "1", "9"]), 1);
        assert_eq!(dirty(&mut s, &["SMOVE", "s", "t", "2"]), 2);
        assert_eq!(dirty(&mut s, &["SADD", "s", "2"]), 1);
        assert_eq!(dirty(&mut s, &["SMOVE", "s", "t", "2"]), 1);
        assert_eq!(dirty(&mut s, &["SPOP", "s", "5"]), 1);
        assert_eq!(dirty(&mut s, &["SINTERSTORE", "d", "t"]), 1);
        assert_eq!(dirty(&mut s, &["SINTERSTORE", "d", "nosuch"]), 1);
        assert_eq!(dirty(&mut s, &["SINTERSTORE", "d", "nosuch"]), 0);
    }

    #[test]
    fn stores_replace_any_type_and_drop_the_ttl() {
        let mut s = shard();
        run(&mut s, &["SADD", "a", "1"]);
        run(&mut s, &["SET", "d", "x", "EX", "100"]);
        c(&mut s, &["SUNIONSTORE", "d", "a"], ":1\r\n");
        c(&mut s, &["TTL", "d"], ":-1\r\n");
        c(&mut s, &["TYPE", "d"], "+set\r\n");
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add(u8, Vec<u8>),
        Rem(u8, Vec<u8>),
        Move(u8, u8, u8),
        Card(u8),
        IsMember(u8, u8),
        Members(u8),
        Inter(Vec<u8>),
        Union(Vec<u8>),
        Diff(Vec<u8>),
        Store(u8, u8, Vec<u8>),
        InterCard(Vec<u8>, usize),
    }

    fn key(k: u8) -> String {
        format!("s{}", k % 4)
    }

    fn member(m: u8) -> String {
        match m % 10 {
            0..=5 => (m % 16).to_string(),
            6 => "-0".to_string(),
            _ => format!("m{}", m % 3),
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        let keys = proptest::collection::vec(any::<u8>(), 1..4);
        prop_oneof![
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 1..5)).prop_map(|(k, m)| Op::Add(k, m)),
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 1..4)).prop_map(|(k, m)| Op::Rem(k, m)),
            (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, m)| Op::Move(a, b, m)),
            any::<u8>().prop_map(Op::Card),
            (any::<u8>(), any::<u8>()).prop_map(|(k, m)| Op::IsMember(k, m)),
            any::<u8>().prop_map(Op::Members),
            keys.clone().prop_map(Op::Inter),
            keys.clone().prop_map(Op::Union),
            keys.clone().prop_map(Op::Diff),
            (0u8..3, any::<u8>(), keys.clone()).prop_map(|(o, d, k)| Op::Store(o, d, k)),
            (keys, 0usize..4).prop_map(|(k, l)| Op::InterCard(k, l)),
        ]
    }

    type Model = std::collections::BTreeMap<String, BTreeSet<String>>;

    fn combine(model: &Model, keys: &[String], op: u8) -> BTreeSet<String> {
        let get = |k: &String| model.get(k).cloned().unwrap_or_default();
        let mut it = keys.iter().map(get);
        let first = it.next().unwrap_or_default();
        it.fold(first, |acc, s| match op {
            0 => acc.intersection(&s).cloned().collect(),
            1 => acc.union(&s).cloned().collect(),
            _ => acc.difference(&s).cloned().collect(),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The set commands against a model of BTreeSets, with a small
        /// intset limit so sequences cross the encoding boundary.
        #[test]
        fn commands_match_a_model(max in 0usize..6, ops in proptest::collection::vec(op(), 1..50)) {
            let mut s = with_max(max);
            let mut model = Model::new();
            for op in ops {
                let cmd_keys = |ks: &[u8]| ks.iter().map(|k| key(*k)).collect::<Vec<String>>();
                let (argv, expect): (Vec<String>, Option<String>) = match op {
                    Op::Add(k, ms) => {
                        let set = model.entry(key(k)).or_default();
                        let n = ms.iter().filter(|m| set.insert(member(**m))).count();
                        let mut argv = vec!["SADD".to_string(), key(k)];
                        argv.extend(ms.iter().map(|m| member(*m)));
                        (argv, Some(format!(":{n}\r\n")))
                    }
                    Op::Rem(k, ms) => {
                        let mut n = 0;
                        if let Some(set) = model.get_mut(&key(k)) {
                            n = ms.iter().filter(|m| set.remove(&member(**m))).count();
                            if set.is_empty() {
                                model.remove(&key(k));
                            }
                        }
                        let mut argv = vec!["SREM".to_string(), key(k)];
                        argv.extend(ms.iter().map(|m| member(*m)));
                        (argv, Some(format!(":{n}\r\n")))
                    }
                    Op::Move(a, b, m) => {
                        let (a, b, m) = (key(a), key(b), member(m));
                        let present = model.get(&a).is_some_and(|s| s.contains(&m));
                        if present && a != b {
                            let src = model.get_mut(&a).unwrap();
                            src.remove(&m);
                            if src.is_empty() {
                                model.remove(&a);
                            }
                            model.entry(b.clone()).or_default().insert(m.clone());
                        }
                        (vec!["SMOVE".into(), a, b, m], Some(format!(":{}\r\n", present as i64)))
                    }
                    Op::Card(k) => {
                        let n = model.get(&key(k)).map_or(0, |s| s.len());
                        (vec!["SCARD".into(), key(k)], Some(format!(":{n}\r\n")))
                    }
                    Op::IsMember(k, m) => {
                        let n = model.get(&key(k)).is_some_and(|s| s.contains(&member(m)));
                        (vec!["SISMEMBER".into(), key(k), member(m)], Some(format!(":{}\r\n", n as i64)))
                    }
                    Op::Members(k) => {
                        let got = members(&run(&mut s, &["SMEMBERS", &key(k)]));
                        let want: Vec<String> = model.get(&key(k)).map_or(vec![], |s| s.iter().cloned().collect());
                        prop_assert_eq!(got, want);
                        continue;
                    }
                    Op::Inter(ref ks) | Op::Union(ref ks) | Op::Diff(ref ks) => {
                        let keys = cmd_keys(ks);
                        let (name, code) = match op {
                            Op::Inter(_) => ("SINTER", 0),
                            Op::Union(_) => ("SUNION", 1),
                            _ => ("SDIFF", 2),
                        };
                        let mut argv = vec![name];
                        argv.extend(keys.iter().map(String::as_str));
                        let got = members(&run(&mut s, &argv));
                        let want: Vec<String> = combine(&model, &keys, code).into_iter().collect();
                        prop_assert_eq!(got, want, "{:?}", argv);
                        continue;
                    }
                    Op::Store(code, d, ks) => {
                        let keys = cmd_keys(&ks);
                        let result = combine(&model, &keys, code);
                        let n = result.len();
                        if result.is_empty() {
                            model.remove(&key(d));
                        } else {
                            model.insert(key(d), result);
                        }
                        let name = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][code as usize];
                        let mut argv = vec![name.to_string(), key(d)];
                        argv.extend(keys);
                        (argv, Some(format!(":{n}\r\n")))
                    }
                    Op::InterCard(ks, limit) => {
                        let keys = cmd_keys(&ks);
                        let n = combine(&model, &keys, 0).len();
                        let n = if limit > 0 { n.min(limit) } else { n };
                        let mut argv = vec!["SINTERCARD".to_string(), keys.len().to_string()];
                        argv.extend(keys);
                        argv.extend(["LIMIT".to_string(), limit.to_string()]);
                        (argv, Some(format!(":{n}\r\n")))
                    }
                };
                let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
                let got = run(&mut s, &refs);
                if let Some(expect) = expect {
                    prop_assert_eq!(got, expect, "{:?}", refs);
                }
                for k in 0..4u8 {
                    let name = key(k);
                    let enc = encoding(&mut s, &name);
                    match model.get(&name) {
                        None => prop_assert_eq!(enc, "none"),
                        Some(set) => {
                            let ints = set.iter().all(|m| crate::num::parse_i64(m.as_bytes()).is_some());
                            if !ints || set.len() > max {
                                prop_assert_eq!(enc, "hashtable", "{:?}", set);
                            }
                        }
                    }
                }
            }
        }

        /// No input makes a set command panic.
        #[test]
        fn set_commands_never_panic(
            cmd in proptest::sample::select(vec![
                "SADD", "SREM", "SISMEMBER", "SMISMEMBER", "SMEMBERS", "SCARD", "SPOP", "SRANDMEMBER",
                "SMOVE", "SINTER", "SINTERCARD", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE",
                "SDIFFSTORE", "SSCAN",
            ]),
            key in proptest::sample::select(vec!["ints", "big", "str", "none", "1", "2"]),
            args in proptest::collection::vec(
                prop_oneof![
                    "-?[0-9]{1,20}",
                    "(ints|big|str|none|LIMIT|limit|MATCH|COUNT|\\*|m[0-9])",
                    ".{0,6}",
                ],
                0..6,
            ),
            resp3 in any::<bool>(),
        ) {
            let mut s = with_max(4);
            run(&mut s, &["SADD", "ints", "1", "2", "3"]);
            run(&mut s, &["SADD", "big", "1", "2", "3", "m1", "m2", "m3"]);
            run(&mut s, &["SET", "str", "1"]);
            let mut argv = vec![cmd, key];
            argv.extend(args.iter().map(String::as_str));
            let reply = run_proto(&mut s, NOW, resp3, &argv);
            prop_assert!(reply.ends_with("\r\n"), "{:?} -> {:?}", argv, reply);
        }
    }
}
