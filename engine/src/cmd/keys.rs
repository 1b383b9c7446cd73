//! Generic key commands (Redis's `generic` group) that run on one shard.
//! The whole-keyspace ones (KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSH*, SWAPDB)
//! are declared here or in `server` and carried out by the server across all
//! cores; RENAME, RENAMENX and COPY run here once the server has brought both
//! keys onto one shard.
//!
//! Redis looks keys up in three ways, and the commands below keep to the one
//! Redis uses because INFO's keyspace_hits/misses and OBJECT IDLETIME show the
//! difference: a read (counts a hit or miss, refreshes the access clock:
//! [`Db::read`]), an inspection (counts, leaves the clock alone: `inspect`)
//! and a write lookup (refreshes the clock, counts nothing: [`Db::touch`]).

use crate::args::Args;
use crate::command::{flags::*, Command, Group, KeySpec, Keys, Run, ServerCmd, Spread};
use crate::command::{key_at, one_key};
use crate::error::{CmdError, CmdResult, DB_INDEX, NOT_INTEGER, NO_SUCH_KEY, SAME_OBJECT, SYNTAX};
use crate::keyspace::{lru_clock, Db};
use crate::num;
use crate::shard::Ctx;
use crate::table::Entry;
use crate::value::{Str, Value, SHARED_INTEGERS};

const GENERIC: Command = Command { group: Group::Generic, keys: Keys::ONE, ..Command::DEFAULT };

/// The key of a one-key command, with the given key-spec flags.
const fn all_keys(flags: &'static str) -> KeySpec {
    KeySpec { begin: 1, last: -1, step: 1, flags }
}

const MULTI_SHARD_SUM: &str = "request_policy:multi_shard response_policy:agg_sum";

