//! List commands, including the engine side of the blocking pops.
//!
//! Lookups follow Redis's split: LLEN, LRANGE, LINDEX and LPOS count a
//! keyspace hit or miss (`Db::read`); the others look at the key with
//! `Db::peek` first and stamp it as written (`Db::write`, which WATCH sees)
//! only once they know they will change it, so that a wrong type, LPOP 0,
//! LREM of an absent element or a failed LINSERT leave WATCH alone.
//!
//! Blocked clients are woken the way Redis wakes them: by `signal_ready` when
//! a list key is created (Redis signals in `dbAdd`), which is the only way an
//! empty or missing list, the only kind a client blocks on, gets elements.
//!
//! A blocking command (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) parses its
//! timeout with Redis's rules, serves at once when a list has elements, and
//! otherwise asks the server to park the client (`ctx.block`) or, when it may
//! not block (MULTI, scripts, the timeout itself), replies as a timed-out call.

use crate::command::one_key;
use crate::command::{eq_ic, flags::*, numkeys_at_1, numkeys_at_2, Command, Group, KeySpec, Keys, Run};
use crate::error::{CmdError, CmdResult, NOT_INTEGER, NO_SUCH_KEY, SYNTAX};
use crate::keyspace::Db;
use crate::num;
use crate::shard::{Block, Ctx};
use crate::types::list::{End, List};
use crate::value::Value;

const INDEX_OUT_OF_RANGE: CmdError = CmdError::new("ERR index out of range");
const COUNT_NOT_POSITIVE: CmdError = CmdError::new("ERR value is out of range, must be positive");
const RANK_ZERO: CmdError = CmdError::new(
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
);
const LPOS_COUNT_NEGATIVE: CmdError = CmdError::new("ERR COUNT can't be negative");
const LPOS_MAXLEN_NEGATIVE: CmdError = CmdError::new("ERR MAXLEN can't be negative");
const NUMKEYS_NOT_POSITIVE: CmdError = CmdError::new("ERR numkeys should be greater than 0");
const MPOP_COUNT_NOT_POSITIVE: CmdError = CmdError::new("ERR count should be greater than 0");
pub(crate) const TIMEOUT_NOT_FLOAT: CmdError = CmdError::new("ERR timeout is not a float or out of range");
pub(crate) const TIMEOUT_NEGATIVE: CmdError = CmdError::new("ERR timeout is negative");

const LIST: Command = Command { group: Group::List, keys: Keys::ONE, ..Command::DEFAULT };

const PUSH_COMPLEXITY: &str = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";
const POP_COMPLEXITY: &str = "O(N) where N is the number of elements returned";
const MOVE_KEYS: &[KeySpec] =
    &[one_key("RW ACCESS DELETE"), KeySpec { begin: 2, last: 0, step: 1, flags: "RW INSERT" }];
const MPOP_COMPLEXITY: &str =
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.";

pub static COMMANDS: &[Command] = &[
    Command {
        name: "lpush",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        complexity: PUSH_COMPLEXITY,
        summary: "Prepends one or more elements to a list, creating it if needed.",
        key_specs: &[one_key("RW INSERT")],
        run: Run::Shard(lpush),
        ..LIST
    },
    Command {
        name: "rpush",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        complexity: PUSH_COMPLEXITY,
        summary: "Appends one or more elements to a list, creating it if needed.",
        key_specs: &[one_key("RW INSERT")],
        run: Run::Shard(rpush),
        ..LIST
    },
    Command {
        name: "lpushx",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        since: "2.2.0",
        complexity: PUSH_COMPLEXITY,
        summary: "Prepends one or more elements to a list, only when the list exists.",
        key_specs: &[one_key("RW INSERT")],
        run: Run::Shard(lpushx),
        ..LIST
    },
    Command {
        name: "rpushx",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        since: "2.2.0",
        complexity: PUSH_COMPLEXITY,
        summary: "Appends one or more elements to a list, only when the list exists.",
        key_specs: &[one_key("RW INSERT")],
        run: Run::Shard(rpushx),
        ..LIST
    },
    Command {
        name: "lpop",
        arity: -2,
        flags: WRITE | FAST,
        complexity: POP_COMPLEXITY,
        summary: "Removes and returns the first elements of a list; deletes the list when it empties.",
        key_specs: &[one_key("RW ACCESS DELETE")],
        run: Run::Shard(lpop),
        ..LIST
    },
    Command {
        name: "rpop",
        arity: -2,
        flags: WRITE | FAST,
        complexity: POP_COMPLEXITY,
        summary: "Removes and returns the last elements of a list; deletes the list when it empties.",
        key_specs: &[one_key("RW ACCESS DELETE")],
        run: Run::Shard(rpop),
        ..LIST
    },
    Command {
        name: "llen",
        arity: 2,
        flags: READONLY | FAST,
        summary: "Returns the length of a list.",
        key_specs: &[one_key("RO")],
        run: Run::Shard(llen),
        ..LIST
    },
    Command {
        name: "lrange",
        arity: 4,
        flags: READONLY,
        complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        summary: "Returns a range of elements of a list.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(lrange),
        ..LIST
    },
    Command {
        name: "lindex",
        arity: 3,
        flags: READONLY,
        complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        summary: "Returns the element at an index of a list.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(lindex),
        ..LIST
    },
    Command {
        name: "lset",
        arity: 4,
        flags: WRITE | DENYOOM,
        complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        summary: "Replaces the element at an index of a list.",
        key_specs: &[one_key("RW UPDATE")],
        run: Run::Shard(lset),
        ..LIST
    },
    Command {
        name: "linsert",
        arity: 5,
        flags: WRITE | DENYOOM,
        since: "2.2.0",
        complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        summary: "Inserts an element before or after the first occurrence of another in a list.",
        key_specs: &[one_key("RW INSERT")],
        run: Run::Shard(linsert),
        ..LIST
    },
    Command {
        name: "lrem",
        arity: 4,
        flags: WRITE,
        complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
        summary: "Removes the elements equal to a value from a list, from the head or the tail.",
        key_specs: &[one_key("RW DELETE")],
        run: Run::Shard(lrem),
        ..LIST
    },
    Command {
        name: "ltrim",
        arity: 4,
        flags: WRITE,
        complexity: "O(N) where N is the number of elements to be removed by the operation.",
        summary: "Keeps only a range of a list, removing the elements outside it.",
        key_specs: &[one_key("RW DELETE")],
        run: Run::Shard(ltrim),
        ..LIST
    },
    Command {
        name: "lpos",
        arity: -3,
        flags: READONLY,
        since: "6.0.6",
        complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        summary: "Returns the indexes of the elements equal to a value in a list.",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(lpos),
        ..LIST
    },
    Command {
        name: "lmove",
        arity: 5,
        flags: WRITE | DENYOOM,
        keys: Keys::TWO,
        since: "6.2.0",
        summary: "Pops an element from one end of a list and pushes it onto an end of another.",
        key_specs: MOVE_KEYS,
        run: Run::Shard(lmove),
        ..LIST
    },
    Command {
        name: "rpoplpush",
        arity: 3,
        flags: WRITE | DENYOOM,
        keys: Keys::TWO,
        since: "1.2.0",
        summary: "Pops the last element of a list and pushes it onto the head of another (deprecated: LMOVE).",
        key_specs: MOVE_KEYS,
        run: Run::Shard(rpoplpush),
        ..LIST
    },
    Command {
        name: "lmpop",
        arity: -4,
        flags: WRITE | MOVABLE_KEYS,
        keys: Keys::NONE,
        since: "7.0.0",
        complexity: MPOP_COMPLEXITY,
        summary: "Pops elements from the first non-empty list of several.",
        key_finder: Some(numkeys_at_1),
        run: Run::Shard(lmpop),
        ..LIST
    },
    Command {
        name: "blpop",
        arity: -3,
        flags: WRITE | NOSCRIPT | BLOCKING,
        keys: Keys { first: 1, last: -2, step: 1 },
        since: "2.0.0",
        complexity: "O(N) where N is the number of provided keys.",
        summary: "Pops the first element of the first non-empty list, or blocks until one gets an element.",
        key_specs: &[KeySpec { begin: 1, last: -2, step: 1, flags: "RW ACCESS DELETE" }],
        run: Run::Shard(blpop),
        ..LIST
    },
    Command {
        name: "brpop",
        arity: -3,
        flags: WRITE | NOSCRIPT | BLOCKING,
        keys: Keys { first: 1, last: -2, step: 1 },
        since: "2.0.0",
        complexity: "O(N) where N is the number of provided keys.",
        summary: "Pops the last element of the first non-empty list, or blocks until one gets an element.",
        key_specs: &[KeySpec { begin: 1, last: -2, step: 1, flags: "RW ACCESS DELETE" }],
        run: Run::Shard(brpop),
        ..LIST
    },
    Command {
        name: "blmove",
        arity: 6,
        flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        keys: Keys::TWO,
        since: "6.2.0",
        summary: "Pops an element from a list and pushes it onto another, or blocks until the source gets one.",
        key_specs: MOVE_KEYS,
        run: Run::Shard(blmove),
        ..LIST
    },
    Command {
        name: "brpoplpush",
        arity: 4,
        flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        keys: Keys::TWO,
        since: "2.2.0",
        summary: "Pops the last element of a list and pushes it onto another, or blocks (deprecated: BLMOVE).",
        key_specs: MOVE_KEYS,
        run: Run::Shard(brpoplpush),
        ..LIST
    },
    Command {
        name: "blmpop",
        arity: -5,
        flags: WRITE | BLOCKING | MOVABLE_KEYS,
        keys: Keys::NONE,
        since: "7.0.0",
        complexity: MPOP_COMPLEXITY,
        summary: "Pops elements from the first non-empty list of several, or blocks until one gets elements.",
        key_finder: Some(numkeys_at_2),
        run: Run::Shard(blmpop),
        ..LIST
    },
];

