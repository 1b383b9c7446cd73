//! String commands.

use crate::args::Args;
use crate::command::one_key;
use crate::command::{eq_ic, flags::*, Command, Group, KeySpec, Keys, Run, Spread};
use crate::error::{
    CmdError, CmdResult, NOT_FLOAT, NOT_INTEGER, OVERFLOW, STRING_TOO_LONG, SYNTAX, WRONGTYPE,
};
use crate::num;
use crate::shard::Ctx;
use crate::value::{Str, Value, EMBSTR_MAX};

const DECREMENT_OVERFLOW: CmdError = CmdError::new("ERR decrement would overflow");
const NAN_OR_INFINITY: CmdError = CmdError::new("ERR increment would produce NaN or Infinity");
const OFFSET_OUT_OF_RANGE: CmdError = CmdError::new("ERR offset is out of range");
const LCS_NOT_STRINGS: CmdError = CmdError::new("ERR The specified keys must contain string values");
const LCS_LEN_AND_IDX: CmdError =
    CmdError::new("ERR If you want both the length and indexes, please just use IDX.");
const LCS_TOO_LONG: CmdError = CmdError::new("ERR String too long for LCS");
const LCS_OVER_LIMIT: CmdError =
    CmdError::new("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
const LCS_NO_MEMORY: CmdError =
    CmdError::new("ERR Insufficient memory, failed allocating transient memory for LCS");

const STRING: Command = Command { group: Group::String, keys: Keys::ONE, ..Command::DEFAULT };

/// The key specification of a command whose only key is `argv[1]`.
const RANGE_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

pub static COMMANDS: &[Command] = &[
    Command {
        name: "get",
        arity: 2,
        flags: READONLY | FAST,
        summary: "Returns the string value of a key.",
        key_specs: &[KeySpec { begin: 1, last: 0, step: 1, flags: "RO ACCESS" }],
        run: Run::Shard(get),
        ..STRING
    },
    Command {
        name: "set",
        arity: -3,
        flags: WRITE | DENYOOM,
        summary: "Sets the string value of a key, with optional expiry and conditions.",
        key_specs: &[KeySpec {
            begin: 1,
            last: 0,
            step: 1,
            flags: "RW ACCESS UPDATE VARIABLE_FLAGS",
        }],
        run: Run::Shard(set),
        ..STRING
    },
    Command {
        name: "setnx",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        summary: "Sets the string value of a key only when the key does not exist.",
        key_specs: &[KeySpec { begin: 1, last: 0, step: 1, flags: "OW INSERT" }],
        run: Run::Shard(setnx),
        ..STRING
    },
    Command {
        name: "setex",
        arity: 4,
        flags: WRITE | DENYOOM,
        since: "2.0.0",
        summary: "Sets the string value and expiry in seconds of a key.",
        key_specs: &[KeySpec { begin: 1, last: 0, step: 1, flags: "OW UPDATE" }],
        run: Run::Shard(setex),
        ..STRING
    },
    Command {
        name: "psetex",
        arity: 4,
        flags: WRITE | DENYOOM,
        since: "2.6.0",
        summary: "Sets the string value and expiry in milliseconds of a key.",
        key_specs: &[KeySpec { begin: 1, last: 0, step: 1, flags: "OW UPDATE" }],
        run: Run::Shard(psetex),
        ..STRING
    },
    Command {
        name: "mget",
        arity: -2,
        flags: READONLY | FAST,
        keys: Keys::ALL,
        spread: Spread::Concat,
        complexity: "O(N) where N is the number of keys to retrieve.",
        summary: "Returns the string values of one or more keys.",
        tips: "request_policy:multi_shard",
        key_specs: &[KeySpec { begin: 1, last: -1, step: 1, flags: "RO ACCESS" }],
        run: Run::Shard(mget),
        ..STRING
    },
    Command {
        name: "mset",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::PAIRS,
        spread: Spread::AllOk,
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        summary: "Sets the string values of one or more keys.",
        tips: "request_policy:multi_shard response_policy:all_succeeded",
        key_specs: &[KeySpec { begin: 1, last: -1, step: 2, flags: "OW UPDATE" }],
        run: Run::Shard(mset),
        ..STRING
    },
    Command {
        name: "msetnx",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::PAIRS,
        spread: Spread::Gather,
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        summary: "Sets the string values of one or more keys, only if none of them exists.",
        tips: "request_policy:multi_shard response_policy:agg_min",
        key_specs: &[KeySpec {
            begin: 1,
            last: -1,
            step: 2,
            flags: "OW INSERT",
        }],
        run: Run::Shard(msetnx),
        ..STRING
    },
    Command {
        name: "getset",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        summary: "Sets the string value of a key and returns its previous value.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(getset),
        ..STRING
    },
    Command {
        name: "getdel",
        arity: 2,
        flags: WRITE | FAST,
        since: "6.2.0",
        summary: "Returns the string value of a key and deletes the key.",
        key_specs: &[one_key("RW ACCESS DELETE")],
        run: Run::Shard(getdel),
        ..STRING
    },
    Command {
        name: "getex",
        arity: -2,
        flags: WRITE | FAST,
        since: "6.2.0",
        summary: "Returns the string value of a key and optionally sets or removes its expiry.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(getex),
        ..STRING
    },
    Command {
        name: "incr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        summary: "Adds one to the integer value of a key.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(incr),
        ..STRING
    },
    Command {
        name: "decr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        summary: "Subtracts one from the integer value of a key.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(decr),
        ..STRING
    },
    Command {
        name: "incrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        summary: "Adds an integer to the integer value of a key.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(incrby),
        ..STRING
    },
    Command {
        name: "decrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        summary: "Subtracts an integer from the integer value of a key.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(decrby),
        ..STRING
    },
    Command {
        name: "incrbyfloat",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        since: "2.6.0",
        summary: "Adds a floating point number to the numeric value of a key.",
        key_specs: &[one_key("RW ACCESS UPDATE")],
        run: Run::Shard(incrbyfloat),
        ..STRING
    },
    Command {
        name: "append",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        since: "2.0.0",
        complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
        summary: "Appends a string to the value of a key, creating the key if it does not exist.",
        key_specs: &[one_key("RW INSERT")],
        run: Run::Shard(append),
        ..STRING
    },
    Command {
        name: "strlen",
        arity: 2,
        flags: READONLY | FAST,
        since: "2.2.0",
        summary: "Returns the length of the string value of a key.",
        key_specs: &[one_key("RO")],
        run: Run::Shard(strlen),
        ..STRING
    },
    Command {
        name: "getrange",
        arity: 4,
        flags: READONLY,
        since: "2.4.0",
        complexity: RANGE_COMPLEXITY,
        summary: "Returns the part of the string value of a key between two offsets.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(getrange),
        ..STRING
    },
    Command {
        name: "substr",
        arity: 4,
        flags: READONLY,
        complexity: RANGE_COMPLEXITY,
        summary: "Returns the part of the string value of a key between two offsets (the old name of GETRANGE).",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(getrange),
        ..STRING
    },
    Command {
        name: "setrange",
        arity: 4,
        flags: WRITE | DENYOOM,
        since: "2.2.0",
        complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
        summary: "Overwrites part of the string value of a key from an offset, creating the key if needed.",
        key_specs: &[one_key("RW UPDATE")],
        run: Run::Shard(setrange),
        ..STRING
    },
    Command {
        name: "lcs",
        arity: -3,
        flags: READONLY,
        keys: Keys::TWO,
        since: "7.0.0",
        complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        summary: "Finds the longest common subsequence of the string values of two keys.",
        key_specs: &[KeySpec {
            begin: 1,
            last: 1,
            step: 1,
            flags: "RO ACCESS",
        }],
        run: Run::Shard(lcs),
        ..STRING
    },
];

/// Reads a string value: `Ok(None)` when the key is missing, WRONGTYPE when it is not a string.
fn read_str<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a Str>, CmdError> {
    let now = ctx.now;
    match ctx.db().read(key, now) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        #[allow(unreachable_patterns)]
        Some(_) => Err(WRONGTYPE),
    }
}

