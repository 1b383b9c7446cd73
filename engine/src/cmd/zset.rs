//! Sorted set commands.
//!
//! Lookups follow Redis's split: the read commands count a keyspace hit or
//! miss (`Db::read`); the write commands do not, and look at the key with
//! `Db::peek` first whenever they may end up changing nothing (ZADD XX of an
//! absent member, ZREM of non-members, an empty ZREMRANGEBYSCORE), so that a
//! WATCHing client only sees real changes. The multi-key commands (ZUNIONSTORE,
//! ZRANGESTORE, ZMPOP...) find every key on this shard: the server gathers them.
//!
//! Numbers are read as Redis reads them. Scores given to ZADD (and weights)
//! go through `strtod` over the whole argument with Redis's `string2d` checks:
//! no leading space, no NaN, no overflow to infinity and no underflow to zero
//! from a non-zero number, hexadecimal accepted. Range bounds (`(1.5`, `-inf`)
//! go through plain `strtod`, which is more lenient: leading spaces, an empty
//! bound (zero), and anything after a NUL byte is ignored.
//!
//! Ranges are worked out as ranks: where a range starts is the count of
//! members before it, found with one descent of the skiplist, so ZCOUNT,
//! ZRANGEBYSCORE with LIMIT and ZREMRANGEBYSCORE cost O(log n) plus what they
//! return or remove.

use crate::cmd::hash::{check_reply_size, distinct_positions, parse_cursor, parse_scan_opts, with_rng};
use crate::command::key_at;
use crate::command::{
    eq_ic, flags::*, numkeys_at, numkeys_at_1, numkeys_at_2, Command, Group, KeySpec, Keys, Run,
};
use crate::error::{CmdError, CmdResult, NOT_FLOAT, NOT_INTEGER, SYNTAX};
use crate::keyspace::{Db, Rng};
use crate::num;
use crate::reply::Reply;
use crate::shard::Ctx;
use crate::types::set::Set;
use crate::types::zset::{cmp_entry, Limits, ZSet};
use crate::value::Value;
use std::cmp::Ordering;

const NAN_SCORE: CmdError = CmdError::new("ERR resulting score is not a number (NaN)");
const XX_AND_NX: CmdError = CmdError::new("ERR XX and NX options at the same time are not compatible");
const GT_LT_NX: CmdError = CmdError::new("ERR GT, LT, and/or NX options at the same time are not compatible");
const INCR_ONE_PAIR: CmdError = CmdError::new("ERR INCR option supports a single increment-element pair");
const RANGE_NOT_FLOAT: CmdError = CmdError::new("ERR min or max is not a float");
const LEX_RANGE: CmdError = CmdError::new("ERR min or max not valid string range item");
const LIMIT_NEEDS_BY: CmdError =
    CmdError::new("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
const WITHSCORES_BYLEX: CmdError =
    CmdError::new("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
const NOT_POSITIVE: CmdError = CmdError::new("ERR value is out of range, must be positive");
const NUMKEYS_POSITIVE: CmdError = CmdError::new("ERR numkeys should be greater than 0");
const COUNT_POSITIVE: CmdError = CmdError::new("ERR count should be greater than 0");
const WEIGHT_NOT_FLOAT: CmdError = CmdError::new("ERR weight value is not a float");
const LIMIT_NEGATIVE: CmdError = CmdError::new("ERR LIMIT can't be negative");
const OUT_OF_RANGE: CmdError = CmdError::new("ERR value is out of range");

const ZSET: Command = Command { group: Group::SortedSet, keys: Keys::ONE, ..Command::DEFAULT };

/// Where a range-reading command's cost is stated in the JSON files.
const RANGE_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";

pub static COMMANDS: &[Command] = &[
    Command {
        name: "zadd",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        since: "1.2.0",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        summary: "Adds members to a sorted set or updates their scores, creating the key if needed.",
        key_specs: &[key_at(1, "RW UPDATE")],
        run: Run::Shard(zadd),
        ..ZSET
    },
    Command {
        name: "zincrby",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        since: "1.2.0",
        complexity: "O(log(N)) where N is the number of elements in the sorted set.",
        summary: "Adds a number to the score of a member of a sorted set.",
        key_specs: &[key_at(1, "RW ACCESS UPDATE")],
        run: Run::Shard(zincrby),
        ..ZSET
    },
    Command {
        name: "zrem",
        arity: -3,
        flags: WRITE | FAST,
        since: "1.2.0",
        complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        summary: "Removes members from a sorted set, and the key with its last member.",
        key_specs: &[key_at(1, "RW DELETE")],
        run: Run::Shard(zrem),
        ..ZSET
    },
    Command {
        name: "zscore",
        arity: 3,
        flags: READONLY | FAST,
        since: "1.2.0",
        summary: "Returns the score of a member of a sorted set.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zscore),
        ..ZSET
    },
    Command {
        name: "zmscore",
        arity: -3,
        flags: READONLY | FAST,
        since: "6.2.0",
        complexity: "O(N) where N is the number of members being requested.",
        summary: "Returns the scores of several members of a sorted set.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zmscore),
        ..ZSET
    },
    Command {
        name: "zcard",
        arity: 2,
        flags: READONLY | FAST,
        since: "1.2.0",
        summary: "Returns how many members a sorted set has.",
        key_specs: &[key_at(1, "RO")],
        run: Run::Shard(zcard),
        ..ZSET
    },
    Command {
        name: "zcount",
        arity: 4,
        flags: READONLY | FAST,
        since: "2.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Counts the members of a sorted set whose scores are in a range.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zcount),
        ..ZSET
    },
    Command {
        name: "zlexcount",
        arity: 4,
        flags: READONLY | FAST,
        since: "2.8.9",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Counts the members of a sorted set in a lexicographical range.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zlexcount),
        ..ZSET
    },
    Command {
        name: "zrank",
        arity: 3,
        flags: READONLY | FAST,
        since: "2.0.0",
        complexity: "O(log(N))",
        summary: "Returns the position of a member in a sorted set, lowest score first.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zrank),
        ..ZSET
    },
    Command {
        name: "zrevrank",
        arity: 3,
        flags: READONLY | FAST,
        since: "2.0.0",
        complexity: "O(log(N))",
        summary: "Returns the position of a member in a sorted set, highest score first.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zrevrank),
        ..ZSET
    },
    Command {
        name: "zrange",
        arity: -4,
        flags: READONLY,
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        summary: "Returns members of a sorted set by rank, score or lexicographical range.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zrange),
        ..ZSET
    },
    Command {
        name: "zrangestore",
        arity: -5,
        flags: WRITE | DENYOOM,
        keys: Keys::TWO,
        since: "6.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
        summary: "Stores a range of a sorted set in another key.",
        key_specs: &[key_at(1, "OW UPDATE"), key_at(2, "RO ACCESS")],
        run: Run::Shard(zrangestore),
        ..ZSET
    },
    Command {
        name: "zrevrange",
        arity: -4,
        flags: READONLY,
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        summary: "Returns members of a sorted set by rank, highest score first.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zrevrange),
        ..ZSET
    },
    Command {
        name: "zrangebyscore",
        arity: -4,
        flags: READONLY,
        since: "1.0.5",
        complexity: RANGE_COMPLEXITY,
        summary: "Returns members of a sorted set whose scores are in a range.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zrangebyscore),
        ..ZSET
    },
    Command {
        name: "zrevrangebyscore",
        arity: -4,
        flags: READONLY,
        since: "2.2.0",
        complexity: RANGE_COMPLEXITY,
        summary: "Returns members of a sorted set whose scores are in a range, highest first.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zrevrangebyscore),
        ..ZSET
    },
    Command {
        name: "zrangebylex",
        arity: -4,
        flags: READONLY,
        since: "2.8.9",
        complexity: RANGE_COMPLEXITY,
        summary: "Returns members of a sorted set in a lexicographical range.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zrangebylex),
        ..ZSET
    },
    Command {
        name: "zrevrangebylex",
        arity: -4,
        flags: READONLY,
        since: "2.8.9",
        complexity: RANGE_COMPLEXITY,
        summary: "Returns members of a sorted set in a lexicographical range, in reverse order.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zrevrangebylex),
        ..ZSET
    },
    Command {
        name: "zpopmin",
        arity: -2,
        flags: WRITE | FAST,
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        summary: "Removes and returns the lowest-scored members of a sorted set.",
        key_specs: &[key_at(1, "RW ACCESS DELETE")],
        run: Run::Shard(zpopmin),
        ..ZSET
    },
    Command {
        name: "zpopmax",
        arity: -2,
        flags: WRITE | FAST,
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        summary: "Removes and returns the highest-scored members of a sorted set.",
        key_specs: &[key_at(1, "RW ACCESS DELETE")],
        run: Run::Shard(zpopmax),
        ..ZSET
    },
    Command {
        name: "zmpop",
        arity: -4,
        flags: WRITE | MOVABLE_KEYS,
        keys: Keys::NONE,
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        summary: "Removes and returns the lowest or highest members of the first non-empty sorted set.",
        key_specs: &[key_at(1, "RW ACCESS DELETE")],
        key_finder: Some(numkeys_at_1),
        run: Run::Shard(zmpop),
        ..ZSET
    },
    Command {
        name: "bzpopmin",
        arity: -3,
        flags: WRITE | NOSCRIPT | FAST | BLOCKING,
        keys: Keys { first: 1, last: -2, step: 1 },
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Removes and returns the lowest-scored member of the first non-empty sorted set, or waits for one.",
        key_specs: &[KeySpec { begin: 1, last: -2, step: 1, flags: "RW ACCESS DELETE" }],
        run: Run::Shard(bzpopmin),
        ..ZSET
    },
    Command {
        name: "bzpopmax",
        arity: -3,
        flags: WRITE | NOSCRIPT | FAST | BLOCKING,
        keys: Keys { first: 1, last: -2, step: 1 },
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Removes and returns the highest-scored member of the first non-empty sorted set, or waits for one.",
        key_specs: &[KeySpec { begin: 1, last: -2, step: 1, flags: "RW ACCESS DELETE" }],
        run: Run::Shard(bzpopmax),
        ..ZSET
    },
    Command {
        name: "bzmpop",
        arity: -5,
        flags: WRITE | BLOCKING | MOVABLE_KEYS,
        keys: Keys::NONE,
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        summary: "Removes and returns members of the first non-empty sorted set, or waits for one.",
        key_specs: &[key_at(2, "RW ACCESS DELETE")],
        key_finder: Some(numkeys_at_2),
        run: Run::Shard(bzmpop),
        ..ZSET
    },
    Command {
        name: "zrandmember",
        arity: -2,
        flags: READONLY,
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements returned",
        summary: "Returns random members of a sorted set.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zrandmember),
        ..ZSET
    },
    Command {
        name: "zunion",
        arity: -3,
        flags: READONLY | MOVABLE_KEYS,
        keys: Keys::NONE,
        since: "6.2.0",
        complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        summary: "Returns the union of sorted sets.",
        key_specs: &[key_at(1, "RO ACCESS")],
        key_finder: Some(numkeys_at_1),
        run: Run::Shard(zunion),
        ..ZSET
    },
    Command {
        name: "zinter",
        arity: -3,
        flags: READONLY | MOVABLE_KEYS,
        keys: Keys::NONE,
        since: "6.2.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        summary: "Returns the intersection of sorted sets.",
        key_specs: &[key_at(1, "RO ACCESS")],
        key_finder: Some(numkeys_at_1),
        run: Run::Shard(zinter),
        ..ZSET
    },
    Command {
        name: "zdiff",
        arity: -3,
        flags: READONLY | MOVABLE_KEYS,
        keys: Keys::NONE,
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        summary: "Returns the members of the first sorted set that are in none of the others.",
        key_specs: &[key_at(1, "RO ACCESS")],
        key_finder: Some(numkeys_at_1),
        run: Run::Shard(zdiff),
        ..ZSET
    },
    Command {
        name: "zunionstore",
        arity: -4,
        flags: WRITE | DENYOOM | MOVABLE_KEYS,
        since: "2.0.0",
        complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        summary: "Stores the union of sorted sets in a key.",
        key_specs: &[key_at(1, "OW UPDATE"), key_at(2, "RO ACCESS")],
        key_finder: Some(store_keys),
        run: Run::Shard(zunionstore),
        ..ZSET
    },
    Command {
        name: "zinterstore",
        arity: -4,
        flags: WRITE | DENYOOM | MOVABLE_KEYS,
        since: "2.0.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        summary: "Stores the intersection of sorted sets in a key.",
        key_specs: &[key_at(1, "OW UPDATE"), key_at(2, "RO ACCESS")],
        key_finder: Some(store_keys),
        run: Run::Shard(zinterstore),
        ..ZSET
    },
    Command {
        name: "zdiffstore",
        arity: -4,
        flags: WRITE | DENYOOM | MOVABLE_KEYS,
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        summary: "Stores the difference of sorted sets in a key.",
        key_specs: &[key_at(1, "OW UPDATE"), key_at(2, "RO ACCESS")],
        key_finder: Some(store_keys),
        run: Run::Shard(zdiffstore),
        ..ZSET
    },
    Command {
        name: "zintercard",
        arity: -3,
        flags: READONLY | MOVABLE_KEYS,
        keys: Keys::NONE,
        since: "7.0.0",
        complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        summary: "Counts the members of the intersection of sorted sets.",
        key_specs: &[key_at(1, "RO ACCESS")],
        key_finder: Some(numkeys_at_1),
        run: Run::Shard(zintercard),
        ..ZSET
    },
    Command {
        name: "zremrangebyrank",
        arity: 4,
        flags: WRITE,
        since: "2.0.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        summary: "Removes the members of a sorted set in a range of ranks.",
        key_specs: &[key_at(1, "RW DELETE")],
        run: Run::Shard(zremrangebyrank),
        ..ZSET
    },
    Command {
        name: "zremrangebyscore",
        arity: 4,
        flags: WRITE,
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        summary: "Removes the members of a sorted set whose scores are in a range.",
        key_specs: &[key_at(1, "RW DELETE")],
        run: Run::Shard(zremrangebyscore),
        ..ZSET
    },
    Command {
        name: "zremrangebylex",
        arity: 4,
        flags: WRITE,
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        summary: "Removes the members of a sorted set in a lexicographical range.",
        key_specs: &[key_at(1, "RW DELETE")],
        run: Run::Shard(zremrangebylex),
        ..ZSET
    },
    Command {
        name: "zscan",
        arity: -3,
        flags: READONLY,
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        summary: "Walks the members and scores of a sorted set a few at a time with a cursor.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(zscan),
        ..ZSET
    },
];

/// Key finder for `cmd destination numkeys key [key ...] ...`.
fn store_keys(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = vec![1];
    keys.extend(numkeys_at(argv, 2));
    keys
}

// ---------------------------------------------------------------------------
// Numbers as Redis reads them.

/// C's `strtod` over `s` (as far as it goes): the value, how many bytes it
/// read (0 when nothing converts), and whether it overflowed to infinity or
/// underflowed to zero from non-zero digits (`errno == ERANGE` with such a
/// result).
pub(crate) fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let none = (0.0, 0, false);
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let starts = |p: &[u8]| rest.len() >= p.len() && rest[..p.len()].eq_ignore_ascii_case(p);
    if starts(b"inf") {
        let n = if starts(b"infinity") { 8 } else { 3 };
        return (sign * f64::INFINITY, i + n, false);
    }
    if starts(b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            let close = rest[4..].iter().position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
            if let Some(p) = close {
                if rest[4 + p] == b')' {
                    n = 4 + p + 1;
                }
            }
        }
        return (f64::NAN, i + n, false);
    }
    let hex = rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x';
    let digit = |c: u8| if hex { c.is_ascii_hexdigit() } else { c.is_ascii_digit() };
    let mut j = if hex { 2 } else { 0 };
    let mant_start = j;
    let mut digits = 0;
    let mut nonzero = false;
    while j < rest.len() && digit(rest[j]) {
        nonzero |= rest[j] != b'0';
        digits += 1;
        j += 1;
    }
    if j < rest.len() && rest[j] == b'.' {
        j += 1;
        while j < rest.len() && digit(rest[j]) {
            nonzero |= rest[j] != b'0';
            digits += 1;
            j += 1;
        }
    }
    if digits == 0 {
        // "0x" with no hex digit after it reads as the 0 before the x.
        return if hex { (0.0 * sign, i + 1, false) } else { none };
    }
    let mant_end = j;
    let exp_mark = if hex { b'p' } else { b'e' };
    let mut exp: Option<(usize, usize)> = None;
    if j < rest.len() && (rest[j] | 0x20) == exp_mark {
        let mut k = j + 1;
        if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
            k += 1;
        }
        let ds = k;
        while k < rest.len() && rest[k].is_ascii_digit() {
            k += 1;
        }
        if k > ds {
            exp = Some((j + 1, k));
            j = k;
        }
    }
    // Only ASCII from here on.
    let mut text = String::with_capacity(j + 8);
    if neg {
        text.push('-');
    }
    let value = if hex {
        use rustc_apfloat::ieee::Double;
        use rustc_apfloat::{Float, Round};
        text.push_str("0x");
        text.extend(rest[mant_start..mant_end].iter().map(|&c| c as char));
        text.push('p');
        match exp {
            Some((a, b)) => text.extend(rest[a..b].iter().map(|&c| c as char)),
            None => text.push('0'),
        }
        match Double::from_str_r(&text, Round::NearestTiesToEven) {
            Ok(v) => f64::from_bits(v.value.to_bits() as u64),
            Err(_) => return none,
        }
    } else {
        text.extend(rest[..j].iter().map(|&c| c as char));
        match text.parse::<f64>() {
            Ok(v) => v,
            Err(_) => return none,
        }
    };
    let erange = value.is_infinite() || (value == 0.0 && nonzero);
    (value, i + j, erange)
}