/// A read lookup (Redis's `lookupKeyRead`: counts a hit or a miss).
fn read<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a List>, CmdError> {
    match db.read(key, now) {
        None => Ok(None),
        Some(v) => v.list().map(Some),
    }
}

/// A write lookup without stamping the key: the list, if the key holds one;
/// WRONGTYPE if it holds something else.
fn peek<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a List>, CmdError> {
    match db.peek(key, now) {
        None => Ok(None),
        Some(e) => e.value().list().map(Some),
    }
}

/// The list at `key` for changing, stamped as written. Only called once a
/// `peek` has found a list there.
fn write<'a>(db: &'a mut Db, key: &[u8], now: u64) -> &'a mut List {
    match db.write(key, now) {
        Some(Value::List(l)) => l,
        _ => unreachable!("peeked a list"),
    }
}

/// Deletes `key` if its list has emptied, as Redis never keeps an empty list.
fn delete_if_empty(db: &mut Db, key: &[u8], now: u64) {
    if peek(db, key, now).is_ok_and(|l| l.is_some_and(List::is_empty)) {
        db.remove(key, now);
    }
}

/// Pushes `values` onto `key`'s list at `end`, creating the list when it is
/// absent (and waking clients blocked on it). Returns the new length; the
/// caller counts the change.
fn push_values(ctx: &mut Ctx<'_>, key: &[u8], end: End, values: &[&[u8]]) -> usize {
    let now = ctx.now;
    let db = ctx.db();
    let len = if db.peek(key, now).is_some() {
        let l = write(db, key, now);
        for v in values {
            l.push(end, v);
        }
        l.len()
    } else {
        let mut l = List::new();
        for v in values {
            l.push(end, v);
        }
        let len = l.len();
        db.insert_new(key, Value::List(Box::new(l)), 0, now);
        ctx.signal_ready(key);
        len
    };
    len
}

fn lpush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_generic(ctx, argv, End::Head, false)
}

fn rpush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_generic(ctx, argv, End::Tail, false)
}

fn lpushx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_generic(ctx, argv, End::Head, true)
}

fn rpushx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_generic(ctx, argv, End::Tail, true)
}

/// LPUSH, RPUSH, and with `only_existing` LPUSHX, RPUSHX.
fn push_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], end: End, only_existing: bool) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    if peek(ctx.db(), key, now)?.is_none() && only_existing {
        ctx.out.int(0);
        return Ok(());
    }
    let len = push_values(ctx, key, end, &argv[2..]);
    ctx.dirty((argv.len() - 2) as u64);
    ctx.out.int(len as i64);
    Ok(())
}

/// Reads a count the way Redis's `getPositiveLongFromObjectOrReply` does,
/// with its message for both a non-integer and a negative value.
fn parse_positive(arg: &[u8], err: CmdError) -> Result<u64, CmdError> {
    match num::parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(err),
    }
}

fn lpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, argv, End::Head)
}

fn rpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, argv, End::Tail)
}

/// LPOP and RPOP, with or without a count: one element as a bulk string,
/// a count as an array (null array for a missing key, empty for count 0).
fn pop_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], end: End) -> CmdResult {
    let name = if end == End::Head { "lpop" } else { "rpop" };
    if argv.len() > 3 {
        return Err(CmdError::wrong_arity(name));
    }
    let count = match argv.get(2) {
        Some(a) => Some(parse_positive(a, COUNT_NOT_POSITIVE)?),
        None => None,
    };
    let (key, now) = (argv[1], ctx.now);
    let (db, out) = ctx.parts();
    if peek(db, key, now)?.is_none() {
        match count {
            Some(_) => out.null_array(),
            None => out.null(),
        }
        return Ok(());
    }
    let popped = match count {
        Some(0) => {
            out.array(0);
            return Ok(());
        }
        None => {
            let l = write(db, key, now);
            out.bulk(l.peek(end).expect("lists are never empty"));
            l.discard(end, 1);
            1
        }
        Some(n) => reply_pop_range(write(db, key, now), end, n, out),
    };
    delete_if_empty(db, key, now);
    ctx.dirty(popped as u64);
    Ok(())
}

/// Replies with up to `count` elements from one end, in the order they come
/// off, and removes them. Returns how many.
fn reply_pop_range(l: &mut List, end: End, count: u64, out: &mut crate::reply::Reply<'_>) -> usize {
    let n = (count.min(l.len() as u64)) as usize;
    out.array(n);
    match end {
        End::Head => l.range(0, n).for_each(|v| out.bulk(v)),
        End::Tail => l.range(l.len() - n, l.len()).rev().for_each(|v| out.bulk(v)),
    }
    l.discard(end, n);
    n
}

fn llen(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let len = read(ctx.db(), argv[1], now)?.map_or(0, List::len);
    ctx.out.int(len as i64);
    Ok(())
}

fn parse_index(arg: &[u8]) -> Result<i64, CmdError> {
    num::parse_i64(arg).ok_or(NOT_INTEGER)
}

/// Clamps Redis's inclusive `start..=end` (negative = from the tail) to a
/// list of `len`; `None` when the range is empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// The position an index (negative = from the tail) designates in a list of `len`.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    if index >= 0 {
        let i = index as u64;
        (i < len as u64).then_some(i as usize)
    } else {
        let back = (-(index + 1)) as u64;
        (back < len as u64).then(|| len - 1 - back as usize)
    }
}

fn lrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (start, end) = (parse_index(argv[2])?, parse_index(argv[3])?);
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let Some(l) = read(db, argv[1], now)? else {
        out.array(0);
        return Ok(());
    };
    match clamp_range(start, end, l.len()) {
        None => out.array(0),
        Some((a, b)) => {
            out.array(b - a + 1);
            for v in l.range(a, b + 1) {
                out.bulk(v);
            }
        }
    }
    Ok(())
}