/// Writes a string value (or the null reply) to the client.
fn reply_str(ctx: &mut Ctx<'_>, s: Option<&Str>) {
    match s {
        None => ctx.out.null(),
        Some(s) => {
            let mut scratch = itoa::Buffer::new();
            ctx.out.bulk(s.bytes(&mut scratch));
        }
    }
}

fn get(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    match db.read(argv[1], now) {
        None => out.null(),
        Some(Value::Str(s)) => {
            let mut scratch = itoa::Buffer::new();
            out.bulk(s.bytes(&mut scratch));
        }
        #[allow(unreachable_patterns)]
        Some(_) => return Err(WRONGTYPE),
    }
    Ok(())
}

/// What a SET-like command does to the key's expiry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expiry {
    None,
    Keep,
    /// Absolute Unix ms.
    At(u64),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cond {
    Always,
    Nx,
    Xx,
}

/// Converts an expiry argument to absolute Unix ms as Redis's
/// `getExpireMillisecondsOrReply` does: positive values only, no overflow.
fn expire_ms(arg: &[u8], unit_secs: bool, relative: bool, now: u64, cmd: &str) -> Result<u64, CmdError> {
    let v = num::parse_i64(arg).ok_or(NOT_INTEGER)?;
    if v <= 0 || (unit_secs && v > i64::MAX / 1000) {
        return Err(CmdError::invalid_expire(cmd));
    }
    let mut ms = if unit_secs { v * 1000 } else { v };
    if relative {
        ms = ms.checked_add(now as i64).ok_or_else(|| CmdError::invalid_expire(cmd))?;
    }
    Ok(ms as u64)
}

/// Which command's options [`parse_extended`] reads: SET's (NX, XX, GET,
/// KEEPTTL) or GETEX's (PERSIST); both take EX, PX, EXAT and PXAT.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ExtendedFor {
    Set,
    Getex,
}

/// The options that decide a key's time to live.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TtlOpt {
    Keep,
    Persist,
    Ex,
    Px,
    Exat,
    Pxat,
}

/// SET's and GETEX's options as given, before the expiry is validated.
#[derive(Clone, Copy, Debug)]
struct Extended<'b> {
    cond: Cond,
    get: bool,
    ttl: Option<TtlOpt>,
    /// The value of the EX/PX/EXAT/PXAT option (the last one given).
    ttl_arg: &'b [u8],
}

impl Extended<'_> {
    /// The absolute expiry (Unix ms) that EX/PX/EXAT/PXAT ask for, if any.
    fn expire_at(&self, now: u64, cmd: &str) -> Result<Option<u64>, CmdError> {
        let (secs, relative) = match self.ttl {
            Some(TtlOpt::Ex) => (true, true),
            Some(TtlOpt::Px) => (false, true),
            Some(TtlOpt::Exat) => (true, false),
            Some(TtlOpt::Pxat) => (false, false),
            _ => return Ok(None),
        };
        expire_ms(self.ttl_arg, secs, relative, now, cmd).map(Some)
    }
}

/// Reads the options of SET (from `argv[3]`) or GETEX (from `argv[2]`) with
/// the rules of Redis's `parseExtendedStringArgumentsOrReply`: NX and XX
/// exclude each other, the TTL options exclude each other but one of them may
/// repeat (the last value wins), and anything else is a syntax error. The
/// expiry value itself is checked later, when the command gets to it.
fn parse_extended<'b>(argv: &[&'b [u8]], cmd: ExtendedFor) -> Result<Extended<'b>, CmdError> {
    let set = cmd == ExtendedFor::Set;
    let mut ext = Extended { cond: Cond::Always, get: false, ttl: None, ttl_arg: b"" };
    let mut args = Args::new(argv, if set { 3 } else { 2 });
    while let Some(opt) = args.next() {
        let ttl = if eq_ic(opt, "EX") {
            Some(TtlOpt::Ex)
        } else if eq_ic(opt, "PX") {
            Some(TtlOpt::Px)
        } else if eq_ic(opt, "EXAT") {
            Some(TtlOpt::Exat)
        } else if eq_ic(opt, "PXAT") {
            Some(TtlOpt::Pxat)
        } else if set && eq_ic(opt, "KEEPTTL") {
            Some(TtlOpt::Keep)
        } else if !set && eq_ic(opt, "PERSIST") {
            Some(TtlOpt::Persist)
        } else {
            None
        };
        if set && eq_ic(opt, "NX") && ext.cond != Cond::Xx {
            ext.cond = Cond::Nx;
        } else if set && eq_ic(opt, "XX") && ext.cond != Cond::Nx {
            ext.cond = Cond::Xx;
        } else if set && eq_ic(opt, "GET") {
            ext.get = true;
        } else if let Some(t) = ttl.filter(|&t| ext.ttl.is_none_or(|cur| cur == t)) {
            if !matches!(t, TtlOpt::Keep | TtlOpt::Persist) {
                ext.ttl_arg = args.value()?;
            }
            ext.ttl = Some(t);
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(ext)
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
fn set(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let ext = parse_extended(argv, ExtendedFor::Set)?;
    let expiry = match ext.expire_at(ctx.now, "set")? {
        Some(at) => Expiry::At(at),
        None if ext.ttl == Some(TtlOpt::Keep) => Expiry::Keep,
        None => Expiry::None,
    };
    set_generic(ctx, argv[1], argv[2], ext.cond, ext.get, expiry, None)
}

/// The common part of SET, SETNX, SETEX and PSETEX (Redis's `setGenericCommand`).
/// `nx_reply` gives SETNX's integer replies instead of OK/null.
fn set_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    value: &[u8],
    cond: Cond,
    get: bool,
    expiry: Expiry,
    nx_reply: Option<()>,
) -> CmdResult {
    let now = ctx.now;
    if get {
        let old = read_str(ctx, key)?.cloned();
        reply_str(ctx, old.as_ref());
    }
    let found = ctx.db().contains(key, now);
    if (cond == Cond::Nx && found) || (cond == Cond::Xx && !found) {
        if !get {
            match nx_reply {
                Some(()) => ctx.out.int(0),
                None => ctx.out.null(),
            }
        }
        return Ok(());
    }
    let (at, keep) = match expiry {
        Expiry::At(at) => (at, false),
        Expiry::Keep => (0, true),
        Expiry::None => (0, false),
    };
    ctx.db().set(key, Value::string(value), at, keep, now);
    ctx.dirty(1);
    if at != 0 && ctx.propagating() {
        // A relative expiry would start later on a replica: propagate the instant.
        let mut ms = itoa::Buffer::new();
        ctx.propagate_line(&[b"SET", key, value, b"PXAT", ms.format(at).as_bytes()]);
    }
    if !get {
        match nx_reply {
            Some(()) => ctx.out.int(1),
            None => ctx.out.ok(),
        }
    }
    Ok(())
}

fn setnx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    set_generic(ctx, argv[1], argv[2], Cond::Nx, false, Expiry::None, Some(()))
}

fn setex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let at = expire_ms(argv[2], true, true, ctx.now, "setex")?;
    set_generic(ctx, argv[1], argv[3], Cond::Always, false, Expiry::At(at), None)
}

fn psetex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let at = expire_ms(argv[2], false, true, ctx.now, "psetex")?;
    set_generic(ctx, argv[1], argv[3], Cond::Always, false, Expiry::At(at), None)
}

fn mget(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    out.array(argv.len() - 1);
    let mut scratch = itoa::Buffer::new();
    for key in &argv[1..] {
        match db.read(key, now) {
            Some(Value::Str(s)) => out.bulk(s.bytes(&mut scratch)),
            // MGET answers null for keys that hold other types.
            _ => out.null(),
        }
    }
    Ok(())
}

fn mset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() % 2 == 0 {
        return Err(CmdError::wrong_arity("mset"));
    }
    let now = ctx.now;
    for pair in argv[1..].chunks_exact(2) {
        ctx.db().set(pair[0], Value::string(pair[1]), 0, false, now);
    }
    ctx.dirty((argv.len() / 2) as u64);
    ctx.out.ok();
    Ok(())
}