/// A score, weight or coordinate argument, as Redis's `getDoubleFromObject`
/// (`string2d`) reads it.
pub(crate) fn parse_score(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || matches!(arg[0], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        return None;
    }
    let (v, used, erange) = strtod(arg);
    (used == arg.len() && !erange && !v.is_nan()).then_some(v)
}

/// One end of a score range as `strtod` reads it from a C string: up to
/// the first NUL, leading space allowed, nothing after the number.
fn parse_bound_value(s: &[u8]) -> Option<f64> {
    let s = match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    };
    let (v, used, _) = strtod(s);
    (used == s.len() && !v.is_nan()).then_some(v)
}

/// A score range, as ZRANGEBYSCORE and friends take it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let bound = |b: &[u8]| -> Option<(f64, bool)> {
            match b.first() {
                Some(b'(') => parse_bound_value(&b[1..]).map(|v| (v, true)),
                _ => parse_bound_value(b).map(|v| (v, false)),
            }
        };
        let (min, minex) = bound(min).ok_or(RANGE_NOT_FLOAT)?;
        let (max, maxex) = bound(max).ok_or(RANGE_NOT_FLOAT)?;
        Ok(ScoreRange { min, max, minex, maxex })
    }

    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographical range: `-`, `+`, `(member` or `[member`.
#[derive(Clone, Debug, PartialEq)]
enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

impl LexBound {
    fn parse(b: &[u8]) -> Option<LexBound> {
        // A C string: `+` followed by a NUL is still just `+`.
        let alone = b.len() == 1 || b.get(1) == Some(&0);
        match b.first() {
            Some(b'+') if alone => Some(LexBound::Max),
            Some(b'-') if alone => Some(LexBound::Min),
            Some(b'(') => Some(LexBound::Excl(b[1..].to_vec())),
            Some(b'[') => Some(LexBound::Incl(b[1..].to_vec())),
            _ => None,
        }
    }

    fn text(&self) -> Option<&[u8]> {
        match self {
            LexBound::Incl(v) | LexBound::Excl(v) => Some(v),
            _ => None,
        }
    }

    /// `-` and `+` count as exclusive, as in Redis.
    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }
}