pub static COMMANDS: &[Command] = &[
    Command {
        name: "del",
        arity: -2,
        flags: WRITE,
        keys: Keys::ALL,
        spread: Spread::Sum,
        complexity: "O(N) where N is the number of keys that will be removed.",
        summary: "Deletes one or more keys.",
        tips: MULTI_SHARD_SUM,
        key_specs: &[all_keys("RM DELETE")],
        run: Run::Shard(del),
        ..GENERIC
    },
    Command {
        name: "unlink",
        arity: -2,
        flags: WRITE | FAST,
        keys: Keys::ALL,
        spread: Spread::Sum,
        since: "4.0.0",
        complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        summary: "Deletes one or more keys, reclaiming their memory out of the request path.",
        tips: MULTI_SHARD_SUM,
        key_specs: &[all_keys("RM DELETE")],
        // Same reply and effect as DEL: a shard frees values inline.
        run: Run::Shard(del),
        ..GENERIC
    },
    Command {
        name: "exists",
        arity: -2,
        flags: READONLY | FAST,
        keys: Keys::ALL,
        spread: Spread::Sum,
        complexity: "O(N) where N is the number of keys to check.",
        summary: "Counts how many of the given keys exist.",
        tips: MULTI_SHARD_SUM,
        key_specs: &[all_keys("RO")],
        run: Run::Shard(exists),
        ..GENERIC
    },
    Command {
        name: "touch",
        arity: -2,
        flags: READONLY | FAST,
        keys: Keys::ALL,
        spread: Spread::Sum,
        since: "3.2.1",
        complexity: "O(N) where N is the number of keys that will be touched.",
        summary: "Marks keys as just accessed and counts how many of them exist.",
        tips: MULTI_SHARD_SUM,
        key_specs: &[all_keys("RO")],
        run: Run::Shard(touch),
        ..GENERIC
    },
    Command {
        name: "type",
        arity: 2,
        flags: READONLY | FAST,
        summary: "Names the type of the value held at a key.",
        key_specs: &[one_key("RO")],
        run: Run::Shard(r#type),
        ..GENERIC
    },
    Command {
        name: "move",
        arity: 3,
        flags: WRITE | FAST,
        summary: "Moves a key to another database.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(r#move),
        ..GENERIC
    },
    Command {
        name: "expire",
        arity: -3,
        flags: WRITE | FAST,
        summary: "Gives a key a time to live in seconds.",
        key_specs: &[one_key("RW UPDATE")],
        run: Run::Shard(expire),
        ..GENERIC
    },
    Command {
        name: "pexpire",
        arity: -3,
        flags: WRITE | FAST,
        since: "2.6.0",
        summary: "Gives a key a time to live in milliseconds.",
        key_specs: &[one_key("RW UPDATE")],
        run: Run::Shard(pexpire),
        ..GENERIC
    },
    Command {
        name: "expireat",
        arity: -3,
        flags: WRITE | FAST,
        since: "1.2.0",
        summary: "Makes a key expire at a Unix time in seconds.",
        key_specs: &[one_key("RW UPDATE")],
        run: Run::Shard(expireat),
        ..GENERIC
    },
    Command {
        name: "pexpireat",
        arity: -3,
        flags: WRITE | FAST,
        since: "2.6.0",
        summary: "Makes a key expire at a Unix time in milliseconds.",
        key_specs: &[one_key("RW UPDATE")],
        run: Run::Shard(pexpireat),
        ..GENERIC
    },
    Command {
        name: "ttl",
        arity: 2,
        flags: READONLY | FAST,
        summary: "Returns a key's remaining time to live in seconds.",
        tips: "nondeterministic_output",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(ttl),
        ..GENERIC
    },
    Command {
        name: "pttl",
        arity: 2,
        flags: READONLY | FAST,
        since: "2.6.0",
        summary: "Returns a key's remaining time to live in milliseconds.",
        tips: "nondeterministic_output",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(pttl),
        ..GENERIC
    },
    Command {
        name: "expiretime",
        arity: 2,
        flags: READONLY | FAST,
        since: "7.0.0",
        summary: "Returns the Unix time in seconds at which a key expires.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(expiretime),
        ..GENERIC
    },
    Command {
        name: "pexpiretime",
        arity: 2,
        flags: READONLY | FAST,
        since: "7.0.0",
        summary: "Returns the Unix time in milliseconds at which a key expires.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(pexpiretime),
        ..GENERIC
    },
    Command {
        name: "persist",
        arity: 2,
        flags: WRITE | FAST,
        since: "2.2.0",
        summary: "Removes a key's time to live, so that it never expires.",
        key_specs: &[one_key("RW UPDATE")],
        run: Run::Shard(persist),
        ..GENERIC
    },
    Command {
        name: "rename",
        arity: 3,
        flags: WRITE,
        keys: Keys::TWO,
        summary: "Gives a key a new name, replacing any key of that name.",
        key_specs: &[key_at(1, "RW ACCESS DELETE"), key_at(2, "OW UPDATE")],
        run: Run::Shard(rename),
        ..GENERIC
    },
    Command {
        name: "renamenx",
        arity: 3,
        flags: WRITE | FAST,
        keys: Keys::TWO,
        summary: "Gives a key a new name, unless a key of that name exists.",
        key_specs: &[key_at(1, "RW ACCESS DELETE"), key_at(2, "OW INSERT")],
        run: Run::Shard(renamenx),
        ..GENERIC
    },
    Command {
        name: "copy",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::TWO,
        since: "6.2.0",
        complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        summary: "Copies a key's value and expiry to another key, possibly in another database.",
        key_specs: &[key_at(1, "RO ACCESS"), key_at(2, "OW UPDATE")],
        run: Run::Shard(copy),
        ..GENERIC
    },
    Command {
        name: "object",
        arity: -2,
        keys: Keys::NONE,
        since: "2.2.3",
        complexity: "Depends on subcommand.",
        summary: "Inspects how a key's value is stored.",
        run: Run::Container,
        subcommands: OBJECT_SUBCOMMANDS,
        ..GENERIC
    },
    Command {
        name: "keys",
        arity: 2,
        flags: READONLY,
        keys: Keys::NONE,
        complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        summary: "Lists every key that matches a glob-style pattern.",
        tips: "request_policy:all_shards nondeterministic_output_order",
        run: Run::Server(ServerCmd::Keys),
        ..GENERIC
    },
    Command {
        name: "scan",
        arity: -2,
        flags: READONLY,
        keys: Keys::NONE,
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        summary: "Walks the keyspace a few keys per call with a cursor.",
        tips: "nondeterministic_output request_policy:special",
        run: Run::Server(ServerCmd::Scan),
        ..GENERIC
    },
    Command {
        name: "randomkey",
        arity: 1,
        flags: READONLY,
        keys: Keys::NONE,
        summary: "Returns the name of a key picked at random.",
        tips: "request_policy:all_shards nondeterministic_output",
        run: Run::Server(ServerCmd::Randomkey),
        ..GENERIC
    },
    Command {
        name: "wait",
        arity: 3,
        flags: NOSCRIPT,
        keys: Keys::NONE,
        since: "3.0.0",
        complexity: "O(1)",
        summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
        tips: "request_policy:all_shards response_policy:agg_min",
        run: Run::Server(ServerCmd::Wait),
        // Redis files it under generic but gives it only @connection (this
        // table derives the category from the group).
        group: Group::Connection,
        ..GENERIC
    },
];

/// OBJECT's subcommands take their key after the subcommand name.
const OBJECT_KEY: Keys = Keys { first: 2, last: 2, step: 1 };

static OBJECT_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "encoding",
        arity: 3,
        flags: READONLY,
        keys: OBJECT_KEY,
        since: "2.2.3",
        summary: "Names the internal encoding of a key's value.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(2, "RO")],
        run: Run::Shard(object_encoding),
        ..GENERIC
    },
    Command {
        name: "freq",
        arity: 3,
        flags: READONLY,
        keys: OBJECT_KEY,
        since: "4.0.0",
        summary: "Returns a key's logarithmic access frequency counter (LFU policies only).",
        tips: "nondeterministic_output",
        key_specs: &[key_at(2, "RO")],
        run: Run::Shard(object_freq),
        ..GENERIC
    },
    Command {
        name: "idletime",
        arity: 3,
        flags: READONLY,
        keys: OBJECT_KEY,
        since: "2.2.3",
        summary: "Returns the seconds since a key was last accessed.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(2, "RO")],
        run: Run::Shard(object_idletime),
        ..GENERIC
    },
    Command {
        name: "refcount",
        arity: 3,
        flags: READONLY,
        keys: OBJECT_KEY,
        since: "2.2.3",
        summary: "Returns how many references share a key's value.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(2, "RO")],
        run: Run::Shard(object_refcount),
        ..GENERIC
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::NONE,
        since: "6.2.0",
        summary: "Describes the OBJECT subcommands.",
        run: Run::Shard(object_help),
        ..GENERIC
    },
];

const EXPIRE_NX_CONFLICT: CmdError =
    CmdError::new("ERR NX and XX, GT or LT options at the same time are not compatible");
const EXPIRE_GT_LT: CmdError = CmdError::new("ERR GT and LT options at the same time are not compatible");
const INT_RANGE: CmdError =
    CmdError::new("ERR value is out of range, value must between -2147483648 and 2147483647");
const LFU_NOT_SELECTED: CmdError = CmdError::new(
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
);

/// Looks at a live key the way Redis's `LOOKUP_NOTOUCH` reads do (EXISTS,
/// TYPE, TTL, OBJECT): the access counts as a keyspace hit or miss, but the
/// key's access clock is left alone so that inspecting a key does not make
/// it look recently used.
fn inspect<T>(db: &mut Db, key: &[u8], now: u64, f: impl FnOnce(&Entry) -> T) -> Option<T> {
    let found = db.peek(key, now).map(f);
    if found.is_some() {
        db.stats.hits += 1;
    } else {
        db.stats.misses += 1;
    }
    found
}