fn msetnx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() % 2 == 0 {
        return Err(CmdError::wrong_arity("msetnx"));
    }
    let now = ctx.now;
    // All or nothing: one existing key and nothing is set.
    for pair in argv[1..].chunks_exact(2) {
        if ctx.db().touch(pair[0], now) {
            ctx.out.int(0);
            return Ok(());
        }
    }
    for pair in argv[1..].chunks_exact(2) {
        ctx.db().set(pair[0], Value::string(pair[1]), 0, false, now);
    }
    ctx.dirty((argv.len() / 2) as u64);
    ctx.out.int(1);
    Ok(())
}

/// Replies with the string at `key`, or null when it is missing, counting a
/// read. Returns whether the key was found.
fn reply_read(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    match db.read(key, now) {
        None => {
            out.null();
            Ok(false)
        }
        Some(Value::Str(s)) => {
            let mut scratch = itoa::Buffer::new();
            out.bulk(s.bytes(&mut scratch));
            Ok(true)
        }
        #[allow(unreachable_patterns)]
        Some(_) => Err(WRONGTYPE),
    }
}

/// GETSET key value: SET ... GET with the old spelling. Like SET, it drops the TTL.
fn getset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    reply_read(ctx, argv[1])?;
    let now = ctx.now;
    ctx.db().set(argv[1], Value::string(argv[2]), 0, false, now);
    ctx.dirty(1);
    Ok(())
}

fn getdel(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if reply_read(ctx, argv[1])? {
        let now = ctx.now;
        ctx.db().remove(argv[1], now);
        ctx.dirty(1);
    }
    Ok(())
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
///
/// The options are parsed before the key is looked up, but the expiry value
/// is checked only once the key is known to hold a string: on a missing key
/// `GETEX k EX 0` answers null, not an error. An absolute time already past
/// deletes the key after its value has been returned.
fn getex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let ext = parse_extended(argv, ExtendedFor::Getex)?;
    let (key, now) = (argv[1], ctx.now);
    let (db, out) = ctx.parts();
    let at = match db.read(key, now) {
        None => {
            out.null();
            return Ok(());
        }
        Some(Value::Str(s)) => {
            let at = ext.expire_at(now, "getex")?;
            let mut scratch = itoa::Buffer::new();
            out.bulk(s.bytes(&mut scratch));
            at
        }
        #[allow(unreachable_patterns)]
        Some(_) => return Err(WRONGTYPE),
    };
    let absolute = matches!(ext.ttl, Some(TtlOpt::Exat | TtlOpt::Pxat));
    let mut ms = itoa::Buffer::new();
    let effect: &[&[u8]] = match at {
        Some(at) if absolute && at <= now => {
            db.remove(key, now);
            &[b"DEL", key]
        }
        Some(at) => {
            db.set_expire(key, at, now);
            &[b"PEXPIREAT", key, ms.format(at).as_bytes()]
        }
        None if ext.ttl == Some(TtlOpt::Persist) => {
            if db.peek(key, now).and_then(|e| e.expire_at()).is_none() {
                return Ok(());
            }
            db.set_expire(key, 0, now);
            &[b"PERSIST", key]
        }
        None => return Ok(()),
    };
    ctx.dirty(1);
    ctx.propagate_line(effect);
    Ok(())
}

/// Adds `delta` to the integer stored at `key` (0 when missing), keeping its
/// TTL, as Redis's `incrDecrCommand`. The result is always `int`-encoded.
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    let value = match db.write(key, now) {
        Some(Value::Str(s)) => {
            let v = s.as_i64().ok_or(NOT_INTEGER)?.checked_add(delta).ok_or(OVERFLOW)?;
            *s = Str::Int(v);
            v
        }
        #[allow(unreachable_patterns)]
        Some(_) => return Err(WRONGTYPE),
        None => {
            db.insert_new(key, Value::Str(Str::Int(delta)), 0, now);
            delta
        }
    };
    ctx.dirty(1);
    ctx.out.int(value);
    Ok(())
}

fn incr(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    incr_by(ctx, argv[1], 1)
}

fn decr(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    incr_by(ctx, argv[1], -1)
}

fn incrby(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let delta = num::parse_i64(argv[2]).ok_or(NOT_INTEGER)?;
    incr_by(ctx, argv[1], delta)
}

fn decrby(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let delta = num::parse_i64(argv[2]).ok_or(NOT_INTEGER)?;
    // i64::MIN has no negation; Redis words this case on its own.
    let delta = delta.checked_neg().ok_or(DECREMENT_OVERFLOW)?;
    incr_by(ctx, argv[1], delta)
}

/// INCRBYFLOAT key increment, in Redis's `long double` arithmetic (see
/// [`long_double`]). The result is stored as the text it prints, as a string
/// built whole: `embstr` when short, and never `int`, even for `3`. The TTL stays.
fn incrbyfloat(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    // Parsed now, reported only after the stored value has been checked, as Redis does.
    let incr = crate::num::long_double::parse(argv[2]);
    let sum = |current| -> Result<Vec<u8>, CmdError> {
        let sum = crate::num::long_double::add(current, incr.ok_or(NOT_FLOAT)?).ok_or(NAN_OR_INFINITY)?;
        Ok(crate::num::long_double::format(sum))
    };
    let built = |text: &[u8]| {
        if text.len() <= EMBSTR_MAX {
            Str::Emb(text.into())
        } else {
            Str::raw(text.to_vec())
        }
    };
    let db = ctx.db();
    let text = match db.write(key, now) {
        Some(Value::Str(s)) => {
            let current = match s {
                Str::Int(n) => crate::num::long_double::from_i64(*n),
                Str::Emb(b) => crate::num::long_double::parse(b).ok_or(NOT_FLOAT)?,
                Str::Raw(b) => crate::num::long_double::parse(b).ok_or(NOT_FLOAT)?,
            };
            let text = sum(current)?;
            *s = built(&text);
            text
        }
        #[allow(unreachable_patterns)]
        Some(_) => return Err(WRONGTYPE),
        None => {
            let text = sum(crate::num::long_double::from_i64(0))?;
            db.insert_new(key, Value::Str(built(&text)), 0, now);
            text
        }
    };
    ctx.dirty(1);
    ctx.out.bulk(&text);
    // A replica computing the sum itself might round it otherwise.
    ctx.propagate_line(&[b"SET", key, &text, b"KEEPTTL"]);
    Ok(())
}

/// APPEND key value. A new key gets the value as SET would store it; an
/// existing one becomes `raw`, even when nothing is appended.
fn append(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, tail, now) = (argv[1], argv[2], ctx.now);
    let max = ctx.shard.config.proto_max_bulk_len;
    let db = ctx.db();
    let len = match db.write(key, now) {
        None => {
            db.insert_new(key, Value::string(tail), 0, now);
            tail.len()
        }
        Some(Value::Str(s)) => {
            if s.len() as u64 + tail.len() as u64 > max {
                return Err(STRING_TOO_LONG);
            }
            let raw = s.make_raw();
            raw.try_reserve(tail.len()).map_err(|_| STRING_TOO_LONG)?;
            raw.extend_from_slice(tail);
            raw.len()
        }
        #[allow(unreachable_patterns)]
        Some(_) => return Err(WRONGTYPE),
    };
    ctx.dirty(1);
    ctx.out.int(len as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let len = read_str(ctx, argv[1])?.map_or(0, |s| s.len());
    ctx.out.int(len as i64);
    Ok(())
}

/// GETRANGE (and SUBSTR) key start end: inclusive offsets, negative ones
/// counting from the end, clamped to the string; an empty bulk when nothing
/// is left, or when both are negative and start > end.
fn getrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let start = num::parse_i64(argv[2]).ok_or(NOT_INTEGER)?;
    let end = num::parse_i64(argv[3]).ok_or(NOT_INTEGER)?;
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let s = match db.read(argv[1], now) {
        None => {
            out.bulk(b"");
            return Ok(());
        }
        Some(Value::Str(s)) => s,
        #[allow(unreachable_patterns)]
        Some(_) => return Err(WRONGTYPE),
    };
    let mut scratch = itoa::Buffer::new();
    let bytes = s.bytes(&mut scratch);
    out.bulk(substring(bytes, start, end));
    Ok(())
}