/// Redis's `sdscmplex`: bytes compared as `memcmp` then length, `-` below
/// everything and `+` above.
fn cmp_lex(a: &LexBound, b: &LexBound) -> Ordering {
    match (a, b) {
        (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
        (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
        (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
        _ => a.text().cmp(&b.text()),
    }
}

fn cmp_member(m: &[u8], b: &LexBound) -> Ordering {
    match b {
        LexBound::Min => Ordering::Greater,
        LexBound::Max => Ordering::Less,
        LexBound::Incl(v) | LexBound::Excl(v) => m.cmp(v),
    }
}

#[derive(Clone, Debug)]
struct LexRange {
    min: LexBound,
    max: LexBound,
}

impl LexRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
        match (LexBound::parse(min), LexBound::parse(max)) {
            (Some(min), Some(max)) => Ok(LexRange { min, max }),
            _ => Err(LEX_RANGE),
        }
    }

    fn gte_min(&self, m: &[u8]) -> bool {
        let c = cmp_member(m, &self.min);
        if self.min.exclusive() {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    fn lte_max(&self, m: &[u8]) -> bool {
        let c = cmp_member(m, &self.max);
        if self.max.exclusive() {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    fn is_empty(&self) -> bool {
        let c = cmp_lex(&self.min, &self.max);
        c == Ordering::Greater || (c == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }
}

/// A score or lexicographical range, for the code both kinds share.
enum Range {
    Score(ScoreRange),
    Lex(LexRange),
}

impl Range {
    fn gte_min(&self, s: f64, m: &[u8]) -> bool {
        match self {
            Range::Score(r) => r.gte_min(s),
            Range::Lex(r) => r.gte_min(m),
        }
    }

    fn lte_max(&self, s: f64, m: &[u8]) -> bool {
        match self {
            Range::Score(r) => r.lte_max(s),
            Range::Lex(r) => r.lte_max(m),
        }
    }

    /// Redis's `zslIsInRange`/`zslIsInLexRange`: the range is not empty and
    /// overlaps the set's span.
    fn overlaps(&self, z: &ZSet) -> bool {
        let empty = match self {
            Range::Score(r) => r.is_empty(),
            Range::Lex(r) => r.is_empty(),
        };
        if empty || z.is_empty() {
            return false;
        }
        let (Some((lm, ls)), Some((fm, fs))) = (z.at(z.len() - 1), z.at(0)) else {
            return false;
        };
        self.gte_min(ls, lm) && self.lte_max(fs, fm)
    }

    /// The rank of the first member in the range.
    fn first_in(&self, z: &ZSet) -> Option<usize> {
        if !self.overlaps(z) {
            return None;
        }
        let r = z.count_while(|s, m| !self.gte_min(s, m));
        let (m, s) = z.at(r)?;
        self.lte_max(s, m).then_some(r)
    }

    /// The rank of the last member in the range. The compact encoding looks
    /// from the highest member down, as Redis's listpack code does.
    fn last_in(&self, z: &ZSet) -> Option<usize> {
        if !self.overlaps(z) {
            return None;
        }
        let r = if z.is_compact() {
            let above = z.iter_from(z.len() - 1, true).take_while(|(m, s)| !self.lte_max(*s, m)).count();
            (z.len() - 1).checked_sub(above)?
        } else {
            z.count_while(|s, m| self.lte_max(s, m)).checked_sub(1)?
        };
        let (m, s) = z.at(r)?;
        self.gte_min(s, m).then_some(r)
    }

    /// How many members are in the range: a scan from the first for the
    /// compact encoding, the difference of two ranks for a skiplist.
    fn count(&self, z: &ZSet) -> usize {
        let Some(first) = self.first_in(z) else {
            return 0;
        };
        if z.is_compact() {
            z.iter_from(first, false).take_while(|(m, s)| self.lte_max(*s, m)).count()
        } else {
            self.last_in(z).map_or(0, |last| last + 1 - first)
        }
    }
}

// ---------------------------------------------------------------------------
// Lookups.

pub(crate) fn limits(ctx: &Ctx<'_>) -> Limits {
    Limits {
        entries: ctx.shard.config.zset_max_listpack_entries,
        value: ctx.shard.config.zset_max_listpack_value,
    }
}

/// A read lookup (counts a hit or miss); WRONGTYPE for another type.
pub(crate) fn read<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a ZSet>, CmdError> {
    match db.read(key, now) {
        None => Ok(None),
        Some(v) => v.zset().map(Some),
    }
}

/// A write lookup that does not stamp the key.
pub(crate) fn peek<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a ZSet>, CmdError> {
    match db.peek(key, now) {
        None => Ok(None),
        Some(e) => e.value().zset().map(Some),
    }
}

/// The sorted set at `key` for writing; only after `peek` found one.
fn write<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Option<&'a mut ZSet> {
    db.write(key, now).and_then(|v| v.zset_mut().ok())
}

/// The value at `key` found without touching the keyspace's state, for keys
/// a read lookup of this command already visited (and so already freed if
/// expired).
fn value_ref<'a>(db: &'a Db, key: &[u8]) -> Option<&'a Value> {
    let (slot, hash) = db.locate(key);
    let table = db.slot(slot)?;
    let i = table.find(hash, key)?;
    Some(table.at(i).value())
}

fn delete_if_empty(db: &mut Db, key: &[u8], now: u64) {
    if db.peek(key, now).is_some_and(|e| matches!(e.value(), Value::ZSet(z) if z.is_empty())) {
        db.remove(key, now);
    }
}

/// Stores a command's result at `dst`, or deletes `dst` when the result is
/// empty, as Redis's STORE variants do; replies with the result's size.
pub(crate) fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], entries: Vec<(Vec<u8>, f64)>, dirty: u64) {
    let now = ctx.now;
    let n = entries.len();
    if n > 0 {
        let z = ZSet::from_entries(entries, limits(ctx));
        ctx.db().set(dst, Value::ZSet(Box::new(z)), 0, false, now);
        ctx.dirty(dirty);
        ctx.signal_ready(dst);
    } else if ctx.db().remove(dst, now).is_some() {
        ctx.dirty(1);
    }
    ctx.out.int(n as i64);
}

/// A member and its score, as the range commands reply them: the member
/// alone, or with its score (one flat array in RESP2, pairs in RESP3).
fn reply_entries<'a>(
    out: &mut Reply<'_>,
    items: impl ExactSizeIterator<Item = (&'a [u8], f64)>,
    withscores: bool,
) {
    let n = items.len();
    out.array(if withscores && !out.resp3() { n * 2 } else { n });
    for (m, s) in items {
        if withscores && out.resp3() {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    }
}

// ---------------------------------------------------------------------------
// ZADD and ZINCRBY.

/// ZADD's options.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ZaddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
    pub ch: bool,
}

/// What one score-member pair does to a set where the member's score is `cur`.
enum Outcome {
    Nop,
    Added(f64),
    Updated(f64),
    /// Processed, but the score stays as it was.
    Same(f64),
    Nan,
}

fn outcome(cur: Option<f64>, score: f64, f: ZaddFlags) -> Outcome {
    match cur {
        Some(cur) => {
            if f.nx {
                return Outcome::Nop;
            }
            let mut s = score;
            if f.incr {
                s += cur;
                if s.is_nan() {
                    return Outcome::Nan;
                }
            }
            if (f.lt && s >= cur) || (f.gt && s <= cur) {
                Outcome::Nop
            } else if s != cur {
                Outcome::Updated(s)
            } else {
                Outcome::Same(s)
            }
        }
        None if f.xx => Outcome::Nop,
        None => Outcome::Added(score),
    }
}

#[derive(Default)]
struct Tally {
    added: u64,
    updated: u64,
    processed: u64,
    score: f64,
}

impl Tally {
    fn count(&mut self, o: &Outcome) {
        match *o {
            Outcome::Added(s) => {
                self.added += 1;
                self.processed += 1;
                self.score = s;
            }
            Outcome::Updated(s) => {
                self.updated += 1;
                self.processed += 1;
                self.score = s;
            }
            Outcome::Same(s) => {
                self.processed += 1;
                self.score = s;
            }
            Outcome::Nop | Outcome::Nan => {}
        }
    }
}

/// Applies ZADD's score-member pairs to the set at `key` and replies; GEOADD
/// shares it. Nothing is written (and the key is not stamped for WATCH)
/// unless some pair changes the set.
pub(crate) fn zadd_apply(ctx: &mut Ctx<'_>, key: &[u8], f: ZaddFlags, pairs: &[(f64, &[u8])]) -> CmdResult {
    let (now, lim) = (ctx.now, limits(ctx));
    let mut t = Tally::default();
    let db = ctx.db();
    // None: no key; Some(changes): whether some pair would change the set.
    let existing = peek(db, key, now)?.map(|z| {
        pairs
            .iter()
            .any(|&(s, m)| matches!(outcome(z.score(m), s, f), Outcome::Added(_) | Outcome::Updated(_)))
    });
    match existing {
        None if f.xx => {}
        None => {
            let mut z = ZSet::new();
            for &(score, m) in pairs {
                let o = outcome(z.score(m), score, f);
                apply(&mut z, m, &o, lim);
                t.count(&o);
            }
            db.insert_new(key, Value::ZSet(Box::new(z)), 0, now);
            ctx.signal_ready(key);
        }
        Some(false) => {
            // Nothing moves, so every pair sees the set as it is now.
            if let Some(z) = peek(db, key, now)? {
                for &(s, m) in pairs {
                    let o = outcome(z.score(m), s, f);
                    if matches!(o, Outcome::Nan) {
                        return Err(NAN_SCORE);
                    }
                    t.count(&o);
                }
            }
        }
        Some(true) => {
            if let Some(z) = write(db, key, now) {
                for &(score, m) in pairs {
                    let o = outcome(z.score(m), score, f);
                    if matches!(o, Outcome::Nan) {
                        ctx.dirty(t.added + t.updated);
                        return Err(NAN_SCORE);
                    }
                    apply(z, m, &o, lim);
                    t.count(&o);
                }
            }
        }
    }
    ctx.dirty(t.added + t.updated);
    if f.incr {
        if t.processed > 0 {
            ctx.out.double(t.score);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int((if f.ch { t.added + t.updated } else { t.added }) as i64);
    }
    Ok(())
}

fn apply(z: &mut ZSet, m: &[u8], o: &Outcome, lim: Limits) {
    match *o {
        Outcome::Added(s) => z.insert(m, s, lim),
        Outcome::Updated(s) => z.update(m, s),
        _ => {}
    }
}

fn zadd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zadd_generic(ctx, argv, false)
}

fn zincrby(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zadd_generic(ctx, argv, true)
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ..., and ZINCRBY (the
/// same code with INCR set, options included: `ZINCRBY k nx m` is a syntax
/// error in Redis too). Every score is parsed before the key is looked at.
fn zadd_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], incr: bool) -> CmdResult {
    let mut f = ZaddFlags { incr, ..ZaddFlags::default() };
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if eq_ic(a, "nx") {
            f.nx = true;
        } else if eq_ic(a, "xx") {
            f.xx = true;
        } else if eq_ic(a, "ch") {
            f.ch = true;
        } else if eq_ic(a, "incr") {
            f.incr = true;
        } else if eq_ic(a, "gt") {
            f.gt = true;
        } else if eq_ic(a, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = argv.len() - i;
    if elements % 2 != 0 || elements == 0 {
        return Err(SYNTAX);
    }
    if f.nx && f.xx {
        return Err(XX_AND_NX);
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(GT_LT_NX);
    }
    if f.incr && elements > 2 {
        return Err(INCR_ONE_PAIR);
    }
    let mut pairs = Vec::with_capacity(elements / 2);
    for p in argv[i..].chunks_exact(2) {
        pairs.push((parse_score(p[0]).ok_or(NOT_FLOAT)?, p[1]));
    }
    zadd_apply(ctx, argv[1], f, &pairs)
}

// ---------------------------------------------------------------------------
// Single-key reads and removals.

fn zrem(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    let members = &argv[2..];
    let db = ctx.db();
    let any = match peek(db, key, now)? {
        None => false,
        Some(z) => members.iter().any(|m| z.score(m).is_some()),
    };
    let mut deleted = 0;
    if any {
        if let Some(z) = write(db, key, now) {
            deleted = members.iter().filter(|m| z.remove(m)).count();
        }
        delete_if_empty(db, key, now);
    }
    ctx.dirty(deleted as u64);
    ctx.out.int(deleted as i64);
    Ok(())
}

fn zscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    match read(db, argv[1], now)?.and_then(|z| z.score(argv[2])) {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let z = read(db, argv[1], now)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

fn zcard(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    out.int(read(db, argv[1], now)?.map_or(0, |z| z.len()) as i64);
    Ok(())
}

fn zcount(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let range = Range::Score(ScoreRange::parse(argv[2], argv[3])?);
    count_generic(ctx, argv[1], range)
}

fn zlexcount(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let range = Range::Lex(LexRange::parse(argv[2], argv[3])?);
    count_generic(ctx, argv[1], range)
}

fn count_generic(ctx: &mut Ctx<'_>, key: &[u8], range: Range) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    out.int(read(db, key, now)?.map_or(0, |z| range.count(z)) as i64);
    Ok(())
}

fn zrank(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    rank_generic(ctx, argv, false)
}

fn zrevrank(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    rank_generic(ctx, argv, true)
}

fn rank_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], rev: bool) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let Some(z) = read(db, argv[1], now)? else {
        out.null();
        return Ok(());
    };
    match z.rank(argv[2]) {
        Some(r) if rev => out.int((z.len() - 1 - r) as i64),
        Some(r) => out.int(r as i64),
        None => out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// ZRANGE and its older forms.

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

fn zrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, RangeType::Auto, Direction::Auto)
}