fn lindex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let Some(l) = read(db, argv[1], now)? else {
        out.null();
        return Ok(());
    };
    match resolve_index(parse_index(argv[2])?, l.len()).and_then(|i| l.get(i)) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

fn lset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    let db = ctx.db();
    let len = peek(db, key, now)?.ok_or(NO_SUCH_KEY)?.len();
    let i = resolve_index(parse_index(argv[2])?, len).ok_or(INDEX_OUT_OF_RANGE)?;
    write(db, key, now).set(i, argv[3]);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

fn linsert(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let after = if eq_ic(argv[2], "after") {
        true
    } else if eq_ic(argv[2], "before") {
        false
    } else {
        return Err(SYNTAX);
    };
    let (key, now) = (argv[1], ctx.now);
    let (db, out) = ctx.parts();
    let Some(pos) = peek(db, key, now)?.map(|l| l.find(argv[3])) else {
        out.int(0);
        return Ok(());
    };
    let Some(pos) = pos else {
        out.int(-1);
        return Ok(());
    };
    let l = write(db, key, now);
    l.insert(pos, after, argv[4]);
    out.int(l.len() as i64);
    ctx.dirty(1);
    Ok(())
}

fn lrem(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let count = parse_index(argv[2])?;
    let (key, elem, now) = (argv[1], argv[3], ctx.now);
    let (db, out) = ctx.parts();
    let Some(l) = peek(db, key, now)? else {
        out.int(0);
        return Ok(());
    };
    if !l.iter().any(|v| v == elem) {
        out.int(0);
        return Ok(());
    }
    // A count of i64::MIN has no positive counterpart; it removes all, as in Redis.
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = write(db, key, now).remove_matching(elem, limit, count < 0);
    delete_if_empty(db, key, now);
    out.int(removed as i64);
    ctx.dirty(removed as u64);
    Ok(())
}

fn ltrim(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (start, end) = (parse_index(argv[2])?, parse_index(argv[3])?);
    let (key, now) = (argv[1], ctx.now);
    let db = ctx.db();
    let Some(len) = peek(db, key, now)?.map(List::len) else {
        ctx.out.ok();
        return Ok(());
    };
    let (left, right) = match clamp_range(start, end, len) {
        None => (len, 0),
        Some((a, b)) => (a, len - 1 - b),
    };
    // Redis signals the key as modified even when nothing goes.
    let l = write(db, key, now);
    l.discard(End::Head, left);
    l.discard(End::Tail, right);
    delete_if_empty(db, key, now);
    ctx.dirty((left + right) as u64);
    ctx.out.ok();
    Ok(())
}

fn lpos(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<u64>, 0u64);
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if eq_ic(argv[j], "rank") && more {
            rank = parse_index(argv[j + 1])?;
            if rank == 0 {
                return Err(RANK_ZERO);
            }
        } else if eq_ic(argv[j], "count") && more {
            count = Some(parse_positive(argv[j + 1], LPOS_COUNT_NEGATIVE)?);
        } else if eq_ic(argv[j], "maxlen") && more {
            maxlen = parse_positive(argv[j + 1], LPOS_MAXLEN_NEGATIVE)?;
        } else {
            return Err(SYNTAX);
        }
        j += 2;
    }
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let Some(l) = read(db, argv[1], now)? else {
        match count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    // A negative rank searches from the tail. Redis negates it in C, so
    // i64::MIN stays negative: every match then counts as past the rank.
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let elem = argv[2];
    let len = l.len();
    let scan = if maxlen == 0 { len } else { len.min(usize::try_from(maxlen).unwrap_or(usize::MAX)) };
    let index_of = |k: usize| if from_tail { len - 1 - k } else { k };
    let mut matches = 0i64;
    let mut found = Vec::new();
    let mut check = |k: usize, v: &[u8]| -> bool {
        if v != elem {
            return false;
        }
        matches += 1;
        if matches < rank {
            return false;
        }
        found.push(index_of(k) as i64);
        match count {
            None => true,
            Some(0) => false,
            Some(c) => matches.wrapping_sub(rank).wrapping_add(1) >= c as i64,
        }
    };
    if from_tail {
        for (k, v) in l.iter().rev().take(scan).enumerate() {
            if check(k, v) {
                break;
            }
        }
    } else {
        for (k, v) in l.iter().take(scan).enumerate() {
            if check(k, v) {
                break;
            }
        }
    }
    match count {
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.int(i);
            }
        }
        None => match found.first() {
            Some(&i) => out.int(i),
            None => out.null(),
        },
    }
    Ok(())
}

/// Reads LEFT or RIGHT.
fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if eq_ic(arg, "left") {
        Ok(End::Head)
    } else if eq_ic(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(SYNTAX)
    }
}

fn lmove(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (from, to) = (parse_end(argv[3])?, parse_end(argv[4])?);
    move_generic(ctx, argv[1], argv[2], from, to)
}

fn rpoplpush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    move_generic(ctx, argv[1], argv[2], End::Tail, End::Head)
}

/// LMOVE: pops from `src` at `from`, pushes onto `dst` at `to` (creating it),
/// replies with the element; a null bulk when `src` is missing. The
/// destination's type is checked before anything moves.
fn move_generic(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    if peek(db, src, now)?.is_none() {
        ctx.out.null();
        return Ok(());
    }
    peek(db, dst, now)?;
    let v = write(db, src, now).pop(from).expect("lists are never empty");
    if src == dst {
        write(db, src, now).push(to, &v);
    } else {
        delete_if_empty(db, src, now);
        push_values(ctx, dst, to, &[&v]);
    }
    ctx.dirty(1);
    ctx.out.bulk(&v);
    Ok(())
}

/// Reads LMPOP's and BLMPOP's `numkeys key... LEFT|RIGHT [COUNT n]` from
/// `argv[at]` on: (the keys, the end, the count; 1 when not given).
fn parse_mpop<'a, 'b>(argv: &'a [&'b [u8]], at: usize) -> Result<(&'a [&'b [u8]], End, u64), CmdError> {
    let numkeys = match num::parse_i64(argv[at]) {
        Some(n) if n > 0 => n as u64,
        _ => return Err(NUMKEYS_NOT_POSITIVE),
    };
    let where_at = (at as u64).saturating_add(numkeys).saturating_add(1);
    if where_at >= argv.len() as u64 {
        return Err(SYNTAX);
    }
    let where_at = where_at as usize;
    let end = parse_end(argv[where_at])?;
    let mut count = None;
    let mut j = where_at + 1;
    while j < argv.len() {
        if count.is_none() && eq_ic(argv[j], "count") && j + 1 < argv.len() {
            match num::parse_i64(argv[j + 1]) {
                Some(n) if n > 0 => count = Some(n as u64),
                _ => return Err(MPOP_COUNT_NOT_POSITIVE),
            }
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((&argv[at + 1..where_at], end, count.unwrap_or(1)))
}

/// Pops up to `count` elements from the first non-empty list of `keys`,
/// replying `[key, [elements]]`. Returns false, having replied nothing,
/// when every list is empty; WRONGTYPE as soon as a key holding another
/// type comes before a non-empty list.
fn mpop(ctx: &mut Ctx<'_>, keys: &[&[u8]], end: End, count: u64) -> Result<bool, CmdError> {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    for &key in keys {
        if peek(db, key, now)?.is_none() {
            continue;
        }
        out.array(2);
        out.bulk(key);
        let n = reply_pop_range(write(db, key, now), end, count, out);
        delete_if_empty(db, key, now);
        ctx.dirty(n as u64);
        // As Redis: LMPOP and BLMPOP reach replicas as the pop they made.
        let mut n = itoa::Buffer::new();
        ctx.propagate_line(&[pop_name(end), key, n.format(count).as_bytes()]);
        return Ok(true);
    }
    Ok(false)
}

fn lmpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, end, count) = parse_mpop(argv, 1)?;
    if !mpop(ctx, keys, end, count)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// Reads a blocking command's timeout in seconds, as Redis does: a long
