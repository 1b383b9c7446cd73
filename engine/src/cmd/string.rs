//! String commands.

use crate::args::Args;
use crate::command::{flags::*, Command, Group, Keys, Run, Spread};
use crate::error::{CmdError, CmdResult, NOT_INTEGER, SYNTAX, WRONGTYPE};
use crate::num;
use crate::shard::Ctx;
use crate::value::{Str, Value};

const STRING: Command = Command {
    group: Group::String,
    keys: Keys::ONE,
    ..Command::DEFAULT
};

pub static COMMANDS: &[Command] = &[
    Command {
        name: "get",
        arity: 2,
        flags: READONLY | FAST,
        summary: "Returns the string value of a key.",
        run: Run::Shard(get),
        ..STRING
    },
    Command {
        name: "set",
        arity: -3,
        flags: WRITE | DENYOOM,
        summary: "Sets the string value of a key, with optional expiry and conditions.",
        key_specs: &[crate::command::KeySpec {
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
        run: Run::Shard(setnx),
        ..STRING
    },
    Command {
        name: "setex",
        arity: 4,
        flags: WRITE | DENYOOM,
        since: "2.0.0",
        summary: "Sets the string value and expiry in seconds of a key.",
        run: Run::Shard(setex),
        ..STRING
    },
    Command {
        name: "psetex",
        arity: 4,
        flags: WRITE | DENYOOM,
        since: "2.6.0",
        summary: "Sets the string value and expiry in milliseconds of a key.",
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
        run: Run::Shard(mset),
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

/// The expiry options shared by SET and GETEX.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expiry {
    None,
    Keep,
    Persist,
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
fn expire_ms(
    arg: &[u8],
    unit_secs: bool,
    relative: bool,
    now: u64,
    cmd: &str,
) -> Result<u64, CmdError> {
    let v = num::parse_i64(arg).ok_or(NOT_INTEGER)?;
    if v <= 0 || (unit_secs && v > i64::MAX / 1000) {
        return Err(CmdError::invalid_expire(cmd));
    }
    let mut ms = if unit_secs { v * 1000 } else { v };
    if relative {
        ms = ms
            .checked_add(now as i64)
            .ok_or_else(|| CmdError::invalid_expire(cmd))?;
    }
    Ok(ms as u64)
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
fn set(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (mut cond, mut get, mut expiry) = (Cond::Always, false, Expiry::None);
    let mut expire_arg: Option<(&[u8], bool, bool)> = None;
    // Redis lets an expiry option repeat (the last one wins) but not mix with another.
    let mut kind: Option<Vec<u8>> = None;
    let mut args = Args::new(argv, 3);
    while let Some(opt) = args.next() {
        let has_next = !args.is_empty();
        let upper = opt.to_ascii_uppercase();
        let kind_ok = kind.as_deref().is_none_or(|k| k == upper.as_slice());
        match upper.as_slice() {
            b"NX" if cond != Cond::Xx => cond = Cond::Nx,
            b"XX" if cond != Cond::Nx => cond = Cond::Xx,
            b"GET" => get = true,
            b"KEEPTTL" if kind_ok => {
                expiry = Expiry::Keep;
                kind = Some(upper);
            }
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if kind_ok && has_next => {
                let relative = upper.len() == 2;
                let secs = upper[0] == b'E';
                expire_arg = Some((args.value()?, secs, relative));
                kind = Some(upper);
            }
            _ => return Err(SYNTAX),
        }
    }
    if let Some((arg, secs, relative)) = expire_arg {
        expiry = Expiry::At(expire_ms(arg, secs, relative, ctx.now, "set")?);
    }
    set_generic(ctx, argv[1], argv[2], cond, get, expiry, None)
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
        Expiry::None | Expiry::Persist => (0, false),
    };
    ctx.db().set(key, Value::string(value), at, keep, now);
    ctx.dirty(1);
    if !get {
        match nx_reply {
            Some(()) => ctx.out.int(1),
            None => ctx.out.ok(),
        }
    }
    Ok(())
}

fn setnx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    set_generic(
        ctx,
        argv[1],
        argv[2],
        Cond::Nx,
        false,
        Expiry::None,
        Some(()),
    )
}

fn setex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let at = expire_ms(argv[2], true, true, ctx.now, "setex")?;
    set_generic(
        ctx,
        argv[1],
        argv[3],
        Cond::Always,
        false,
        Expiry::At(at),
        None,
    )
}

fn psetex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let at = expire_ms(argv[2], false, true, ctx.now, "psetex")?;
    set_generic(
        ctx,
        argv[1],
        argv[3],
        Cond::Always,
        false,
        Expiry::At(at),
        None,
    )
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

#[cfg(test)]
mod tests {
    use crate::testing::{run, run_at, shard};

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
        assert_eq!(
            run(&mut s, &["SET", "k", "w", "NX", "XX"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            run(&mut s, &["SET", "k", "w", "EX"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            run(&mut s, &["SET", "k", "w", "EX", "1", "PX", "1"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            run(&mut s, &["SET", "k", "w", "KEEPTTL", "EX", "1"]),
            "-ERR syntax error\r\n"
        );
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
        assert_eq!(
            run_at(&mut s, 1000, &["SET", "k", "v", "PX", "100"]),
            "+OK\r\n"
        );
        assert_eq!(run_at(&mut s, 1099, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(run_at(&mut s, 1100, &["GET", "k"]), "$-1\r\n");
        assert_eq!(run_at(&mut s, 1000, &["SETEX", "k", "1", "v"]), "+OK\r\n");
        assert_eq!(
            run_at(&mut s, 1000, &["SET", "k", "w", "KEEPTTL"]),
            "+OK\r\n"
        );
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
        assert_eq!(
            run(&mut s, &["MGET", "a", "x", "b"]),
            "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
        );
    }
}