fn zrangestore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 2, Some(argv[1]), RangeType::Auto, Direction::Auto)
}

fn zrevrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, RangeType::Rank, Direction::Reverse)
}

fn zrangebyscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, RangeType::Score, Direction::Forward)
}

fn zrevrangebyscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, RangeType::Score, Direction::Reverse)
}

fn zrangebylex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, RangeType::Lex, Direction::Forward)
}

fn zrevrangebylex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, RangeType::Lex, Direction::Reverse)
}

/// ZRANGE, ZRANGESTORE and the older Z[REV]RANGE[BYSCORE|BYLEX]: options,
/// then their conflicts, then the range, then the key, in Redis's order.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    argv: &[&[u8]],
    src: usize,
    store: Option<&[u8]>,
    mut kind: RangeType,
    mut dir: Direction,
) -> CmdResult {
    let mut withscores = false;
    let mut offset = 0i64;
    let mut limit = -1i64;
    let mut j = src + 3;
    while j < argv.len() {
        let a = argv[j];
        let left = argv.len() - j - 1;
        if store.is_none() && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            offset = num::parse_i64(argv[j + 1]).ok_or(NOT_INTEGER)?;
            limit = num::parse_i64(argv[j + 2]).ok_or(NOT_INTEGER)?;
            j += 2;
        } else if dir == Direction::Auto && eq_ic(a, "rev") {
            dir = Direction::Reverse;
        } else if kind == RangeType::Auto && eq_ic(a, "bylex") {
            kind = RangeType::Lex;
        } else if kind == RangeType::Auto && eq_ic(a, "byscore") {
            kind = RangeType::Score;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    let rev = dir == Direction::Reverse;
    if kind == RangeType::Auto {
        kind = RangeType::Rank;
    }
    if limit != -1 && kind == RangeType::Rank {
        return Err(LIMIT_NEEDS_BY);
    }
    if withscores && kind == RangeType::Lex {
        return Err(WITHSCORES_BYLEX);
    }
    let (mut lo, mut hi) = (argv[src + 1], argv[src + 2]);
    if rev && kind != RangeType::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let spec = match kind {
        RangeType::Score => RangeSpec::Range(Range::Score(ScoreRange::parse(lo, hi)?)),
        RangeType::Lex => RangeSpec::Range(Range::Lex(LexRange::parse(lo, hi)?)),
        _ => RangeSpec::Rank(num::parse_i64(lo).ok_or(NOT_INTEGER)?, num::parse_i64(hi).ok_or(NOT_INTEGER)?),
    };
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let z = read(db, argv[src], now)?;
    let Some(dst) = store else {
        match z {
            None => out.array(0),
            Some(z) => reply_entries(out, select(z, &spec, rev, offset, limit), withscores),
        }
        return Ok(());
    };
    let entries: Vec<(Vec<u8>, f64)> = match z {
        None => Vec::new(),
        Some(z) => select(z, &spec, rev, offset, limit).map(|(m, s)| (m.to_vec(), s)).collect(),
    };
    store_result(ctx, dst, entries, 1);
    Ok(())
}

enum RangeSpec {
    Rank(i64, i64),
    Range(Range),
}

/// The members a range selects, in reply order.
fn select<'a>(
    z: &'a ZSet,
    spec: &RangeSpec,
    rev: bool,
    offset: i64,
    limit: i64,
) -> std::vec::IntoIter<(&'a [u8], f64)> {
    let len = z.len() as i64;
    let out: Vec<(&[u8], f64)> = match spec {
        RangeSpec::Rank(start, end) => {
            let mut start = if *start < 0 { len + start } else { *start };
            let mut end = if *end < 0 { len + end } else { *end };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= len {
                Vec::new()
            } else {
                if end >= len {
                    end = len - 1;
                }
                let n = (end - start + 1) as usize;
                let from = if rev { (len - 1 - start) as usize } else { start as usize };
                z.iter_from(from, rev).take(n).collect()
            }
        }
        RangeSpec::Range(range) => {
            let first = if rev { range.last_in(z) } else { range.first_in(z) };
            match first {
                _ if offset > 0 && offset >= len => Vec::new(),
                None => Vec::new(),
                // A negative offset walks off the end, as in Redis.
                Some(_) if offset < 0 => Vec::new(),
                Some(first) => {
                    let start =
                        if rev { first.checked_sub(offset as usize) } else { Some(first + offset as usize) };
                    match start.filter(|&s| s < len as usize) {
                        None => Vec::new(),
                        Some(start) => {
                            let take = if limit < 0 { usize::MAX } else { limit as usize };
                            z.iter_from(start, rev)
                                .take(take)
                                .take_while(
                                    |(m, s)| if rev { range.gte_min(*s, m) } else { range.lte_max(*s, m) },
                                )
                                .collect()
                        }
                    }
                }
            }
        }
    };
    out.into_iter()
}

// ---------------------------------------------------------------------------
// Removing ranges.

fn zremrangebyrank(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let start = num::parse_i64(argv[2]).ok_or(NOT_INTEGER)?;
    let end = num::parse_i64(argv[3]).ok_or(NOT_INTEGER)?;
    remrange_generic(ctx, argv[1], |z| {
        let len = z.len() as i64;
        let mut start = if start < 0 { len + start } else { start };
        let mut end = if end < 0 { len + end } else { end };
        if start < 0 {
            start = 0;
        }
        if start > end || start >= len {
            return (0, 0);
        }
        if end >= len {
            end = len - 1;
        }
        (start as usize, (end - start + 1) as usize)
    })
}

fn zremrangebyscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let range = Range::Score(ScoreRange::parse(argv[2], argv[3])?);
    remrange_generic(ctx, argv[1], |z| in_range(z, &range))
}

fn zremrangebylex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let range = Range::Lex(LexRange::parse(argv[2], argv[3])?);
    remrange_generic(ctx, argv[1], |z| in_range(z, &range))
}

/// The first rank and the count of the members a removal by range takes.
fn in_range(z: &ZSet, range: &Range) -> (usize, usize) {
    match range.first_in(z) {
        None => (0, 0),
        Some(first) => (first, z.iter_from(first, false).take_while(|(m, s)| range.lte_max(*s, m)).count()),
    }
}

fn remrange_generic(ctx: &mut Ctx<'_>, key: &[u8], span: impl Fn(&ZSet) -> (usize, usize)) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    let (start, n) = match peek(db, key, now)? {
        None => (0, 0),
        Some(z) => span(z),
    };
    if n > 0 {
        if let Some(z) = write(db, key, now) {
            z.remove_range(start, start + n);
        }
        delete_if_empty(db, key, now);
    }
    ctx.dirty(n as u64);
    ctx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// Popping.

