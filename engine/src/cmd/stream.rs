//! Stream commands: the log (XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM,
//! XREAD, XSETID), consumer groups (XGROUP, XREADGROUP, XACK, XPENDING,
//! XCLAIM, XAUTOCLAIM) and XINFO.
//!
//! Argument parsing follows `t_stream.c` step by step, because the order in
//! which Redis checks things decides which error a client sees first.
//! Option names and IDs are compared as C strings (up to a NUL byte), as
//! Redis does.

use crate::command::key_at;
use crate::command::{eq_ic, flags::*, Command, Group as CmdGroup, Keys, Run};
use crate::error::{CmdError, CmdResult, NOT_INTEGER, NO_SUCH_KEY, SYNTAX};
use crate::keyspace::Db;
use crate::num::parse_i64;
use crate::reply::Reply;
use crate::shard::{Block, Ctx};
use crate::types::stream::{
    cstr, parse_id, AddError, EntryRef, Group, IdRequest, Log, NodeLimits, Stream, StreamId, Trim,
    LISTPACK_MAX_SIZE,
};
use crate::value::Value;
use std::ops::Bound;

const INVALID_ID: CmdError = CmdError::new("ERR Invalid stream ID specified as stream command argument");
const XADD_NOT_GREATER: CmdError =
    CmdError::new("ERR The ID specified in XADD is equal or smaller than the target stream top item");
const XADD_ZERO: CmdError = CmdError::new("ERR The ID specified in XADD must be greater than 0-0");
const XADD_EXHAUSTED: CmdError =
    CmdError::new("ERR The stream has exhausted the last possible ID, unable to add more items");
const TOO_LARGE: CmdError = CmdError::new("ERR Elements are too large to be stored");
const MAXLEN_AND_MINID: CmdError =
    CmdError::new("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
const MAXLEN_NEGATIVE: CmdError = CmdError::new("ERR The MAXLEN argument must be >= 0.");
const LIMIT_NEGATIVE: CmdError = CmdError::new("ERR The LIMIT argument must be >= 0.");
const LIMIT_WITHOUT_STRATEGY: CmdError =
    CmdError::new("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
const XTRIM_WITHOUT_STRATEGY: CmdError =
    CmdError::new("ERR syntax error, XTRIM must be called with a trimming strategy");
const LIMIT_WITHOUT_APPROX: CmdError =
    CmdError::new("ERR syntax error, LIMIT cannot be used without the special ~ option");
const BAD_START: CmdError = CmdError::new("ERR invalid start ID for the interval");
const BAD_END: CmdError = CmdError::new("ERR invalid end ID for the interval");
const UNBALANCED: CmdError = CmdError::new(
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
);
const GROUP_IN_XREAD: CmdError =
    CmdError::new("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
const NOACK_IN_XREAD: CmdError =
    CmdError::new("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
const MISSING_GROUP: CmdError = CmdError::new("ERR Missing GROUP option for XREADGROUP");
const DOLLAR_IN_XREADGROUP: CmdError = CmdError::new(
    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
);
const GT_IN_XREAD: CmdError = CmdError::new(
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
);
const TIMEOUT_NOT_INTEGER: CmdError = CmdError::new("ERR timeout is not an integer or out of range");
const TIMEOUT_NEGATIVE: CmdError = CmdError::new("ERR timeout is negative");
const XGROUP_NEEDS_KEY: CmdError = CmdError::new(
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
);
const BUSYGROUP: CmdError = CmdError::new("BUSYGROUP Consumer Group name already exists");
const ENTRIES_READ_RANGE: CmdError = CmdError::new("ERR value for ENTRIESREAD must be positive or -1");
const ENTRIES_ADDED_NEGATIVE: CmdError = CmdError::new("ERR entries_added must be positive");
const XSETID_BELOW_MAX_DELETED: CmdError =
    CmdError::new("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
const XSETID_BELOW_TOP: CmdError =
    CmdError::new("ERR The ID specified in XSETID is smaller than the target stream top item");
const XSETID_ADDED_BELOW_LENGTH: CmdError =
    CmdError::new("ERR The entries_added specified in XSETID is smaller than the target stream length");
const XCLAIM_MIN_IDLE: CmdError = CmdError::new("ERR Invalid min-idle-time argument for XCLAIM");
const XCLAIM_IDLE: CmdError = CmdError::new("ERR Invalid IDLE option argument for XCLAIM");
const XCLAIM_TIME: CmdError = CmdError::new("ERR Invalid TIME option argument for XCLAIM");
const XCLAIM_RETRYCOUNT: CmdError = CmdError::new("ERR Invalid RETRYCOUNT option argument for XCLAIM");
const XAUTOCLAIM_MIN_IDLE: CmdError = CmdError::new("ERR Invalid min-idle-time argument for XAUTOCLAIM");
const XAUTOCLAIM_COUNT: CmdError = CmdError::new("ERR COUNT must be > 0");
const XAUTOCLAIM_NO_MEMORY: CmdError =
    CmdError::new("ERR Insufficient memory, failed allocating transient memory, COUNT too high.");

/// Entries a blocked XREAD/XREADGROUP without COUNT gets when served
/// (Redis's `XREAD_BLOCKED_DEFAULT_COUNT`).
const BLOCKED_DEFAULT_COUNT: &[u8] = b"1000";

/// Redis's `stream-node-max-bytes` and `stream-node-max-entries` defaults.
const LIMITS: NodeLimits = NodeLimits { max_bytes: 4096, max_entries: 100 };

const STREAM: Command =
    Command { group: CmdGroup::Stream, keys: Keys::ONE, since: "5.0.0", ..Command::DEFAULT };

/// XGROUP's and XINFO's subcommands take their key after the subcommand name.
const SUB_KEY: Keys = Keys { first: 2, last: 2, step: 1 };

pub static COMMANDS: &[Command] = &[
    Command {
        name: "xadd",
        arity: -5,
        flags: WRITE | DENYOOM | FAST,
        complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
        summary: "Appends an entry to a stream, creating the stream if needed, and optionally trims it.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, "RW UPDATE")],
        run: Run::Shard(xadd),
        ..STREAM
    },
    Command {
        name: "xrange",
        arity: -4,
        flags: READONLY,
        complexity: "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        summary: "Returns the entries of a stream between two IDs.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(xrange),
        ..STREAM
    },
    Command {
        name: "xrevrange",
        arity: -4,
        flags: READONLY,
        complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        summary: "Returns the entries of a stream between two IDs, newest first.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(xrevrange),
        ..STREAM
    },
    Command {
        name: "xlen",
        arity: 2,
        flags: READONLY | FAST,
        summary: "Returns the number of entries in a stream.",
        key_specs: &[key_at(1, "RO")],
        run: Run::Shard(xlen),
        ..STREAM
    },
    Command {
        name: "xdel",
        arity: -3,
        flags: WRITE | FAST,
        complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
        summary: "Deletes entries from a stream by ID.",
        key_specs: &[key_at(1, "RW DELETE")],
        run: Run::Shard(xdel),
        ..STREAM
    },
    Command {
        name: "xtrim",
        arity: -4,
        flags: WRITE,
        complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
        summary: "Drops the oldest entries of a stream, by length or by ID.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, "RW DELETE")],
        run: Run::Shard(xtrim),
        ..STREAM
    },
    Command {
        name: "xread",
        arity: -4,
        flags: READONLY | BLOCKING | MOVABLE_KEYS,
        keys: Keys::NONE,
        complexity: "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
        summary: "Returns the entries of one or more streams after given IDs, waiting for some if asked to.",
        run: Run::Shard(xread),
        key_finder: Some(xread_keys),
        ..STREAM
    },
    Command {
        name: "xreadgroup",
        arity: -7,
        flags: WRITE | BLOCKING | MOVABLE_KEYS,
        keys: Keys::NONE,
        complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
        summary: "Reads entries of streams on behalf of a consumer of a group, new ones or its own pending ones.",
        run: Run::Shard(xreadgroup),
        key_finder: Some(xreadgroup_keys),
        ..STREAM
    },
    Command {
        name: "xgroup",
        arity: -2,
        keys: Keys::NONE,
        complexity: "Depends on subcommand.",
        summary: "Manages the consumer groups of a stream.",
        run: Run::Container,
        subcommands: XGROUP_SUBCOMMANDS,
        ..STREAM
    },
    Command {
        name: "xack",
        arity: -4,
        flags: WRITE | FAST,
        complexity: "O(1) for each message ID processed.",
        summary: "Acknowledges entries of a consumer group, removing them from its pending list.",
        key_specs: &[key_at(1, "RW UPDATE")],
        run: Run::Shard(xack),
        ..STREAM
    },
    Command {
        name: "xpending",
        arity: -3,
        flags: READONLY,
        complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
        summary: "Reports the pending entries of a consumer group, in summary or one by one.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(xpending),
        ..STREAM
    },
    Command {
        name: "xclaim",
        arity: -6,
        flags: WRITE | FAST,
        complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
        summary: "Gives pending entries of a consumer group to another consumer.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, "RW UPDATE")],
        run: Run::Shard(xclaim),
        ..STREAM
    },
    Command {
        name: "xautoclaim",
        arity: -6,
        flags: WRITE | FAST,
        since: "6.2.0",
        complexity: "O(1) if COUNT is small.",
        summary: "Gives the pending entries idle for long enough to another consumer, scanning with a cursor.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(1, "RW DELETE")],
        run: Run::Shard(xautoclaim),
        ..STREAM
    },
    Command {
        name: "xinfo",
        arity: -2,
        keys: Keys::NONE,
        complexity: "Depends on subcommand.",
        summary: "Describes a stream, its consumer groups and their consumers.",
        run: Run::Container,
        subcommands: XINFO_SUBCOMMANDS,
        ..STREAM
    },
    Command {
        name: "xsetid",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        summary: "Sets a stream's last ID and counters (used for replication).",
        key_specs: &[key_at(1, "RW UPDATE")],
        run: Run::Shard(xsetid),
        ..STREAM
    },
];

// Subcommands are listed in the order Redis's COMMAND INFO shows them.
static XGROUP_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "createconsumer",
        arity: 5,
        flags: WRITE | DENYOOM,
        keys: SUB_KEY,
        since: "6.2.0",
        summary: "Creates a consumer in a consumer group.",
        key_specs: &[key_at(2, "RW INSERT")],
        run: Run::Shard(xgroup),
        ..STREAM
    },
    Command {
        name: "delconsumer",
        arity: 5,
        flags: WRITE,
        keys: SUB_KEY,
        summary: "Deletes a consumer from a consumer group, with its pending entries.",
        key_specs: &[key_at(2, "RW DELETE")],
        run: Run::Shard(xgroup),
        ..STREAM
    },
    Command {
        name: "destroy",
        arity: 4,
        flags: WRITE,
        keys: SUB_KEY,
        complexity: "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        summary: "Deletes a consumer group.",
        key_specs: &[key_at(2, "RW DELETE")],
        run: Run::Shard(xgroup),
        ..STREAM
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::NONE,
        summary: "Describes the XGROUP subcommands.",
        run: Run::Shard(xgroup),
        ..STREAM
    },
    Command {
        name: "create",
        arity: -5,
        flags: WRITE | DENYOOM,
        keys: SUB_KEY,
        summary: "Creates a consumer group.",
        key_specs: &[key_at(2, "RW INSERT")],
        run: Run::Shard(xgroup),
        ..STREAM
    },
    Command {
        name: "setid",
        arity: -5,
        flags: WRITE,
        keys: SUB_KEY,
        summary: "Sets the last delivered ID (and read counter) of a consumer group.",
        key_specs: &[key_at(2, "RW UPDATE")],
        run: Run::Shard(xgroup),
        ..STREAM
    },
];

static XINFO_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "stream",
        arity: -3,
        flags: READONLY,
        keys: SUB_KEY,
        summary: "Describes a stream, optionally with all its entries, groups and consumers.",
        key_specs: &[key_at(2, "RO ACCESS")],
        run: Run::Shard(xinfo),
        ..STREAM
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::NONE,
        summary: "Describes the XINFO subcommands.",
        run: Run::Shard(xinfo),
        ..STREAM
    },
    Command {
        name: "consumers",
        arity: 4,
        flags: READONLY,
        keys: SUB_KEY,
        summary: "Lists the consumers of a consumer group.",
        tips: "nondeterministic_output",
        key_specs: &[key_at(2, "RO ACCESS")],
        run: Run::Shard(xinfo),
        ..STREAM
    },
    Command {
        name: "groups",
        arity: 3,
        flags: READONLY,
        keys: SUB_KEY,
        summary: "Lists the consumer groups of a stream.",
        key_specs: &[key_at(2, "RO ACCESS")],
        run: Run::Shard(xinfo),
        ..STREAM
    },
];

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

/// The key positions of XREAD: the first half of what follows the first
/// `STREAMS`, as Redis 7's key specification finds them (which both cluster
/// routing and COMMAND GETKEYS use).
pub fn xread_keys(argv: &[&[u8]]) -> Vec<usize> {
    keys_after_streams(argv, 1)
}

/// The key positions of XREADGROUP: as XREAD's, looking for `STREAMS` from
/// the fourth argument on (after `GROUP group consumer`).
pub fn xreadgroup_keys(argv: &[&[u8]]) -> Vec<usize> {
    keys_after_streams(argv, 4)
}

fn keys_after_streams(argv: &[&[u8]], search_from: usize) -> Vec<usize> {
    let Some(at) = (search_from..argv.len()).find(|&i| is_opt(argv[i], "STREAMS")) else {
        return Vec::new();
    };
    let first = at + 1;
    let half = argv.len().saturating_sub(first) / 2;
    if half == 0 {
        // Redis finds the key specification unusable here and falls back
        // to its older key-finding callback.
        return xread_get_keys(argv);
    }
    (first..first + half).collect()
}

/// Redis's `xreadGetKeys`: skips the options with their arguments (a group,
/// a consumer or a key may well be named "streams") up to STREAMS; none
/// when the command is malformed.
fn xread_get_keys(argv: &[&[u8]]) -> Vec<usize> {
    let mut i = 1;
    let mut streams = None;
    while i < argv.len() {
        let a = argv[i];
        if is_opt(a, "BLOCK") || is_opt(a, "COUNT") {
            i += 2;
        } else if is_opt(a, "GROUP") {
            i += 3;
        } else if is_opt(a, "NOACK") {
            i += 1;
        } else {
            if is_opt(a, "STREAMS") {
                streams = Some(i);
            }
            break;
        }
    }
    let Some(at) = streams else {
        return Vec::new();
    };
    let rest = argv.len() - at - 1;
    if rest == 0 || rest % 2 != 0 {
        return Vec::new();
    }
    (at + 1..=at + rest / 2).collect()
}

/// An option name, compared as Redis's `strcasecmp` compares it.
fn is_opt(arg: &[u8], name: &str) -> bool {
    eq_ic(cstr(arg), name)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(cstr(b)).into_owned()
}

/// `NOGROUP No such key '<key>' or consumer group '<group>'<suffix>`.
fn no_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> CmdError {
    CmdError::owned(format!(
        "NOGROUP No such key '{}' or consumer group '{}'{suffix}",
        lossy(key),
        lossy(group)
    ))
}

fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::owned(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        lossy(group),
        lossy(key)
    ))
}