/// double (`strtold`, so `0x10` and `1e3` too), times 1000 rounded up to a
/// whole millisecond. A value past the 64-bit range converts, as on x86, to
/// the most negative integer, so it is refused as negative. Returns the
/// timeout in ms, 0 = forever.
pub(crate) fn parse_timeout(arg: &[u8]) -> Result<u64, CmdError> {
    use rustc_apfloat::ieee::X87DoubleExtended as F80;
    use rustc_apfloat::{Float, Round, Status};
    let secs = num::long_double::parse(arg).ok_or(TIMEOUT_NOT_FLOAT)?;
    let thousand = F80::from_u128(1000).value;
    let ms = secs.mul_r(thousand, Round::NearestTiesToEven).value;
    let ms = ms.round_to_integral(Round::TowardPositive).value;
    let mut exact = false;
    let whole = ms.to_i128_r(64, Round::TowardZero, &mut exact);
    let ms = if whole.status.contains(Status::INVALID_OP) { i64::MIN } else { whole.value as i64 };
    u64::try_from(ms).map_err(|_| TIMEOUT_NEGATIVE)
}

/// Asks the server to park the client, or, when the command may not block,
/// replies as a timed-out call would with `timed_out`.
fn block_or(ctx: &mut Ctx<'_>, timeout_ms: u64, timed_out: fn(&mut crate::reply::Reply<'_>)) {
    if ctx.may_block {
        ctx.block = Some(Block { timeout_ms, rewrite: None });
    } else {
        timed_out(&mut ctx.out);
    }
}

/// The non-blocking pop from `end`, as a blocking one is propagated.
fn pop_name(end: End) -> &'static [u8] {
    match end {
        End::Head => b"LPOP",
        End::Tail => b"RPOP",
    }
}

fn end_name(end: End) -> &'static [u8] {
    match end {
        End::Head => b"LEFT",
        End::Tail => b"RIGHT",
    }
}

fn blpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bpop_generic(ctx, argv, End::Head)
}

fn brpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bpop_generic(ctx, argv, End::Tail)
}

/// BLPOP and BRPOP: `[key, element]` from the first non-empty list.
fn bpop_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], end: End) -> CmdResult {
    let timeout = parse_timeout(argv[argv.len() - 1])?;
    let now = ctx.now;
    let (db, out) = ctx.parts();
    for &key in &argv[1..argv.len() - 1] {
        if peek(db, key, now)?.is_none() {
            continue;
        }
        let l = write(db, key, now);
        out.array(2);
        out.bulk(key);
        out.bulk(l.peek(end).expect("lists are never empty"));
        l.discard(end, 1);
        delete_if_empty(db, key, now);
        ctx.dirty(1);
        ctx.propagate_line(&[pop_name(end), key]);
        return Ok(());
    }
    block_or(ctx, timeout, |out| out.null_array());
    Ok(())
}

fn blmove(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (from, to) = (parse_end(argv[3])?, parse_end(argv[4])?);
    let timeout = parse_timeout(argv[5])?;
    bmove_generic(ctx, argv[1], argv[2], from, to, timeout)
}

fn brpoplpush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let timeout = parse_timeout(argv[3])?;
    bmove_generic(ctx, argv[1], argv[2], End::Tail, End::Head, timeout)
}

/// BLMOVE: LMOVE when the source has elements; otherwise blocks on the
/// source alone (the destination's type is only checked when serving).
fn bmove_generic(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End, timeout: u64) -> CmdResult {
    let now = ctx.now;
    if peek(ctx.db(), src, now)?.is_some() {
        move_generic(ctx, src, dst, from, to)?;
        ctx.propagate_line(&[b"LMOVE", src, dst, end_name(from), end_name(to)]);
        return Ok(());
    }
    block_or(ctx, timeout, |out| out.null());
    Ok(())
}

