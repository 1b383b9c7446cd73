//! SORT and SORT_RO: the elements of a list, set or sorted set, sorted by
//! their own value or by weights read from other keys, optionally replaced
//! by values read from other keys, optionally stored as a list.
//!
//! The BY and GET patterns name "external" keys: the first `*` of a pattern
//! is replaced by an element, and `key->field` reads a field of a hash. Every
//! such read goes through one function, [`lookup`], which looks in the
//! source key's database on this shard. The server must make the keys a
//! command will read available there first: [`sort_reads_patterns`] tells
//! whether a command line reads any, [`sort_external_keys`] lists them for
//! given source elements ([`sort_source_elements`]).
//!
//! Redis-compatible details kept here: a numeric weight is read with C's
//! `strtod` (leading spaces, hexadecimal, `inf` accepted; trailing bytes,
//! NaN, overflow and inexact subnormals refused); ALPHA without STORE
//! compares like `strcoll` in the C locale (up to the first NUL byte), with
//! STORE like `memcmp`; ties keep the source order, as glibc's merge sort
//! does, except with BY and a LIMIT that cuts, where Redis's own partial
//! quicksort leaves them in its order, reproduced here; `BY` a pattern
//! without `*` skips sorting, except for a set being stored, which is then
//! sorted ALPHA so that the result is deterministic; a sorted set in the
//! compact encoding becomes a skiplist, as Redis converts it before sorting.
//!
//! Not done here: Redis also sorts a set ALPHA for `BY nosort` inside a
//! script (it needs to know the command runs in one, which `Ctx` does not
//! say), and refuses BY and GET patterns in cluster mode.

use crate::command::{eq_ic, flags::*, Command, Group, KeySpec, Keys, Run};
use crate::error::{CmdError, CmdResult, NOT_INTEGER, SYNTAX, WRONGTYPE};
use crate::keyspace::Db;
use crate::num;
use crate::shard::Ctx;
use crate::types::list::List;
use crate::types::zset::{Limits, ZSet};
use crate::value::Value;
use std::cmp::Ordering;

const NOT_DOUBLE: CmdError = CmdError::new("ERR One or more scores can't be converted into double");

const SORT_COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

pub static COMMANDS: &[Command] = &[
    Command {
        name: "sort",
        arity: -2,
        flags: WRITE | DENYOOM | MOVABLE_KEYS,
        keys: Keys::ONE,
        group: Group::Generic,
        complexity: SORT_COMPLEXITY,
        summary: "Sorts the elements of a list, set or sorted set, optionally storing the result.",
        key_specs: &[KeySpec { begin: 1, last: 0, step: 1, flags: "RO ACCESS" }],
        key_finder: Some(sort_keys),
        run: Run::Shard(sort),
        ..Command::DEFAULT
    },
    Command {
        name: "sort_ro",
        arity: -2,
        flags: READONLY | MOVABLE_KEYS,
        keys: Keys::ONE,
        group: Group::Generic,
        since: "7.0.0",
        complexity: SORT_COMPLEXITY,
        summary: "Sorts the elements of a list, set or sorted set (read-only SORT).",
        key_specs: &[KeySpec { begin: 1, last: 0, step: 1, flags: "RO ACCESS" }],
        key_finder: Some(sort_ro_keys),
        run: Run::Shard(sort_ro),
        ..Command::DEFAULT
    },
];

/// SORT's keys, found as Redis's `sortGetKeys` finds them: the source, and
/// the argument after the last `STORE` (skipping the arguments of LIMIT, GET
/// and BY on the way, but not STORE's own).
pub fn sort_keys(argv: &[&[u8]]) -> Vec<usize> {
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if eq_ic(a, "limit") {
            i += 2;
        } else if eq_ic(a, "get") || eq_ic(a, "by") {
            i += 1;
        } else if eq_ic(a, "store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    let mut keys = vec![1];
    keys.extend(store);
    keys
}

/// SORT_RO reads its source key only (the BY/GET keys are not declared).
pub fn sort_ro_keys(_argv: &[&[u8]]) -> Vec<usize> {
    vec![1]
}

/// The options of one SORT command line.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    /// LIMIT offset and count; (0, -1) when not given.
    limit: (i64, i64),
    /// The BY pattern, when it has a `*` (a pattern without one only sets `dontsort`).
    by: Option<&'a [u8]>,
    dontsort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

/// The part of a pattern C string functions see: up to the first NUL byte.
fn c_str(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(i) => &b[..i],
        None => b,
    }
}

fn has_star(pattern: &[u8]) -> bool {
    memchr::memchr(b'*', c_str(pattern)).is_some()
}

/// Parses SORT's options in Redis's order of checks. STORE is a syntax error in SORT_RO.
fn parse_options<'a>(argv: &[&'a [u8]], readonly: bool) -> Result<Options<'a>, CmdError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit: (0, -1),
        by: None,
        dontsort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < argv.len() {
        let (a, left) = (argv[j], argv.len() - j - 1);
        if eq_ic(a, "asc") {
            o.desc = false;
        } else if eq_ic(a, "desc") {
            o.desc = true;
        } else if eq_ic(a, "alpha") {
            o.alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            let start = num::parse_i64(argv[j + 1]).ok_or(NOT_INTEGER)?;
            let count = num::parse_i64(argv[j + 2]).ok_or(NOT_INTEGER)?;
            o.limit = (start, count);
            j += 2;
        } else if !readonly && eq_ic(a, "store") && left >= 1 {
            o.store = Some(argv[j + 1]);
            j += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            let pattern = argv[j + 1];
            // Once a constant BY was seen, Redis skips sorting even if a later BY has a `*`.
            if has_star(pattern) {
                o.by = Some(pattern);
            } else {
                o.dontsort = true;
            }
            j += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            o.gets.push(argv[j + 1]);
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// What a pattern reads for one element.
#[derive(Debug, PartialEq, Eq)]
enum Target<'p> {
    /// `#`: the element itself.
    Element,
    /// A key, and for `...->field` a field of the hash there.
    Key(Vec<u8>, Option<&'p [u8]>),
    /// A pattern without `*` reads nothing.
    Nothing,
}

/// Substitutes `elem` for the first `*` of `pattern` (Redis's
/// `lookupKeyByPattern`, including how its C string functions stop at a NUL
/// byte while the lengths count the whole pattern).
fn target<'p>(pattern: &'p [u8], elem: &[u8]) -> Target<'p> {
    let c = c_str(pattern);
    if c == b"#" {
        return Target::Element;
    }
    let Some(star) = memchr::memchr(b'*', c) else {
        return Target::Nothing;
    };
    let arrow = memchr::memmem::find(&c[star + 1..], b"->").map(|i| star + 1 + i);
    let (suffix_end, field) = match arrow {
        Some(f) if f + 2 < c.len() => (f, Some(&pattern[f + 2..])),
        _ => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..suffix_end]);
    Target::Key(key, field)
}