/// The bytes of `s` from `start` to `end` inclusive, with GETRANGE's rules.
fn substring(s: &[u8], start: i64, end: i64) -> &[u8] {
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return b"";
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if len == 0 || start > end {
        return b"";
    }
    &s[start as usize..=end as usize]
}

/// SETRANGE key offset value: overwrites from `offset`, padding with zero
/// bytes. Writing nothing changes nothing (and creates no key); anything
/// written makes the value `raw`.
fn setrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, patch, now) = (argv[1], argv[3], ctx.now);
    let offset = num::parse_i64(argv[2]).ok_or(NOT_INTEGER)?;
    if offset < 0 {
        return Err(OFFSET_OUT_OF_RANGE);
    }
    let max = ctx.shard.config.proto_max_bulk_len;
    let too_long = offset as u64 + patch.len() as u64 > max;
    let db = ctx.db();
    let len = match db.write(key, now) {
        None if patch.is_empty() => 0,
        None => {
            if too_long {
                return Err(STRING_TOO_LONG);
            }
            let mut bytes = Vec::new();
            splice(&mut bytes, offset as usize, patch)?;
            let len = bytes.len();
            db.insert_new(key, Value::Str(Str::raw(bytes)), 0, now);
            ctx.dirty(1);
            len
        }
        Some(Value::Str(s)) if patch.is_empty() => s.len(),
        Some(Value::Str(s)) => {
            if too_long {
                return Err(STRING_TOO_LONG);
            }
            let raw = s.make_raw();
            splice(raw, offset as usize, patch)?;
            let len = raw.len();
            ctx.dirty(1);
            len
        }
        #[allow(unreachable_patterns)]
        Some(_) => return Err(WRONGTYPE),
    };
    ctx.out.int(len as i64);
    Ok(())
}

/// Writes `patch` into `bytes` at `offset`, growing it with zero bytes as needed.
fn splice(bytes: &mut Vec<u8>, offset: usize, patch: &[u8]) -> CmdResult {
    let end = offset + patch.len();
    if end > bytes.len() {
        bytes.try_reserve_exact(end - bytes.len()).map_err(|_| STRING_TOO_LONG)?;
        bytes.resize(end, 0);
    }
    bytes[offset..end].copy_from_slice(patch);
    Ok(())
}