fn blmpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, end, count) = parse_mpop(argv, 2)?;
    let timeout = parse_timeout(argv[1])?;
    if !mpop(ctx, keys, end, count)? {
        block_or(ctx, timeout, |out| out.null_array());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Registry;
    use crate::reply::Reply;
    use crate::shard::Shard;
    use crate::testing::{run, run_proto, shard};

    const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    /// Runs a command that may block; returns the reply and the block request.
    fn run_blocking(s: &mut Shard, may_block: bool, argv: &[&str]) -> (String, Option<Block>) {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        let reg = Registry::get();
        let id = reg.resolve(&argv).expect("a known command");
        let Run::Shard(handler) = reg.entry(id).cmd.run else { panic!("not a shard command") };
        let mut buf = Vec::new();
        let mut ctx = Ctx::new(s, 0, 1_700_000_000_000, Reply::new(&mut buf, false));
        ctx.may_block = may_block;
        let result = handler(&mut ctx, &argv);
        let block = ctx.block.take();
        drop(ctx);
        if let Err(e) = result {
            buf.clear();
            Reply::new(&mut buf, false).error(e.line());
        }
        (String::from_utf8_lossy(&buf).into_owned(), block)
    }

    fn bulks(items: &[&str]) -> String {
        let mut s = format!("*{}\r\n", items.len());
        for i in items {
            s += &format!("${}\r\n{}\r\n", i.len(), i);
        }
        s
    }

    #[test]
    fn push_and_range() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["RPUSH", "l", "a", "b", "c"]), ":3\r\n");
        assert_eq!(run(&mut s, &["LPUSH", "l", "x", "y"]), ":5\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "l", "0", "-1"]), bulks(&["y", "x", "a", "b", "c"]));
        assert_eq!(run(&mut s, &["LPUSHX", "nokey", "a"]), ":0\r\n");
        assert_eq!(run(&mut s, &["RPUSHX", "l", "z"]), ":6\r\n");
        assert_eq!(run(&mut s, &["LLEN", "l"]), ":6\r\n");
        assert_eq!(run(&mut s, &["LLEN", "nokey"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "nokey"]), ":0\r\n");
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "l"]), "$9\r\nquicklist\r\n");
        assert_eq!(run(&mut s, &["SET", "s", "v"]), "+OK\r\n");
        for cmd in ["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"] {
            assert_eq!(run(&mut s, &[cmd, "s", "a"]), WRONGTYPE);
        }
        assert_eq!(run(&mut s, &["LPUSH", "l"]), "-ERR wrong number of arguments for 'lpush' command\r\n");
    }

    #[test]
    fn lrange_bounds_like_redis() {
        let mut s = shard();
        run(&mut s, &["RPUSH", "l", "2", "2", "2", "x"]);
        assert_eq!(run(&mut s, &["LRANGE", "l", "-100", "100"]), bulks(&["2", "2", "2", "x"]));
        assert_eq!(run(&mut s, &["LRANGE", "l", "2", "1"]), "*0\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "l", "-1", "-2"]), "*0\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "l", "-1", "-1"]), bulks(&["x"]));
        let (min, max) = ("-9223372036854775808", "9223372036854775807");
        assert_eq!(run(&mut s, &["LRANGE", "l", max, min]), "*0\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "l", min, max]), bulks(&["2", "2", "2", "x"]));
        assert_eq!(run(&mut s, &["LRANGE", "nokey", "0", "-1"]), "*0\r\n");
        // The indexes are parsed before the key is looked up.
        assert_eq!(
            run(&mut s, &["LRANGE", "nokey", "a", "-1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        run(&mut s, &["SET", "s", "v"]);
        assert_eq!(
            run(&mut s, &["LRANGE", "s", "a", "b"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut s, &["LRANGE", "s", "0", "1"]), WRONGTYPE);
    }

    #[test]
    fn pops_with_and_without_count() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["LPOP", "nokey"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["LPOP", "nokey", "0"]), "*-1\r\n");
        assert_eq!(run(&mut s, &["LPOP", "nokey", "2"]), "*-1\r\n");
        assert_eq!(run_proto(&mut s, 0, true, &["LPOP", "nokey", "2"]), "_\r\n");
        assert_eq!(run_proto(&mut s, 0, true, &["LPOP", "nokey"]), "_\r\n");
        let positive = "-ERR value is out of range, must be positive\r\n";
        assert_eq!(run(&mut s, &["LPOP", "nokey", "-1"]), positive);
        assert_eq!(run(&mut s, &["LPOP", "nokey", "abc"]), positive);
        assert_eq!(
            run(&mut s, &["LPOP", "nokey", "1", "2"]),
            "-ERR wrong number of arguments for 'lpop' command\r\n"
        );
        run(&mut s, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
        assert_eq!(run(&mut s, &["LPOP", "l", "0"]), "*0\r\n");
        assert_eq!(run(&mut s, &["LPOP", "l", "2"]), bulks(&["a", "b"]));
        assert_eq!(run(&mut s, &["RPOP", "l", "2"]), bulks(&["e", "d"]));
        assert_eq!(run(&mut s, &["RPOP", "l", "5"]), bulks(&["c"]));
        assert_eq!(run(&mut s, &["EXISTS", "l"]), ":0\r\n");
        run(&mut s, &["RPUSH", "l", "a", "b"]);
        assert_eq!(run(&mut s, &["RPOP", "l"]), "$1\r\nb\r\n");
        assert_eq!(run(&mut s, &["LPOP", "l"]), "$1\r\na\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "l"]), ":0\r\n");
        run(&mut s, &["SET", "s", "v"]);
        assert_eq!(run(&mut s, &["LPOP", "s"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["LPOP", "s", "0"]), WRONGTYPE);
        // The count is checked before the key.
        assert_eq!(run(&mut s, &["RPOP", "s", "-1"]), positive);
    }

    #[test]
    fn lindex_and_lset() {
        let mut s = shard();
        run(&mut s, &["RPUSH", "l", "a", "b", "c", "d"]);
        assert_eq!(run(&mut s, &["LINDEX", "l", "0"]), "$1\r\na\r\n");
        assert_eq!(run(&mut s, &["LINDEX", "l", "-1"]), "$1\r\nd\r\n");
        assert_eq!(run(&mut s, &["LINDEX", "l", "-4"]), "$1\r\na\r\n");
        assert_eq!(run(&mut s, &["LINDEX", "l", "-5"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["LINDEX", "l", "4"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["LINDEX", "l", "-9223372036854775808"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["LINDEX", "l", "abc"]), "-ERR value is not an integer or out of range\r\n");
        // A missing key answers before the index is parsed.
        assert_eq!(run(&mut s, &["LINDEX", "nokey", "abc"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["LSET", "nokey", "abc", "x"]), "-ERR no such key\r\n");
        assert_eq!(
            run(&mut s, &["LSET", "l", "abc", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut s, &["LSET", "l", "4", "x"]), "-ERR index out of range\r\n");
        assert_eq!(run(&mut s, &["LSET", "l", "-5", "x"]), "-ERR index out of range\r\n");
        assert_eq!(run(&mut s, &["LSET", "l", "-4", "y"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["LSET", "l", "2", "a long element that does not fit inline"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["LRANGE", "l", "0", "-1"]),
            bulks(&["y", "b", "a long element that does not fit inline", "d"])
        );
        run(&mut s, &["SET", "s", "v"]);
        assert_eq!(run(&mut s, &["LSET", "s", "abc", "x"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["LINDEX", "s", "abc"]), WRONGTYPE);
    }

    #[test]
    fn linsert_lrem_ltrim() {
        let mut s = shard();
        run(&mut s, &["RPUSH", "l", "a", "2", "2", "x"]);
        assert_eq!(run(&mut s, &["LINSERT", "l", "middle", "2", "x"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["LINSERT", "nokey", "middle", "2", "x"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["LINSERT", "nokey", "before", "2", "x"]), ":0\r\n");
        assert_eq!(run(&mut s, &["LINSERT", "l", "before", "nope", "x"]), ":-1\r\n");
        assert_eq!(run(&mut s, &["LINSERT", "l", "BEFORE", "x", "X"]), ":5\r\n");
        assert_eq!(run(&mut s, &["LINSERT", "l", "after", "x", "Y"]), ":6\r\n");
        assert_eq!(run(&mut s, &["LINSERT", "l", "after", "2", "3"]), ":7\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "l", "0", "-1"]), bulks(&["a", "2", "3", "2", "X", "x", "Y"]));
        assert_eq!(
            run(&mut s, &["LREM", "l", "abc", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            run(&mut s, &["LREM", "nokey", "abc", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut s, &["LREM", "nokey", "0", "x"]), ":0\r\n");
        assert_eq!(run(&mut s, &["LREM", "l", "-1", "2"]), ":1\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "l", "0", "-1"]), bulks(&["a", "2", "3", "X", "x", "Y"]));
        run(&mut s, &["RPUSH", "l", "2", "2"]);
        assert_eq!(run(&mut s, &["LREM", "l", "2", "2"]), ":2\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "l", "0", "-1"]), bulks(&["a", "3", "X", "x", "Y", "2"]));
        assert_eq!(run(&mut s, &["LREM", "l", "-9223372036854775808", "2"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["LTRIM", "l", "a", "b"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut s, &["LTRIM", "nokey", "0", "1"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["LTRIM", "l", "1", "-2"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "l", "0", "-1"]), bulks(&["3", "X", "x"]));
        assert_eq!(run(&mut s, &["LTRIM", "l", "5", "1"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "l"]), ":0\r\n");
        run(&mut s, &["RPUSH", "l", "a", "a"]);
        assert_eq!(run(&mut s, &["LREM", "l", "0", "a"]), ":2\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "l"]), ":0\r\n");
        run(&mut s, &["SET", "s", "v"]);
        assert_eq!(run(&mut s, &["LINSERT", "s", "before", "2", "x"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["LREM", "s", "0", "x"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["LTRIM", "s", "0", "1"]), WRONGTYPE);
        assert_eq!(
            run(&mut s, &["LTRIM", "s", "a", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
    }

    #[test]
    fn lpos_options() {
        let mut s = shard();
        run(&mut s, &["RPUSH", "l", "2", "2", "2", "x"]);
        let rank_zero = "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n";
        assert_eq!(run(&mut s, &["LPOS", "l", "2"]), ":0\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "RANK", "-1"]), ":2\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "RANK", "3"]), ":2\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "RANK", "4"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "COUNT", "0"]), "*3\r\n:0\r\n:1\r\n:2\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "COUNT", "2", "RANK", "-1"]), "*2\r\n:2\r\n:1\r\n");
        // Redis negates i64::MIN in C, where it stays negative: all matches qualify.
        assert_eq!(
            run(&mut s, &["LPOS", "l", "2", "RANK", "-9223372036854775808", "COUNT", "1"]),
            "*3\r\n:2\r\n:1\r\n:0\r\n"
        );
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "RANK", "-9223372036854775807", "COUNT", "1"]), "*0\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "RANK", "2", "COUNT", "1", "MAXLEN", "1"]), "*0\r\n");
        assert_eq!(
            run(&mut s, &["LPOS", "l", "2", "RANK", "2", "COUNT", "1", "MAXLEN", "2"]),
            "*1\r\n:1\r\n"
        );
        assert_eq!(run(&mut s, &["LPOS", "l", "x", "RANK", "-1", "MAXLEN", "1"]), ":3\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "x", "MAXLEN", "1"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "RANK", "0"]), rank_zero);
        assert_eq!(run(&mut s, &["LPOS", "nokey", "2", "RANK", "0"]), rank_zero);
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "COUNT", "abc"]), "-ERR COUNT can't be negative\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "COUNT", "-1"]), "-ERR COUNT can't be negative\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "MAXLEN", "-1"]), "-ERR MAXLEN can't be negative\r\n");
        assert_eq!(
            run(&mut s, &["LPOS", "l", "2", "RANK", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["LPOS", "l", "2", "RANK"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["LPOS", "nokey", "2", "COUNT", "0"]), "*0\r\n");
        assert_eq!(run(&mut s, &["LPOS", "nokey", "2"]), "$-1\r\n");
        run(&mut s, &["SET", "s", "v"]);
        assert_eq!(run(&mut s, &["LPOS", "s", "2"]), WRONGTYPE);
    }

    #[test]
    fn lmove_and_rpoplpush() {
        let mut s = shard();
        run(&mut s, &["SET", "s", "v"]);
        run(&mut s, &["RPUSH", "l", "a", "b", "c"]);
        assert_eq!(run(&mut s, &["LMOVE", "l", "d", "up", "left"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["LMOVE", "nokey", "d", "up", "left"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["LMOVE", "nokey", "d", "left", "left"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["LMOVE", "s", "d", "left", "left"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["LMOVE", "l", "s", "left", "left"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["LMOVE", "nokey", "s", "left", "left"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["LMOVE", "l", "d", "LEFT", "RIGHT"]), "$1\r\na\r\n");
        assert_eq!(run(&mut s, &["LMOVE", "l", "d", "right", "left"]), "$1\r\nc\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "d", "0", "-1"]), bulks(&["c", "a"]));
        assert_eq!(run(&mut s, &["LMOVE", "l", "l", "left", "right"]), "$1\r\nb\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "l", "0", "-1"]), bulks(&["b"]));
        assert_eq!(run(&mut s, &["LMOVE", "l", "d", "left", "left"]), "$1\r\nb\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "l"]), ":0\r\n");
        assert_eq!(run(&mut s, &["RPOPLPUSH", "d", "d"]), "$1\r\na\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "d", "0", "-1"]), bulks(&["a", "b", "c"]));
        assert_eq!(run(&mut s, &["RPOPLPUSH", "d", "s"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["RPOPLPUSH", "d", "e"]), "$1\r\nc\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "e", "0", "-1"]), bulks(&["c"]));
    }

    #[test]
    fn lmpop_parsing_and_replies() {
        let mut s = shard();
        run(&mut s, &["SET", "s", "v"]);
        run(&mut s, &["RPUSH", "d", "a", "c"]);
        let numkeys = "-ERR numkeys should be greater than 0\r\n";
        let count = "-ERR count should be greater than 0\r\n";
        let syntax = "-ERR syntax error\r\n";
        assert_eq!(run(&mut s, &["LMPOP", "0", "l", "left"]), numkeys);
        assert_eq!(run(&mut s, &["LMPOP", "abc", "l", "left"]), numkeys);
        assert_eq!(run(&mut s, &["LMPOP", "-1", "l", "left"]), numkeys);
        assert_eq!(run(&mut s, &["LMPOP", "2", "l", "left"]), syntax);
        assert_eq!(run(&mut s, &["LMPOP", "9223372036854775807", "l", "left"]), syntax);
        assert_eq!(
            run(&mut s, &["LMPOP", "1", "l"]),
            "-ERR wrong number of arguments for 'lmpop' command\r\n"
        );
        assert_eq!(run(&mut s, &["LMPOP", "1", "l", "middle"]), syntax);
        assert_eq!(run(&mut s, &["LMPOP", "1", "l", "left", "count"]), syntax);
        assert_eq!(run(&mut s, &["LMPOP", "1", "l", "left", "count", "0"]), count);
        assert_eq!(run(&mut s, &["LMPOP", "1", "l", "left", "count", "abc"]), count);
        assert_eq!(run(&mut s, &["LMPOP", "1", "l", "left", "count", "1", "count", "1"]), syntax);
        assert_eq!(run(&mut s, &["LMPOP", "1", "l", "left", "foo"]), syntax);
        assert_eq!(
            run(&mut s, &["LMPOP", "2", "nokey", "d", "left", "COUNT", "10"]),
            "*2\r\n$1\r\nd\r\n*2\r\n$1\r\na\r\n$1\r\nc\r\n"
        );
        assert_eq!(run(&mut s, &["LMPOP", "2", "nokey", "d", "left", "count", "10"]), "*-1\r\n");
        assert_eq!(run_proto(&mut s, 0, true, &["LMPOP", "1", "d", "left"]), "_\r\n");
        assert_eq!(run(&mut s, &["LMPOP", "2", "s", "d", "left"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["LMPOP", "2", "nokey", "s", "left"]), WRONGTYPE);
        run(&mut s, &["RPUSH", "l", "a", "b", "c", "d"]);
        assert_eq!(
            run(&mut s, &["LMPOP", "1", "l", "right", "count", "2"]),
            "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nd\r\n$1\r\nc\r\n"
        );
        assert_eq!(run(&mut s, &["LMPOP", "1", "l", "left"]), "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n");
    }

    #[test]
    fn timeouts_parse_like_redis() {
        for (arg, ms) in [
            ("0", 0),
            ("1.5", 1500),
            ("-0.0001", 0),
            ("-0", 0),
            ("0.0001", 1),
            ("0x10", 16000),
            ("1e-400", 1),
            ("9223372036854775", 9223372036854775000),
        ] {
            assert_eq!(parse_timeout(arg.as_bytes()), Ok(ms), "{arg}");
        }
        for arg in ["-1", "inf", "-inf", "1e20", "9.9e15", "9223372036854776"] {
            assert_eq!(parse_timeout(arg.as_bytes()), Err(TIMEOUT_NEGATIVE), "{arg}");
        }
        for arg in ["abc", " 1", "1 ", "nan", ""] {
            assert_eq!(parse_timeout(arg.as_bytes()), Err(TIMEOUT_NOT_FLOAT), "{arg}");
        }
    }

    #[test]
    fn blocking_pops_serve_at_once_or_block() {
        let mut s = shard();
        run(&mut s, &["SET", "s", "v"]);
        // Nothing there: block when allowed, else the timed-out reply.
        assert_eq!(
            run_blocking(&mut s, true, &["BLPOP", "a", "b", "1.5"]),
            (String::new(), Some(Block { timeout_ms: 1500, rewrite: None }))
        );
        assert_eq!(run_blocking(&mut s, false, &["BLPOP", "a", "b", "0"]), ("*-1\r\n".into(), None));
        assert_eq!(run_blocking(&mut s, false, &["BRPOP", "a", "0"]), ("*-1\r\n".into(), None));
        assert_eq!(
            run_blocking(&mut s, true, &["BLMOVE", "a", "s", "left", "left", "0"]).1,
            Some(Block { timeout_ms: 0, rewrite: None })
        );
        assert_eq!(run_blocking(&mut s, false, &["BLMOVE", "a", "b", "left", "left", "0"]).0, "$-1\r\n");
        assert_eq!(run_blocking(&mut s, false, &["BRPOPLPUSH", "a", "b", "0"]).0, "$-1\r\n");
        assert_eq!(
            run_blocking(&mut s, false, &["BLMPOP", "0", "1", "a", "left", "count", "3"]).0,
            "*-1\r\n"
        );
        assert_eq!(
            run_blocking(&mut s, true, &["BLMPOP", "2", "1", "a", "left"]).1,
            Some(Block { timeout_ms: 2000, rewrite: None })
        );
        assert_eq!(run_proto(&mut s, 0, true, &["BLPOP", "a", "0"]), "_\r\n");
        // Errors, in Redis's order of checks.
        assert_eq!(run(&mut s, &["BLPOP", "s", "0"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["BLPOP", "nokey", "s", "0"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["BRPOP", "l", "abc"]), "-ERR timeout is not a float or out of range\r\n");
        assert_eq!(run(&mut s, &["BLPOP", "l", "-1"]), "-ERR timeout is negative\r\n");
        assert_eq!(run(&mut s, &["BLMOVE", "s", "d", "left", "left", "0"]), WRONGTYPE);
        assert_eq!(run(&mut s, &["BLMOVE", "l", "d", "middle", "left", "-1"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["BLMOVE", "l", "d", "left", "left", "-1"]), "-ERR timeout is negative\r\n");
        assert_eq!(
            run(&mut s, &["BRPOPLPUSH", "s", "d", "abc"]),
            "-ERR timeout is not a float or out of range\r\n"
        );
        assert_eq!(
            run(&mut s, &["BLMPOP", "abc", "0", "l", "left"]),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            run(&mut s, &["BLMPOP", "abc", "1", "l", "left"]),
            "-ERR timeout is not a float or out of range\r\n"
        );
        assert_eq!(
            run(&mut s, &["BLMPOP", "0", "1", "l", "left", "count", "0"]),
            "-ERR count should be greater than 0\r\n"
        );
        // With data, served like the non-blocking forms, even when blocking is allowed.
        run(&mut s, &["RPUSH", "l", "a", "b", "c"]);
        assert_eq!(
            run_blocking(&mut s, true, &["BLPOP", "nokey", "l", "0"]),
            ("*2\r\n$1\r\nl\r\n$1\r\na\r\n".into(), None)
        );
        assert_eq!(run_blocking(&mut s, true, &["BRPOP", "l", "0"]).0, "*2\r\n$1\r\nl\r\n$1\r\nc\r\n");
        assert_eq!(run_blocking(&mut s, true, &["BLMOVE", "l", "s", "left", "left", "0"]).0, WRONGTYPE);
        assert_eq!(run_blocking(&mut s, true, &["BRPOPLPUSH", "l", "m", "0"]).0, "$1\r\nb\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "l"]), ":0\r\n");
        assert_eq!(
            run_blocking(&mut s, true, &["BLMPOP", "0", "1", "m", "right", "count", "5"]).0,
            "*2\r\n$1\r\nm\r\n*1\r\n$1\r\nb\r\n"
        );
    }

    #[test]
    fn only_list_creation_signals_blocked_clients() {
        let mut s = shard();
        run(&mut s, &["RPUSH", "l", "a"]);
        run(&mut s, &["RPUSH", "l", "b"]);
        run(&mut s, &["LPUSHX", "m", "b"]);
        run(&mut s, &["LMOVE", "l", "d", "left", "left"]);
        run(&mut s, &["LMOVE", "l", "d", "left", "left"]);
        let ready: Vec<&[u8]> = s.ready.iter().map(|(_, k)| k.as_slice()).collect();
        assert_eq!(ready, [&b"l"[..], b"d"]);
    }

    #[test]
    fn dirty_counts_and_watch_stamps() {
        let mut s = shard();
        run(&mut s, &["RPUSH", "l", "a", "b", "c"]);
        assert_eq!(s.dirty, 3);
        let version = |s: &mut Shard| s.db(0).version(b"l", 1_700_000_000_000);
        let v0 = version(&mut s);
        // Commands that change nothing leave the key's version alone.
        run(&mut s, &["LPOP", "l", "0"]);
        run(&mut s, &["LREM", "l", "0", "zz"]);
        run(&mut s, &["LINSERT", "l", "before", "zz", "x"]);
        run(&mut s, &["LSET", "l", "9", "x"]);
        run(&mut s, &["LPUSH", "l"]);
        assert_eq!(version(&mut s), v0);
        assert_eq!(s.dirty, 3);
        run(&mut s, &["LTRIM", "l", "0", "-1"]);
        assert_ne!(version(&mut s), v0);
        run(&mut s, &["LPOP", "l", "2"]);
        assert_eq!(s.dirty, 5);
        run(&mut s, &["LMOVE", "l", "d", "left", "left"]);
        assert_eq!(s.dirty, 6);
    }

    mod model {
        use super::*;
        use proptest::prelude::*;
        use std::collections::{HashMap, VecDeque};

        /// Elements: short ones that repeat (for LREM, LPOS, LINSERT pivots),
        /// and long ones that fill the 8 KB chunks fast.
        fn elem() -> impl Strategy<Value = String> {
            prop_oneof![
                8 => (0u8..4).prop_map(|i| format!("e{i}")),
                2 => (0usize..4, 100usize..300).prop_map(|(i, n)| format!("{i}{}", "x".repeat(n))),
                1 => (0usize..2, 4000usize..9000).prop_map(|(i, n)| format!("{i}{}", "y".repeat(n))),
            ]
        }

        fn key() -> impl Strategy<Value = String> {
            (0u8..3).prop_map(|i| format!("k{i}"))
        }

        fn side() -> impl Strategy<Value = &'static str> {
            prop_oneof![Just("LEFT"), Just("RIGHT")]
        }

        #[derive(Clone, Debug)]
        enum Op {
            Push(&'static str, String, Vec<String>),
            Pop(&'static str, String, Option<i64>),
            Range(String, i64, i64),
            Index(String, i64),
            Set(String, i64, String),
            Insert(String, bool, String, String),
            Rem(String, i64, String),
            Trim(String, i64, i64),
            Move(String, String, &'static str, &'static str),
            Pos(String, String, i64),
        }

        fn index() -> impl Strategy<Value = i64> {
            prop_oneof![8 => -30i64..30, 1 => Just(i64::MIN), 1 => Just(i64::MAX)]
        }

        fn op() -> impl Strategy<Value = Op> {
            let push = prop_oneof![Just("LPUSH"), Just("RPUSH"), Just("LPUSHX"), Just("RPUSHX")];
            let pop = prop_oneof![Just("LPOP"), Just("RPOP")];
            prop_oneof![
                6 => (push, key(), proptest::collection::vec(elem(), 1..12)).prop_map(|(c, k, v)| Op::Push(c, k, v)),
                2 => (pop, key(), proptest::option::of(0i64..8)).prop_map(|(c, k, n)| Op::Pop(c, k, n)),
                2 => (key(), index(), index()).prop_map(|(k, a, b)| Op::Range(k, a, b)),
                1 => (key(), index()).prop_map(|(k, i)| Op::Index(k, i)),
                1 => (key(), index(), elem()).prop_map(|(k, i, v)| Op::Set(k, i, v)),
                1 => (key(), any::<bool>(), elem(), elem()).prop_map(|(k, a, p, v)| Op::Insert(k, a, p, v)),
                1 => (key(), -3i64..4, elem()).prop_map(|(k, n, v)| Op::Rem(k, n, v)),
                1 => (key(), index(), index()).prop_map(|(k, a, b)| Op::Trim(k, a, b)),
                2 => (key(), key(), side(), side()).prop_map(|(a, b, f, t)| Op::Move(a, b, f, t)),
                1 => (key(), elem(), prop_oneof![-3i64..0, 1i64..4]).prop_map(|(k, v, r)| Op::Pos(k, v, r)),
            ]
        }

        fn bulk(v: &str) -> String {
            format!("${}\r\n{v}\r\n", v.len())
        }

        fn array<'a>(items: impl ExactSizeIterator<Item = &'a String>) -> String {
            let mut s = format!("*{}\r\n", items.len());
            for i in items {
                s += &bulk(i);
            }
            s
        }

        /// Redis's index rules on a list of `len`.
        fn at(i: i64, len: usize) -> Option<usize> {
            let len = len as i64;
            let i = if i < 0 { len.checked_add(i)? } else { i };
            (0..len).contains(&i).then_some(i as usize)
        }

        fn span(a: i64, b: i64, len: usize) -> Option<(usize, usize)> {
            let n = len as i64;
            let a = if a < 0 { (n + a).max(0) } else { a };
            let b = if b < 0 { n + b } else { b.min(n - 1) };
            (a <= b && a < n).then_some((a as usize, b as usize))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(150))]
            /// List commands against a map of `VecDeque`s, reply for reply.
            #[test]
            fn commands_match_a_vecdeque_model(ops in proptest::collection::vec(op(), 1..80)) {
                let mut s = shard();
                let mut m: HashMap<String, VecDeque<String>> = HashMap::new();
                for op in ops {
                    let (argv, want): (Vec<String>, String) = match op {
                        Op::Push(cmd, k, vals) => {
                            let mut argv = vec![cmd.to_string(), k.clone()];
                            argv.extend(vals.iter().cloned());
                            let want = if cmd.ends_with('X') && !m.contains_key(&k) {
                                ":0\r\n".to_string()
                            } else {
                                let l = m.entry(k).or_default();
                                for v in vals {
                                    if cmd.starts_with('L') { l.push_front(v) } else { l.push_back(v) }
                                }
                                format!(":{}\r\n", l.len())
                            };
                            (argv, want)
                        }
                        Op::Pop(cmd, k, n) => {
                            let mut argv = vec![cmd.to_string(), k.clone()];
                            argv.extend(n.map(|n| n.to_string()));
                            let want = match (m.get_mut(&k), n) {
                                (None, None) => "$-1\r\n".to_string(),
                                (None, Some(_)) => "*-1\r\n".to_string(),
                                (Some(l), n) => {
                                    let take = n.unwrap_or(1) as usize;
                                    let mut got = Vec::new();
                                    for _ in 0..take.min(l.len()) {
                                        got.extend(if cmd == "LPOP" { l.pop_front() } else { l.pop_back() });
                                    }
                                    if l.is_empty() {
                                        m.remove(&k);
                                    }
                                    match n {
                                        None => bulk(&got[0]),
                                        Some(_) => array(got.iter()),
                                    }
                                }
                            };
                            (argv, want)
                        }
                        Op::Range(k, a, b) => {
                            let want = match m.get(&k).and_then(|l| span(a, b, l.len()).map(|r| (l, r))) {
                                Some((l, (a, b))) => array(l.range(a..=b)),
                                None => "*0\r\n".to_string(),
                            };
                            (vec!["LRANGE".into(), k, a.to_string(), b.to_string()], want)
                        }
                        Op::Index(k, i) => {
                            let want = match m.get(&k).and_then(|l| at(i, l.len()).map(|i| &l[i])) {
                                Some(v) => bulk(v),
                                None => "$-1\r\n".to_string(),
                            };
                            (vec!["LINDEX".into(), k, i.to_string()], want)
                        }
                        Op::Set(k, i, v) => {
                            let want = match m.get_mut(&k) {
                                None => "-ERR no such key\r\n".to_string(),
                                Some(l) => match at(i, l.len()) {
                                    Some(i) => {
                                        l[i] = v.clone();
                                        "+OK\r\n".to_string()
                                    }
                                    None => "-ERR index out of range\r\n".to_string(),
                                },
                            };
                            (vec!["LSET".into(), k, i.to_string(), v], want)
                        }
                        Op::Insert(k, after, pivot, v) => {
                            let want = match m.get_mut(&k) {
                                None => ":0\r\n".to_string(),
                                Some(l) => match l.iter().position(|e| *e == pivot) {
                                    None => ":-1\r\n".to_string(),
                                    Some(p) => {
                                        l.insert(if after { p + 1 } else { p }, v.clone());
                                        format!(":{}\r\n", l.len())
                                    }
                                },
                            };
                            let place = if after { "AFTER" } else { "BEFORE" };
                            (vec!["LINSERT".into(), k, place.into(), pivot, v], want)
                        }
                        Op::Rem(k, n, v) => {
                            let mut removed = 0;
                            if let Some(l) = m.get_mut(&k) {
                                let limit = if n == 0 { usize::MAX } else { n.unsigned_abs() as usize };
                                let mut keep: Vec<String> = Vec::new();
                                let items: Vec<String> = if n < 0 { l.drain(..).rev().collect() } else { l.drain(..).collect() };
                                for e in items {
                                    if removed < limit && e == v { removed += 1 } else { keep.push(e) }
                                }
                                if n < 0 {
                                    keep.reverse();
                                }
                                l.extend(keep);
                                if l.is_empty() {
                                    m.remove(&k);
                                }
                            }
                            (vec!["LREM".into(), k, n.to_string(), v], format!(":{removed}\r\n"))
                        }
                        Op::Trim(k, a, b) => {
                            if let Some(l) = m.get_mut(&k) {
                                match span(a, b, l.len()) {
                                    Some((a, b)) => {
                                        l.truncate(b + 1);
                                        l.drain(..a);
                                    }
                                    None => l.clear(),
                                }
                                if l.is_empty() {
                                    m.remove(&k);
                                }
                            }
                            (vec!["LTRIM".into(), k, a.to_string(), b.to_string()], "+OK\r\n".into())
                        }
                        Op::Move(src, dst, from, to) => {
                            let v = m.get_mut(&src).and_then(|l| if from == "LEFT" { l.pop_front() } else { l.pop_back() });
                            if m.get(&src).is_some_and(VecDeque::is_empty) {
                                m.remove(&src);
                            }
                            let want = match v {
                                None => "$-1\r\n".to_string(),
                                Some(v) => {
                                    let l = m.entry(dst.clone()).or_default();
                                    if to == "LEFT" { l.push_front(v.clone()) } else { l.push_back(v.clone()) }
                                    bulk(&v)
                                }
                            };
                            (vec!["LMOVE".into(), src, dst, from.into(), to.into()], want)
                        }
                        Op::Pos(k, v, rank) => {
                            let want = match m.get(&k) {
                                None => "$-1\r\n".to_string(),
                                Some(l) => {
                                    let hits: Vec<usize> = if rank > 0 {
                                        l.iter().enumerate().filter(|e| *e.1 == v).map(|e| e.0).collect()
                                    } else {
                                        l.iter().enumerate().rev().filter(|e| *e.1 == v).map(|e| e.0).collect()
                                    };
                                    match hits.get(rank.unsigned_abs() as usize - 1) {
                                        Some(i) => format!(":{i}\r\n"),
                                        None => "$-1\r\n".to_string(),
                                    }
                                }
                            };
                            (vec!["LPOS".into(), k, v, "RANK".into(), rank.to_string()], want)
                        }
                    };
                    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
                    prop_assert_eq!(run(&mut s, &args), want, "{:?}", &args[..2]);
                    for (k, l) in &m {
                        prop_assert_eq!(run(&mut s, &["LLEN", k]), format!(":{}\r\n", l.len()));
                    }
                    let keys = s.db(0).len();
                    prop_assert_eq!(keys, m.len());
                }
                for (k, l) in &m {
                    prop_assert_eq!(run(&mut s, &["LRANGE", k, "0", "-1"]), array(l.iter()));
                }
            }
        }
    }

    #[test]
    fn large_lists_through_commands() {
        let mut s = shard();
        let values: Vec<String> = (0..3000).map(|i| format!("value-{i}-{}", "x".repeat(i % 50))).collect();
        for v in &values {
            run(&mut s, &["RPUSH", "big", v]);
        }
        assert_eq!(
            run(&mut s, &["LINDEX", "big", "1500"]),
            format!("${}\r\n{}\r\n", values[1500].len(), values[1500])
        );
        let mid: Vec<&str> = values[1000..1100].iter().map(|s| s.as_str()).collect();
        assert_eq!(run(&mut s, &["LRANGE", "big", "1000", "1099"]), bulks(&mid));
        assert_eq!(run(&mut s, &["LSET", "big", "1500", "changed"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["LINDEX", "big", "-1500"]), "$7\r\nchanged\r\n");
        assert_eq!(run(&mut s, &["LPOS", "big", "changed"]), ":1500\r\n");
        assert_eq!(run(&mut s, &["LTRIM", "big", "1000", "1999"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["LLEN", "big"]), ":1000\r\n");
        assert_eq!(run(&mut s, &["LINDEX", "big", "500"]), "$7\r\nchanged\r\n");
    }
}