fn zpopmin(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zpop_minmax(ctx, argv, false)
}

fn zpopmax(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zpop_minmax(ctx, argv, true)
}

/// ZPOPMIN/ZPOPMAX key [count]: a flat array of member, score...; in RESP3,
/// with a count, one pair per member.
fn zpop_minmax(ctx: &mut Ctx<'_>, argv: &[&[u8]], max: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(SYNTAX);
    }
    let count = match argv.get(2) {
        Some(a) => Some(num::parse_i64(a).filter(|&n| n >= 0).ok_or(NOT_POSITIVE)?),
        None => None,
    };
    let nested = ctx.out.resp3() && count.is_some();
    let now = ctx.now;
    if peek(ctx.db(), argv[1], now)?.is_none() || count == Some(0) {
        ctx.out.array(0);
        return Ok(());
    }
    let popped = pop_from(ctx, argv[1], max, count.unwrap_or(1) as u64);
    let out = &mut ctx.out;
    out.array(if nested { popped.len() } else { popped.len() * 2 });
    for (m, s) in &popped {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        out.double(*s);
    }
    Ok(())
}

/// Pops up to `count` members from the existing sorted set at `key`,
/// deleting the key when it empties.
fn pop_from(ctx: &mut Ctx<'_>, key: &[u8], max: bool, count: u64) -> Vec<(Vec<u8>, f64)> {
    let now = ctx.now;
    let db = ctx.db();
    let mut popped = Vec::new();
    if let Some(z) = write(db, key, now) {
        let n = count.min(z.len() as u64) as usize;
        popped.reserve(n);
        for _ in 0..n {
            match z.pop(max) {
                Some(e) => popped.push(e),
                None => break,
            }
        }
    }
    delete_if_empty(db, key, now);
    ctx.dirty(popped.len() as u64);
    if !popped.is_empty() {
        // ZMPOP and the blocking pops reach replicas as the pop they made.
        let mut n = itoa::Buffer::new();
        let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
        ctx.propagate_line(&[name, key, n.format(popped.len()).as_bytes()]);
    }
    popped
}

/// `[key, [[member, score], ...]]`, the reply of ZMPOP and BZMPOP.
fn reply_mpop(out: &mut Reply<'_>, key: &[u8], popped: &[(Vec<u8>, f64)]) {
    out.array(2);
    out.bulk(key);
    out.array(popped.len());
    for (m, s) in popped {
        out.array(2);
        out.bulk(m);
        out.double(*s);
    }
}

/// Parses `numkeys key... MIN|MAX [COUNT count]` with numkeys at `at`:
/// the keys, whether to pop the highest, and the count.
fn parse_mpop<'a>(argv: &'a [&'a [u8]], at: usize) -> Result<(&'a [&'a [u8]], bool, u64), CmdError> {
    let numkeys = num::parse_i64(argv[at]).filter(|&n| n >= 1).ok_or(NUMKEYS_POSITIVE)? as u64;
    let where_at = (at as u64 + 1).saturating_add(numkeys);
    if where_at >= argv.len() as u64 {
        return Err(SYNTAX);
    }
    let where_at = where_at as usize;
    let max = if eq_ic(argv[where_at], "min") {
        false
    } else if eq_ic(argv[where_at], "max") {
        true
    } else {
        return Err(SYNTAX);
    };
    let mut count: Option<u64> = None;
    let mut j = where_at + 1;
    while j < argv.len() {
        if count.is_none() && eq_ic(argv[j], "count") && j + 1 < argv.len() {
            j += 1;
            count = Some(num::parse_i64(argv[j]).filter(|&n| n >= 1).ok_or(COUNT_POSITIVE)? as u64);
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    Ok((&argv[at + 1..where_at], max, count.unwrap_or(1)))
}

/// The first of `keys` holding a sorted set; WRONGTYPE when the first
/// existing key holds something else.
fn first_zset<'a>(db: &mut Db, keys: &[&'a [u8]], now: u64) -> Result<Option<&'a [u8]>, CmdError> {
    for &k in keys {
        if peek(db, k, now)?.is_some() {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

fn zmpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = parse_mpop(argv, 1)?;
    let now = ctx.now;
    match first_zset(ctx.db(), keys, now)? {
        None => ctx.out.null_array(),
        Some(key) => {
            let popped = pop_from(ctx, key, max, count);
            reply_mpop(&mut ctx.out, key, &popped);
        }
    }
    Ok(())
}

fn bzpopmin(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bzpop_generic(ctx, argv, false)
}

fn bzpopmax(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bzpop_generic(ctx, argv, true)
}

/// BZPOPMIN/BZPOPMAX key... timeout: `[key, member, score]` from the first
/// non-empty sorted set, else wait (or, when it may not, a null array).
fn bzpop_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], max: bool) -> CmdResult {
    let timeout = crate::cmd::list::parse_timeout(argv[argv.len() - 1])?;
    let now = ctx.now;
    match first_zset(ctx.db(), &argv[1..argv.len() - 1], now)? {
        Some(key) => {
            let popped = pop_from(ctx, key, max, 1);
            let out = &mut ctx.out;
            out.array(1 + 2 * popped.len());
            out.bulk(key);
            for (m, s) in &popped {
                out.bulk(m);
                out.double(*s);
            }
        }
        None => block_or_null(ctx, timeout),
    }
    Ok(())
}

/// BZMPOP timeout numkeys key... MIN|MAX [COUNT count]. The timeout is read
/// after the rest, as Redis does.
fn bzmpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = parse_mpop(argv, 2)?;
    let timeout = crate::cmd::list::parse_timeout(argv[1])?;
    let now = ctx.now;
    match first_zset(ctx.db(), keys, now)? {
        Some(key) => {
            let popped = pop_from(ctx, key, max, count);
            reply_mpop(&mut ctx.out, key, &popped);
        }
        None => block_or_null(ctx, timeout),
    }
    Ok(())
}

fn block_or_null(ctx: &mut Ctx<'_>, timeout_ms: u64) {
    if ctx.may_block {
        ctx.block = Some(crate::shard::Block { timeout_ms, rewrite: None });
    } else {
        ctx.out.null_array();
    }
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER.

/// ZRANDMEMBER key [count [WITHSCORES]]. The count and WITHSCORES are
/// checked before the key is looked up.
fn zrandmember(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() >= 3 {
        let count = crate::cmd::hash::parse_signed_count(argv[2])?;
        if argv.len() > 4 || (argv.len() == 4 && !eq_ic(argv[3], "withscores")) {
            return Err(SYNTAX);
        }
        let withscores = argv.len() == 4;
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return Err(OUT_OF_RANGE);
        }
        return with_rng(ctx, |ctx, rng| zrandmember_count(ctx, rng, argv[1], count, withscores));
    }
    with_rng(ctx, |ctx, rng| {
        let now = ctx.now;
        let (db, out) = ctx.parts();
        match read(db, argv[1], now)? {
            None => out.null(),
            Some(z) => match z.at(rng.below(z.len() as u64) as usize) {
                Some((m, _)) => out.bulk(m),
                None => out.null(),
            },
        }
        Ok(())
    })
}

/// Redis's cases: a negative count samples with repetition; a count at least
/// the size returns the whole set, highest first; a smaller one returns that
/// many distinct members (in the set's order when it is compact).
fn zrandmember_count(
    ctx: &mut Ctx<'_>,
    rng: &mut Rng,
    key: &[u8],
    count: i64,
    withscores: bool,
) -> CmdResult {
    let now = ctx.now;
    let max_reply = ctx.shard.config.proto_max_bulk_len;
    let (db, out) = ctx.parts();
    let Some(z) = read(db, key, now)? else {
        out.array(0);
        return Ok(());
    };
    let (n, size) = (count.unsigned_abs(), z.len());
    if n == 0 {
        out.array(0);
        return Ok(());
    }
    let resp3 = out.resp3();
    let header =
        |out: &mut Reply<'_>, len: usize| out.array(if withscores && !resp3 { len * 2 } else { len });
    let emit = |out: &mut Reply<'_>, (m, s): (&[u8], f64)| {
        if withscores && resp3 {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    };
    if count < 0 || n == 1 {
        check_reply_size(max_reply, if withscores { n.saturating_mul(2) } else { n })?;
        header(out, n as usize);
        for _ in 0..n {
            if let Some(e) = z.at(rng.below(size as u64) as usize) {
                emit(out, e);
            }
        }
        return Ok(());
    }
    if n >= size as u64 {
        // Redis walks a sorted set from its highest member down here.
        header(out, size);
        for e in z.iter_from(size - 1, true) {
            emit(out, e);
        }
        return Ok(());
    }
    let mut picks = distinct_positions(rng, size, n as usize);
    if z.is_compact() {
        picks.sort_unstable();
    }
    header(out, picks.len());
    for i in picks {
        if let Some(e) = z.at(i) {
            emit(out, e);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Union, intersection and difference.

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, target: &mut f64, val: f64) {
        match self {
            Aggregate::Sum => {
                *target += val;
                // inf + -inf is NaN; Redis makes it 0.
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if val < *target {
                    *target = val;
                }
            }
            Aggregate::Max => {
                if val > *target {
                    *target = val;
                }
            }
        }
    }
}

/// One input of ZUNION and friends: a sorted set, a set (every member
/// scores 1) or a missing key (empty).
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Z(z) => z.len(),
            Source::S(s) => s.len(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Z(z) => z.score(m),
            Source::S(s) => s.contains(m).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Source::Missing => {}
            Source::Z(z) => z.iter().for_each(|(m, s)| f(m, s)),
            Source::S(s) => {
                let mut scratch = itoa::Buffer::new();
                for item in s.iter() {
                    f(item.bytes(&mut scratch), 1.0);
                }
            }
        }
    }
}

fn zunion(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, None, 1, SetOp::Union, false)
}

fn zinter(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, None, 1, SetOp::Inter, false)
}

fn zdiff(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, None, 1, SetOp::Diff, false)
}

fn zunionstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, Some(argv[1]), 2, SetOp::Union, false)
}

fn zinterstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, Some(argv[1]), 2, SetOp::Inter, false)
}