/// Reads one external key for SORT: the string at `key`, or the `field` of
/// the hash at `key`; `None` when absent or of another type. Every BY and GET
/// lookup goes through here (a read lookup: it counts a keyspace hit or miss).
fn lookup(db: &mut Db, now: u64, key: &[u8], field: Option<&[u8]>) -> Option<Vec<u8>> {
    let value = db.read(key, now)?;
    match field {
        Some(f) => value.hash().ok()?.get(f).map(|item| item.to_vec()),
        None => value.as_str().map(|s| s.to_vec()),
    }
}

/// What `pattern` gives for `elem`.
fn resolve(db: &mut Db, now: u64, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    match target(pattern, elem) {
        Target::Element => Some(elem.to_vec()),
        Target::Key(key, field) => lookup(db, now, &key, field),
        Target::Nothing => None,
    }
}

/// Every element of a list, set or sorted set, in its natural order (for the
/// server, to find the keys a SORT will read); empty for another type.
pub fn sort_source_elements(value: &Value) -> Vec<Vec<u8>> {
    match value {
        Value::List(l) => l.iter().map(<[u8]>::to_vec).collect(),
        Value::Set(s) => s.iter().map(|i| i.to_vec()).collect(),
        Value::ZSet(z) => z.iter().map(|(m, _)| m.to_vec()).collect(),
        _ => Vec::new(),
    }
}

/// Whether SORT `argv` reads keys it does not declare: a BY pattern with a
/// `*` that is used for sorting, or a GET pattern other than `#` with a `*`.
/// False when the command line does not parse (it fails before any lookup).
/// A cheap test for the server, before it looks for [`sort_external_keys`].
pub fn sort_reads_patterns(argv: &[&[u8]]) -> bool {
    let readonly = argv.first().is_some_and(|n| eq_ic(n, "sort_ro"));
    let Ok(o) = parse_options(argv, readonly) else {
        return false;
    };
    (o.by.is_some() && !o.dontsort) || o.gets.iter().any(|g| has_star(g) && c_str(g) != b"#")
}