/// Redis's `addReplySubcommandSyntaxError`.
fn subcommand_syntax(argv: &[&[u8]]) -> CmdError {
    let sub = &argv[1][..argv[1].len().min(128)];
    CmdError::owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        lossy(sub),
        lossy(argv[0]).to_ascii_uppercase()
    ))
}

fn strict_id(arg: &[u8]) -> Result<StreamId, CmdError> {
    parse_id(arg, 0, true, false).map(|(id, _)| id).ok_or(INVALID_ID)
}

/// A range bound: `(` makes it exclusive (then `-` and `+` are not accepted).
fn interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id(&arg[1..], missing_seq, true, false).ok_or(INVALID_ID)?.0;
        Ok((id, true))
    } else {
        Ok((parse_id(arg, missing_seq, false, false).ok_or(INVALID_ID)?.0, false))
    }
}

fn stream_of(v: Option<&Value>) -> Result<Option<&Stream>, CmdError> {
    v.map(|v| v.stream()).transpose()
}

/// A stream for a command that changes it, after its checks found it there.
fn stream_mut<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<&'a mut Stream, CmdError> {
    db.write(key, now).ok_or(NO_SUCH_KEY)?.stream_mut()
}

/// A stream for a change Redis does not signal to WATCH: consumer-group
/// state (XREADGROUP, XACK, XCLAIM, XAUTOCLAIM, every XGROUP subcommand
/// except a CREATE that makes the key) and XSETID. Only XADD, XDEL and
/// XTRIM touch watched keys (redis-server 7.0 agrees).
fn group_stream_mut<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<&'a mut Stream, CmdError> {
    db.write_untracked(key, now).ok_or(NO_SUCH_KEY)?.stream_mut()
}

fn reply_id(out: &mut Reply, id: StreamId) {
    out.bulk(&id.text());
}