/// A write lookup (Redis's `lookupKeyWrite`): refreshes the access clock
/// without counting a hit or miss, and returns the key's expiry (`Some(None)`
/// for a key without one), or `None` when the key does not exist.
fn lookup_write(db: &mut Db, key: &[u8], now: u64) -> Option<Option<u64>> {
    if !db.touch(key, now) {
        return None;
    }
    db.peek(key, now).map(Entry::expire_at)
}

/// A database index argument (MOVE, COPY ... DB): an integer that fits C's
/// `int`, then one of the configured databases, with Redis's error for each.
fn parse_db(ctx: &Ctx<'_>, arg: &[u8]) -> Result<usize, CmdError> {
    // The shard's own database count, so that the index is always usable here.
    parse_db_index(arg, ctx.shard.dbs().len())
}

fn parse_db_index(arg: &[u8], databases: usize) -> Result<usize, CmdError> {
    let n = num::parse_i64(arg).ok_or(NOT_INTEGER)?;
    if i32::try_from(n).is_err() {
        return Err(INT_RANGE);
    }
    match usize::try_from(n) {
        Ok(i) if i < databases => Ok(i),
        _ => Err(DB_INDEX),
    }
}

/// DEL and UNLINK. UNLINK (and DEL under `lazyfree-lazy-user-del yes`)
/// leaves freeing a large value to the lazyfree thread.
fn del(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let lazy = ctx.shard.config.lazyfree_lazy_user_del || argv[0].eq_ignore_ascii_case(b"unlink");
    let mut n = 0;
    for key in &argv[1..] {
        if let Some(e) = ctx.db().remove(key, now) {
            n += 1;
            if lazy {
                crate::lazyfree::free_value(e.into_parts().1);
            }
        }
    }
    ctx.dirty(n);
    ctx.out.int(n as i64);
    Ok(())
}

fn exists(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    let n = argv[1..].iter().filter(|k| inspect(db, k, now, |_| ()).is_some()).count();
    ctx.out.int(n as i64);
    Ok(())
}

fn touch(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    let n = argv[1..].iter().filter(|k| db.read(k, now).is_some()).count();
    ctx.out.int(n as i64);
    Ok(())
}

fn r#type(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let name = inspect(ctx.db(), argv[1], now, |e| e.value().type_name()).unwrap_or("none");
    ctx.out.simple(name.as_bytes());
    Ok(())
}

/// MOVE key db: 0 when the key is missing here or already present there.
/// The key keeps its expiry.
fn r#move(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if ctx.shard.config.cluster_enabled {
        return Err(CmdError::new("ERR MOVE is not allowed in cluster mode"));
    }
    let key = argv[1];
    let (now, src) = (ctx.now, ctx.db);
    let dst = parse_db(ctx, argv[2])?;
    if dst == src {
        return Err(SAME_OBJECT);
    }
    if lookup_write(ctx.shard.db(src), key, now).is_none()
        || lookup_write(ctx.shard.db(dst), key, now).is_some()
    {
        ctx.out.int(0);
        return Ok(());
    }
    let Some(entry) = ctx.shard.db(src).remove(key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let (_, value, expire_at) = entry.into_parts();
    ctx.shard.db(dst).insert_new(key, value, expire_at, now);
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

/// NX, XX, GT and LT of the EXPIRE family.
#[derive(Default, Clone, Copy)]
struct ExpireCond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireCond {
    /// Reads the options after `key time`. Redis rejects the first unknown
    /// option before it looks at conflicts, and both before the time itself.
    fn parse(argv: &[&[u8]]) -> Result<ExpireCond, CmdError> {
        let mut c = ExpireCond::default();
        let mut args = Args::new(argv, 3);
        while !args.is_empty() {
            if args.is("nx") {
                c.nx = true;
            } else if args.is("xx") {
                c.xx = true;
            } else if args.is("gt") {
                c.gt = true;
            } else if args.is("lt") {
                c.lt = true;
            } else {
                let opt = args.next().unwrap_or_default();
                return Err(CmdError::owned(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )));
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(EXPIRE_NX_CONFLICT);
        }
        if c.gt && c.lt {
            return Err(EXPIRE_GT_LT);
        }
        Ok(c)
    }

    /// Whether the new absolute expiry `when` may replace `current`. A key
    /// without an expiry counts as living forever: GT never beats it, LT always does.
    fn allows(self, current: Option<u64>, when: i64) -> bool {
        let when = when as i128;
        let (nx_ok, xx_ok) = (current.is_none(), current.is_some());
        let gt_ok = current.is_some_and(|c| when > c as i128);
        let lt_ok = current.is_none_or(|c| when < c as i128);
        (!self.nx || nx_ok) && (!self.xx || xx_ok) && (!self.gt || gt_ok) && (!self.lt || lt_ok)
    }
}

fn expire(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, "expire", true, true)
}

fn pexpire(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, "pexpire", false, true)
}

fn expireat(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, "expireat", true, false)
}

fn pexpireat(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, "pexpireat", false, false)
}

/// The EXPIRE family: `secs` says the time argument is in seconds, `relative`
/// that it counts from now. Unlike SET EX, zero and negative times are
/// accepted: an expiry that is already past deletes the key at once and
/// still replies 1 (Redis's `checkAlreadyExpired`). Only arithmetic overflow
/// is an invalid expire time.
fn expire_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], cmd: &str, secs: bool, relative: bool) -> CmdResult {
    let cond = ExpireCond::parse(argv)?;
    let v = num::parse_i64(argv[2]).ok_or(NOT_INTEGER)?;
    let now = ctx.now;
    let base = if relative { now as i64 } else { 0 };
    let when = if secs { v.checked_mul(1000) } else { Some(v) }
        .and_then(|ms| ms.checked_add(base))
        .ok_or_else(|| CmdError::invalid_expire(cmd))?;
    let key = argv[1];
    let db = ctx.db();
    let Some(current) = lookup_write(db, key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    if !cond.allows(current, when) {
        ctx.out.int(0);
        return Ok(());
    }
    let mut ms = itoa::Buffer::new();
    let effect: &[&[u8]] = if when <= now as i64 {
        db.remove(key, now);
        &[b"DEL", key]
    } else {
        db.set_expire(key, when as u64, now);
        // A relative time would count from later on a replica.
        &[b"PEXPIREAT", key, ms.format(when).as_bytes()]
    };
    ctx.dirty(1);
    ctx.out.int(1);
    ctx.propagate_line(effect);
    Ok(())
}

fn ttl(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], false, false)
}