/// The external keys SORT `argv` would read (through its BY and GET
/// patterns) for the given source elements, deduplicated, in no particular
/// order. Empty when the command line does not parse.
pub fn sort_external_keys(argv: &[&[u8]], elements: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let readonly = argv.first().is_some_and(|n| eq_ic(n, "sort_ro"));
    let Ok(o) = parse_options(argv, readonly) else {
        return Vec::new();
    };
    let by = o.by.filter(|_| !o.dontsort);
    let mut keys = Vec::new();
    for elem in elements {
        for pattern in by.iter().chain(o.gets.iter()) {
            if let Target::Key(key, _) = target(pattern, elem) {
                keys.push(key);
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Reads a weight as SORT does with glibc's `strtod`: the string up to its
/// first NUL byte must be consumed whole (leading white space, a sign,
/// `inf`/`infinity`, decimal or `0x` hexadecimal); NaN, overflow and an
/// inexact result in the subnormal range (where `strtod` sets ERANGE) are
/// errors. An empty string is 0.
fn parse_weight(s: &[u8]) -> Option<f64> {
    let s = c_str(s);
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s.iter().position(|&c| !is_c_space(c))?;
    let (neg, body) = match s[start] {
        b'-' => (true, &s[start + 1..]),
        b'+' => (false, &s[start + 1..]),
        _ => (false, &s[start..]),
    };
    let v = if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else if body.len() > 2
        && body[0] == b'0'
        && (body[1] | 0x20) == b'x'
        && (body[2].is_ascii_hexdigit()
            || (body[2] == b'.' && body.get(3).is_some_and(u8::is_ascii_hexdigit)))
    {
        parse_hex(&body[2..])?
    } else {
        parse_decimal(body)?
    };
    Some(if neg { -v } else { v })
}

/// An unsigned decimal `digits[.digits][e[sign]digits]`, whole.
fn parse_decimal(b: &[u8]) -> Option<f64> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(0);
    let mut i = int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        frac = digits(i + 1);
        i += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    let mantissa_end = i;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = matches!(b.get(i + 1), Some(b'+' | b'-')) as usize;
        let exp = digits(i + 1 + sign);
        if exp == 0 {
            return None;
        }
        i += 1 + sign + exp;
    }
    if i != b.len() {
        return None;
    }
    let v: f64 = std::str::from_utf8(b).ok()?.parse().ok()?;
    if v.is_infinite() {
        return None;
    }
    if v == 0.0 || v.abs() < f64::MIN_POSITIVE {
        // Zero is exact only for an all-zero mantissa; a subnormal only when
        // the decimal is exactly its value.
        let nonzero = b[..mantissa_end].iter().any(|c| matches!(c, b'1'..=b'9'));
        if nonzero && (v == 0.0 || !decimal_is_exact(b, mantissa_end, v)) {
            return None;
        }
    }
    Some(v)
}

/// Whether the decimal `b` (a valid number, mantissa ending at
/// `mantissa_end`) equals `v` exactly.
fn decimal_is_exact(b: &[u8], mantissa_end: usize, v: f64) -> bool {
    // Normalise both to (significant digits, power of ten of the first digit).
    fn normalise(digits: impl Iterator<Item = u8>, point: i64) -> (Vec<u8>, i64) {
        let all: Vec<u8> = digits.collect();
        let lead = all.iter().take_while(|&&d| d == b'0').count();
        let mut sig = all[lead..].to_vec();
        while sig.last() == Some(&b'0') {
            sig.pop();
        }
        (sig, point - lead as i64 - 1)
    }
    let mant = &b[..mantissa_end];
    let int_len = mant.iter().position(|&c| c == b'.').unwrap_or(mant.len()) as i64;
    let exp: i64 = if mantissa_end < b.len() {
        std::str::from_utf8(&b[mantissa_end + 1..]).ok().and_then(|e| e.parse().ok()).unwrap_or(i64::MIN / 2)
    } else {
        0
    };
    let input = normalise(mant.iter().copied().filter(u8::is_ascii_digit), int_len.saturating_add(exp));
    // A double's decimal expansion is finite: 1100 digits hold any subnormal exactly.
    let text = format!("{:.1100e}", v.abs());
    let (m, e) = text.split_once('e').unwrap_or((&text, "0"));
    let e: i64 = e.parse().unwrap_or(0);
    let exact = normalise(m.bytes().filter(u8::is_ascii_digit), e + 1);
    input == exact
}

/// The hexadecimal part after `0x`: `h[.h][p[sign]digits]`, whole, rounded
/// to nearest even.
fn parse_hex(b: &[u8]) -> Option<f64> {
    let (mut mant, mut exp, mut sticky) = (0u64, 0i64, false);
    let (mut point, mut any, mut i) = (false, false, 0);
    while i < b.len() {
        let c = b[i];
        if c == b'.' && !point {
            point = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            any = true;
            if mant >> 60 == 0 {
                mant = mant << 4 | d as u64;
                if point {
                    exp -= 4;
                }
            } else {
                sticky |= d != 0;
                if !point {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'p' {
        let sign = matches!(b.get(i + 1), Some(b'+' | b'-')) as usize;
        let digits = b[i + 1 + sign..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let mut e: i64 = 0;
        for &c in &b[i + 1 + sign..i + 1 + sign + digits] {
            e = (e * 10 + (c - b'0') as i64).min(1 << 20);
        }
        exp += if b[i + 1] == b'-' { -e } else { e };
        i += 1 + sign + digits;
    }
    if i != b.len() {
        return None;
    }
    compose(mant, sticky, exp)
}

/// `mant * 2^exp` (plus a little more when `sticky`) as a double, or `None`
/// on overflow or on an inexact subnormal (glibc's ERANGE).
fn compose(mant: u64, sticky: bool, exp: i64) -> Option<f64> {
    if mant == 0 {
        return Some(0.0);
    }
    let lz = mant.leading_zeros();
    let m = mant << lz;
    let top = exp - lz as i64 + 63; // the power of two of the leading bit
    if top > 1023 {
        return None;
    }
    let precision = if top >= -1022 { 53 } else { 53 - (-1022 - top) };
    if precision <= 0 {
        return None;
    }
    let drop = (64 - precision) as u32;
    let kept = m >> drop;
    let rest = m & ((1u64 << drop) - 1);
    let half = 1u64 << (drop - 1);
    let inexact = rest != 0 || sticky;
    let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
    let kept = kept + up as u64;
    let scale = top - (precision - 1);
    let pow2 = if scale >= -1022 {
        f64::from_bits(((scale + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (scale + 1074))
    };
    let v = kept as f64 * pow2;
    if v.is_infinite() || (inexact && top < -1022) {
        return None;
    }
    Some(v)
}

/// What ALPHA compares: without STORE Redis uses `strcoll` (in the C
/// locale, byte order up to the first NUL byte), with STORE every byte.
fn alpha_text(b: &[u8], stored: bool) -> &[u8] {
    if stored {
        b
    } else {
        c_str(b)
    }
}

/// The median of three positions of `v`, chosen the way Bentley and
/// McIlroy's quicksort chooses it.
fn median_of_three<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    use Ordering::*;
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}

/// Sorts enough of `v` that positions `start..=end` hold what a full sort
/// would put there, skipping the partitions that lie wholly outside. This is
/// the algorithm of Redis's `pqsort` (Bentley and McIlroy's three-way
/// quicksort, "Engineering a Sort Function", 1993, with a range check before
/// each descent), step for step, because it is not stable: elements that
/// compare equal come out in the order its swaps leave them, and SORT ... BY
/// ... LIMIT replies with that order.
fn partial_quicksort<T>(v: &mut [T], start: i64, end: i64, cmp: &impl Fn(&T, &T) -> Ordering) {
    use Ordering::*;
    // Whether the wanted range reaches into `lo..lo + n`.
    let wanted = |lo: usize, n: usize| {
        let (lo, hi) = (lo as i64, (lo + n) as i64);
        !((start < lo && end < lo) || (start >= hi && end >= hi))
    };
    // Pending partitions (first index, length); the first one is sorted next.
    let mut todo = vec![(0usize, v.len())];
    while let Some((a, n)) = todo.pop() {
        if n < 7 {
            for m in a + 1..a + n {
                let mut l = m;
                while l > a && cmp(&v[l - 1], &v[l]) == Greater {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            continue;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let (mut pl, mut pn) = (a, a + n - 1);
            if n > 40 {
                let d = n / 8;
                pl = median_of_three(v, pl, pl + d, pl + 2 * d, cmp);
                pm = median_of_three(v, pm - d, pm, pm + d, cmp);
                pn = median_of_three(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = median_of_three(v, pl, pm, pn, cmp);
        }
        // The pivot goes to `a`; equal elements gather at both ends
        // (`a+1..pa` and `pd+1..a+n`), smaller ones after them, larger ones before.
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Greater {
                    break;
                }
                if r == Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r == Less {
                    break;
                }
                if r == Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        // Move the equal runs into the middle, block against block.
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        for i in 0..r {
            v.swap(a + i, pb - r + i);
        }
        let r = (pd - pc).min(pn - pd - 1);
        for i in 0..r {
            v.swap(pb + i, pn - r + i);
        }
        // Redis recurses into the smaller-than part first, then loops on the
        // greater-than part: the same order, with a stack.
        let (less, greater) = (pb - pa, pd - pc);
        if greater > 1 && wanted(pn - greater, greater) {
            todo.push((pn - greater, greater));
        }
        if less > 1 && wanted(a, less) {
            todo.push((a, less));
        }
    }
}

/// One element being sorted and what it sorts by.
struct Entry {
    elem: Vec<u8>,
    score: f64,
    /// The BY value in ALPHA mode.
    by: Option<Vec<u8>>,
}

fn sort(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, argv, false)
}

fn sort_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, argv, true)
}

/// Loads the elements SORT works on, with Redis's LIMIT arithmetic: returns
/// them and the inclusive output range `start..=end` (end < start when empty).
/// Without sorting, a list or sorted set only loads the range, in DESC order
/// when asked.
fn load(value: Option<&Value>, o: &mut Options<'_>) -> Result<(Vec<Vec<u8>>, i64, i64), CmdError> {
    let len = match value {
        None => 0,
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => z.len(),
        Some(_) => return Err(WRONGTYPE),
    };
    if o.dontsort && matches!(value, Some(Value::Set(_))) && o.store.is_some() {
        // A set's own order is arbitrary: what gets stored is sorted.
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let n = len as i64;
    let mut start = o.limit.0.clamp(0, n);
    let count = o.limit.1.clamp(-1, n);
    let mut end = if count < 0 { n - 1 } else { start + count - 1 };
    if start >= n {
        start = n - 1;
        end = n - 2;
    }
    if end >= n {
        end = n - 1;
    }
    let ranged = o.dontsort && matches!(value, Some(Value::List(_) | Value::ZSet(_)));
    let items = match value {
        Some(Value::List(l)) if ranged => {
            if end < start {
                Vec::new()
            } else if o.desc {
                l.range(len - 1 - end as usize, len - start as usize).rev().map(<[u8]>::to_vec).collect()
            } else {
                l.range(start as usize, end as usize + 1).map(<[u8]>::to_vec).collect()
            }
        }
        Some(Value::ZSet(z)) if ranged => {
            let take = (end - start + 1).max(0) as usize;
            let first =
                if o.desc { len.saturating_sub(1 + start.max(0) as usize) } else { start.max(0) as usize };
            z.iter_from(first, o.desc).take(take).map(|(m, _)| m.to_vec()).collect()
        }
        Some(v) => sort_source_elements(v),
        None => Vec::new(),
    };
    if ranged {
        end -= start;
        start = 0;
    }
    Ok((items, start, end))
}

/// Redis converts a sorted set in the compact encoding to a skiplist before
/// sorting it (SORT_RO too, and even when the sort then fails), which OBJECT
/// ENCODING shows: so does Shoal. It is no change for WATCH, as in Redis.
fn convert_compact_zset(db: &mut Db, key: &[u8], now: u64) {
    let compact = matches!(db.peek(key, now).map(|e| e.value()), Some(Value::ZSet(z)) if z.is_compact());
    if !compact {
        return;
    }
    if let Some(Value::ZSet(z)) = db.write_untracked(key, now) {
        let entries = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        // Limits of 0 make a skiplist of any non-empty set.
        **z = ZSet::from_entries(entries, Limits { entries: 0, value: 0 });
    }
}

fn sort_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], readonly: bool) -> CmdResult {
    let mut o = parse_options(argv, readonly)?;
    let now = ctx.now;
    let db = ctx.db();
    convert_compact_zset(db, argv[1], now);
    let (items, start, end) = load(db.read(argv[1], now), &mut o)?;
    let mut entries: Vec<Entry> =
        items.into_iter().map(|elem| Entry { elem, score: 0.0, by: None }).collect();
    if !o.dontsort {
        let mut bad_score = false;
        for e in entries.iter_mut() {
            let by = match o.by {
                Some(pattern) => match resolve(db, now, pattern, &e.elem) {
                    Some(v) => Some(v),
                    None => continue,
                },
                None => None,
            };
            if o.alpha {
                e.by = by;
            } else {
                match parse_weight(by.as_deref().unwrap_or(&e.elem)) {
                    Some(s) => e.score = s,
                    None => bad_score = true,
                }
            }
        }
        if bad_score {
            return Err(NOT_DOUBLE);
        }
        let stored = o.store.is_some();
        let compare = |a: &Entry, b: &Entry| -> Ordering {
            let ord = if !o.alpha {
                a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal).then_with(|| a.elem.cmp(&b.elem))
            } else if o.by.is_some() {
                match (&a.by, &b.by) {
                    (Some(x), Some(y)) => alpha_text(x, stored).cmp(alpha_text(y, stored)),
                    (x, y) => x.is_some().cmp(&y.is_some()),
                }
            } else {
                alpha_text(&a.elem, stored).cmp(alpha_text(&b.elem, stored))
            };
            if o.desc {
                ord.reverse()
            } else {
                ord
            }
        };
        // Redis sorts a LIMITed BY with its own partial quicksort, and
        // everything else with glibc's qsort, a stable merge sort: the two
        // order ties (equal or missing ALPHA weights) differently.
        if o.by.is_some() && (start != 0 || end != entries.len() as i64 - 1) {
            partial_quicksort(&mut entries, start, end, &compare);
        } else {
            entries.sort_by(compare);
        }
    }
    let range = if end >= start { &entries[start as usize..=end as usize] } else { &[][..] };
    let output = range.len() * o.gets.len().max(1);
    match o.store {
        None => {
            let (db, out) = ctx.parts();
            out.array(output);
            for e in range {
                if o.gets.is_empty() {
                    out.bulk(&e.elem);
                }
                for pattern in &o.gets {
                    match resolve(db, now, pattern, &e.elem) {
                        Some(v) => out.bulk(&v),
                        None => out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut list = List::new();
            for e in range {
                if o.gets.is_empty() {
                    list.push_back(&e.elem);
                }
                for pattern in &o.gets {
                    list.push_back(&resolve(db, now, pattern, &e.elem).unwrap_or_default());
                }
            }
            if output > 0 {
                let created = !db.contains(dst, now);
                db.set(dst, Value::List(Box::new(list)), 0, false, now);
                if created {
                    ctx.signal_ready(dst);
                }
                ctx.dirty(output as u64);
            } else if db.remove(dst, now).is_some() {
                ctx.dirty(1);
            }
            ctx.out.int(output as i64);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::Shard;
    use crate::testing::{run, run_proto, shard};

    fn bulks(items: &[&str]) -> String {
        let mut s = format!("*{}\r\n", items.len());
        for i in items {
            s += &format!("${}\r\n{}\r\n", i.len(), i);
        }
        s
    }

    // The assertions of the next two tests were produced by running the
    // same commands against redis-server 7.0.15.
    #[test]
    fn numeric_and_alpha_sorting_like_redis() {
        let mut s = shard();
        assert_eq!(
            run(&mut s, &["RPUSH", "l", "3", "1", "2", "10", "", " 5", "0x10", "1e2", "-inf"]),
            ":9\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "l"]), "*9\r\n$4\r\n-inf\r\n$0\r\n\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n 5\r\n$2\r\n10\r\n$4\r\n0x10\r\n$3\r\n1e2\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "DESC"]), "*9\r\n$3\r\n1e2\r\n$4\r\n0x10\r\n$2\r\n10\r\n$2\r\n 5\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n$0\r\n\r\n$4\r\n-inf\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "LIMIT", "1", "3"]), "*3\r\n$0\r\n\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "LIMIT", "-5", "2", "DESC"]),
            "*2\r\n$3\r\n1e2\r\n$4\r\n0x10\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "l", "LIMIT", "7", "100"]), "*2\r\n$4\r\n0x10\r\n$3\r\n1e2\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "LIMIT", "9", "1"]), "*0\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "LIMIT", "1", "0"]), "*0\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "LIMIT", "0", "-7"]), "*9\r\n$4\r\n-inf\r\n$0\r\n\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n 5\r\n$2\r\n10\r\n$4\r\n0x10\r\n$3\r\n1e2\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "ALPHA"]), "*9\r\n$0\r\n\r\n$2\r\n 5\r\n$4\r\n-inf\r\n$4\r\n0x10\r\n$1\r\n1\r\n$2\r\n10\r\n$3\r\n1e2\r\n$1\r\n2\r\n$1\r\n3\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "ALPHA", "DESC", "LIMIT", "0", "3"]),
            "*3\r\n$1\r\n3\r\n$1\r\n2\r\n$3\r\n1e2\r\n"
        );
        assert_eq!(run(&mut s, &["SORT_RO", "l", "ALPHA"]), "*9\r\n$0\r\n\r\n$2\r\n 5\r\n$4\r\n-inf\r\n$4\r\n0x10\r\n$1\r\n1\r\n$2\r\n10\r\n$3\r\n1e2\r\n$1\r\n2\r\n$1\r\n3\r\n");
        assert_eq!(run(&mut s, &["RPUSH", "l2", "3", "5 "]), ":2\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l2"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "l2", "ALPHA"]), "*2\r\n$1\r\n3\r\n$2\r\n5 \r\n");
        assert_eq!(run(&mut s, &["SORT", "l2", "BY", "nosort"]), "*2\r\n$1\r\n3\r\n$2\r\n5 \r\n");
        assert_eq!(run(&mut s, &["RPUSH", "l3", "3", "nan"]), ":2\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l3"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["RPUSH", "l7", "3", "2\x00abc", "2", "1", "-0", "0", "+0"]), ":7\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l7"]),
            "*7\r\n$2\r\n+0\r\n$2\r\n-0\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n2\r\n$5\r\n2\x00abc\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            run(
                &mut s,
                &[
                    "RPUSH",
                    "l8",
                    "3",
                    "infinity",
                    "+4",
                    ".5",
                    "5.",
                    "0x1p3",
                    "-0x1.8p1",
                    " \x09\n7",
                    "\x0b8",
                    "\x0c9",
                    "\r6",
                    "0x.8",
                    "0X1P+2",
                    "INF",
                    "-Infinity",
                    "1e0"
                ]
            ),
            ":16\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "l8"]), "*16\r\n$9\r\n-Infinity\r\n$8\r\n-0x1.8p1\r\n$2\r\n.5\r\n$4\r\n0x.8\r\n$3\r\n1e0\r\n$1\r\n3\r\n$2\r\n+4\r\n$6\r\n0X1P+2\r\n$2\r\n5.\r\n$2\r\n\r6\r\n$4\r\n \x09\n7\r\n$2\r\n\x0b8\r\n$5\r\n0x1p3\r\n$2\r\n\x0c9\r\n$3\r\nINF\r\n$8\r\ninfinity\r\n");
        assert_eq!(run(&mut s, &["RPUSH", "bad1", "0x"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "bad1"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["RPUSH", "bad2", "1e"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "bad2"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["RPUSH", "bad3", "."]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "bad3"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["RPUSH", "bad4", "  "]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "bad4"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["RPUSH", "bad5", "infin"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "bad5"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["RPUSH", "bad6", "0x1p"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "bad6"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["RPUSH", "bad7", "1 2"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "bad7"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["RPUSH", "bad8", "--1"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "bad8"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(
            run(
                &mut s,
                &[
                    "RPUSH",
                    "ok1",
                    "0x1p-1074",
                    "0x1p-1022",
                    "0e-999",
                    "1.7976931348623157e308",
                    "0x1.fffffffffffff7p1023"
                ]
            ),
            ":5\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "ok1"]), "*5\r\n$6\r\n0e-999\r\n$9\r\n0x1p-1074\r\n$9\r\n0x1p-1022\r\n$23\r\n0x1.fffffffffffff7p1023\r\n$22\r\n1.7976931348623157e308\r\n");
    }

    #[test]
    fn by_get_limit_store_like_redis() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["RPUSH", "l", "c", "a", "b", "d"]), ":4\r\n");
        assert_eq!(run(&mut s, &["MSET", "w_a", "3", "w_b", "1", "w_c", "2", "w_d", "x"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["MSET", "w_d", "2"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*"]),
            "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\na\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "DESC"]),
            "*4\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "LIMIT", "0", "2"]),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "nokey", "GET", "nokey_*"]), "*16\r\n$1\r\nb\r\n$1\r\n1\r\n$-1\r\n$-1\r\n$1\r\nc\r\n$1\r\n2\r\n$-1\r\n$-1\r\n$1\r\nd\r\n$1\r\n2\r\n$-1\r\n$-1\r\n$1\r\na\r\n$1\r\n3\r\n$-1\r\n$-1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "LIMIT", "1", "1"]),
            "*2\r\n$1\r\nc\r\n$1\r\n2\r\n"
        );
        assert_eq!(run(&mut s, &["HSET", "h_a", "f", "10", "g", "x"]), ":2\r\n");
        assert_eq!(run(&mut s, &["HSET", "h_b", "f", "5"]), ":1\r\n");
        assert_eq!(run(&mut s, &["HSET", "h_c", "f", "7.5"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "h_*->f"]),
            "*4\r\n$1\r\nd\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "l", "BY", "h_*->f", "GET", "h_*->g", "GET", "#", "GET", "h_*->", "GET", "h_*->f"]), "*16\r\n$-1\r\n$1\r\nd\r\n$-1\r\n$-1\r\n$-1\r\n$1\r\nb\r\n$-1\r\n$1\r\n5\r\n$-1\r\n$1\r\nc\r\n$-1\r\n$3\r\n7.5\r\n$1\r\nx\r\n$1\r\na\r\n$-1\r\n$2\r\n10\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "h_*->f", "ALPHA"]),
            "*4\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "h_*->"]),
            "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "nosort"]),
            "*4\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nd\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "nosort", "DESC"]),
            "*4\r\n$1\r\nd\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "nosort", "LIMIT", "1", "2"]),
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "nosort", "LIMIT", "1", "2", "DESC"]),
            "*2\r\n$1\r\nb\r\n$1\r\na\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "nosort", "LIMIT", "3", "5", "DESC"]),
            "*1\r\n$1\r\nc\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "l", "BY", "nosort", "LIMIT", "4", "5", "DESC"]), "*0\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "nosort", "GET", "w_*"]),
            "*4\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "nosort", "BY", "w_*"]),
            "*4\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nd\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "BY", "nosort"]),
            "*4\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nd\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "LIMIT", "1", "ALPHA"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "LIMIT", "a", "1", "ALPHA"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "LIMIT", "1", "b"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "l", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "STORE"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "GET"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "BY"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["SORT_RO", "l", "STORE", "x"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["SET", "s", "v"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "s"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "s", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "s", "LIMIT", "a", "b"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "nokey"]), "*0\r\n");
        assert_eq!(run(&mut s, &["SORT", "nokey", "BY", "w_*", "GET", "#"]), "*0\r\n");
        assert_eq!(run(&mut s, &["SORT", "nokey", "STORE", "dst"]), ":0\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "ALPHA", "STORE", "s"]), ":4\r\n");
        assert_eq!(run(&mut s, &["TYPE", "s"]), "+list\r\n");
        assert_eq!(
            run(&mut s, &["LRANGE", "s", "0", "-1"]),
            "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "nokey", "STORE", "s"]), ":0\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "s"]), ":0\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "ALPHA", "GET", "w_*", "STORE", "dst2"]), ":4\r\n");
        assert_eq!(
            run(&mut s, &["LRANGE", "dst2", "0", "-1"]),
            "*4\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            run(
                &mut s,
                &[
                    "SORT", "l", "ALPHA", "GET", "w_*", "GET", "#", "GET", "nokey_*", "STORE", "dst2",
                    "LIMIT", "0", "1"
                ]
            ),
            ":3\r\n"
        );
        assert_eq!(run(&mut s, &["LRANGE", "dst2", "0", "-1"]), "*3\r\n$1\r\n3\r\n$1\r\na\r\n$0\r\n\r\n");
        assert_eq!(run(&mut s, &["SORT", "l", "ALPHA", "STORE", "dst3", "STORE", "dst4"]), ":4\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "dst3", "dst4"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "ALPHA"]),
            "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\na\r\n"
        );
        assert_eq!(run(&mut s, &["MSET", "w_a", "x", "w_b", "y"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "ALPHA"]),
            "*4\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "ALPHA", "DESC"]),
            "*4\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n"
        );
        assert_eq!(run(&mut s, &["DEL", "w_a"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "ALPHA"]),
            "*4\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "ALPHA", "DESC"]),
            "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\na\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "h_*->f", "GET", "h_*->f"]),
            "*4\r\n$-1\r\n$1\r\n5\r\n$3\r\n7.5\r\n$2\r\n10\r\n"
        );
        assert_eq!(run(&mut s, &["SADD", "w_x", "1"]), ":1\r\n");
        assert_eq!(run(&mut s, &["SET", "w_y", "1"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "l", "BY", "w_*", "GET", "w_*"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["RPUSH", "n", "a\x00b", "a\x00a", "a", "b"]), ":4\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "n", "ALPHA"]),
            "*4\r\n$3\r\na\x00b\r\n$3\r\na\x00a\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "n", "ALPHA", "STORE", "n2"]), ":4\r\n");
        assert_eq!(
            run(&mut s, &["LRANGE", "n2", "0", "-1"]),
            "*4\r\n$1\r\na\r\n$3\r\na\x00a\r\n$3\r\na\x00b\r\n$1\r\nb\r\n"
        );
        assert_eq!(run(&mut s, &["MSET", "pre_a\x00b_suf", "1", "pre_a\x00a_suf", "2"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["SORT", "n", "BY", "pre_*_suf", "GET", "pre_*_suf", "GET", "#\x00x", "GET", "k\x00*"]), "*12\r\n$-1\r\n$1\r\na\r\n$-1\r\n$-1\r\n$1\r\nb\r\n$-1\r\n$1\r\n1\r\n$3\r\na\x00b\r\n$-1\r\n$1\r\n2\r\n$3\r\na\x00a\r\n$-1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "n", "BY", "k\x00*"]),
            "*4\r\n$3\r\na\x00b\r\n$3\r\na\x00a\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(run(&mut s, &["HSET", "ha\x00b", "f\x00g", "5"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "n", "BY", "nosort", "GET", "h*->f\x00g", "GET", "h*->\x00g"]),
            "*8\r\n$1\r\n5\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"
        );
        assert_eq!(run(&mut s, &["SADD", "st", "3", "1", "2"]), ":3\r\n");
        assert_eq!(run(&mut s, &["SORT", "st"]), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
        assert_eq!(run(&mut s, &["SORT", "st", "DESC", "LIMIT", "0", "2"]), "*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
        assert_eq!(run(&mut s, &["SORT", "st", "BY", "nosort", "STORE", "st2"]), ":3\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "st2", "0", "-1"]), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
        assert_eq!(run(&mut s, &["SADD", "st3", "b", "a", "c"]), ":3\r\n");
        assert_eq!(run(&mut s, &["SORT", "st3", "BY", "nosort", "STORE", "st4"]), ":3\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "st4", "0", "-1"]), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
        assert_eq!(run(&mut s, &["SORT", "st3", "ALPHA", "DESC"]), "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "st3"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["ZADD", "z", "3", "a", "1", "b", "2", "c"]), ":3\r\n");
        assert_eq!(run(&mut s, &["SORT", "z", "BY", "nosort"]), "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "z", "BY", "nosort", "DESC"]),
            "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "z", "BY", "nosort", "LIMIT", "1", "5"]),
            "*2\r\n$1\r\nc\r\n$1\r\na\r\n"
        );
        assert_eq!(
            run(&mut s, &["SORT", "z", "BY", "nosort", "LIMIT", "1", "1", "DESC"]),
            "*1\r\n$1\r\nc\r\n"
        );
        assert_eq!(run(&mut s, &["SORT", "z", "ALPHA"]), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
        assert_eq!(run(&mut s, &["SORT", "z", "BY", "nosort", "STORE", "z2"]), ":3\r\n");
        assert_eq!(run(&mut s, &["LRANGE", "z2", "0", "-1"]), "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n");
        assert_eq!(run(&mut s, &["SORT", "z"]), "-ERR One or more scores can't be converted into double\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "z", "BY", "w_*", "GET", "#"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["SET", "x", "1"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["EXPIRE", "x", "100"]), ":1\r\n");
        assert_eq!(run(&mut s, &["RPUSH", "src", "1"]), ":1\r\n");
        assert_eq!(run(&mut s, &["SORT", "src", "STORE", "x"]), ":1\r\n");
        assert_eq!(run(&mut s, &["TTL", "x"]), ":-1\r\n");
        assert_eq!(run(&mut s, &["HSET", "hh", "f", "1"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["SORT", "hh"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
    }

    // Replies of redis-server 7.0.15: with BY and a LIMIT that cuts, ties
    // come out in the order of Redis's partial quicksort, not the source order.
    #[test]
    fn limited_by_sorts_ties_like_pqsort() {
        let mut s = shard();
        run(&mut s, &["RPUSH", "l", "c", "a", "b", "d", "e", "f", "g", "h", "i", "j", "k"]);
        let sort = |s: &mut Shard, args: &[&str]| {
            let mut argv = vec!["SORT", "l"];
            argv.extend_from_slice(args);
            run(s, &argv)
        };
        assert_eq!(sort(&mut s, &["BY", "w_*", "ALPHA", "LIMIT", "0", "3"]), bulks(&["k", "a", "b"]));
        assert_eq!(sort(&mut s, &["BY", "w_*", "ALPHA", "LIMIT", "0", "3", "DESC"]), bulks(&["k", "a", "b"]));
        assert_eq!(
            sort(&mut s, &["BY", "w_*", "ALPHA", "LIMIT", "2", "5"]),
            bulks(&["b", "d", "e", "f", "g"])
        );
        assert_eq!(
            sort(&mut s, &["BY", "w_*", "ALPHA"]),
            bulks(&["c", "a", "b", "d", "e", "f", "g", "h", "i", "j", "k"])
        );
        assert_eq!(sort(&mut s, &["BY", "w_*", "LIMIT", "0", "3"]), bulks(&["a", "b", "c"]));
    }

    #[test]
    fn partial_quicksort_sorts_the_wanted_range() {
        // Against a full sort, on keys with many ties (compared by key only,
        // so the payload shows how ties were ordered but cannot be checked).
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..400 {
            let n = (next() % 120) as usize;
            let v: Vec<(u64, usize)> = (0..n).map(|i| (next() % (1 + round % 10) as u64, i)).collect();
            let mut want = v.clone();
            want.sort_by_key(|e| e.0);
            let start = (next() % (n as u64 + 2)) as i64 - 1;
            let end = start + (next() % (n as u64 + 1)) as i64;
            let mut got = v.clone();
            partial_quicksort(&mut got, start, end, &|a: &(u64, usize), b: &(u64, usize)| a.0.cmp(&b.0));
            for i in start.max(0)..=end.min(n as i64 - 1) {
                assert_eq!(
                    got[i as usize].0, want[i as usize].0,
                    "round {round} n {n} range {start}..={end}"
                );
            }
            let mut all: Vec<usize> = got.iter().map(|e| e.1).collect();
            all.sort_unstable();
            assert!(all.into_iter().eq(0..n));
        }
    }

    #[test]
    fn sorting_a_zset_converts_it_to_a_skiplist() {
        let mut s = shard();
        run(&mut s, &["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "z"]), "$8\r\nlistpack\r\n");
        assert_eq!(run(&mut s, &["SORT_RO", "z", "BY", "nosort"]), bulks(&["a", "b"]));
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "z"]), "$8\r\nskiplist\r\n");
        assert_eq!(run(&mut s, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]), bulks(&["a", "1", "b", "2"]));
        run(&mut s, &["ZADD", "z2", "1", "x"]);
        assert_eq!(
            run(&mut s, &["SORT", "z2"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "z2"]), "$8\r\nskiplist\r\n");
        // A syntax error comes before the lookup.
        run(&mut s, &["ZADD", "z3", "1", "x"]);
        assert_eq!(run(&mut s, &["SORT", "z3", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "z3"]), "$8\r\nlistpack\r\n");
    }

    #[test]
    fn weights_parse_like_strtod() {
        for (text, want) in [
            ("", 0.0),
            ("  \t12", 12.0),
            ("0x10", 16.0),
            ("0x.8", 0.5),
            ("-0x1.8p1", -3.0),
            ("0X1P+2", 4.0),
            ("1e2", 100.0),
            ("5.", 5.0),
            ("-.5", -0.5),
            ("2\0junk", 2.0),
            ("0e-999", 0.0),
            ("1.7976931348623157e308", f64::MAX),
            ("0x1p-1074", 5e-324),
            ("0x1.fffffffffffff7p1023", f64::MAX),
            ("0x1.00000000000008p0", 1.0),
            ("0x1.000000000000081p0", 1.0 + f64::EPSILON),
            ("0x1.00000000000018p0", 1.0 + 2.0 * f64::EPSILON),
        ] {
            assert_eq!(parse_weight(text.as_bytes()), Some(want), "{text:?}");
        }
        assert_eq!(parse_weight(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_weight(b"INFINITY"), Some(f64::INFINITY));
        for bad in [
            "5 ",
            "nan",
            "-nan",
            "1e400",
            "1.797693134862316e308",
            "1e-310",
            "1e-400",
            "2.2250738585072011e-308",
            "0x1.fffffffffffff8p1023",
            "0x1p-1075",
            "0x1.8p-1074",
            "0x",
            "1e",
            ".",
            "  ",
            "infin",
            "0x1p",
            "1 2",
            "--1",
            "+-1",
            "0x1.2.3",
        ] {
            assert_eq!(parse_weight(bad.as_bytes()), None, "{bad:?}");
        }
        // An exact subnormal in decimal is no range error.
        let exact = format!("{:.1100e}", 5e-324f64);
        assert_eq!(parse_weight(exact.as_bytes()), Some(5e-324));
    }

    #[test]
    fn pattern_targets() {
        assert_eq!(target(b"#", b"e"), Target::Element);
        assert_eq!(target(b"#\0x", b"e"), Target::Element);
        assert_eq!(target(b"##", b"e"), Target::Nothing);
        assert_eq!(target(b"w_*", b"e"), Target::Key(b"w_e".to_vec(), None));
        assert_eq!(target(b"*_*", b"e"), Target::Key(b"e_*".to_vec(), None));
        assert_eq!(target(b"h_*->f", b"e"), Target::Key(b"h_e".to_vec(), Some(&b"f"[..])));
        assert_eq!(target(b"h_*->", b"e"), Target::Key(b"h_e->".to_vec(), None));
        assert_eq!(target(b"h->*", b"e"), Target::Key(b"h->e".to_vec(), None));
        assert_eq!(target(b"h*->f->g", b"e"), Target::Key(b"he".to_vec(), Some(&b"f->g"[..])));
        assert_eq!(target(b"k\0*", b"e"), Target::Nothing);
        assert_eq!(target(b"h*->f\0g", b"e"), Target::Key(b"he".to_vec(), Some(&b"f\0g"[..])));
        assert_eq!(target(b"h*->\0g", b"e"), Target::Key(b"he->\0g".to_vec(), None));
    }

    #[test]
    fn key_finder_follows_sort_get_keys() {
        let keys = |line: &str| {
            let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            sort_keys(&argv)
        };
        assert_eq!(keys("SORT k"), [1]);
        assert_eq!(keys("SORT k STORE d"), [1, 3]);
        assert_eq!(keys("SORT k STORE"), [1]);
        assert_eq!(keys("SORT k LIMIT 0 1 STORE d ALPHA"), [1, 6]);
        assert_eq!(keys("SORT k GET store STORE d"), [1, 5]);
        assert_eq!(keys("SORT k BY store"), [1]);
        assert_eq!(keys("SORT k STORE a STORE b"), [1, 5]);
        assert_eq!(keys("SORT k LIMIT store x STORE b"), [1, 6]);
        assert_eq!(sort_ro_keys(&[b"SORT_RO", b"k", b"STORE", b"d"]), [1]);
        let cmd = COMMANDS.iter().find(|c| c.name == "sort").expect("sort");
        let argv: Vec<&[u8]> = vec![b"sort", b"k", b"alpha", b"store", b"d"];
        assert_eq!(cmd.key_positions(&argv).collect::<Vec<_>>(), [1, 4]);
    }

    #[test]
    fn external_keys_for_the_server() {
        let elems = vec![b"a".to_vec(), b"b".to_vec()];
        let argv: Vec<&[u8]> =
            vec![b"SORT", b"k", b"BY", b"w_*", b"GET", b"#", b"GET", b"h_*->f", b"GET", b"x"];
        let mut keys = sort_external_keys(&argv, &elems);
        keys.sort();
        assert_eq!(keys, [&b"h_a"[..], b"h_b", b"w_a", b"w_b"]);
        let nosort: Vec<&[u8]> = vec![b"SORT", b"k", b"BY", b"nosort", b"BY", b"w_*"];
        assert!(sort_external_keys(&nosort, &elems).is_empty());
        let bad: Vec<&[u8]> = vec![b"SORT", b"k", b"GET"];
        assert!(sort_external_keys(&bad, &elems).is_empty());
        let reads = |line: &str| {
            let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            sort_reads_patterns(&argv)
        };
        assert!(reads("SORT k BY w_*"));
        assert!(reads("SORT_RO k GET h_*->f"));
        assert!(reads("SORT k BY nosort GET #* STORE d"));
        assert!(!reads("SORT k"));
        assert!(!reads("SORT k ALPHA GET # LIMIT 0 1 STORE d"));
        assert!(!reads("SORT k BY nosort BY w_* GET #"));
        assert!(!reads("SORT k GET nostar"));
        assert!(!reads("SORT k BY w_* foo"));
        assert!(!reads("SORT_RO k BY w_* STORE d"));
        let mut shard = shard();
        run(&mut shard, &["RPUSH", "l", "x", "y", "x"]);
        let v = shard.db(0).peek(b"l", 0).map(|e| sort_source_elements(e.value()));
        assert_eq!(v, Some(vec![b"x".to_vec(), b"y".to_vec(), b"x".to_vec()]));
    }

    #[test]
    fn resp3_nulls_and_stats() {
        let mut s = shard();
        run(&mut s, &["RPUSH", "l", "1", "2"]);
        assert_eq!(run_proto(&mut s, 0, true, &["SORT", "l", "GET", "nokey_*"]), "*2\r\n_\r\n_\r\n");
        let hits = s.db(0).stats.hits;
        let misses = s.db(0).stats.misses;
        run(&mut s, &["SORT", "l", "BY", "w_*", "GET", "#"]);
        // One read of the source, one per BY lookup.
        assert_eq!(s.db(0).stats.hits, hits + 1);
        assert_eq!(s.db(0).stats.misses, misses + 2);
    }

    #[test]
    fn store_counts_and_signals() {
        let mut s = shard();
        run(&mut s, &["RPUSH", "l", "1", "2", "3"]);
        s.ready.clear();
        let dirty = s.dirty;
        assert_eq!(run(&mut s, &["SORT", "l", "STORE", "d"]), ":3\r\n");
        assert_eq!(s.dirty, dirty + 3);
        assert_eq!(s.ready.len(), 1);
        assert_eq!(run(&mut s, &["SORT", "l", "STORE", "d"]), ":3\r\n");
        assert_eq!(s.ready.len(), 1);
        assert_eq!(run(&mut s, &["SORT", "nokey", "STORE", "d"]), ":0\r\n");
        assert_eq!(s.dirty, dirty + 7);
        assert_eq!(run(&mut s, &["SORT", "nokey", "STORE", "d"]), ":0\r\n");
        assert_eq!(s.dirty, dirty + 7);
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "d"]), "$-1\r\n");
    }
}