fn reply_entry(out: &mut Reply, e: &EntryRef) {
    out.array(2);
    reply_id(out, e.id);
    out.array(e.len() * 2);
    for (f, v) in e.fields() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// Writes, before what was written since `mark`, a header that could not
/// be known in advance (an array length, say).
fn insert_header(out: &mut Reply, mark: usize, header: impl FnOnce(&mut Reply)) {
    let mut h = Vec::with_capacity(16);
    header(&mut Reply::new(&mut h, out.resp3()));
    out.buffer().splice(mark..mark, h);
}

/// Replies with the entries of a range, up to `count` (0 = all).
fn reply_range(out: &mut Reply, log: &Log, start: StreamId, end: StreamId, count: u64, rev: bool) -> u64 {
    let mark = out.len();
    let mut n = 0;
    for e in log.range(start, end, rev) {
        reply_entry(out, &e);
        n += 1;
        if n == count {
            break;
        }
    }
    insert_header(out, mark, |r| r.array(n as usize));
    n
}

/// The trimming options of XADD and XTRIM, and XADD's own.
#[derive(Default)]
struct AddTrimArgs {
    trim: Option<Trim>,
    approx: bool,
    limit: u64,
    nomkstream: bool,
    /// XADD's ID, when not `*`, and whether its sequence was given.
    id: Option<(StreamId, bool)>,
    /// Where XADD's ID is.
    id_pos: usize,
}

/// Reads the options of XADD (up to its ID) or XTRIM, as Redis's
/// `streamParseAddOrTrimArgsOrReply` does.
fn parse_add_trim(argv: &[&[u8]], xadd: bool) -> Result<AddTrimArgs, CmdError> {
    let mut a = AddTrimArgs::default();
    let mut limit: Option<i64> = None;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = argv[i];
        if xadd && cstr(opt) == b"*" {
            break;
        } else if (is_opt(opt, "MAXLEN") || is_opt(opt, "MINID")) && more > 0 {
            if a.trim.is_some() {
                return Err(MAXLEN_AND_MINID);
            }
            a.approx = false;
            let next = cstr(argv[i + 1]);
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let value = argv[i + 1];
            a.trim = Some(if is_opt(opt, "MAXLEN") {
                let n = parse_i64(value).ok_or(NOT_INTEGER)?;
                if n < 0 {
                    return Err(MAXLEN_NEGATIVE);
                }
                Trim::MaxLen(n as u64)
            } else {
                Trim::MinId(strict_id(value)?)
            });
            i += 1;
        } else if is_opt(opt, "LIMIT") && more > 0 {
            let n = parse_i64(argv[i + 1]).ok_or(NOT_INTEGER)?;
            if n < 0 {
                return Err(LIMIT_NEGATIVE);
            }
            limit = Some(n);
            i += 1;
        } else if xadd && is_opt(opt, "NOMKSTREAM") {
            a.nomkstream = true;
        } else if xadd {
            let (id, seq_given) = parse_id(opt, 0, true, true).ok_or(INVALID_ID)?;
            a.id = Some((id, seq_given));
            break;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    a.id_pos = i;
    if limit.is_some_and(|l| l > 0) && a.trim.is_none() {
        return Err(LIMIT_WITHOUT_STRATEGY);
    }
    if !xadd && a.trim.is_none() {
        return Err(XTRIM_WITHOUT_STRATEGY);
    }
    a.limit = match limit {
        Some(_) if !a.approx => return Err(LIMIT_WITHOUT_APPROX),
        Some(l) => l as u64,
        None if a.approx => (100 * LIMITS.max_entries as u64).clamp(1, 1_000_000),
        None => 0,
    };
    Ok(a)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
fn xadd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let a = parse_add_trim(argv, true)?;
    let fields_at = a.id_pos + 1;
    if argv.len() < fields_at + 2 || (argv.len() - fields_at) % 2 == 1 {
        return Err(CmdError::wrong_arity("xadd"));
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Err(XADD_ZERO);
        }
    }
    let (key, now) = (argv[1], ctx.now);
    let pairs = &argv[fields_at..];
    let req = match a.id {
        None => IdRequest::Auto,
        Some((id, true)) => IdRequest::Exact(id),
        Some((id, false)) => IdRequest::Ms(id.ms),
    };
    let (created, next) = match stream_of(ctx.db().peek(key, now).map(|e| e.value()))? {
        Some(s) if s.log().last_id == StreamId::MAX => return Err(XADD_EXHAUSTED),
        Some(s) => (false, s.log().next_id(req, now)),
        None if a.nomkstream => {
            ctx.out.null();
            return Ok(());
        }
        None => (true, Log::default().next_id(req, now)),
    };
    if created {
        ctx.db().insert_new(key, Value::Stream(Box::default()), 0, now);
    }
    let total: usize = pairs.iter().map(|p| p.len()).sum();
    let id = match next {
        Ok(_) if total > LISTPACK_MAX_SIZE => return Err(TOO_LARGE),
        Ok(id) => id,
        Err(AddError::NotGreater) => return Err(XADD_NOT_GREATER),
        Err(AddError::TooLarge) => return Err(TOO_LARGE),
    };
    let (db, out) = ctx.parts();
    let log = stream_mut(db, key, now)?.log_mut();
    log.append(id, pairs, LIMITS);
    reply_id(out, id);
    if let Some(trim) = a.trim {
        log.trim(trim, a.approx, a.limit);
    }
    let len = log.len();
    ctx.dirty(1);
    ctx.signal_ready(key);
    if ctx.propagating() && (a.id.is_none_or(|(_, seq)| !seq) || a.approx) {
        // The ID made here and, for an approximate trim, its exact result:
        // what a replica would choose could differ.
        let mut line: Vec<Vec<u8>> = vec![b"XADD".to_vec(), key.to_vec()];
        if a.nomkstream {
            line.push(b"NOMKSTREAM".to_vec());
        }
        if a.trim.is_some() {
            line.extend(exact_trim(len));
        }
        line.push(id.text().to_vec());
        line.extend(pairs.iter().map(|p| p.to_vec()));
        ctx.propagate(line);
    }
    Ok(())
}

fn xrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    range_generic(ctx, argv, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    range_generic(ctx, argv, true)
}

/// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n]
fn range_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev { (argv[3], argv[2]) } else { (argv[2], argv[3]) };
    let (mut start, exclusive) = interval_id(start_arg, 0)?;
    if exclusive {
        start = start.incr().ok_or(BAD_START)?;
    }
    let (mut end, exclusive) = interval_id(end_arg, u64::MAX)?;
    if exclusive {
        end = end.decr().ok_or(BAD_END)?;
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if is_opt(argv[j], "COUNT") && j + 1 < argv.len() {
            count = parse_i64(argv[j + 1]).ok_or(NOT_INTEGER)?.max(0);
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let Some(s) = stream_of(db.read(argv[1], now))? else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.null_array();
    } else {
        reply_range(out, s.log(), start, end, count.max(0) as u64, rev);
    }
    Ok(())
}

fn xlen(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let len = stream_of(db.read(argv[1], now))?.map_or(0, |s| s.log().len());
    out.int(len as i64);
    Ok(())
}

/// XDEL key id [id ...]
fn xdel(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    let Some(s) = stream_of(ctx.db().peek(key, now).map(|e| e.value()))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let ids = argv[2..].iter().map(|a| strict_id(a)).collect::<Result<Vec<_>, _>>()?;
    if !ids.iter().any(|&id| s.log().contains(id)) {
        ctx.out.int(0);
        return Ok(());
    }
    let log = stream_mut(ctx.db(), key, now)?.log_mut();
    let deleted: Vec<StreamId> = ids.into_iter().filter(|&id| log.delete(id)).collect();
    log.note_deleted(&deleted);
    ctx.dirty(deleted.len() as u64);
    ctx.out.int(deleted.len() as i64);
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let a = parse_add_trim(argv, false)?;
    let Some(trim) = a.trim else {
        return Err(XTRIM_WITHOUT_STRATEGY);
    };
    let (key, now) = (argv[1], ctx.now);
    let Some(s) = stream_of(ctx.db().peek(key, now).map(|e| e.value()))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let plan = s.log().plan_trim(trim, a.approx, a.limit);
    if plan.changes {
        // Dropping a node of tombstones alone removes no entry, which Redis
        // does not count as a change for WATCH.
        let s = if plan.deleted > 0 {
            stream_mut(ctx.db(), key, now)?
        } else {
            group_stream_mut(ctx.db(), key, now)?
        };
        s.log_mut().apply_trim(&plan);
    }
    ctx.dirty(plan.deleted);
    ctx.out.int(plan.deleted as i64);
    if a.approx && plan.deleted > 0 && ctx.propagating() {
        let len = stream_of(ctx.db().peek(key, now).map(|e| e.value()))?.map_or(0, |s| s.log().len());
        let mut line = vec![b"XTRIM".to_vec(), key.to_vec()];
        line.extend(exact_trim(len));
        ctx.propagate(line);
    }
    Ok(())
}

/// An approximate trim as replicas get it (Redis's
/// `streamRewriteTrimArgument`): exactly the length it left.
fn exact_trim(len: u64) -> [Vec<u8>; 3] {
    [b"MAXLEN".to_vec(), b"=".to_vec(), len.to_string().into_bytes()]
}

/// What XREAD/XREADGROUP asks of one stream.
#[derive(Clone, Copy)]
enum Want {
    /// Entries after this ID (for XREADGROUP: the consumer's own pending ones).
    After(StreamId),
    /// `>`: entries never delivered to the group.
    New,
}

fn xread(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    xread_generic(ctx, argv, false)
}

fn xreadgroup(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    xread_generic(ctx, argv, true)
}

/// XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...]
/// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
///
/// Streams with something to give are served at once, in a map (RESP3) or
/// an array of pairs (RESP2) from key to entries. With nothing to give and
/// BLOCK, the client waits: the command line to run again has `$` replaced
/// by the ID it stood for, and COUNT set to 1000 when none was given, as
/// Redis serves a blocked reader.
fn xread_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], with_group: bool) -> CmdResult {
    let mut timeout: Option<u64> = None;
    let mut count: i64 = 0;
    let mut streams_at = 0;
    let mut n = 0;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut noack = false;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = argv[i];
        if is_opt(o, "BLOCK") && more > 0 {
            i += 1;
            let t = parse_i64(argv[i]).ok_or(TIMEOUT_NOT_INTEGER)?;
            if t < 0 {
                return Err(TIMEOUT_NEGATIVE);
            }
            timeout = Some(t as u64);
        } else if is_opt(o, "COUNT") && more > 0 {
            i += 1;
            count = parse_i64(argv[i]).ok_or(NOT_INTEGER)?.max(0);
        } else if is_opt(o, "STREAMS") && more > 0 {
            streams_at = i + 1;
            let rest = argv.len() - streams_at;
            if rest % 2 != 0 {
                return Err(UNBALANCED);
            }
            n = rest / 2;
            break;
        } else if is_opt(o, "GROUP") && more >= 2 {
            if !with_group {
                return Err(GROUP_IN_XREAD);
            }
            group = Some((argv[i + 1], argv[i + 2]));
            i += 2;
        } else if is_opt(o, "NOACK") {
            if !with_group {
                return Err(NOACK_IN_XREAD);
            }
            noack = true;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    if streams_at == 0 {
        return Err(SYNTAX);
    }
    if with_group && group.is_none() {
        return Err(MISSING_GROUP);
    }
    let keys = &argv[streams_at..streams_at + n];
    let now = ctx.now;
    let mut wants = Vec::with_capacity(n);
    let mut dollar = false;
    for (k, &key) in keys.iter().enumerate() {
        let arg = argv[streams_at + n + k];
        let s = stream_of(ctx.db().read(key, now))?;
        if let Some((g, _)) = group {
            if s.and_then(|s| s.group(g)).is_none() {
                return Err(no_key_or_group(key, g, " in XREADGROUP with GROUP option"));
            }
        }
        let want = match cstr(arg) {
            b"$" if with_group => return Err(DOLLAR_IN_XREADGROUP),
            b"$" => {
                dollar = true;
                Want::After(s.map_or(StreamId::MIN, |s| s.log().last_id))
            }
            b">" if !with_group => return Err(GT_IN_XREAD),
            b">" => Want::New,
            _ => Want::After(strict_id(arg)?),
        };
        wants.push(want);
    }

    let mark = ctx.out.len();
    let mut served = 0;
    let mut dirty = 0;
    for (k, &key) in keys.iter().enumerate() {
        let (db, out) = ctx.parts();
        let Some(s) = stream_of(db.read(key, now))? else {
            continue;
        };
        let count = count as u64;
        match (group, wants[k]) {
            (None, Want::After(gt)) => {
                if s.log().last_live_id().is_none_or(|last| last <= gt) {
                    continue;
                }
                served += 1;
                if !out.resp3() {
                    out.array(2);
                }
                out.bulk(key);
                reply_range(out, s.log(), gt.incr().unwrap_or(StreamId::MIN), StreamId::MAX, count, false);
            }
            (None, Want::New) => {}
            (Some((gname, cname)), want) => {
                let last_delivered = s.group(gname).map_or(StreamId::MAX, |g| g.last_id);
                let history = match want {
                    Want::After(id) => Some(id),
                    Want::New if s.log().last_live_id().is_some_and(|last| last > last_delivered) => None,
                    Want::New => continue,
                };
                served += 1;
                if !out.resp3() {
                    out.array(2);
                }
                out.bulk(key);
                let s = group_stream_mut(db, key, now)?;
                let Some((log, g)) = s.with_group(gname) else {
                    out.array(0);
                    continue;
                };
                let consumer = match g.find_consumer(cname, Some(now)) {
                    Some(c) => c,
                    None => {
                        dirty += 1;
                        g.create_consumer(cname, now).unwrap_or_default()
                    }
                };
                match history {
                    Some(after) => reply_history(out, log, g, consumer, after, count, now),
                    None => deliver_new(out, log, g, consumer, count, noack, now),
                }
                dirty += 1;
            }
        }
    }
    ctx.dirty(dirty);
    if served > 0 {
        let resp3 = ctx.out.resp3();
        insert_header(&mut ctx.out, mark, |r| if resp3 { r.map(served) } else { r.array(served) });
        return Ok(());
    }
    match timeout {
        Some(timeout_ms) if ctx.may_block => {
            let rewrite = (dollar || count == 0).then(|| {
                let mut line: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
                for (k, want) in wants.iter().enumerate() {
                    if let (Want::After(id), b"$") = (want, cstr(argv[streams_at + n + k])) {
                        line[streams_at + n + k] = id.text().to_vec();
                    }
                }
                if count == 0 {
                    let at = streams_at - 1;
                    line.splice(at..at, [b"COUNT".to_vec(), BLOCKED_DEFAULT_COUNT.to_vec()]);
                }
                line
            });
            ctx.block = Some(Block { timeout_ms, rewrite });
        }
        _ => ctx.out.null_array(),
    }
    Ok(())
}

/// Serves `>`: the entries after the group's last delivered one, each
/// becoming pending for `consumer` unless NOACK.
fn deliver_new(out: &mut Reply, log: &Log, g: &mut Group, consumer: u32, count: u64, noack: bool, now: u64) {
    let mark = out.len();
    let mut n = 0u64;
    let start = g.last_id.incr().unwrap_or(StreamId::MIN);
    for e in log.range(start, StreamId::MAX, false) {
        g.advance(log, e.id);
        reply_entry(out, &e);
        if !noack {
            g.set_pending(e.id, consumer, now, 1);
        }
        n += 1;
        if n == count {
            break;
        }
    }
    insert_header(out, mark, |r| r.array(n as usize));
}

/// Serves an explicit ID to XREADGROUP: the consumer's own pending entries
/// after it, each counted as delivered again; an entry deleted from the
/// stream since shows as its ID with a null.
fn reply_history(
    out: &mut Reply,
    log: &Log,
    g: &mut Group,
    consumer: u32,
    after: StreamId,
    count: u64,
    now: u64,
) {
    let Some(start) = after.incr() else {
        out.array(0);
        return;
    };
    let pending = g.consumer(consumer).pending().range(start..);
    let ids: Vec<StreamId> = if count > 0 {
        pending.take(usize::try_from(count).unwrap_or(usize::MAX)).copied().collect()
    } else {
        pending.copied().collect()
    };
    out.array(ids.len());
    for id in ids {
        match log.get(id) {
            Some(e) => {
                reply_entry(out, &e);
                if let Some(nack) = g.nack_mut(id) {
                    nack.delivery_time = now;
                    nack.delivery_count = nack.delivery_count.wrapping_add(1);
                }
            }
            None => {
                out.array(2);
                reply_id(out, id);
                out.null_array();
            }
        }
    }
}

/// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP (Redis's `xgroupCommand`).
fn xgroup(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let sub = argv[1];
    let now = ctx.now;
    let create = is_opt(sub, "CREATE");
    let setid = is_opt(sub, "SETID");
    let mut mkstream = false;
    let mut entries_read: Option<u64> = None;
    let mut found: Option<(StreamId, bool)> = None;
    if argv.len() >= 4 {
        let mut i = 5;
        while i < argv.len() {
            if create && is_opt(argv[i], "MKSTREAM") {
                mkstream = true;
                i += 1;
            } else if (create || setid) && is_opt(argv[i], "ENTRIESREAD") && i + 1 < argv.len() {
                let n = parse_i64(argv[i + 1]).ok_or(NOT_INTEGER)?;
                if n < -1 {
                    return Err(ENTRIES_READ_RANGE);
                }
                entries_read = u64::try_from(n).ok();
                i += 2;
            } else {
                return Err(subcommand_syntax(argv));
            }
        }
        let s = stream_of(ctx.db().peek(argv[2], now).map(|e| e.value()))?;
        found = s.map(|s| (s.log().last_id, s.group(argv[3]).is_some()));
        if !mkstream {
            let Some((_, group_exists)) = found else {
                return Err(XGROUP_NEEDS_KEY);
            };
            let needs_group = setid || is_opt(sub, "CREATECONSUMER") || is_opt(sub, "DELCONSUMER");
            if !group_exists && needs_group {
                return Err(no_group(argv[2], argv[3]));
            }
        }
    }
    let argc = argv.len();
    if argc == 2 && is_opt(sub, "HELP") {
        ctx.out.help("xgroup", XGROUP_HELP);
        return Ok(());
    }
    let (key, name) = match argv {
        [_, _, key, name, ..] => (*key, *name),
        _ => return Err(subcommand_syntax(argv)),
    };
    if create && (5..=8).contains(&argc) {
        let id = if cstr(argv[4]) == b"$" {
            found.map_or(StreamId::MIN, |(last, _)| last)
        } else {
            strict_id(argv[4])?
        };
        if found.is_none() {
            ctx.db().insert_new(key, Value::Stream(Box::default()), 0, now);
            ctx.signal_ready(key);
        }
        if !group_stream_mut(ctx.db(), key, now)?.create_group(name, id, entries_read) {
            return Err(BUSYGROUP);
        }
        ctx.dirty(1);
        ctx.out.ok();
    } else if setid && (argc == 5 || argc == 7) {
        let id = if cstr(argv[4]) == b"$" {
            found.map_or(StreamId::MIN, |(last, _)| last)
        } else {
            parse_id(argv[4], 0, false, false).ok_or(INVALID_ID)?.0
        };
        if let Some(g) = group_stream_mut(ctx.db(), key, now)?.group_mut(name) {
            g.last_id = id;
            g.entries_read = entries_read;
        }
        ctx.dirty(1);
        ctx.out.ok();
    } else if is_opt(sub, "DESTROY") && argc == 4 {
        if found.is_some_and(|(_, g)| g) {
            group_stream_mut(ctx.db(), key, now)?.destroy_group(name);
            ctx.dirty(1);
            // Readers blocked on the group must find out it is gone.
            ctx.signal_ready(key);
            ctx.out.int(1);
        } else {
            ctx.out.int(0);
        }
    } else if is_opt(sub, "CREATECONSUMER") && argc == 5 {
        let created = !consumer_exists(ctx, key, name, argv[4])?
            && group_stream_mut(ctx.db(), key, now)?
                .group_mut(name)
                .and_then(|g| g.create_consumer(argv[4], now))
                .is_some();
        if created {
            ctx.dirty(1);
        }
        ctx.out.int(created as i64);
    } else if is_opt(sub, "DELCONSUMER") && argc == 5 {
        let exists = consumer_exists(ctx, key, name, argv[4])?;
        let mut pending = 0;
        if exists {
            if let Some(g) = group_stream_mut(ctx.db(), key, now)?.group_mut(name) {
                if let Some(c) = g.find_consumer(argv[4], None) {
                    pending = g.delete_consumer(c);
                }
            }
            ctx.dirty(1);
        }
        ctx.out.int(pending as i64);
    } else {
        return Err(subcommand_syntax(argv));
    }
    Ok(())
}

fn consumer_exists(ctx: &mut Ctx<'_>, key: &[u8], group: &[u8], consumer: &[u8]) -> Result<bool, CmdError> {
    let now = ctx.now;
    let s = stream_of(ctx.db().peek(key, now).map(|e| e.value()))?;
    Ok(s.and_then(|s| s.group(group)).is_some_and(|g| g.consumer_named(consumer).is_some()))
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let id = strict_id(argv[2])?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if is_opt(argv[i], "ENTRIESADDED") && more > 0 {
            let n = parse_i64(argv[i + 1]).ok_or(NOT_INTEGER)?;
            if n < 0 {
                return Err(ENTRIES_ADDED_NEGATIVE);
            }
            entries_added = Some(n as u64);
            i += 2;
        } else if is_opt(argv[i], "MAXDELETEDID") && more > 0 {
            max_deleted = strict_id(argv[i + 1])?;
            if id < max_deleted {
                return Err(XSETID_BELOW_MAX_DELETED);
            }
            i += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    let (key, now) = (argv[1], ctx.now);
    let Some(s) = stream_of(ctx.db().peek(key, now).map(|e| e.value()))? else {
        return Err(NO_SUCH_KEY);
    };
    if !s.log().is_empty() {
        if s.log().last_live_id().is_some_and(|top| id < top) {
            return Err(XSETID_BELOW_TOP);
        }
        if entries_added.is_some_and(|n| s.log().len() > n) {
            return Err(XSETID_ADDED_BELOW_LENGTH);
        }
    }
    let log = group_stream_mut(ctx.db(), key, now)?.log_mut();
    log.last_id = id;
    if let Some(n) = entries_added {
        log.entries_added = n;
    }
    if !max_deleted.is_zero() {
        log.max_deleted_id = max_deleted;
    }
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// XACK key group id [id ...]
fn xack(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, now) = (argv[1], ctx.now);
    let Some(g) = stream_of(ctx.db().read(key, now))?.and_then(|s| s.group(argv[2])) else {
        ctx.out.int(0);
        return Ok(());
    };
    let ids = argv[3..].iter().map(|a| strict_id(a)).collect::<Result<Vec<_>, _>>()?;
    if !ids.iter().any(|id| g.pending().contains_key(id)) {
        ctx.out.int(0);
        return Ok(());
    }
    let Some(g) = group_stream_mut(ctx.db(), key, now)?.group_mut(argv[2]) else {
        ctx.out.int(0);
        return Ok(());
    };
    let acked = ids.into_iter().filter(|&id| g.remove_pending(id).is_some()).count();
    ctx.dirty(acked as u64);
    ctx.out.int(acked as i64);
    Ok(())
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]
fn xpending(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(SYNTAX);
    }
    let mut range = None;
    let mut min_idle = 0i64;
    let mut consumer_name = None;
    if argc >= 6 {
        let mut at = 3;
        if is_opt(argv[3], "IDLE") {
            min_idle = parse_i64(argv[4]).ok_or(NOT_INTEGER)?;
            if argc < 8 {
                return Err(SYNTAX);
            }
            at += 2;
        }
        let count = parse_i64(argv[at + 2]).ok_or(NOT_INTEGER)?.max(0) as u64;
        let (mut start, exclusive) = interval_id(argv[at], 0)?;
        if exclusive {
            start = start.incr().ok_or(BAD_START)?;
        }
        let (mut end, exclusive) = interval_id(argv[at + 1], u64::MAX)?;
        if exclusive {
            end = end.decr().ok_or(BAD_END)?;
        }
        if at + 3 < argc {
            consumer_name = Some(argv[at + 3]);
        }
        range = Some((start, end, count));
    }
    let (key, now) = (argv[1], ctx.now);
    let (db, out) = ctx.parts();
    let Some(g) = stream_of(db.read(key, now))?.and_then(|s| s.group(argv[2])) else {
        return Err(no_key_or_group(key, argv[2], ""));
    };
    let Some((start, end, count)) = range else {
        let pel = g.pending();
        out.array(4);
        out.int(pel.len() as i64);
        match (pel.first_key_value(), pel.last_key_value()) {
            (Some((&first, _)), Some((&last, _))) => {
                reply_id(out, first);
                reply_id(out, last);
                out.array(g.consumers().filter(|c| !c.pending().is_empty()).count());
                for c in g.consumers().filter(|c| !c.pending().is_empty()) {
                    out.array(2);
                    out.bulk(&c.name);
                    out.bulk_int(c.pending().len() as i64);
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    };
    let ids: Box<dyn Iterator<Item = StreamId>> = match consumer_name {
        Some(name) => match g.consumer_named(name) {
            Some(c) => Box::new(c.pending().range(start..).copied()),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None => Box::new(g.pending().range(start..).map(|(&id, _)| id)),
    };
    let mark = out.len();
    let mut n = 0;
    let mut left = count;
    for id in ids.take_while(|&id| id <= end) {
        if left == 0 {
            break;
        }
        let Some(nack) = g.pending().get(&id) else {
            continue;
        };
        let idle = (now as i64).wrapping_sub(nack.delivery_time as i64);
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        n += 1;
        left -= 1;
        out.array(4);
        reply_id(out, id);
        out.bulk(&g.consumer(nack.consumer()).name);
        out.int(idle.max(0));
        out.int(nack.delivery_count as i64);
    }
    insert_header(out, mark, |r| r.array(n));
    Ok(())
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
fn xclaim(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, gname, cname, now) = (argv[1], argv[2], argv[3], ctx.now);
    if stream_of(ctx.db().read(key, now))?.and_then(|s| s.group(gname)).is_none() {
        return Err(no_key_or_group(key, gname, ""));
    }
    let min_idle = parse_i64(argv[4]).ok_or(XCLAIM_MIN_IDLE)?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argv.len() {
        match parse_id(argv[j], 0, true, false) {
            Some((id, _)) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let now_i = now as i64;
    let (mut force, mut justid) = (false, false);
    let mut delivery: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = argv[j];
        if is_opt(opt, "FORCE") {
            force = true;
        } else if is_opt(opt, "JUSTID") {
            justid = true;
        } else if is_opt(opt, "IDLE") && more > 0 {
            j += 1;
            delivery = now_i.wrapping_sub(parse_i64(argv[j]).ok_or(XCLAIM_IDLE)?);
        } else if is_opt(opt, "TIME") && more > 0 {
            j += 1;
            delivery = parse_i64(argv[j]).ok_or(XCLAIM_TIME)?;
        } else if is_opt(opt, "RETRYCOUNT") && more > 0 {
            j += 1;
            retrycount = parse_i64(argv[j]).ok_or(XCLAIM_RETRYCOUNT)?;
        } else if is_opt(opt, "LASTID") && more > 0 {
            j += 1;
            last_id = strict_id(argv[j])?;
        } else {
            return Err(CmdError::owned(format!("ERR Unrecognized XCLAIM option '{}'", lossy(opt))));
        }
        j += 1;
    }
    let delivery = if delivery < 0 || delivery > now_i { now } else { delivery as u64 };

    let (db, out) = ctx.parts();
    let s = group_stream_mut(db, key, now)?;
    let Some((log, g)) = s.with_group(gname) else {
        return Err(no_key_or_group(key, gname, ""));
    };
    let mut dirty = 0;
    let mut last_id_moved = false;
    if last_id > g.last_id {
        g.last_id = last_id;
        last_id_moved = true;
    }
    let mut consumer = None;
    let mark = out.len();
    let mut n = 0;
    for id in ids {
        let nack = g.pending().get(&id).copied();
        let Some(entry) = log.get(id) else {
            if nack.is_some() {
                g.remove_pending(id);
                dirty += 1;
                last_id_moved = false;
            }
            continue;
        };
        let old_count = match nack {
            Some(nack) => {
                let idle = now_i.wrapping_sub(nack.delivery_time as i64);
                if min_idle > 0 && idle < min_idle {
                    continue;
                }
                nack.delivery_count
            }
            None if force => 1,
            None => continue,
        };
        let c = match consumer {
            Some(c) => c,
            None => {
                let c = match g.find_consumer(cname, Some(now)) {
                    Some(c) => c,
                    None => {
                        dirty += 1;
                        g.create_consumer(cname, now).unwrap_or_default()
                    }
                };
                consumer = Some(c);
                c
            }
        };
        let count = if retrycount >= 0 {
            retrycount as u64
        } else if !justid {
            old_count.wrapping_add(1)
        } else {
            old_count
        };
        g.set_pending(id, c, delivery, count);
        if justid {
            reply_id(out, id);
        } else {
            reply_entry(out, &entry);
        }
        n += 1;
        dirty += 1;
        last_id_moved = false;
    }
    if last_id_moved {
        dirty += 1;
    }
    insert_header(out, mark, |r| r.array(n));
    ctx.dirty(dirty);
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
///
/// Walks the group's pending list from `start`, giving `consumer` the
/// entries idle for long enough, up to COUNT of them and 10 times as many
/// looked at. Pending entries whose stream entry is gone are dropped and
/// listed. Replies with the cursor to continue from (0-0 at the end), the
/// claimed entries and the dropped IDs.
fn xautoclaim(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, gname, cname, now) = (argv[1], argv[2], argv[3], ctx.now);
    let min_idle = parse_i64(argv[4]).ok_or(XAUTOCLAIM_MIN_IDLE)?.max(0);
    let (mut start, exclusive) = interval_id(argv[5], 0)?;
    if exclusive {
        start = start.incr().ok_or(BAD_START)?;
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if is_opt(argv[j], "COUNT") && more > 0 {
            let max = i64::MAX / 16;
            count = parse_i64(argv[j + 1]).filter(|c| (1..=max).contains(c)).ok_or(XAUTOCLAIM_COUNT)?;
            j += 1;
        } else if is_opt(argv[j], "JUSTID") {
            justid = true;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    if stream_of(ctx.db().read(key, now))?.and_then(|s| s.group(gname)).is_none() {
        return Err(no_key_or_group(key, gname, ""));
    }
    // Redis allocates COUNT slots for the deleted IDs up front, and says so
    // when that cannot be had: past the 64 TiB no address space can hold.
    if count > 1 << 42 {
        return Err(XAUTOCLAIM_NO_MEMORY);
    }

    let (db, out) = ctx.parts();
    let s = group_stream_mut(db, key, now)?;
    let Some((log, g)) = s.with_group(gname) else {
        return Err(no_key_or_group(key, gname, ""));
    };
    let now_i = now as i64;
    let mut attempts = count * 10;
    let mut cursor = Bound::Included(start);
    let mut consumer = None;
    let mut deleted = Vec::new();
    let mut dirty = 0;
    let mark = out.len();
    let mut n = 0;
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let Some((&id, &nack)) = g.pending().range((cursor, Bound::Unbounded)).next() else {
            break;
        };
        cursor = Bound::Excluded(id);
        let Some(entry) = log.get(id) else {
            g.remove_pending(id);
            deleted.push(id);
            dirty += 1;
            count -= 1;
            continue;
        };
        if min_idle > 0 && now_i.wrapping_sub(nack.delivery_time as i64) < min_idle {
            continue;
        }
        let c = match consumer {
            Some(c) => c,
            None => {
                let c = match g.find_consumer(cname, Some(now)) {
                    Some(c) => c,
                    None => {
                        dirty += 1;
                        g.create_consumer(cname, now).unwrap_or_default()
                    }
                };
                consumer = Some(c);
                c
            }
        };
        let delivered = if justid { nack.delivery_count } else { nack.delivery_count.wrapping_add(1) };
        g.set_pending(id, c, now, delivered);
        if justid {
            reply_id(out, id);
        } else {
            reply_entry(out, &entry);
        }
        n += 1;
        count -= 1;
        dirty += 1;
    }
    let next = g.pending().range((cursor, Bound::Unbounded)).next().map_or(StreamId::MIN, |(&id, _)| id);
    insert_header(out, mark, |r| {
        r.array(3);
        reply_id(r, next);
        r.array(n);
    });
    out.array(deleted.len());
    for id in deleted {
        reply_id(out, id);
    }
    ctx.dirty(dirty);
    Ok(())
}

/// XINFO STREAM|GROUPS|CONSUMERS|HELP (Redis's `xinfoCommand`).
fn xinfo(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let sub = argv[1];
    if is_opt(sub, "HELP") {
        if argv.len() != 2 {
            return Err(subcommand_syntax(argv));
        }
        ctx.out.help("xinfo", XINFO_HELP);
        return Ok(());
    }
    if argv.len() < 3 {
        return Err(subcommand_syntax(argv));
    }
    let (key, now) = (argv[2], ctx.now);
    let (db, out) = ctx.parts();
    let s = stream_of(db.read(key, now))?.ok_or(NO_SUCH_KEY)?;
    if is_opt(sub, "CONSUMERS") && argv.len() == 4 {
        let g = s.group(argv[3]).ok_or_else(|| no_group(key, argv[3]))?;
        out.array(g.consumer_count());
        for c in g.consumers() {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&c.name);
            out.bulk(b"pending");
            out.int(c.pending().len() as i64);
            out.bulk(b"idle");
            out.int((now as i64).wrapping_sub(c.seen_time as i64).max(0));
        }
    } else if is_opt(sub, "GROUPS") && argv.len() == 3 {
        out.array(s.group_count());
        for (name, g) in s.groups() {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumer_count() as i64);
            out.bulk(b"pending");
            out.int(g.pending().len() as i64);
            out.bulk(b"last-delivered-id");
            reply_id(out, g.last_id);
            reply_group_counters(out, s.log(), g);
        }
    } else if is_opt(sub, "STREAM") {
        xinfo_stream(out, s, argv)?;
    } else {
        return Err(subcommand_syntax(argv));
    }
    Ok(())
}

/// A group's `entries-read` and `lag` fields.
fn reply_group_counters(out: &mut Reply, log: &Log, g: &Group) {
    out.bulk(b"entries-read");
    match g.entries_read {
        Some(n) => out.int(n as i64),
        None => out.null(),
    }
    out.bulk(b"lag");
    match g.lag(log) {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

/// XINFO STREAM key [FULL [COUNT count]]
fn xinfo_stream(out: &mut Reply, s: &Stream, argv: &[&[u8]]) -> CmdResult {
    let opts = &argv[3..];
    let mut count: i64 = 10;
    let full = !opts.is_empty();
    if full {
        if (opts.len() != 1 && opts.len() != 3) || !is_opt(opts[0], "FULL") {
            return Err(subcommand_syntax(argv));
        }
        if opts.len() == 3 {
            if !is_opt(opts[1], "COUNT") {
                return Err(subcommand_syntax(argv));
            }
            count = parse_i64(opts[2]).ok_or(NOT_INTEGER)?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let count = count as u64;
    let log = s.log();
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(log.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(log.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(log.rax_nodes() as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, log.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, log.max_deleted_id);
    out.bulk(b"entries-added");
    out.int(log.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, log.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.group_count() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            match log.range(StreamId::MIN, StreamId::MAX, rev).next() {
                Some(e) => reply_entry(out, &e),
                None => out.null(),
            }
        }
        return Ok(());
    }
    let limit = |len: usize| if count == 0 { len } else { len.min(count as usize) };
    out.bulk(b"entries");
    reply_range(out, log, StreamId::MIN, StreamId::MAX, count, false);
    out.bulk(b"groups");
    out.array(s.group_count());
    for (name, g) in s.groups() {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        reply_group_counters(out, log, g);
        out.bulk(b"pel-count");
        out.int(g.pending().len() as i64);
        out.bulk(b"pending");
        out.array(limit(g.pending().len()));
        for (&id, nack) in g.pending().iter().take(limit(g.pending().len())) {
            out.array(4);
            reply_id(out, id);
            out.bulk(&g.consumer(nack.consumer()).name);
            out.int(nack.delivery_time as i64);
            out.int(nack.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumer_count());
        for c in g.consumers() {
            out.map(4);
            out.bulk(b"name");
            out.bulk(&c.name);
            out.bulk(b"seen-time");
            out.int(c.seen_time as i64);
            out.bulk(b"pel-count");
            out.int(c.pending().len() as i64);
            out.bulk(b"pending");
            out.array(limit(c.pending().len()));
            for &id in c.pending().iter().take(limit(c.pending().len())) {
                let nack = g.pending().get(&id);
                out.array(3);
                reply_id(out, id);
                out.int(nack.map_or(0, |n| n.delivery_time as i64));
                out.int(nack.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::command::{Registry, Run};
    use crate::reply::Reply;
    use crate::shard::{Block, Ctx, Shard};
    use crate::testing::{run, run_at, run_proto, shard};

    /// Runs a command that may block, as the server does outside MULTI.
    fn run_blocking(s: &mut Shard, now: u64, argv: &[&str]) -> (String, Option<Block>) {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        let reg = Registry::get();
        let id = reg.resolve(&argv).expect("a known command");
        let Run::Shard(handler) = reg.entry(id).cmd.run else { panic!("not a shard command") };
        let mut buf = Vec::new();
        let mut ctx = Ctx::new(s, 0, now, Reply::new(&mut buf, false));
        ctx.may_block = true;
        let result = handler(&mut ctx, &argv);
        let block = ctx.block.take();
        drop(ctx);
        if let Err(e) = result {
            buf.clear();
            Reply::new(&mut buf, false).error(e.line());
        }
        (String::from_utf8_lossy(&buf).into_owned(), block)
    }

    fn line(args: &[&str]) -> Option<Vec<Vec<u8>>> {
        Some(args.iter().map(|a| a.as_bytes().to_vec()).collect())
    }

    #[test]
    fn xadd_ids_and_errors() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["XADD", "k", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
        assert_eq!(
            run(&mut s, &["XADD", "k", "1-1", "f", "v"]),
            "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
        );
        assert_eq!(run(&mut s, &["XADD", "k", "1-*", "f", "v"]), "$3\r\n1-2\r\n");
        assert_eq!(run(&mut s, &["XADD", "k", "3-*", "f", "v"]), "$3\r\n3-0\r\n");
        assert_eq!(run_at(&mut s, 2, &["XADD", "k", "*", "f", "v"]), "$3\r\n3-1\r\n");
        assert_eq!(run_at(&mut s, 9, &["XADD", "k", "*", "f", "v"]), "$3\r\n9-0\r\n");
        assert_eq!(
            run(&mut s, &["XADD", "k", "0-0", "f", "v"]),
            "-ERR The ID specified in XADD must be greater than 0-0\r\n"
        );
        assert_eq!(
            run(&mut s, &["XADD", "k", "abc", "f", "v"]),
            "-ERR Invalid stream ID specified as stream command argument\r\n"
        );
        assert_eq!(
            run(&mut s, &["XADD", "k", "10-1", "f"]),
            "-ERR wrong number of arguments for 'xadd' command\r\n"
        );
        assert_eq!(run(&mut s, &["XADD", "n", "NOMKSTREAM", "1-1", "f", "v"]), "$-1\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "n"]), ":0\r\n");
        assert_eq!(
            run(&mut s, &["XADD", "k", "20-18446744073709551615", "f", "v"]),
            "$23\r\n20-18446744073709551615\r\n"
        );
        // Redis reports a sequence that would overflow with a stale errno.
        assert_eq!(
            run(&mut s, &["XADD", "k", "20-*", "f", "v"]),
            "-ERR Elements are too large to be stored\r\n"
        );
        assert_eq!(run(&mut s, &["XSETID", "k", "18446744073709551615-18446744073709551615"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["XADD", "k", "*", "f", "v"]),
            "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"
        );
        assert_eq!(run(&mut s, &["SET", "str", "x"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["XADD", "str", "1-1", "f", "v"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "k"]), "$6\r\nstream\r\n");
    }

    #[test]
    fn xadd_trim_options() {
        let mut s = shard();
        for i in 1..=5 {
            let id = format!("{i}-0");
            run(&mut s, &["XADD", "k", &id, "f", "v"]);
        }
        assert_eq!(run(&mut s, &["XADD", "k", "MAXLEN", "2", "6-0", "f", "v"]), "$3\r\n6-0\r\n");
        assert_eq!(run(&mut s, &["XLEN", "k"]), ":2\r\n");
        assert_eq!(run(&mut s, &["XADD", "k", "MINID", "=", "7", "7-0", "f", "v"]), "$3\r\n7-0\r\n");
        assert_eq!(run(&mut s, &["XLEN", "k"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["XADD", "k", "MAXLEN", "1", "MINID", "1", "8-0", "f", "v"]),
            "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"
        );
        assert_eq!(
            run(&mut s, &["XADD", "k", "MAXLEN", "1", "LIMIT", "5", "8-0", "f", "v"]),
            "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"
        );
        assert_eq!(
            run(&mut s, &["XADD", "k", "LIMIT", "5", "8-0", "f", "v"]),
            "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"
        );
        assert_eq!(
            run(&mut s, &["XADD", "k", "MAXLEN", "-1", "8-0", "f", "v"]),
            "-ERR The MAXLEN argument must be >= 0.\r\n"
        );
        // Redis checks a LIMIT without a strategy before XTRIM's own check.
        assert_eq!(
            run(&mut s, &["XTRIM", "k", "LIMIT", "5"]),
            "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"
        );
        assert_eq!(
            run(&mut s, &["XTRIM", "k", "LIMIT", "0"]),
            "-ERR syntax error, XTRIM must be called with a trimming strategy\r\n"
        );
        assert_eq!(
            run(&mut s, &["XADD", "k", "LIMIT", "0", "8-0", "f", "v"]),
            "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"
        );
        // The one live entry is alone in its node (the rest are tombstones),
        // so even an approximate trim drops the whole node.
        assert_eq!(run(&mut s, &["XTRIM", "k", "MAXLEN", "~", "0"]), ":1\r\n");
        assert_eq!(run(&mut s, &["XTRIM", "k", "MAXLEN", "0"]), ":0\r\n");
        // An emptied stream stays.
        assert_eq!(run(&mut s, &["EXISTS", "k"]), ":1\r\n");
    }

    #[test]
    fn ranges() {
        let mut s = shard();
        run(&mut s, &["XADD", "k", "1-1", "a", "1"]);
        run(&mut s, &["XADD", "k", "1-2", "b", "2"]);
        run(&mut s, &["XADD", "k", "2-0", "a", "3"]);
        let e11 = "*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n";
        let e12 = "*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n";
        let e20 = "*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n";
        assert_eq!(run(&mut s, &["XRANGE", "k", "-", "+"]), format!("*3\r\n{e11}{e12}{e20}"));
        // "(2" means before 2-18446744073709551615: 2-0 is inside (as in redis-server).
        assert_eq!(run(&mut s, &["XRANGE", "k", "(1-1", "(2"]), format!("*2\r\n{e12}{e20}"));
        assert_eq!(run(&mut s, &["XRANGE", "k", "(1-1", "(2-0"]), format!("*1\r\n{e12}"));
        assert_eq!(run(&mut s, &["XRANGE", "k", "2", "1"]), "*0\r\n");
        assert_eq!(run(&mut s, &["XRANGE", "k", "-", "+", "COUNT", "-1"]), "*-1\r\n");
        assert_eq!(run(&mut s, &["XRANGE", "k", "1", "1"]), format!("*2\r\n{e11}{e12}"));
        assert_eq!(run(&mut s, &["XREVRANGE", "k", "+", "-", "COUNT", "2"]), format!("*2\r\n{e20}{e12}"));
        assert_eq!(run(&mut s, &["XRANGE", "k", "-", "+", "COUNT", "0"]), "*-1\r\n");
        assert_eq!(run(&mut s, &["XRANGE", "nosuch", "-", "+", "COUNT", "0"]), "*0\r\n");
        assert_eq!(
            run(&mut s, &["XRANGE", "k", "(-", "+"]),
            "-ERR Invalid stream ID specified as stream command argument\r\n"
        );
        assert_eq!(run(&mut s, &["XRANGE", "k", "-", "(0-0"]), "-ERR invalid end ID for the interval\r\n");
        assert_eq!(
            run(&mut s, &["XRANGE", "k", "(18446744073709551615-18446744073709551615", "+"]),
            "-ERR invalid start ID for the interval\r\n"
        );
        assert_eq!(run(&mut s, &["XRANGE", "k", "-", "+", "COUNT"]), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, &["XDEL", "k", "1-2", "1-2", "9-9"]), ":1\r\n");
        assert_eq!(run(&mut s, &["XRANGE", "k", "-", "+"]), format!("*2\r\n{e11}{e20}"));
        assert_eq!(run(&mut s, &["XLEN", "k"]), ":2\r\n");
    }

    #[test]
    fn xread_replies_in_both_protocols() {
        let mut s = shard();
        run(&mut s, &["XADD", "a", "1-1", "f", "v"]);
        let entry = "*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
        assert_eq!(
            run(&mut s, &["XREAD", "STREAMS", "a", "b", "0", "0"]),
            format!("*1\r\n*2\r\n$1\r\na\r\n*1\r\n{entry}")
        );
        assert_eq!(
            run_proto(&mut s, 0, true, &["XREAD", "STREAMS", "a", "b", "0", "0"]),
            format!("%1\r\n$1\r\na\r\n*1\r\n{entry}")
        );
        assert_eq!(run(&mut s, &["XREAD", "STREAMS", "a", "$"]), "*-1\r\n");
        assert_eq!(run_proto(&mut s, 0, true, &["XREAD", "STREAMS", "a", "$"]), "_\r\n");
        // Without a chance to block (MULTI, or at the timeout): the null array.
        assert_eq!(run(&mut s, &["XREAD", "BLOCK", "0", "STREAMS", "a", "$"]), "*-1\r\n");
        assert_eq!(
            run(&mut s, &["XREAD", "STREAMS", "a", "b", "0"]),
            "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n"
        );
        assert_eq!(
            run(&mut s, &["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"]),
            "-ERR timeout is negative\r\n"
        );
        assert_eq!(
            run(&mut s, &["XREAD", "BLOCK", "x", "STREAMS", "a", "0"]),
            "-ERR timeout is not an integer or out of range\r\n"
        );
    }

    #[test]
    fn xread_blocks_with_dollar_resolved() {
        let mut s = shard();
        run(&mut s, &["XADD", "a", "5-0", "f", "v"]);
        let (out, block) =
            run_blocking(&mut s, 0, &["XREAD", "BLOCK", "100", "STREAMS", "a", "nosuch", "$", "$"]);
        assert_eq!(out, "");
        assert_eq!(
            block,
            Some(Block {
                timeout_ms: 100,
                rewrite: line(&[
                    "XREAD", "BLOCK", "100", "COUNT", "1000", "STREAMS", "a", "nosuch", "5-0", "0-0"
                ]),
            })
        );
        let (out, block) =
            run_blocking(&mut s, 0, &["XREAD", "COUNT", "3", "BLOCK", "0", "STREAMS", "a", "5-0"]);
        assert_eq!((out.as_str(), block), ("", Some(Block { timeout_ms: 0, rewrite: None })));
        // Data there: served at once, no blocking.
        let (out, block) = run_blocking(&mut s, 0, &["XREAD", "BLOCK", "0", "STREAMS", "a", "0"]);
        assert!(out.starts_with("*1\r\n"), "{out}");
        assert_eq!(block, None);
        // The rewritten line serves what arrived after blocking.
        run(&mut s, &["XADD", "a", "6-0", "g", "w"]);
        let (out, block) = run_blocking(
            &mut s,
            0,
            &["XREAD", "BLOCK", "100", "COUNT", "1000", "STREAMS", "a", "nosuch", "5-0", "0-0"],
        );
        assert_eq!(out, "*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n");
        assert_eq!(block, None);
    }

    #[test]
    fn xreadgroup_blocks_until_new_entries() {
        let mut s = shard();
        run(&mut s, &["XGROUP", "CREATE", "a", "g", "$", "MKSTREAM"]);
        let cmd = ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "a", ">"];
        let (out, block) = run_blocking(&mut s, 0, &cmd);
        assert_eq!(out, "");
        let rewrite =
            line(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "COUNT", "1000", "STREAMS", "a", ">"]);
        assert_eq!(block, Some(Block { timeout_ms: 50, rewrite: rewrite.clone() }));
        // Nothing served: the consumer was not created.
        assert_eq!(run(&mut s, &["XINFO", "CONSUMERS", "a", "g"]), "*0\r\n");
        s.ready.clear();
        run(&mut s, &["XADD", "a", "1-0", "f", "v"]);
        assert_eq!(s.ready, vec![(0, b"a".to_vec())]);
        let again: Vec<&str> =
            ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "COUNT", "1000", "STREAMS", "a", ">"].to_vec();
        let (out, block) = run_blocking(&mut s, 0, &again);
        assert_eq!(out, "*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
        assert_eq!(block, None);
        assert_eq!(
            run(&mut s, &["XPENDING", "a", "g"]),
            "*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n"
        );
        // History reads never block.
        let (out, block) =
            run_blocking(&mut s, 0, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "a", "1-0"]);
        assert_eq!((out.as_str(), block), ("*1\r\n*2\r\n$1\r\na\r\n*0\r\n", None));
        // A destroyed group wakes its readers, who then get NOGROUP.
        s.ready.clear();
        assert_eq!(run(&mut s, &["XGROUP", "DESTROY", "a", "g"]), ":1\r\n");
        assert_eq!(s.ready, vec![(0, b"a".to_vec())]);
        let (out, _) = run_blocking(&mut s, 0, &again);
        assert_eq!(out, "-NOGROUP No such key 'a' or consumer group 'g' in XREADGROUP with GROUP option\r\n");
    }

    #[test]
    fn groups_pending_and_claims() {
        let mut s = shard();
        for i in 1..=3 {
            run(&mut s, &["XADD", "k", &format!("{i}-0"), "f", &i.to_string()]);
        }
        assert_eq!(run(&mut s, &["XGROUP", "CREATE", "k", "g", "0"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["XGROUP", "CREATE", "k", "g", "0"]),
            "-BUSYGROUP Consumer Group name already exists\r\n"
        );
        run_at(&mut s, 1000, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "k", ">"]);
        assert_eq!(
            run_at(&mut s, 1500, &["XPENDING", "k", "g", "-", "+", "10"]),
            "*2\r\n*4\r\n$3\r\n1-0\r\n$2\r\nc1\r\n:500\r\n:1\r\n*4\r\n$3\r\n2-0\r\n$2\r\nc1\r\n:500\r\n:1\r\n"
        );
        assert_eq!(
            run_at(&mut s, 1500, &["XCLAIM", "k", "g", "c2", "600", "1-0", "2-0", "JUSTID"]),
            "*0\r\n"
        );
        assert_eq!(
            run_at(&mut s, 1600, &["XCLAIM", "k", "g", "c2", "600", "1-0", "JUSTID"]),
            "*1\r\n$3\r\n1-0\r\n"
        );
        assert_eq!(
            run_at(&mut s, 1700, &["XPENDING", "k", "g", "-", "+", "10", "c2"]),
            "*1\r\n*4\r\n$3\r\n1-0\r\n$2\r\nc2\r\n:100\r\n:1\r\n"
        );
        assert_eq!(
            run_at(&mut s, 1700, &["XAUTOCLAIM", "k", "g", "c3", "0", "0", "COUNT", "1", "JUSTID"]),
            "*3\r\n$3\r\n2-0\r\n*1\r\n$3\r\n1-0\r\n*0\r\n"
        );
        assert_eq!(run(&mut s, &["XDEL", "k", "2-0"]), ":1\r\n");
        assert_eq!(
            run_at(&mut s, 1700, &["XAUTOCLAIM", "k", "g", "c3", "0", "2-0"]),
            "*3\r\n$3\r\n0-0\r\n*0\r\n*1\r\n$3\r\n2-0\r\n"
        );
        assert_eq!(run(&mut s, &["XACK", "k", "g", "1-0", "1-0", "2-0"]), ":1\r\n");
        assert_eq!(run(&mut s, &["XPENDING", "k", "g"]), "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n");
        assert_eq!(run(&mut s, &["XGROUP", "DELCONSUMER", "k", "g", "c1"]), ":0\r\n");
        assert_eq!(run(&mut s, &["XGROUP", "DELCONSUMER", "k", "g", "nobody"]), ":0\r\n");
        // The group's last ID (2-0) is the largest deleted one: the lag is
        // unknown, a null (redis-server 7.0 agrees).
        assert_eq!(
            run(&mut s, &["XINFO", "GROUPS", "k"]),
            "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:0\r\n\
             $17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n$-1\r\n"
        );
        assert_eq!(
            run(&mut s, &["XGROUP", "SETID", "nosuch", "g", "0"]),
            "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"
        );
        assert_eq!(
            run(&mut s, &["XGROUP", "SETID", "k", "nog", "0"]),
            "-NOGROUP No such consumer group 'nog' for key name 'k'\r\n"
        );
        assert_eq!(
            run(&mut s, &["XGROUP", "CREATE", "k", "g2", "0", "FOO"]),
            "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"
        );
    }

    /// Only XADD, XDEL and XTRIM (when they change something) and a
    /// key-creating XGROUP CREATE are changes for WATCH, as in redis-server.
    #[test]
    fn watch_sees_only_entry_changes() {
        let mut s = shard();
        run(&mut s, &["XADD", "k", "1-1", "f", "v"]);
        run(&mut s, &["XADD", "k", "2-1", "f", "v"]);
        run(&mut s, &["XGROUP", "CREATE", "k", "g", "0"]);
        let unchanged: &[&[&str]] = &[
            &["XSETID", "k", "5-5"],
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">"],
            &["XACK", "k", "g", "1-1"],
            &["XGROUP", "SETID", "k", "g", "0"],
            &["XGROUP", "CREATE", "k", "g2", "0"],
            &["XGROUP", "DESTROY", "k", "g2"],
            &["XGROUP", "CREATECONSUMER", "k", "g", "c9"],
            &["XGROUP", "DELCONSUMER", "k", "g", "c9"],
            &["XCLAIM", "k", "g", "c2", "0", "2-1", "FORCE"],
            &["XAUTOCLAIM", "k", "g", "c3", "0", "0"],
            &["XDEL", "k", "9-9"],
            &["XTRIM", "k", "MAXLEN", "5"],
        ];
        for cmd in unchanged {
            let before = s.db(0).version(b"k", 0);
            run(&mut s, cmd);
            assert_eq!(s.db(0).version(b"k", 0), before, "{cmd:?}");
        }
        for cmd in
            [&["XADD", "k", "6-0", "f", "v"][..], &["XDEL", "k", "6-0"], &["XTRIM", "k", "MAXLEN", "0"]]
        {
            let before = s.db(0).version(b"k", 0);
            run(&mut s, cmd);
            assert_ne!(s.db(0).version(b"k", 0), before, "{cmd:?}");
        }
    }

    #[test]
    fn key_finders_follow_redis_key_specs() {
        use super::{xread_keys, xreadgroup_keys};
        fn v(s: &str) -> Vec<&[u8]> {
            s.split(' ').map(|a| a.as_bytes()).collect()
        }
        assert_eq!(xread_keys(&v("XREAD STREAMS a b 0 0")), [2, 3]);
        assert_eq!(xread_keys(&v("XREAD STREAMS a b 0")), [2]);
        assert_eq!(xread_keys(&v("XREAD COUNT 1 BLOCK 0 STREAMS streams b 0 0")), [6, 7]);
        assert_eq!(xread_keys(&v("XREAD COUNT streams STREAMS a 0")), [3]);
        assert_eq!(xread_keys(&v("XREAD FOO STREAMS a 0")), [3]);
        assert_eq!(xread_keys(&v("XREAD a b c")), Vec::<usize>::new());
        assert_eq!(xread_keys(&v("XREAD STREAMS a b 0 STREAMS")), [2, 3]);
        assert_eq!(xreadgroup_keys(&v("XREADGROUP GROUP streams c NOACK STREAMS a 0")), [6]);
        assert_eq!(xreadgroup_keys(&v("XREADGROUP STREAMS a b 0 0 0 0")), Vec::<usize>::new());
        let finder = Registry::get().entry(Registry::get().find(b"xread").unwrap()).cmd.key_finder;
        assert!(finder.is_some());
    }
}