fn zdiffstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, Some(argv[1]), 2, SetOp::Diff, false)
}

fn zintercard(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, None, 1, SetOp::Inter, true)
}

/// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, checked in
/// Redis's order: numkeys, the keys' types, then the options. Inputs are
/// taken smallest first (a stable sort, as glibc's qsort is a merge sort),
/// which decides the order in which SUM adds up the weighted scores.
fn setop_generic(
    ctx: &mut Ctx<'_>,
    argv: &[&[u8]],
    dst: Option<&[u8]>,
    at: usize,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let numkeys = num::parse_i64(argv[at]).ok_or(NOT_INTEGER)?;
    if numkeys < 1 {
        let name = String::from_utf8_lossy(argv[0]).to_ascii_lowercase();
        return Err(CmdError::owned(format!("ERR at least 1 input key is needed for '{name}' command")));
    }
    if numkeys > (argv.len() - at - 1) as i64 {
        return Err(SYNTAX);
    }
    let numkeys = numkeys as usize;
    let keys = &argv[at + 1..at + 1 + numkeys];
    let now = ctx.now;
    let db = ctx.db();
    for k in keys {
        if let Some(v) = db.read(k, now) {
            if !matches!(v, Value::ZSet(_) | Value::Set(_)) {
                return Err(crate::error::WRONGTYPE);
            }
        }
    }
    let mut weights = vec![1.0f64; numkeys];
    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = at + 1 + numkeys;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = argv[j];
        if op != SetOp::Diff && !card_only && remaining > numkeys && eq_ic(a, "weights") {
            for (w, arg) in weights.iter_mut().zip(&argv[j + 1..j + 1 + numkeys]) {
                *w = parse_score(arg).ok_or(WEIGHT_NOT_FLOAT)?;
            }
            j += 1 + numkeys;
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && eq_ic(a, "aggregate") {
            let v = argv[j + 1];
            aggregate = if eq_ic(v, "sum") {
                Aggregate::Sum
            } else if eq_ic(v, "min") {
                Aggregate::Min
            } else if eq_ic(v, "max") {
                Aggregate::Max
            } else {
                return Err(SYNTAX);
            };
            j += 2;
        } else if dst.is_none() && !card_only && eq_ic(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ic(a, "limit") {
            let n = num::parse_i64(argv[j + 1]).filter(|&n| n >= 0).ok_or(LIMIT_NEGATIVE)?;
            limit = usize::try_from(n).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }

    let db: &Db = ctx.db();
    let mut srcs: Vec<(Source<'_>, f64)> = keys
        .iter()
        .zip(&weights)
        .map(|(k, &w)| {
            let src = match value_ref(db, k) {
                Some(Value::ZSet(z)) => Source::Z(z),
                Some(Value::Set(s)) => Source::S(s),
                _ => Source::Missing,
            };
            (src, w)
        })
        .collect();
    if op != SetOp::Diff {
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut card = 0usize;
    match op {
        SetOp::Inter => {
            let (first, w0) = srcs[0];
            let mut done = false;
            first.for_each(|m, s| {
                if done {
                    return;
                }
                let mut score = w0 * s;
                if score.is_nan() {
                    score = 0.0;
                }
                for (src, w) in &srcs[1..] {
                    match src.score(m) {
                        Some(v) => aggregate.apply(&mut score, v * w),
                        None => return,
                    }
                }
                if card_only {
                    card += 1;
                    done = limit > 0 && card >= limit;
                } else {
                    result.push((m.to_vec(), score));
                }
            });
        }
        SetOp::Union => {
            let mut acc: hashbrown::HashMap<Vec<u8>, f64> =
                hashbrown::HashMap::with_capacity(srcs.last().map_or(0, |s| s.0.len()));
            for (src, w) in &srcs {
                src.for_each(|m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate.apply(t, score),
                        None => {
                            acc.insert(m.to_vec(), score);
                        }
                    }
                });
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            let first = srcs[0].0;
            let rest = &srcs[1..];
            first.for_each(|m, s| {
                if rest.iter().all(|(src, _)| src.score(m).is_none()) {
                    result.push((m.to_vec(), s));
                }
            });
        }
    }
    if card_only {
        ctx.out.int(card as i64);
        return Ok(());
    }
    if let Some(dst) = dst {
        store_result(ctx, dst, result, 1);
        return Ok(());
    }
    result.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    reply_entries(&mut ctx.out, result.iter().map(|(m, s)| (m.as_slice(), *s)), withscores);
    Ok(())
}

// ---------------------------------------------------------------------------
// ZSCAN.

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: members with their scores
/// as `%.17g` strings. The cursor is checked before the key, the options
/// after it (a missing key ignores them).
fn zscan(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[2]).ok_or(crate::cmd::hash::INVALID_CURSOR)?;
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let Some(z) = read(db, argv[1], now)? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let opts = parse_scan_opts(argv)?;
    let mut items: Vec<(&[u8], f64)> = Vec::new();
    let next = z.scan(cursor, opts.count, |m, s| {
        if opts.pattern.is_none_or(|p| crate::glob::matches(p, m, false)) {
            items.push((m, s));
        }
    });
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(items.len() * 2);
    for (m, s) in items {
        out.bulk(m);
        out.bulk(num::fmt_double(s).as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{run, run_proto, shard};

    fn bulk(s: &str) -> String {
        format!("${}\r\n{}\r\n", s.len(), s)
    }

    fn arr(items: &[&str]) -> String {
        let mut out = format!("*{}\r\n", items.len());
        for i in items {
            out.push_str(&bulk(i));
        }
        out
    }

    #[test]
    fn strtod_like_c() {
        assert_eq!(strtod(b"1.5"), (1.5, 3, false));
        assert_eq!(strtod(b"  -2e3x"), (-2000.0, 6, false));
        assert_eq!(strtod(b"0x10"), (16.0, 4, false));
        assert_eq!(strtod(b"0x1.8p1"), (3.0, 7, false));
        assert_eq!(strtod(b"0x"), (0.0, 1, false));
        assert_eq!(strtod(b"1e"), (1.0, 1, false));
        assert_eq!(strtod(b"1e+"), (1.0, 1, false));
        assert_eq!(strtod(b"-inFinity"), (f64::NEG_INFINITY, 9, false));
        assert_eq!(strtod(b"infinit"), (f64::INFINITY, 3, false));
        assert_eq!(strtod(b""), (0.0, 0, false));
        assert_eq!(strtod(b"-"), (0.0, 0, false));
        assert_eq!(strtod(b"."), (0.0, 0, false));
        assert!(strtod(b"nan(abc)").0.is_nan());
        assert_eq!(strtod(b"nan(abc)").1, 8);
        assert_eq!(strtod(b"nan(ab").1, 3);
        assert_eq!(strtod(b"1e400"), (f64::INFINITY, 5, true));
        assert_eq!(strtod(b"1e-400"), (0.0, 6, true));
        assert_eq!(strtod(b"0e-400"), (0.0, 6, false));
        assert!(!strtod(b"1e-310").2);
    }

    #[test]
    fn scores_like_string2d() {
        assert_eq!(parse_score(b"1"), Some(1.0));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+1.5"), Some(1.5));
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"1e400", b"1e-400", b"abc", b"1.5.5", b"--1"] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn score_ranges_like_zslparserange() {
        let r = ScoreRange::parse(b"(1", b" 5").unwrap();
        assert!(r.minex && !r.maxex && r.min == 1.0 && r.max == 5.0);
        let r = ScoreRange::parse(b"", b"(").unwrap();
        assert!(r.min == 0.0 && r.max == 0.0 && r.maxex);
        let r = ScoreRange::parse(b"1\x00junk", b"+inf").unwrap();
        assert_eq!(r.min, 1.0);
        assert!(ScoreRange::parse(b"nan", b"1").is_err());
        assert!(ScoreRange::parse(b"1", b"x").is_err());
        assert!(ScoreRange::parse(b"  ", b"1").is_err());
    }

    #[test]
    fn zadd_options_and_errors() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["ZADD", "z", "1", "a", "2", "b"]), ":2\r\n");
        assert_eq!(
            run(&mut s, &["ZADD", "z", "NX", "XX", "1", "a"]),
            "-ERR XX and NX options at the same time are not compatible\r\n"
        );
        assert_eq!(
            run(&mut s, &["ZADD", "z", "GT", "LT", "1", "a"]),
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
        );
        assert_eq!(
            run(&mut s, &["ZADD", "z", "GT", "NX", "1", "a"]),
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
        );
        assert_eq!(
            run(&mut s, &["ZADD", "z", "INCR", "1", "a", "2", "b"]),
            "-ERR INCR option supports a single increment-element pair\r\n"
        );
        assert_eq!(run(&mut s, &["ZADD", "z", "1", "a", "2"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["ZADD", "z", "x", "a"]), "-ERR value is not a valid float\r\n");
        assert_eq!(run(&mut s, &["ZADD", "z", "CH", "1", "a", "3", "b", "4", "c"]), ":2\r\n");
        assert_eq!(run(&mut s, &["ZADD", "z", "XX", "5", "a", "5", "new"]), ":0\r\n");
        assert_eq!(run(&mut s, &["ZSCORE", "z", "a"]), bulk("5"));
        assert_eq!(run(&mut s, &["ZADD", "z", "GT", "CH", "1", "a"]), ":0\r\n");
        assert_eq!(run(&mut s, &["ZADD", "z", "LT", "CH", "1", "a"]), ":1\r\n");
        assert_eq!(run(&mut s, &["ZADD", "z", "INCR", "2.5", "a"]), bulk("3.5"));
        assert_eq!(run(&mut s, &["ZADD", "z", "NX", "INCR", "2.5", "a"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["ZADD", "z", "INCR", "inf", "a"]), bulk("inf"));
        assert_eq!(
            run(&mut s, &["ZADD", "z", "INCR", "-inf", "a"]),
            "-ERR resulting score is not a number (NaN)\r\n"
        );
        assert_eq!(run(&mut s, &["ZINCRBY", "z", "nx", "a"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["ZINCRBY", "z", "0.1", "q"]), bulk("0.10000000000000001"));
        assert_eq!(run_proto(&mut s, 0, true, &["ZINCRBY", "z", "0.1", "q"]), ",0.20000000000000001\r\n");
        assert_eq!(run(&mut s, &["ZADD", "none", "XX", "1", "a"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "none"]), ":0\r\n");
        assert_eq!(run(&mut s, &["ZADD", "none", "XX", "INCR", "1", "a"]), "$-1\r\n");
        run(&mut s, &["SET", "str", "x"]);
        assert_eq!(
            run(&mut s, &["ZADD", "str", "1", "a"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        // A listpack keeps -0 as 0 (Redis stores the text "-0" as the integer 0), a skiplist keeps it.
        assert_eq!(run(&mut s, &["ZADD", "neg", "-0", "a"]), ":1\r\n");
        assert_eq!(run(&mut s, &["ZSCORE", "neg", "a"]), bulk("0"));
        assert_eq!(run(&mut s, &["ZADD", "neg", "INCR", "-0", "b"]), bulk("-0"));
        assert_eq!(run(&mut s, &["ZSCORE", "neg", "b"]), bulk("0"));
        s.config.zset_max_listpack_entries = 0;
        assert_eq!(run(&mut s, &["ZADD", "neg2", "-0", "a"]), ":1\r\n");
        assert_eq!(run(&mut s, &["ZSCORE", "neg2", "a"]), bulk("-0"));
    }

    #[test]
    fn encodings_follow_the_thresholds() {
        let mut s = shard();
        for i in 0..128 {
            run(&mut s, &["ZADD", "z", &i.to_string(), &format!("m{i}")]);
        }
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "z"]), bulk("listpack"));
        run(&mut s, &["ZADD", "z", "1", "one-more"]);
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
        run(&mut s, &["ZADD", "long", "1", &"x".repeat(65)]);
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "long"]), bulk("skiplist"));
        run(&mut s, &["ZADD", "short", "1", &"x".repeat(64)]);
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "short"]), bulk("listpack"));
        assert_eq!(run(&mut s, &["ZUNIONSTORE", "u", "1", "short"]), ":1\r\n");
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "u"]), bulk("listpack"));
        assert_eq!(run(&mut s, &["ZUNIONSTORE", "u", "1", "z"]), ":129\r\n");
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "u"]), bulk("skiplist"));
        assert_eq!(run(&mut s, &["ZRANGESTORE", "r", "z", "0", "9"]), ":10\r\n");
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "r"]), bulk("listpack"));
    }

    #[test]
    fn ranges() {
        let mut s = shard();
        run(&mut s, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
        assert_eq!(run(&mut s, &["ZRANGE", "z", "0", "-1"]), arr(&["a", "b", "c", "d"]));
        assert_eq!(run(&mut s, &["ZRANGE", "z", "-2", "100"]), arr(&["c", "d"]));
        assert_eq!(run(&mut s, &["ZRANGE", "z", "0", "1", "REV"]), arr(&["d", "c"]));
        assert_eq!(run(&mut s, &["ZREVRANGE", "z", "0", "0", "WITHSCORES"]), arr(&["d", "4"]));
        assert_eq!(
            run_proto(&mut s, 0, true, &["ZRANGE", "z", "0", "0", "WITHSCORES"]),
            "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
        );
        assert_eq!(run(&mut s, &["ZRANGE", "z", "(1", "3", "BYSCORE"]), arr(&["b", "c"]));
        assert_eq!(run(&mut s, &["ZRANGE", "z", "3", "(1", "BYSCORE", "REV"]), arr(&["c", "b"]));
        assert_eq!(run(&mut s, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2"]), arr(&["b", "c"]));
        assert_eq!(run(&mut s, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]), arr(&[]));
        assert_eq!(
            run(&mut s, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "-1"]),
            arr(&["b", "c", "d"])
        );
        assert_eq!(
            run(&mut s, &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "2"]),
            arr(&["c", "b"])
        );
        assert_eq!(run(&mut s, &["ZRANGEBYLEX", "z", "[b", "(d"]), arr(&["b", "c"]));
        assert_eq!(run(&mut s, &["ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", "0", "1"]), arr(&["d"]));
        assert_eq!(
            run(&mut s, &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
            "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
        );
        assert_eq!(
            run(&mut s, &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
            "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
        );
        assert_eq!(run(&mut s, &["ZRANGE", "z", "0", "1", "REV", "REV"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["ZRANGEBYSCORE", "z", "0", "1", "REV"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["ZRANGEBYSCORE", "z", "x", "1"]), "-ERR min or max is not a float\r\n");
        assert_eq!(
            run(&mut s, &["ZRANGEBYLEX", "z", "a", "+"]),
            "-ERR min or max not valid string range item\r\n"
        );
        assert_eq!(run(&mut s, &["ZCOUNT", "z", "(1", "+inf"]), ":3\r\n");
        assert_eq!(run(&mut s, &["ZLEXCOUNT", "z", "-", "+"]), ":4\r\n");
        assert_eq!(run(&mut s, &["ZLEXCOUNT", "z", "+", "-"]), ":0\r\n");
        assert_eq!(run(&mut s, &["ZRANK", "z", "c"]), ":2\r\n");
        assert_eq!(run(&mut s, &["ZREVRANK", "z", "c"]), ":1\r\n");
        assert_eq!(run(&mut s, &["ZRANK", "z", "zz"]), "$-1\r\n");
        assert_eq!(
            run(&mut s, &["ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(run(&mut s, &["ZRANGESTORE", "dst", "z", "[b", "[c", "BYLEX"]), ":2\r\n");
        assert_eq!(run(&mut s, &["ZRANGESTORE", "dst", "nosuch", "0", "-1"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "dst"]), ":0\r\n");
    }

    #[test]
    fn removals_and_pops() {
        let mut s = shard();
        run(&mut s, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
        assert_eq!(run(&mut s, &["ZREMRANGEBYRANK", "z", "0", "0"]), ":1\r\n");
        assert_eq!(run(&mut s, &["ZREMRANGEBYSCORE", "z", "(2", "3"]), ":1\r\n");
        assert_eq!(run(&mut s, &["ZREMRANGEBYLEX", "z", "[e", "+"]), ":1\r\n");
        assert_eq!(run(&mut s, &["ZRANGE", "z", "0", "-1"]), arr(&["b", "d"]));
        assert_eq!(run(&mut s, &["ZPOPMIN", "z"]), arr(&["b", "2"]));
        assert_eq!(run(&mut s, &["ZPOPMAX", "z", "5"]), arr(&["d", "4"]));
        assert_eq!(run(&mut s, &["EXISTS", "z"]), ":0\r\n");
        assert_eq!(run(&mut s, &["ZPOPMIN", "z", "-1"]), "-ERR value is out of range, must be positive\r\n");
        assert_eq!(run(&mut s, &["ZPOPMIN", "z", "1", "2"]), "-ERR syntax error\r\n");
        run(&mut s, &["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(run_proto(&mut s, 0, true, &["ZPOPMIN", "z", "1"]), "*1\r\n*2\r\n$1\r\na\r\n,1\r\n");
        assert_eq!(
            run(&mut s, &["ZMPOP", "2", "nosuch", "z", "MAX", "COUNT", "10"]),
            "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(run(&mut s, &["ZMPOP", "1", "z", "MIN"]), "*-1\r\n");
        assert_eq!(run(&mut s, &["ZMPOP", "0", "z", "MIN"]), "-ERR numkeys should be greater than 0\r\n");
        assert_eq!(
            run(&mut s, &["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
            "-ERR count should be greater than 0\r\n"
        );
        assert_eq!(run(&mut s, &["ZMPOP", "5", "z", "MIN"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["BZPOPMIN", "z", "0"]), "*-1\r\n");
        assert_eq!(run(&mut s, &["BZPOPMIN", "z", "-1"]), "-ERR timeout is negative\r\n");
        run(&mut s, &["ZADD", "z", "7", "x"]);
        assert_eq!(run(&mut s, &["BZPOPMAX", "none", "z", "0"]), "*3\r\n$1\r\nz\r\n$1\r\nx\r\n$1\r\n7\r\n");
    }

    #[test]
    fn blocking_asks_to_wait() {
        let mut s = shard();
        let mut buf = Vec::new();
        let mut ctx = Ctx::new(&mut s, 0, 0, Reply::new(&mut buf, false));
        ctx.may_block = true;
        bzmpop(&mut ctx, &[b"BZMPOP", b"1.5", b"1", b"k", b"MIN"]).unwrap();
        assert_eq!(ctx.block, Some(crate::shard::Block { timeout_ms: 1500, rewrite: None }));
        assert!(buf.is_empty());
    }

    #[test]
    fn set_operations() {
        let mut s = shard();
        run(&mut s, &["ZADD", "a", "1", "x", "2", "y"]);
        run(&mut s, &["ZADD", "b", "10", "y", "20", "z"]);
        run(&mut s, &["SADD", "s", "x", "z"]);
        assert_eq!(
            run(&mut s, &["ZUNION", "2", "a", "b", "WITHSCORES"]),
            arr(&["x", "1", "y", "12", "z", "20"])
        );
        assert_eq!(
            run(&mut s, &["ZINTER", "2", "a", "b", "AGGREGATE", "MAX", "WITHSCORES"]),
            arr(&["y", "10"])
        );
        assert_eq!(
            run(&mut s, &["ZUNION", "2", "a", "s", "WEIGHTS", "2", "3", "WITHSCORES"]),
            arr(&["z", "3", "y", "4", "x", "5"])
        );
        assert_eq!(run(&mut s, &["ZDIFF", "2", "a", "b"]), arr(&["x"]));
        assert_eq!(run(&mut s, &["ZINTERCARD", "2", "a", "b"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"]),
            "-ERR LIMIT can't be negative\r\n"
        );
        assert_eq!(
            run(&mut s, &["ZUNION", "0", "a"]),
            "-ERR at least 1 input key is needed for 'zunion' command\r\n"
        );
        assert_eq!(run(&mut s, &["ZUNION", "3", "a", "b"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["ZDIFF", "1", "a", "WEIGHTS", "1"]), "-ERR syntax error\r\n");
        assert_eq!(
            run(&mut s, &["ZUNION", "1", "a", "WEIGHTS", "x"]),
            "-ERR weight value is not a float\r\n"
        );
        assert_eq!(run(&mut s, &["ZUNIONSTORE", "d", "2", "a", "b", "WITHSCORES"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["ZINTERSTORE", "d", "2", "a", "b"]), ":1\r\n");
        assert_eq!(run(&mut s, &["ZINTERSTORE", "d", "2", "a", "nosuch"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "d"]), ":0\r\n");
        run(&mut s, &["SET", "str", "v"]);
        assert_eq!(
            run(&mut s, &["ZUNION", "2", "a", "str", "WEIGHTS", "x"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        run(&mut s, &["ZADD", "i", "inf", "x"]);
        run(&mut s, &["ZADD", "j", "-inf", "x"]);
        assert_eq!(run(&mut s, &["ZUNION", "2", "i", "j", "WITHSCORES"]), arr(&["x", "0"]));
        assert_eq!(run(&mut s, &["ZUNION", "1", "i", "WEIGHTS", "0", "WITHSCORES"]), arr(&["x", "0"]));
    }

    #[test]
    fn zscan_and_zrandmember() {
        let mut s = shard();
        run(&mut s, &["ZADD", "z", "1.5", "a", "2", "b"]);
        assert_eq!(
            run(&mut s, &["ZSCAN", "z", "0"]),
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            run(&mut s, &["ZSCAN", "z", "0", "MATCH", "b"]),
            "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(run(&mut s, &["ZSCAN", "z", "x"]), "-ERR invalid cursor\r\n");
        assert_eq!(run(&mut s, &["ZRANDMEMBER", "z", "5", "WITHSCORES"]), arr(&["b", "2", "a", "1.5"]));
        assert_eq!(run(&mut s, &["ZRANDMEMBER", "z", "0"]), "*0\r\n");
        assert_eq!(run(&mut s, &["ZRANDMEMBER", "nosuch"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["ZRANDMEMBER", "z", "1", "x"]), "-ERR syntax error\r\n");
        assert!(run(&mut s, &["ZRANDMEMBER", "z", "-3"]).starts_with("*3\r\n"));
        // A big set walks in several steps and sees every member once.
        for i in 0..300 {
            run(&mut s, &["ZADD", "big", &i.to_string(), &format!("m{i}")]);
        }
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let r = run(&mut s, &["ZSCAN", "big", &cursor, "COUNT", "7"]);
            let lines: Vec<&str> = r.split("\r\n").collect();
            cursor = lines[2].to_string();
            for pair in lines[4..].chunks(4) {
                if pair.len() == 4 {
                    assert!(seen.insert(pair[1].to_string()));
                }
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 300);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add { flag: u8, score: i8, member: u8 },
        Incr(i8, u8),
        Rem(u8, u8),
        RemByScore(i8, i8),
        RemByRank(i8, i8),
        Pop(bool, u8),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            5 => (0u8..6, any::<i8>(), any::<u8>()).prop_map(|(flag, score, member)| Op::Add { flag, score, member }),
            2 => (any::<i8>(), any::<u8>()).prop_map(|(d, m)| Op::Incr(d, m)),
            2 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Rem(a, b)),
            1 => (any::<i8>(), any::<i8>()).prop_map(|(a, b)| Op::RemByScore(a, b)),
            1 => (-8i8..8, -8i8..8).prop_map(|(a, b)| Op::RemByRank(a, b)),
            1 => (any::<bool>(), 0u8..4).prop_map(|(max, n)| Op::Pop(max, n)),
        ]
    }

    /// Members of one to four bytes, around a value limit of 3.
    fn member(m: u8) -> String {
        let n = m % 24;
        std::iter::repeat_n((b'a' + n % 12) as char, 1 + (n as usize / 6)).collect()
    }

    fn sorted(model: &std::collections::BTreeMap<String, f64>) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
        v.sort_by(|a, b| cmp_entry(a.1, a.0.as_bytes(), b.1, b.0.as_bytes()));
        v
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// The commands against a map of member to score, with encoding
        /// limits small enough that sets cross them both ways (by count and by
        /// member length), and get deleted and created again.
        #[test]
        fn commands_match_a_model(ops in proptest::collection::vec(op(), 1..80), entries in 0usize..8) {
            use proptest::prelude::*;
            let mut s = shard();
            s.config.zset_max_listpack_entries = entries;
            s.config.zset_max_listpack_value = 3;
            let mut model = std::collections::BTreeMap::<String, f64>::new();
            let mut compact = true;
            for op in ops {
                match op {
                    Op::Add { flag, score, member: m } => {
                        let (m, sc) = (member(m), score as f64 / 2.0);
                        let flag = ["", "NX", "XX", "GT", "LT", "CH"][flag as usize];
                        let mut argv = vec!["ZADD", "z"];
                        if !flag.is_empty() {
                            argv.push(flag);
                        }
                        let sc_text = sc.to_string();
                        argv.extend([sc_text.as_str(), m.as_str()]);
                        let cur = model.get(&m).copied();
                        let (added, changed) = match (cur, flag) {
                            (Some(_), "NX") | (None, "XX") => (false, false),
                            (Some(c), "GT") if sc <= c => (false, false),
                            (Some(c), "LT") if sc >= c => (false, false),
                            (Some(c), _) => (false, c != sc),
                            (None, _) => (true, false),
                        };
                        if added {
                            if model.is_empty() {
                                compact = true;
                            }
                            if model.len() + 1 > entries || m.len() > 3 {
                                compact = false;
                            }
                        }
                        if added || changed {
                            model.insert(m.clone(), sc);
                        }
                        let n = if flag == "CH" { (added || changed) as i64 } else { added as i64 };
                        prop_assert_eq!(run(&mut s, &argv), format!(":{n}\r\n"));
                    }
                    Op::Incr(d, m) => {
                        let m = member(m);
                        let d = d as f64 / 4.0;
                        if !model.contains_key(&m) {
                            if model.is_empty() {
                                compact = true;
                            }
                            if model.len() + 1 > entries || m.len() > 3 {
                                compact = false;
                            }
                        }
                        let v = model.entry(m.clone()).or_insert(0.0);
                        *v += d;
                        let want = bulk(&num::fmt_double(*v));
                        prop_assert_eq!(run(&mut s, &["ZINCRBY", "z", &d.to_string(), &m]), want);
                    }
                    Op::Rem(a, b) => {
                        let (a, b) = (member(a), member(b));
                        let n = model.remove(&a).is_some() as i64 + (a != b && model.remove(&b).is_some()) as i64;
                        prop_assert_eq!(run(&mut s, &["ZREM", "z", &a, &b]), format!(":{n}\r\n"));
                    }
                    Op::RemByScore(a, b) => {
                        let (lo, hi) = (a as f64 / 2.0, b as f64 / 2.0);
                        let before = model.len();
                        model.retain(|_, v| !(*v > lo && *v <= hi));
                        let n = before - model.len();
                        let got = run(&mut s, &["ZREMRANGEBYSCORE", "z", &format!("({lo}"), &hi.to_string()]);
                        prop_assert_eq!(got, format!(":{n}\r\n"));
                    }
                    Op::RemByRank(a, b) => {
                        let all = sorted(&model);
                        let len = all.len() as i64;
                        let start = if a < 0 { (len + a as i64).max(0) } else { a as i64 };
                        let end = if b < 0 { len + b as i64 } else { (b as i64).min(len - 1) };
                        let mut n = 0;
                        if start <= end && start < len {
                            for (m, _) in &all[start as usize..=end as usize] {
                                model.remove(m);
                                n += 1;
                            }
                        }
                        let got = run(&mut s, &["ZREMRANGEBYRANK", "z", &a.to_string(), &b.to_string()]);
                        prop_assert_eq!(got, format!(":{n}\r\n"));
                    }
                    Op::Pop(max, count) => {
                        let mut all = sorted(&model);
                        if max {
                            all.reverse();
                        }
                        let take: Vec<String> = all
                            .iter()
                            .take(count as usize)
                            .flat_map(|(m, sc)| [m.clone(), num::fmt_double(*sc)])
                            .collect();
                        for pair in take.chunks(2) {
                            model.remove(&pair[0]);
                        }
                        let cmd = if max { "ZPOPMAX" } else { "ZPOPMIN" };
                        let refs: Vec<&str> = take.iter().map(|t| t.as_str()).collect();
                        prop_assert_eq!(run(&mut s, &[cmd, "z", &count.to_string()]), arr(&refs));
                    }
                }
                let all = sorted(&model);
                let flat: Vec<String> = all.iter().flat_map(|(m, sc)| [m.clone(), num::fmt_double(*sc)]).collect();
                let refs: Vec<&str> = flat.iter().map(|t| t.as_str()).collect();
                prop_assert_eq!(run(&mut s, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]), arr(&refs));
                prop_assert_eq!(run(&mut s, &["ZCARD", "z"]), format!(":{}\r\n", all.len()));
                let in_range = all.iter().filter(|e| e.1 >= -10.0 && e.1 < 10.0).count();
                prop_assert_eq!(run(&mut s, &["ZCOUNT", "z", "-10", "(10"]), format!(":{in_range}\r\n"));
                let rev: Vec<&str> = all.iter().rev().filter(|e| e.1 >= -10.0 && e.1 < 10.0).map(|e| e.0.as_str()).collect();
                prop_assert_eq!(run(&mut s, &["ZREVRANGEBYSCORE", "z", "(10", "-10"]), arr(&rev));
                if let Some((m, _)) = all.get(all.len() / 2) {
                    prop_assert_eq!(run(&mut s, &["ZRANK", "z", m]), format!(":{}\r\n", all.len() / 2));
                    let r = all.len() - 1 - all.len() / 2;
                    prop_assert_eq!(run(&mut s, &["ZREVRANK", "z", m]), format!(":{r}\r\n"));
                }
                if model.is_empty() {
                    prop_assert_eq!(run(&mut s, &["EXISTS", "z"]), ":0\r\n");
                } else {
                    let enc = if compact { "listpack" } else { "skiplist" };
                    prop_assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "z"]), bulk(enc));
                }
            }
        }
    }
}