fn pttl(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], true, false)
}

fn expiretime(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], false, true)
}

fn pexpiretime(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], true, true)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 for one that
/// never expires, else the remaining or absolute time. Seconds are rounded
/// to the nearest second, not truncated (a TTL of 1.5 s reads as 2).
fn ttl_generic(ctx: &mut Ctx<'_>, key: &[u8], ms: bool, absolute: bool) -> CmdResult {
    let now = ctx.now;
    let reply = match inspect(ctx.db(), key, now, Entry::expire_at) {
        None => -2,
        Some(None) => -1,
        Some(Some(at)) => {
            let t = if absolute { at } else { at.saturating_sub(now) };
            let t = if ms { t } else { t.saturating_add(500) / 1000 };
            i64::try_from(t).unwrap_or(i64::MAX)
        }
    };
    ctx.out.int(reply);
    Ok(())
}

fn persist(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    let removed = matches!(lookup_write(db, argv[1], now), Some(Some(_)));
    if removed {
        db.set_expire(argv[1], 0, now);
        ctx.dirty(1);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

fn rename(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, argv, false)
}

fn renamenx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, argv, true)
}

/// RENAME and RENAMENX, over one shard (the server gathers both keys first).
/// A missing source is an error even when both names are the same; renaming
/// an existing key onto itself changes nothing and replies OK (RENAME) or 0
/// (RENAMENX). The value keeps its expiry under the new name.
fn rename_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], nx: bool) -> CmdResult {
    let (src, dst, now) = (argv[1], argv[2], ctx.now);
    let db = ctx.db();
    if lookup_write(db, src, now).is_none() {
        return Err(NO_SUCH_KEY);
    }
    let blocked = src == dst || (lookup_write(db, dst, now).is_some() && nx);
    if blocked {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    let Some(entry) = db.remove(src, now) else {
        return Err(NO_SUCH_KEY);
    };
    let (_, value, expire_at) = entry.into_parts();
    // `put` replaces whatever `dst` held.
    db.put(Entry::new(dst, value, expire_at, lru_clock(now)));
    ctx.dirty(1);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// COPY source destination [DB index] [REPLACE]: the value and its expiry,
/// into the selected database or another one. The options are all read (and
/// the first bad one reported) before anything else is checked.
/// COPY's options, in Redis's order of checks: whether REPLACE was given,
/// and the last `DB` index, each checked by `db` as soon as it is read. The
/// server uses this too, to find which database the destination is in.
pub fn copy_options(
    argv: &[&[u8]],
    mut db: impl FnMut(&[u8]) -> Result<usize, CmdError>,
) -> Result<(bool, Option<usize>), CmdError> {
    let (mut replace, mut target) = (false, None);
    let mut args = Args::new(argv, 3);
    while !args.is_empty() {
        if args.is("replace") {
            replace = true;
        } else if args.remaining() >= 2 && args.is("db") {
            target = Some(db(args.value()?)?);
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((replace, target))
}

/// The database index COPY ... DB names, when the options are well formed.
pub fn copy_target_db(argv: &[&[u8]]) -> Option<usize> {
    let index = |a: &[u8]| crate::num::parse_i64(a).filter(|&n| n >= 0).map(|n| n as usize).ok_or(SYNTAX);
    copy_options(argv, index).ok()?.1
}

fn copy(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (src, dst, now) = (argv[1], argv[2], ctx.now);
    let databases = ctx.shard.dbs().len();
    let (replace, target) = copy_options(argv, |a| parse_db_index(a, databases))?;
    let dst_db = target.unwrap_or(ctx.db);
    if ctx.shard.config.cluster_enabled && (ctx.db != 0 || dst_db != 0) {
        return Err(CmdError::new("ERR Copying to another database is not allowed in cluster mode"));
    }
    if dst_db == ctx.db && src == dst {
        return Err(SAME_OBJECT);
    }
    let db = ctx.db();
    // A read of the source: counts a hit or miss and marks it accessed.
    if db.read(src, now).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let Some((value, expire_at)) = db.peek(src, now).map(|e| (e.value().clone(), e.expire_at)) else {
        ctx.out.int(0);
        return Ok(());
    };
    let target = ctx.shard.db(dst_db);
    if lookup_write(target, dst, now).is_some() && !replace {
        ctx.out.int(0);
        return Ok(());
    }
    target.put(Entry::new(dst, value, expire_at, lru_clock(now)));
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

/// OBJECT's key lookups are inspections; a missing key replies null.
fn object_lookup<T>(ctx: &mut Ctx<'_>, argv: &[&[u8]], f: impl FnOnce(&Entry) -> T) -> Option<T> {
    let now = ctx.now;
    let found = inspect(ctx.db(), argv[2], now, f);
    if found.is_none() {
        ctx.out.null();
    }
    found
}

fn object_encoding(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if let Some(enc) = object_lookup(ctx, argv, |e| e.value().encoding()) {
        ctx.out.bulk(enc.as_bytes());
    }
    Ok(())
}

/// Shoal tracks recency only (no LFU eviction policy), so for an existing
/// key this is always Redis's "not an LFU policy" error.
fn object_freq(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    match object_lookup(ctx, argv, |_| ()) {
        Some(()) => Err(LFU_NOT_SELECTED),
        None => Ok(()),
    }
}

fn object_idletime(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let clock = lru_clock(ctx.now);
    if let Some(lru) = object_lookup(ctx, argv, Entry::lru) {
        ctx.out.int(clock.saturating_sub(lru) as i64);
    }
    Ok(())
}

/// Redis shares one object among all keys holding a small non-negative
/// integer and reports that object's pinned count, INT_MAX; every other
/// value has exactly one owner.
fn object_refcount(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let shared = |e: &Entry| matches!(e.value(), Value::Str(Str::Int(n)) if (0..SHARED_INTEGERS).contains(n));
    if let Some(shared) = object_lookup(ctx, argv, shared) {
        ctx.out.int(if shared { i32::MAX as i64 } else { 1 });
    }
    Ok(())
}

const OBJECT_HELP: &[&str] = &[
    "ENCODING <key>",
    "    Name the internal representation of the value stored at <key>.",
    "FREQ <key>",
    "    Return the logarithmic access frequency counter of <key> (only under an",
    "    LFU maxmemory policy).",
    "IDLETIME <key>",
    "    Return roughly how many seconds have passed since <key> was last read or",
    "    written.",
    "REFCOUNT <key>",
    "    Return how many references point at the value stored at <key>.",
];

fn object_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.help("object", OBJECT_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::command::{Keys, Registry};
    use crate::testing::{run, run_at, run_proto, shard};

    /// The time `run` uses.
    const T: u64 = 1_700_000_000_000;

    #[test]
    fn del_exists() {
        let mut s = shard();
        run(&mut s, &["MSET", "a", "1", "b", "2"]);
        assert_eq!(run(&mut s, &["EXISTS", "a", "a", "c"]), ":2\r\n");
        assert_eq!(run(&mut s, &["DEL", "a", "a", "c"]), ":1\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "a", "b"]), ":1\r\n");
    }

    #[test]
    fn unlink_touch() {
        let mut s = shard();
        run(&mut s, &["MSET", "a", "1", "b", "2"]);
        let dirty = s.dirty;
        assert_eq!(run(&mut s, &["UNLINK", "a", "zz", "a", "b"]), ":2\r\n");
        assert_eq!(s.dirty, dirty + 2);
        assert_eq!(run(&mut s, &["EXISTS", "a", "b"]), ":0\r\n");
        assert_eq!(run(&mut s, &["UNLINK"]), "-ERR wrong number of arguments for 'unlink' command\r\n");
        run(&mut s, &["SET", "f", "v"]);
        assert_eq!(run(&mut s, &["TOUCH", "f", "f", "zz"]), ":2\r\n");
        assert_eq!(run(&mut s, &["TOUCH"]), "-ERR wrong number of arguments for 'touch' command\r\n");
    }

    #[test]
    fn reads_count_hits_and_misses_like_redis() {
        let mut s = shard();
        run(&mut s, &["SET", "a", "1"]);
        let stats = |s: &mut crate::Shard| (s.db(0).stats.hits, s.db(0).stats.misses);
        let base = stats(&mut s);
        for cmd in [
            &["TYPE", "a"][..],
            &["TTL", "a"],
            &["OBJECT", "ENCODING", "a"],
            &["EXISTS", "a"],
            &["TOUCH", "a"],
            &["COPY", "a", "b"],
        ] {
            let before = stats(&mut s);
            run(&mut s, cmd);
            assert_eq!(stats(&mut s), (before.0 + 1, before.1), "{cmd:?}");
        }
        let before = stats(&mut s);
        run(&mut s, &["TYPE", "zz"]);
        run(&mut s, &["OBJECT", "ENCODING", "zz"]);
        assert_eq!(stats(&mut s), (before.0, before.1 + 2));
        // Write lookups count nothing.
        let before = stats(&mut s);
        run(&mut s, &["EXPIRE", "a", "100"]);
        run(&mut s, &["PERSIST", "a"]);
        run(&mut s, &["DEL", "b"]);
        assert_eq!(stats(&mut s), before);
        assert!(before.0 > base.0);
    }

    #[test]
    fn type_of_keys() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["TYPE", "zz"]), "+none\r\n");
        run(&mut s, &["SET", "d", "x"]);
        assert_eq!(run(&mut s, &["TYPE", "d"]), "+string\r\n");
        assert_eq!(run(&mut s, &["TYPE", "a", "b"]), "-ERR wrong number of arguments for 'type' command\r\n");
    }

    #[test]
    fn expire_options_and_their_conflicts() {
        let mut s = shard();
        run(&mut s, &["SET", "a", "7"]);
        for (args, err) in [
            (&["nx", "xx", "foo"][..], "ERR Unsupported option foo"),
            (&["nx", "xx"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
            (&["nx", "gt"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
            (&["lt", "NX"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
            (&["gt", "lt"], "ERR GT and LT options at the same time are not compatible"),
        ] {
            let mut argv = vec!["EXPIRE", "a", "10"];
            argv.extend_from_slice(args);
            assert_eq!(run(&mut s, &argv), format!("-{err}\r\n"), "{args:?}");
        }
        // Options are checked before the time.
        assert_eq!(run(&mut s, &["EXPIRE", "a", "x", "foo"]), "-ERR Unsupported option foo\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "x"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "10", "xx", "gt"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "10", "NX"]), ":1\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "10", "NX"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "5", "gt"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "20", "gt"]), ":1\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "30", "lt"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "15", "lt"]), ":1\r\n");
        assert_eq!(run(&mut s, &["TTL", "a"]), ":15\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "100", "xx"]), ":1\r\n");
        assert_eq!(run(&mut s, &["PERSIST", "a"]), ":1\r\n");
        // No expiry: XX and GT fail, LT succeeds (no expiry counts as forever).
        assert_eq!(run(&mut s, &["EXPIRE", "a", "5", "xx"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "5", "gt"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "5", "Lt", "lT"]), ":1\r\n");
        assert_eq!(run(&mut s, &["PERSIST", "a"]), ":1\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a", "5", "nx", "nx"]), ":1\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "zz", "10"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "a"]), "-ERR wrong number of arguments for 'expire' command\r\n");
    }

    #[test]
    fn expire_overflow_is_an_invalid_time() {
        let mut s = shard();
        run(&mut s, &["SET", "a", "1"]);
        for (cmd, t) in [
            ("expire", "9223372036854776"),
            ("expire", "-9223372036854776"),
            // Fits after * 1000, but not once now is added.
            ("expire", "9223372036854775"),
            ("pexpire", "9223372036854775807"),
            ("expireat", "9223372036854775807"),
        ] {
            assert_eq!(
                run(&mut s, &[cmd, "a", t]),
                format!("-ERR invalid expire time in '{cmd}' command\r\n")
            );
        }
        assert_eq!(
            run(&mut s, &["EXPIRE", "a", "99999999999999999999"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        // The largest absolute time is accepted.
        assert_eq!(run(&mut s, &["PEXPIREAT", "a", "9223372036854775807"]), ":1\r\n");
        assert_eq!(run(&mut s, &["PEXPIRETIME", "a"]), ":9223372036854775807\r\n");
        assert_eq!(run(&mut s, &["EXPIRETIME", "a"]), ":9223372036854776\r\n");
        assert_eq!(run(&mut s, &["PTTL", "a"]), format!(":{}\r\n", i64::MAX as u64 - T));
    }

    #[test]
    fn expire_in_the_past_deletes() {
        let mut s = shard();
        for args in [
            &["EXPIRE", "a", "0"][..],
            &["EXPIRE", "a", "-5"],
            &["PEXPIRE", "a", "-1", "lt"],
            &["EXPIREAT", "a", "1"],
            &["PEXPIREAT", "a", "-9223372036854775808"],
        ] {
            run(&mut s, &["SET", "a", "1"]);
            let dirty = s.dirty;
            assert_eq!(run(&mut s, args), ":1\r\n", "{args:?}");
            assert_eq!(s.dirty, dirty + 1);
            assert_eq!(run(&mut s, &["EXISTS", "a"]), ":0\r\n", "{args:?}");
            assert_eq!(s.db(0).expires(), 0);
        }
        // A past time still has to pass the condition.
        run(&mut s, &["SET", "a", "1", "PX", "10000"]);
        assert_eq!(run(&mut s, &["PEXPIRE", "a", "-1", "gt"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "a"]), ":1\r\n");
        // Exactly now counts as past.
        assert_eq!(run(&mut s, &["PEXPIREAT", "a", &T.to_string()]), ":1\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "a"]), ":0\r\n");
    }

    #[test]
    fn expiry_takes_effect() {
        let mut s = shard();
        run_at(&mut s, 1000, &["SET", "a", "1"]);
        assert_eq!(run_at(&mut s, 1000, &["PEXPIRE", "a", "100"]), ":1\r\n");
        assert_eq!(run_at(&mut s, 1099, &["EXISTS", "a"]), ":1\r\n");
        assert_eq!(run_at(&mut s, 1100, &["EXISTS", "a"]), ":0\r\n");
        run_at(&mut s, 1000, &["SET", "a", "1"]);
        assert_eq!(run_at(&mut s, 1000, &["EXPIREAT", "a", "3"]), ":1\r\n");
        assert_eq!(run_at(&mut s, 2000, &["PTTL", "a"]), ":1000\r\n");
        assert_eq!(run_at(&mut s, 2000, &["PEXPIRETIME", "a"]), ":3000\r\n");
        assert_eq!(run_at(&mut s, 3000, &["TTL", "a"]), ":-2\r\n");
    }

    #[test]
    fn ttl_family() {
        let mut s = shard();
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(run(&mut s, &[cmd, "zz"]), ":-2\r\n");
        }
        run(&mut s, &["SET", "a", "1"]);
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(run(&mut s, &[cmd, "a"]), ":-1\r\n");
        }
        // Seconds round to the nearest.
        run_at(&mut s, 10_000, &["PEXPIRE", "a", "1499"]);
        assert_eq!(run_at(&mut s, 10_000, &["TTL", "a"]), ":1\r\n");
        run_at(&mut s, 10_000, &["PEXPIRE", "a", "1500"]);
        assert_eq!(run_at(&mut s, 10_000, &["TTL", "a"]), ":2\r\n");
        assert_eq!(run_at(&mut s, 10_000, &["PTTL", "a"]), ":1500\r\n");
        assert_eq!(run_at(&mut s, 10_000, &["EXPIRETIME", "a"]), ":12\r\n");
        run_at(&mut s, 10_000, &["PEXPIREAT", "a", "99999999999499"]);
        assert_eq!(run_at(&mut s, 10_000, &["EXPIRETIME", "a"]), ":99999999999\r\n");
        run_at(&mut s, 10_000, &["PEXPIREAT", "a", "99999999999500"]);
        assert_eq!(run_at(&mut s, 10_000, &["EXPIRETIME", "a"]), ":100000000000\r\n");
    }

    #[test]
    fn persist() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["PERSIST", "zz"]), ":0\r\n");
        run(&mut s, &["SET", "a", "1"]);
        let dirty = s.dirty;
        assert_eq!(run(&mut s, &["PERSIST", "a"]), ":0\r\n");
        assert_eq!(s.dirty, dirty);
        run(&mut s, &["EXPIRE", "a", "100"]);
        assert_eq!(s.db(0).expires(), 1);
        assert_eq!(run(&mut s, &["PERSIST", "a"]), ":1\r\n");
        assert_eq!(run(&mut s, &["TTL", "a"]), ":-1\r\n");
        assert_eq!(s.db(0).expires(), 0);
        assert_eq!(s.dirty, dirty + 2);
    }

    #[test]
    fn rename_and_renamenx() {
        let mut s = shard();
        for cmd in ["RENAME", "RENAMENX"] {
            assert_eq!(run(&mut s, &[cmd, "zz", "a"]), "-ERR no such key\r\n");
            assert_eq!(run(&mut s, &[cmd, "zz", "zz"]), "-ERR no such key\r\n");
        }
        run(&mut s, &["SET", "a", "1"]);
        let dirty = s.dirty;
        assert_eq!(run(&mut s, &["RENAME", "a", "a"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["RENAMENX", "a", "a"]), ":0\r\n");
        assert_eq!(s.dirty, dirty);
        run(&mut s, &["PEXPIRE", "a", "100000"]);
        assert_eq!(run(&mut s, &["RENAME", "a", "b"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["PTTL", "b"]), ":100000\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "a"]), ":0\r\n");
        run(&mut s, &["SET", "c", "2"]);
        assert_eq!(run(&mut s, &["RENAMENX", "b", "c"]), ":0\r\n");
        assert_eq!(run(&mut s, &["GET", "c"]), "$1\r\n2\r\n");
        assert_eq!(run(&mut s, &["RENAMENX", "b", "d"]), ":1\r\n");
        assert_eq!(run(&mut s, &["PTTL", "d"]), ":100000\r\n");
        // RENAME replaces the destination, expiry included.
        run(&mut s, &["SET", "e", "x"]);
        assert_eq!(run(&mut s, &["RENAME", "e", "d"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["PTTL", "d"]), ":-1\r\n");
        assert_eq!(run(&mut s, &["GET", "d"]), "$1\r\nx\r\n");
        assert_eq!(s.db(0).len(), 2);
        assert_eq!(s.db(0).expires(), 0);
        // An expired destination counts as absent.
        run_at(&mut s, 1000, &["SET", "old", "v", "PX", "10"]);
        run_at(&mut s, 1000, &["SET", "new", "w"]);
        assert_eq!(run_at(&mut s, 2000, &["RENAMENX", "new", "old"]), ":1\r\n");
        assert_eq!(run_at(&mut s, 2000, &["GET", "old"]), "$1\r\nw\r\n");
    }

    #[test]
    fn move_between_databases() {
        let mut s = shard();
        run(&mut s, &["SET", "a", "5"]);
        for (db, reply) in [
            ("16", "-ERR DB index is out of range\r\n"),
            ("-1", "-ERR DB index is out of range\r\n"),
            ("x", "-ERR value is not an integer or out of range\r\n"),
            ("4294967296", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"),
            ("0", "-ERR source and destination objects are the same\r\n"),
        ] {
            assert_eq!(run(&mut s, &["MOVE", "a", db]), reply, "{db}");
        }
        assert_eq!(run(&mut s, &["MOVE", "zz", "1"]), ":0\r\n");
        run(&mut s, &["PEXPIRE", "a", "5000"]);
        let dirty = s.dirty;
        assert_eq!(run(&mut s, &["MOVE", "a", "1"]), ":1\r\n");
        assert_eq!(s.dirty, dirty + 1);
        assert_eq!(run(&mut s, &["EXISTS", "a"]), ":0\r\n");
        let moved = s.db(1).peek(b"a", T).map(|e| e.expire_at());
        assert_eq!(moved, Some(Some(T + 5000)));
        assert_eq!((s.db(0).expires(), s.db(1).expires()), (0, 1));
        // Already there: nothing moves.
        run(&mut s, &["SET", "a", "7"]);
        assert_eq!(run(&mut s, &["MOVE", "a", "1"]), ":0\r\n");
        assert_eq!(run(&mut s, &["GET", "a"]), "$1\r\n7\r\n");
        assert_eq!(s.db(1).len(), 1);
    }

    #[test]
    fn cluster_mode_has_one_database() {
        let config = crate::EngineConfig { cluster_enabled: true, ..crate::EngineConfig::default() };
        let mut s = crate::Shard::new(config, |_| 0, 42);
        run(&mut s, &["SET", "a", "5"]);
        assert_eq!(run(&mut s, &["MOVE", "a", "1"]), "-ERR MOVE is not allowed in cluster mode\r\n");
        assert_eq!(run(&mut s, &["MOVE", "a", "x"]), "-ERR MOVE is not allowed in cluster mode\r\n");
        // Options are checked first, as in Redis.
        assert_eq!(run(&mut s, &["COPY", "a", "b", "DB", "16"]), "-ERR DB index is out of range\r\n");
        assert_eq!(run(&mut s, &["COPY", "a", "b", "BOGUS"]), "-ERR syntax error\r\n");
        assert_eq!(
            run(&mut s, &["COPY", "a", "b", "DB", "1"]),
            "-ERR Copying to another database is not allowed in cluster mode\r\n"
        );
        assert_eq!(run(&mut s, &["COPY", "a", "b", "DB", "0"]), ":1\r\n");
    }

    #[test]
    fn copy_options_and_errors() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["COPY", "zz", "q"]), ":0\r\n");
        run(&mut s, &["SET", "d", "x"]);
        for (args, reply) in [
            (&[][..], "-ERR source and destination objects are the same\r\n"),
            (&["db", "0"], "-ERR source and destination objects are the same\r\n"),
            (&["replace", "replace"], "-ERR source and destination objects are the same\r\n"),
            (&["db", "16"], "-ERR DB index is out of range\r\n"),
            (&["db", "x"], "-ERR value is not an integer or out of range\r\n"),
            (&["db"], "-ERR syntax error\r\n"),
            (&["replace", "db", "1", "foo"], "-ERR syntax error\r\n"),
            (&["db", "1", "db", "99"], "-ERR DB index is out of range\r\n"),
            (&["db", "99", "foo"], "-ERR DB index is out of range\r\n"),
        ] {
            let mut argv = vec!["COPY", "d", "d"];
            argv.extend_from_slice(args);
            assert_eq!(run(&mut s, &argv), reply, "{args:?}");
        }
        assert_eq!(run(&mut s, &["COPY", "d"]), "-ERR wrong number of arguments for 'copy' command\r\n");
    }

    #[test]
    fn copy_values_and_expiry() {
        let mut s = shard();
        run(&mut s, &["SET", "d", "x"]);
        run(&mut s, &["SET", "c", "2"]);
        assert_eq!(run(&mut s, &["COPY", "d", "c"]), ":0\r\n");
        let dirty = s.dirty;
        assert_eq!(run(&mut s, &["COPY", "d", "c", "REPLACE"]), ":1\r\n");
        assert_eq!(s.dirty, dirty + 1);
        assert_eq!(run(&mut s, &["GET", "c"]), "$1\r\nx\r\n");
        run(&mut s, &["PEXPIRE", "c", "5000"]);
        assert_eq!(run(&mut s, &["COPY", "c", "f"]), ":1\r\n");
        assert_eq!(run(&mut s, &["PTTL", "f"]), ":5000\r\n");
        // Replacing drops the destination's own expiry.
        assert_eq!(run(&mut s, &["COPY", "d", "c", "replace"]), ":1\r\n");
        assert_eq!(run(&mut s, &["PTTL", "c"]), ":-1\r\n");
        assert_eq!(s.db(0).expires(), 1);
        // To another database, under the same name.
        assert_eq!(run(&mut s, &["COPY", "f", "f", "DB", "3"]), ":1\r\n");
        assert_eq!(s.db(3).peek(b"f", T).map(|e| e.expire_at()), Some(Some(T + 5000)));
        assert_eq!(run(&mut s, &["COPY", "f", "f", "DB", "3"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "f"]), ":1\r\n");
    }

    #[test]
    fn object_subcommands() {
        let mut s = shard();
        for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
            assert_eq!(run(&mut s, &["OBJECT", sub, "zz"]), "$-1\r\n");
            assert_eq!(run_proto(&mut s, T, true, &["OBJECT", sub, "zz"]), "_\r\n");
        }
        run(&mut s, &["MSET", "a", "5", "b", "10000", "c", "-1", "e", "hello"]);
        run(&mut s, &["SET", "r", &"x".repeat(45)]);
        let enc = |s: &mut crate::Shard, k| run(s, &["object", "encoding", k]);
        assert_eq!(enc(&mut s, "a"), "$3\r\nint\r\n");
        assert_eq!(enc(&mut s, "e"), "$6\r\nembstr\r\n");
        assert_eq!(enc(&mut s, "r"), "$3\r\nraw\r\n");
        for (k, n) in [("a", 2147483647), ("b", 1), ("c", 1), ("e", 1)] {
            assert_eq!(run(&mut s, &["OBJECT", "REFCOUNT", k]), format!(":{n}\r\n"), "{k}");
        }
        assert_eq!(
            run(&mut s, &["OBJECT", "FREQ", "e"]),
            "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
             Please note that when switching between policies at runtime LRU and LFU data \
             will take some time to adjust.\r\n"
        );
        assert_eq!(run(&mut s, &["OBJECT", "foo"]), "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n");
        assert_eq!(run(&mut s, &["OBJECT"]), "-ERR wrong number of arguments for 'object' command\r\n");
        assert_eq!(
            run(&mut s, &["OBJECT", "HELP", "x"]),
            "-ERR wrong number of arguments for 'object|help' command\r\n"
        );
    }

    #[test]
    fn object_idletime_counts_from_the_last_access() {
        let mut s = shard();
        run_at(&mut s, 10_000, &["SET", "a", "1"]);
        assert_eq!(run_at(&mut s, 10_999, &["OBJECT", "IDLETIME", "a"]), ":0\r\n");
        // Inspections do not count as accesses.
        for cmd in [&["TYPE", "a"][..], &["TTL", "a"], &["EXISTS", "a"], &["OBJECT", "ENCODING", "a"]] {
            run_at(&mut s, 20_000, cmd);
        }
        assert_eq!(run_at(&mut s, 25_000, &["OBJECT", "IDLETIME", "a"]), ":15\r\n");
        // Reads, TOUCH and write lookups do.
        run_at(&mut s, 25_000, &["TOUCH", "a"]);
        assert_eq!(run_at(&mut s, 27_000, &["OBJECT", "IDLETIME", "a"]), ":2\r\n");
        run_at(&mut s, 30_000, &["EXPIRE", "a", "100", "XX"]);
        assert_eq!(run_at(&mut s, 30_000, &["OBJECT", "IDLETIME", "a"]), ":0\r\n");
        run_at(&mut s, 31_000, &["GET", "a"]);
        assert_eq!(run_at(&mut s, 33_000, &["OBJECT", "IDLETIME", "a"]), ":2\r\n");
    }

    #[test]
    fn object_help_is_an_array_of_status_lines() {
        let mut s = shard();
        let reply = run(&mut s, &["OBJECT", "help"]);
        let lines: Vec<&str> = reply.split("\r\n").filter(|l| !l.is_empty()).collect();
        let n: usize = lines[0].strip_prefix('*').unwrap().parse().unwrap();
        assert_eq!(n, lines.len() - 1);
        assert!(lines[1..].iter().all(|l| l.starts_with('+')));
        assert!(lines[1].starts_with("+OBJECT <subcommand>"));
        for sub in ["ENCODING <key>", "FREQ <key>", "IDLETIME <key>", "REFCOUNT <key>", "HELP"] {
            assert!(lines.contains(&&*format!("+{sub}")), "{sub}");
        }
    }

    #[test]
    fn table_entries() {
        let reg = Registry::get();
        let cmd = |name: &str| reg.entry(reg.find(name.as_bytes()).unwrap()).cmd;
        for name in ["keys", "scan", "randomkey", "unlink", "touch", "copy", "object"] {
            assert!(reg.find(name.as_bytes()).is_some(), "{name}");
        }
        assert_eq!(cmd("rename").keys, Keys::TWO);
        assert_eq!(cmd("copy").key_specs.len(), 2);
        let obj = reg.find(b"object").unwrap();
        let enc = reg.find_sub(obj, b"ENCODING").unwrap();
        assert_eq!(reg.entry(enc).fullname, "object|encoding");
        let positions: Vec<usize> = reg.entry(enc).cmd.keys.positions(3).collect();
        assert_eq!(positions, [2]);
        let help = reg.find_sub(obj, b"help").unwrap();
        assert_eq!(reg.entry(help).cmd.keys.positions(2).count(), 0);
    }
}