/// One run of consecutive matching bytes found by LCS IDX: inclusive ranges in each string.
struct LcsMatch {
    a: (usize, usize),
    b: (usize, usize),
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
///
/// The classic dynamic programme over a (len1+1)×(len2+1) table of u32, as
/// Redis does, with Redis's limits: the table may not take more bytes than
/// proto-max-bulk-len. Walking the table back from the end gives the common
/// subsequence and, for IDX, its runs from the last to the first.
fn lcs(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let max = ctx.shard.config.proto_max_bulk_len;
    let db = ctx.db();
    // Both keys are looked up (and counted as reads) before anything else.
    let a = db.read(argv[1], now).map(|v| v.as_str().map(Str::to_vec));
    let b = db.read(argv[2], now).map(|v| v.as_str().map(Str::to_vec));
    let (a, b) = match (a, b) {
        (Some(None), _) | (_, Some(None)) => return Err(LCS_NOT_STRINGS),
        (a, b) => (a.flatten().unwrap_or_default(), b.flatten().unwrap_or_default()),
    };

    let (mut want_len, mut want_idx, mut with_len, mut min_len) = (false, false, false, 0usize);
    let mut args = Args::new(argv, 3);
    while let Some(opt) = args.next() {
        if eq_ic(opt, "IDX") {
            want_idx = true;
        } else if eq_ic(opt, "LEN") {
            want_len = true;
        } else if eq_ic(opt, "WITHMATCHLEN") {
            with_len = true;
        } else if eq_ic(opt, "MINMATCHLEN") && !args.is_empty() {
            min_len = args.i64()?.max(0).try_into().unwrap_or(usize::MAX);
        } else {
            return Err(SYNTAX);
        }
    }
    if want_len && want_idx {
        return Err(LCS_LEN_AND_IDX);
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(LCS_TOO_LONG);
    }

    let width = b.len() + 1;
    let cells = (a.len() as u64 + 1) * width as u64;
    match cells.checked_mul(4) {
        Some(bytes) if bytes > max => return Err(LCS_OVER_LIMIT),
        Some(_) => {}
        None => return Err(LCS_NO_MEMORY),
    }
    let cells = usize::try_from(cells).map_err(|_| LCS_NO_MEMORY)?;
    let mut table: Vec<u32> = Vec::new();
    table.try_reserve_exact(cells).map_err(|_| LCS_NO_MEMORY)?;
    table.resize(cells, 0);
    // table[i * width + j] is the LCS length of a[..i] and b[..j].
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[a.len() * width + b.len()] as usize;

    if want_len {
        ctx.out.int(total as i64);
        return Ok(());
    }

    // Walk back from the end. A run grows while the matches stay on the
    // diagonal and is closed by the first step off it, or when it reaches
    // the start of either string.
    let mut common = vec![0u8; total];
    let mut matches = Vec::new();
    let mut run: Option<LcsMatch> = None;
    let (mut i, mut j, mut left) = (a.len(), b.len(), total);
    while i > 0 && j > 0 {
        let mut close = false;
        if a[i - 1] == b[j - 1] {
            left -= 1;
            common[left] = a[i - 1];
            match &mut run {
                None => run = Some(LcsMatch { a: (i - 1, i - 1), b: (j - 1, j - 1) }),
                Some(m) if m.a.0 == i && m.b.0 == j => {
                    m.a.0 -= 1;
                    m.b.0 -= 1;
                }
                Some(_) => close = true,
            }
            close |= run.as_ref().is_some_and(|m| m.a.0 == 0 || m.b.0 == 0);
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            close = run.is_some();
        }
        if close {
            if let Some(m) = run.take() {
                if m.a.1 - m.a.0 + 1 >= min_len {
                    matches.push(m);
                }
            }
        }
    }

    if !want_idx {
        ctx.out.bulk(&common);
        return Ok(());
    }
    let out = &mut ctx.out;
    out.map(2);
    out.bulk(b"matches");
    out.array(matches.len());
    for m in &matches {
        out.array(2 + with_len as usize);
        for (start, end) in [m.a, m.b] {
            out.array(2);
            out.int(start as i64);
            out.int(end as i64);
        }
        if with_len {
            out.int((m.a.1 - m.a.0 + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::shard::Shard;
    use crate::testing::{run, run_at, run_proto, shard};

    #[test]
    fn get_set() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["GET", "k"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(run(&mut s, &["SET", "k", "w", "NX"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["SET", "k", "w", "XX", "GET"]), "$1\r\nv\r\n");
        assert_eq!(run(&mut s, &["SET", "n", "w", "XX", "GET"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["GET", "n"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["SET", "k", "w", "NX", "XX"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["SET", "k", "w", "EX"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["SET", "k", "w", "EX", "1", "PX", "1"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["SET", "k", "w", "KEEPTTL", "EX", "1"]), "-ERR syntax error\r\n");
        assert_eq!(
            run(&mut s, &["SET", "k", "w", "EX", "0"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            run(&mut s, &["SET", "k", "w", "EX", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
    }

    #[test]
    fn set_expiry() {
        let mut s = shard();
        assert_eq!(run_at(&mut s, 1000, &["SET", "k", "v", "PX", "100"]), "+OK\r\n");
        assert_eq!(run_at(&mut s, 1099, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(run_at(&mut s, 1100, &["GET", "k"]), "$-1\r\n");
        assert_eq!(run_at(&mut s, 1000, &["SETEX", "k", "1", "v"]), "+OK\r\n");
        assert_eq!(run_at(&mut s, 1000, &["SET", "k", "w", "KEEPTTL"]), "+OK\r\n");
        assert_eq!(run_at(&mut s, 2000, &["GET", "k"]), "$-1\r\n");
        assert_eq!(run_at(&mut s, 1000, &["SETNX", "k", "v"]), ":1\r\n");
        assert_eq!(run_at(&mut s, 1000, &["SETNX", "k", "v"]), ":0\r\n");
    }

    #[test]
    fn mget_mset() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["MSET", "a", "1", "b", "2"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["MSET", "a", "1", "b"]),
            "-ERR wrong number of arguments for 'mset' command\r\n"
        );
        assert_eq!(run(&mut s, &["MGET", "a", "x", "b"]), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
    }
    fn shard_at_limit(limit: u64) -> Shard {
        let mut s = shard();
        s.config.proto_max_bulk_len = limit;
        s
    }

    fn encoding(s: &mut Shard, key: &str) -> &'static str {
        s.db(0).peek(key.as_bytes(), NOW).map_or("none", |e| e.value().encoding())
    }

    fn ttl(s: &mut Shard, key: &str, now: u64) -> Option<u64> {
        s.db(0).peek(key.as_bytes(), now).and_then(|e| e.expire_at())
    }

    const NOW: u64 = 1_700_000_000_000;
    const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
    const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
    const SYNTAX: &str = "-ERR syntax error\r\n";

    #[test]
    fn getset_replaces_and_drops_the_ttl() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["GETSET", "k", "v"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["GET", "k"]), "$1\r\nv\r\n");
        run(&mut s, &["SET", "k", "old", "EX", "100"]);
        assert_eq!(run(&mut s, &["GETSET", "k", "123"]), "$3\r\nold\r\n");
        assert_eq!(ttl(&mut s, "k", NOW), None);
        assert_eq!(encoding(&mut s, "k"), "int");
        assert_eq!(run(&mut s, &["GETSET", "k"]), "-ERR wrong number of arguments for 'getset' command\r\n");
    }

    #[test]
    fn getdel() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["GETDEL", "k"]), "$-1\r\n");
        assert_eq!(s.dirty, 0);
        run(&mut s, &["SET", "k", "42"]);
        assert_eq!(run(&mut s, &["GETDEL", "k"]), "$2\r\n42\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "k"]), ":0\r\n");
        assert_eq!(s.dirty, 2);
        run(&mut s, &["SET", "e", ""]);
        assert_eq!(run(&mut s, &["GETDEL", "e"]), "$0\r\n\r\n");
    }

    #[test]
    fn getex_options_parse_like_redis() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "v"]);
        for ok in [
            &["GETEX", "k"][..],
            &["GETEX", "k", "persist", "PERSIST"],
            &["GETEX", "k", "EX", "10", "ex", "20"],
            &["GETEX", "k", "PXAT", "99999999999999", "PXAT", "99999999999999"],
        ] {
            assert_eq!(run(&mut s, ok), "$1\r\nv\r\n", "{ok:?}");
        }
        for bad in [
            &["GETEX", "k", "EX"][..],
            &["GETEX", "k", "EX", "10", "PX", "20"],
            &["GETEX", "k", "PERSIST", "EX", "10"],
            &["GETEX", "k", "EX", "10", "PERSIST"],
            &["GETEX", "k", "NX"],
            &["GETEX", "k", "XX"],
            &["GETEX", "k", "GET"],
            &["GETEX", "k", "KEEPTTL"],
            &["GETEX", "k", "foo"],
            // Options are read before the key is looked up.
            &["GETEX", "missing", "EX", "10", "PX", "10"],
        ] {
            assert_eq!(run(&mut s, bad), SYNTAX, "{bad:?}");
        }
        let invalid = "-ERR invalid expire time in 'getex' command\r\n";
        for bad in [
            &["GETEX", "k", "EX", "0"][..],
            &["GETEX", "k", "EX", "-5"],
            &["GETEX", "k", "PX", "0"],
            &["GETEX", "k", "EXAT", "0"],
            &["GETEX", "k", "PXAT", "-1"],
            &["GETEX", "k", "EX", "9223372036854775807"],
            &["GETEX", "k", "PX", "9223372036854775807"],
        ] {
            assert_eq!(run(&mut s, bad), invalid, "{bad:?}");
        }
        assert_eq!(run(&mut s, &["GETEX", "k", "EX", "1.5"]), NOT_INT);
        // The expiry value is checked only once the key is found.
        assert_eq!(run(&mut s, &["GETEX", "missing", "EX", "0"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["GETEX", "missing", "EX", "abc"]), "$-1\r\n");
        assert_eq!(run_proto(&mut s, NOW, true, &["GETEX", "missing"]), "_\r\n");
        assert_eq!(s.dirty, 3, "only the SET and two PXATs changed data");
    }

    #[test]
    fn getex_sets_removes_or_fires_the_expiry() {
        let mut s = shard();
        run_at(&mut s, 1000, &["SET", "k", "v"]);
        let dirty = s.dirty;
        assert_eq!(run_at(&mut s, 1000, &["GETEX", "k", "PERSIST"]), "$1\r\nv\r\n");
        assert_eq!(s.dirty, dirty, "PERSIST without a TTL changes nothing");
        run_at(&mut s, 1000, &["GETEX", "k", "EX", "10"]);
        assert_eq!(ttl(&mut s, "k", 1000), Some(11_000));
        run_at(&mut s, 1000, &["GETEX", "k", "PX", "500"]);
        assert_eq!(ttl(&mut s, "k", 1000), Some(1500));
        run_at(&mut s, 1000, &["GETEX", "k", "EXAT", "20"]);
        assert_eq!(ttl(&mut s, "k", 1000), Some(20_000));
        run_at(&mut s, 1000, &["GETEX", "k", "PXAT", "30000"]);
        assert_eq!(ttl(&mut s, "k", 1000), Some(30_000));
        run_at(&mut s, 1000, &["GETEX", "k"]);
        assert_eq!(ttl(&mut s, "k", 1000), Some(30_000));
        run_at(&mut s, 1000, &["GETEX", "k", "PERSIST"]);
        assert_eq!(ttl(&mut s, "k", 1000), None);
        assert_eq!(s.dirty, dirty + 5);
        // An absolute time not after now deletes the key, after replying with it.
        assert_eq!(run_at(&mut s, 1000, &["GETEX", "k", "PXAT", "1000"]), "$1\r\nv\r\n");
        assert_eq!(run_at(&mut s, 1000, &["EXISTS", "k"]), ":0\r\n");
        run_at(&mut s, 5000, &["SET", "k", "v"]);
        assert_eq!(run_at(&mut s, 5000, &["GETEX", "k", "EXAT", "1"]), "$1\r\nv\r\n");
        assert_eq!(run_at(&mut s, 5000, &["GET", "k"]), "$-1\r\n");
        assert_eq!(s.dirty, dirty + 8);
        // A relative time always lies ahead.
        run_at(&mut s, 5000, &["SET", "k", "v"]);
        run_at(&mut s, 5000, &["GETEX", "k", "PX", "1"]);
        assert_eq!(run_at(&mut s, 5000, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(run_at(&mut s, 5001, &["GET", "k"]), "$-1\r\n");
    }

    #[test]
    fn msetnx_is_all_or_nothing() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["MSETNX", "a", "1", "b", "2"]), ":1\r\n");
        assert_eq!(run(&mut s, &["MSETNX", "a", "3", "c", "4"]), ":0\r\n");
        assert_eq!(run(&mut s, &["MGET", "a", "b", "c"]), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n");
        assert_eq!(run(&mut s, &["MSETNX", "x", "1", "x", "2"]), ":1\r\n");
        assert_eq!(run(&mut s, &["GET", "x"]), "$1\r\n2\r\n");
        assert_eq!(s.dirty, 4);
        assert_eq!(
            run(&mut s, &["MSETNX", "c", "5", "d"]),
            "-ERR wrong number of arguments for 'msetnx' command\r\n"
        );
        assert_eq!(run(&mut s, &["MSETNX", "c"]), "-ERR wrong number of arguments for 'msetnx' command\r\n");
    }

    #[test]
    fn incr_family() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["INCR", "k"]), ":1\r\n");
        assert_eq!(run(&mut s, &["INCRBY", "k", "100"]), ":101\r\n");
        assert_eq!(run(&mut s, &["DECR", "k"]), ":100\r\n");
        assert_eq!(run(&mut s, &["DECRBY", "k", "-5"]), ":105\r\n");
        assert_eq!(run(&mut s, &["DECR", "n"]), ":-1\r\n");
        assert_eq!(run(&mut s, &["DECRBY", "m", "9223372036854775807"]), ":-9223372036854775807\r\n");
        assert_eq!(encoding(&mut s, "k"), "int");
        assert_eq!(s.dirty, 6);
        for bad in ["abc", "1.0", " 1", "01", "+1", "9223372036854775808", ""] {
            assert_eq!(run(&mut s, &["INCRBY", "k", bad]), NOT_INT, "{bad:?}");
        }
        assert_eq!(
            run(&mut s, &["DECRBY", "k", "-9223372036854775808"]),
            "-ERR decrement would overflow\r\n"
        );
        let overflow = "-ERR increment or decrement would overflow\r\n";
        run(&mut s, &["SET", "m", "9223372036854775806"]);
        assert_eq!(run(&mut s, &["INCR", "m"]), ":9223372036854775807\r\n");
        assert_eq!(run(&mut s, &["INCR", "m"]), overflow);
        run(&mut s, &["SET", "m", "-9223372036854775807"]);
        assert_eq!(run(&mut s, &["DECR", "m"]), ":-9223372036854775808\r\n");
        assert_eq!(run(&mut s, &["DECR", "m"]), overflow);
        assert_eq!(run(&mut s, &["INCRBY", "m", "9223372036854775807"]), ":-1\r\n");
        for stored in ["abc", " 1", "1 ", "007", "-0", "", "1.5", "123456789012345678901234567890"] {
            run(&mut s, &["SET", "s", stored]);
            assert_eq!(run(&mut s, &["INCR", "s"]), NOT_INT, "{stored:?}");
        }
        // Numbers that are not `int`-encoded are still integers, and become `int`.
        run(&mut s, &["SET", "f", "1.5"]);
        run(&mut s, &["INCRBYFLOAT", "f", "0.5"]);
        assert_eq!(encoding(&mut s, "f"), "embstr");
        assert_eq!(run(&mut s, &["INCR", "f"]), ":3\r\n");
        assert_eq!(encoding(&mut s, "f"), "int");
        run(&mut s, &["SET", "r", "5"]);
        run(&mut s, &["APPEND", "r", "0"]);
        assert_eq!(encoding(&mut s, "r"), "raw");
        assert_eq!(run(&mut s, &["INCR", "r"]), ":51\r\n");
        assert_eq!(encoding(&mut s, "r"), "int");
    }

    #[test]
    fn incr_keeps_the_ttl() {
        let mut s = shard();
        run_at(&mut s, 1000, &["SET", "k", "1", "PX", "500"]);
        run_at(&mut s, 1000, &["INCR", "k"]);
        run_at(&mut s, 1000, &["INCRBYFLOAT", "k", "1.5"]);
        run_at(&mut s, 1000, &["APPEND", "k", "0"]);
        run_at(&mut s, 1000, &["SETRANGE", "k", "0", "4"]);
        assert_eq!(ttl(&mut s, "k", 1000), Some(1500));
        assert_eq!(run_at(&mut s, 1000, &["GET", "k"]), "$4\r\n4.50\r\n");
    }

    /// Replies of redis-server 7.0.15 (x86-64) to `SET k base; INCRBYFLOAT k incr`
    /// and the encoding left behind.
    #[test]
    fn incrbyfloat_matches_redis() {
        let cases = [
            ("10.5", "0.1", "10.6", "embstr"),
            ("0", "0.1", "0.1", "embstr"),
            ("1.1", "2.2", "3.3", "embstr"),
            ("0.1", "0.2", "0.3", "embstr"),
            ("5e3", "1", "5001", "embstr"),
            ("1", "1.5e-7", "1.00000015", "embstr"),
            ("-5.0e+3", "0.25", "-4999.75", "embstr"),
            ("1.5", "0.5", "2", "embstr"),
            ("3.0000", "0", "3", "embstr"),
            ("0", "-0", "0", "embstr"),
            ("-1", "1", "0", "embstr"),
            ("1", "-1e-20", "1", "embstr"),
            ("0", "-1e-20", "0", "embstr"),
            ("0", "0x10", "16", "embstr"),
            ("1", "0x1.8p1", "4", "embstr"),
            ("0", "0x.8", "0.5", "embstr"),
            ("0", "+.5", "0.5", "embstr"),
            ("5.", "0", "5", "embstr"),
            ("1e20", "1", "100000000000000000000", "embstr"),
            ("1e30", "1e-30", "1000000000000000000024696061952", "embstr"),
            ("17179869184", "0.1", "17179869184.09999999962747097", "embstr"),
            ("9223372036854775807", "1", "9223372036854775808", "embstr"),
            ("-9223372036854775808", "-1", "-9223372036854775809", "embstr"),
            ("18446744073709551616", "0", "18446744073709551616", "embstr"),
            // Ties at the 17th decimal go to even, as glibc's printf rounds.
            ("0", "0.000003814697265625", "0.00000381469726562", "embstr"),
            ("0", "0.000003814697265626", "0.00000381469726563", "embstr"),
            ("0", "0.00000000000000000500", "0", "embstr"),
            ("0", "0.000000000000000015", "0.00000000000000002", "embstr"),
            ("0", "0.000000000000000025", "0.00000000000000002", "embstr"),
            ("0", "0x1p-57", "0.00000000000000001", "embstr"),
            ("0", "0x1p-59", "0", "embstr"),
            ("1", "0x1p-64", "1", "embstr"),
            ("1", "0x3p-65", "1", "embstr"),
            ("0", "1e-4940", "0", "embstr"),
            ("0", "0x1.8p-16446", "0", "embstr"),
            ("0", "3.14159265358979323846264338327950288", "3.14159265358979324", "embstr"),
            ("123456789012345678", "0.5", "123456789012345678.5", "embstr"),
            ("0", "1234567890123456789012", "1234567890123456788992", "embstr"),
            ("-0.1", "0.1", "0", "embstr"),
            ("0", "0e999999999999", "0", "embstr"),
            ("2.5e-5", "0", "0.000025", "embstr"),
            ("0", "1e44", "100000000000000000001038625398088182045605888", "raw"),
            ("1", "  1", NOT_FLOAT, "int"),
            ("1", "1 ", NOT_FLOAT, "int"),
            ("1", "", NOT_FLOAT, "int"),
            ("1", "abc", NOT_FLOAT, "int"),
            ("1", "nan", NOT_FLOAT, "int"),
            ("1", "-nan", NOT_FLOAT, "int"),
            ("1", "1e5000", NOT_FLOAT, "int"),
            ("1", "1e-5000", NOT_FLOAT, "int"),
            ("1", "0x1p-16446", NOT_FLOAT, "int"),
            ("1", "1e-4951", NOT_FLOAT, "int"),
            ("1", "0x", NOT_FLOAT, "int"),
            ("1", "1e", NOT_FLOAT, "int"),
            ("1", ".", NOT_FLOAT, "int"),
            ("1", "+-1", NOT_FLOAT, "int"),
            ("1", "1,5", NOT_FLOAT, "int"),
            ("1", "infinit", NOT_FLOAT, "int"),
            ("1", "\t1", NOT_FLOAT, "int"),
            ("1", "0b101", NOT_FLOAT, "int"),
            ("1", "1d", NOT_FLOAT, "int"),
            ("abc", "1", NOT_FLOAT, "embstr"),
            (" 1", "1", NOT_FLOAT, "embstr"),
            ("1", "inf", NAN_INF, "int"),
            ("1", "-Infinity", NAN_INF, "int"),
            ("1.18e4932", "1.18e4932", NAN_INF, "embstr"),
            ("inf", "1", NAN_INF, "embstr"),
        ];
        for (base, incr, want, enc) in cases {
            let mut s = shard();
            run(&mut s, &["SET", "k", base]);
            let got = run(&mut s, &["INCRBYFLOAT", "k", incr]);
            let want = if want.starts_with("-ERR") {
                want.to_string()
            } else {
                format!("${}\r\n{want}\r\n", want.len())
            };
            assert_eq!(got, want, "{base:?} + {incr:?}");
            assert_eq!(encoding(&mut s, "k"), enc, "{base:?} + {incr:?}");
        }
    }

    const NAN_INF: &str = "-ERR increment would produce NaN or Infinity\r\n";

    #[test]
    fn incrbyfloat_big_and_repeated() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "1e308"]);
        let got = run(&mut s, &["INCRBYFLOAT", "k", "1e308"]);
        assert!(got.starts_with("$309\r\n1999999999999999999933717593116912"), "{got}");
        assert!(got.ends_with("14636284849020905456510092687857156096\r\n"), "{got}");
        assert_eq!(encoding(&mut s, "k"), "raw");
        run(&mut s, &["SET", "k", "1.18e4932"]);
        let got = run(&mut s, &["INCRBYFLOAT", "k", "0"]);
        assert!(got.starts_with("$4933\r\n118000000000000000000065281291809"), "{got}");
        // The stored text reads back as the same number.
        let got2 = run(&mut s, &["INCRBYFLOAT", "k", "0"]);
        assert_eq!(got, got2);
        // Extreme exponents and long mantissas, as redis-server answers them.
        let cases = [
            ("1e-2147483649".to_string(), NOT_FLOAT.to_string()),
            ("1e2147483648".to_string(), NOT_FLOAT.to_string()),
            ("0x1p-2147483649".to_string(), NOT_FLOAT.to_string()),
            ("0x1p99999999999".to_string(), NOT_FLOAT.to_string()),
            ("0x0p99999999999".to_string(), "$3\r\n1.5\r\n".to_string()),
            (".0000e-99999999999999".to_string(), "$3\r\n1.5\r\n".to_string()),
            (format!("0x{}p-20000", "f".repeat(5000)), "$3\r\n2.5\r\n".to_string()),
            (format!("0.{}1e5000", "0".repeat(5000)), "$3\r\n1.6\r\n".to_string()),
            (format!("1{}e-5000", "0".repeat(5000)), "$3\r\n2.5\r\n".to_string()),
        ];
        for (incr, want) in cases {
            run(&mut s, &["SET", "x", "1.5"]);
            assert_eq!(run(&mut s, &["INCRBYFLOAT", "x", &incr]), want, "{incr:.30}");
        }
        run(&mut s, &["SET", "x", "1.5"]);
        let got = run(&mut s, &["INCRBYFLOAT", "x", &format!("0x{}p-4000", "f".repeat(5000))]);
        assert!(got.starts_with("$4817\r\n30194693372392275795306584466152797092952625113753405"));
        // Redis refuses inputs of 5120 bytes or more.
        let long = format!("0.{}", "3".repeat(5117));
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "n", &long]), "$19\r\n0.33333333333333333\r\n");
        let too_long = format!("0.{}", "3".repeat(5118));
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "n", &too_long]), NOT_FLOAT);

        // 10.5 plus 0.1 two hundred times, as redis-server prints each step.
        let mut s = shard();
        run(&mut s, &["SET", "k", "10.5"]);
        let mut last = String::new();
        for _ in 0..200 {
            last = run(&mut s, &["INCRBYFLOAT", "k", "0.1"]);
        }
        assert_eq!(last, "$4\r\n30.5\r\n");
        let mut s = shard();
        let mut last = String::new();
        for _ in 0..50 {
            last = run(&mut s, &["INCRBYFLOAT", "k", "1e-17"]);
        }
        assert_eq!(last, "$18\r\n0.0000000000000005\r\n");
        assert_eq!(s.dirty, 50);
        assert_eq!(run_proto(&mut s, NOW, true, &["INCRBYFLOAT", "k", "1"]), "$18\r\n1.0000000000000005\r\n");
    }

    #[test]
    fn append_encodings_and_limit() {
        let mut s = shard_at_limit(10);
        assert_eq!(run(&mut s, &["APPEND", "n", "123"]), ":3\r\n");
        assert_eq!(encoding(&mut s, "n"), "int");
        assert_eq!(run(&mut s, &["APPEND", "n", "4"]), ":4\r\n");
        assert_eq!(encoding(&mut s, "n"), "raw");
        assert_eq!(run(&mut s, &["GET", "n"]), "$4\r\n1234\r\n");
        run(&mut s, &["SET", "e", "abc"]);
        assert_eq!(run(&mut s, &["APPEND", "e", ""]), ":3\r\n");
        assert_eq!(encoding(&mut s, "e"), "raw");
        assert_eq!(run(&mut s, &["APPEND", "x", ""]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "x"]), ":1\r\n");
        assert_eq!(encoding(&mut s, "x"), "embstr");
        assert_eq!(s.dirty, 5);
        assert_eq!(run(&mut s, &["APPEND", "n", "567890"]), ":10\r\n");
        assert_eq!(
            run(&mut s, &["APPEND", "n", "1"]),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(run(&mut s, &["STRLEN", "n"]), ":10\r\n");
    }

    #[test]
    fn strlen_getrange_substr() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["STRLEN", "k"]), ":0\r\n");
        assert_eq!(run(&mut s, &["GETRANGE", "k", "0", "-1"]), "$0\r\n\r\n");
        assert_eq!(run_proto(&mut s, NOW, true, &["GETRANGE", "k", "0", "-1"]), "$0\r\n\r\n");
        run(&mut s, &["SET", "k", "This is a string"]);
        assert_eq!(run(&mut s, &["STRLEN", "k"]), ":16\r\n");
        let cases = [
            ("0", "3", "This"),
            ("-3", "-1", "ing"),
            ("0", "-1", "This is a string"),
            ("10", "100", "string"),
            ("-1", "-5", ""),
            ("5", "3", ""),
            // A window wholly before the start still clamps to the first byte.
            ("-100", "-50", "T"),
            ("-100", "2", "Thi"),
            ("100", "200", ""),
            ("15", "15", "g"),
            ("16", "16", ""),
            ("-16", "-16", "T"),
            ("-17", "-17", "T"),
            ("0", "-17", "T"),
            ("3", "-100", ""),
            ("-9223372036854775808", "9223372036854775807", "This is a string"),
            ("9223372036854775807", "-9223372036854775808", ""),
        ];
        for (start, end, want) in cases {
            let want = format!("${}\r\n{want}\r\n", want.len());
            assert_eq!(run(&mut s, &["GETRANGE", "k", start, end]), want, "{start} {end}");
            assert_eq!(run(&mut s, &["SUBSTR", "k", start, end]), want, "{start} {end}");
        }
        assert_eq!(run(&mut s, &["GETRANGE", "k", "a", "1"]), NOT_INT);
        assert_eq!(run(&mut s, &["GETRANGE", "k", "1", "1.5"]), NOT_INT);
        assert_eq!(run(&mut s, &["GETRANGE", "nokey", "x", "1"]), NOT_INT);
        run(&mut s, &["SET", "n", "-12345"]);
        assert_eq!(run(&mut s, &["STRLEN", "n"]), ":6\r\n");
        assert_eq!(run(&mut s, &["GETRANGE", "n", "0", "1"]), "$2\r\n-1\r\n");
        run(&mut s, &["SET", "e", ""]);
        assert_eq!(run(&mut s, &["STRLEN", "e"]), ":0\r\n");
        for (start, end) in [("0", "0"), ("-1", "-1"), ("0", "-1"), ("1", "0")] {
            assert_eq!(run(&mut s, &["GETRANGE", "e", start, end]), "$0\r\n\r\n");
        }
        assert_eq!(s.dirty, 3);
    }

    #[test]
    fn setrange() {
        let mut s = shard_at_limit(1 << 20);
        assert_eq!(run(&mut s, &["SETRANGE", "k", "0", "hello"]), ":5\r\n");
        assert_eq!(encoding(&mut s, "k"), "raw");
        assert_eq!(run(&mut s, &["SETRANGE", "k", "3", "XY"]), ":5\r\n");
        assert_eq!(run(&mut s, &["SETRANGE", "k", "8", "Z"]), ":9\r\n");
        assert_eq!(run(&mut s, &["GET", "k"]), "$9\r\nhelXY\0\0\0Z\r\n");
        assert_eq!(run(&mut s, &["SETRANGE", "k", "100", ""]), ":9\r\n");
        assert_eq!(s.dirty, 3);
        let out_of_range = "-ERR offset is out of range\r\n";
        assert_eq!(run(&mut s, &["SETRANGE", "k", "-1", "x"]), out_of_range);
        assert_eq!(run(&mut s, &["SETRANGE", "k", "-1", ""]), out_of_range);
        assert_eq!(run(&mut s, &["SETRANGE", "k", "x", "x"]), NOT_INT);
        // Writing nothing to a missing key creates nothing.
        assert_eq!(run(&mut s, &["SETRANGE", "m", "5", ""]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "m"]), ":0\r\n");
        assert_eq!(run(&mut s, &["SETRANGE", "m", "2", "12"]), ":4\r\n");
        assert_eq!(encoding(&mut s, "m"), "raw");
        run(&mut s, &["SET", "n", "12"]);
        assert_eq!(run(&mut s, &["SETRANGE", "n", "0", ""]), ":2\r\n");
        assert_eq!(encoding(&mut s, "n"), "int");
        assert_eq!(run(&mut s, &["SETRANGE", "n", "0", "3"]), ":2\r\n");
        assert_eq!(encoding(&mut s, "n"), "raw");
        assert_eq!(run(&mut s, &["INCR", "n"]), ":33\r\n");
        let too_long = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
        assert_eq!(run(&mut s, &["SETRANGE", "b", "1048575", "x"]), ":1048576\r\n");
        assert_eq!(run(&mut s, &["SETRANGE", "b", "1048576", "x"]), too_long);
        assert_eq!(run(&mut s, &["SETRANGE", "c", "1048576", "x"]), too_long);
        assert_eq!(run(&mut s, &["SETRANGE", "c", "9223372036854775807", "x"]), too_long);
        assert_eq!(run(&mut s, &["SETRANGE", "c", "9223372036854775807", ""]), ":0\r\n");
    }

    #[test]
    fn lcs() {
        let mut s = shard();
        run(&mut s, &["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
        assert_eq!(run(&mut s, &["LCS", "key1", "key2"]), "$6\r\nmytext\r\n");
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "len"]), ":6\r\n");
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "WITHMATCHLEN"]), "$6\r\nmytext\r\n");
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "LEN", "MINMATCHLEN", "3"]), ":6\r\n");
        let idx = "*4\r\n$7\r\nmatches\r\n*2\r\n\
                   *2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
                   *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n\
                   $3\r\nlen\r\n:6\r\n";
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "IDX"]), idx);
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5"]), idx);
        assert_eq!(
            run(&mut s, &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            run_proto(&mut s, NOW, true, &["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"]),
            "%2\r\n$7\r\nmatches\r\n*2\r\n\
             *3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
             *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n\
             $3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            run(&mut s, &["LCS", "key1", "key1", "IDX", "WITHMATCHLEN"]),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:0\r\n:7\r\n*2\r\n:0\r\n:7\r\n:8\r\n$3\r\nlen\r\n:8\r\n"
        );
        // Missing keys are empty strings; integers are compared as their digits.
        assert_eq!(run(&mut s, &["LCS", "key1", "nokey"]), "$0\r\n\r\n");
        assert_eq!(run(&mut s, &["LCS", "nokey", "nokey2", "LEN"]), ":0\r\n");
        assert_eq!(
            run(&mut s, &["LCS", "key1", "nokey", "IDX"]),
            "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"
        );
        run(&mut s, &["MSET", "n1", "12345", "n2", "2345"]);
        assert_eq!(run(&mut s, &["LCS", "n1", "n2"]), "$4\r\n2345\r\n");
        run(&mut s, &["MSET", "a", "ab", "b", "ba"]);
        assert_eq!(
            run(&mut s, &["LCS", "a", "b", "IDX", "WITHMATCHLEN"]),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:1\r\n:1\r\n*2\r\n:0\r\n:0\r\n:1\r\n$3\r\nlen\r\n:1\r\n"
        );

        let both = "-ERR If you want both the length and indexes, please just use IDX.\r\n";
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "LEN", "IDX"]), both);
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "MINMATCHLEN"]), SYNTAX);
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "foo", "LEN", "IDX"]), SYNTAX);
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "MINMATCHLEN", "x"]), NOT_INT);
        assert_eq!(s.dirty, 6, "only the MSETs write");
    }

    #[test]
    fn lcs_table_is_bounded_by_proto_max_bulk_len() {
        let mut s = shard_at_limit(1 << 20);
        let (a, b, c) = ("x".repeat(511), "x".repeat(511), "x".repeat(512));
        run(&mut s, &["MSET", "a", &a, "b", &b, "c", &c]);
        assert_eq!(run(&mut s, &["LCS", "a", "b", "LEN"]), ":511\r\n");
        assert_eq!(
            run(&mut s, &["LCS", "c", "b", "LEN"]),
            "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
        );
    }

    #[test]
    fn reads_count_hits_and_misses_like_redis() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "1"]);
        let stats = |s: &mut Shard| (s.db(0).stats.hits, s.db(0).stats.misses);
        let base = stats(&mut s);
        // Write lookups (INCR, APPEND, SETRANGE, MSETNX) are not counted.
        for cmd in [
            &["INCR", "k"][..],
            &["INCRBYFLOAT", "k", "1"],
            &["APPEND", "k", "1"],
            &["SETRANGE", "k", "0", "1"],
            &["MSETNX", "k", "1"],
            &["INCR", "new"],
        ] {
            run(&mut s, cmd);
        }
        assert_eq!(stats(&mut s), base);
        for cmd in [
            &["STRLEN", "k"][..],
            &["GETRANGE", "k", "0", "1"],
            &["GETEX", "k"],
            &["GETSET", "k", "1"],
            &["LCS", "k", "none"],
            &["GETDEL", "k"],
            &["GETDEL", "k"],
        ] {
            run(&mut s, cmd);
        }
        assert_eq!(stats(&mut s), (base.0 + 6, base.1 + 2));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// No input makes a string command panic.
        #[test]
        fn string_commands_never_panic(
            cmd in proptest::sample::select(vec![
                "GETSET", "GETDEL", "GETEX", "MSETNX", "INCR", "DECR", "INCRBY", "DECRBY",
                "INCRBYFLOAT", "APPEND", "STRLEN", "GETRANGE", "SUBSTR", "SETRANGE", "LCS", "SET",
            ]),
            stored in "[0-9a-z.+eExXpP -]{0,12}",
            args in proptest::collection::vec(
                proptest::prop_oneof![
                    "[0-9.eE+-]{0,8}",
                    "(EX|PX|EXAT|PXAT|PERSIST|KEEPTTL|NX|XX|GET|IDX|LEN|MINMATCHLEN|WITHMATCHLEN)",
                    "-?[0-9]{1,20}",
                    "0x[0-9a-fA-F.]{0,6}(p-?[0-9]{1,5})?",
                    ".{0,6}",
                ],
                0..6,
            ),
        ) {
            let mut s = shard_at_limit(1 << 20);
            run(&mut s, &["SET", "k", &stored]);
            run(&mut s, &["SET", "j", "1"]);
            let mut argv = vec![cmd, "k"];
            if cmd == "LCS" {
                argv.push("j");
            }
            argv.extend(args.iter().map(String::as_str));
            let reply = run(&mut s, &argv);
            proptest::prop_assert!(reply.ends_with("\r\n"), "{argv:?} -> {reply:?}");
        }
    }
}
