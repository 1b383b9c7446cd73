//! The command table: every command Shoal knows, named once.
//!
//! From each entry come the lookup by name, the arity check, the positions of
//! the keys (for routing a command to the core that owns them), how a command
//! over keys on several cores is split and merged, COMMAND INFO/DOCS/COUNT, and
//! the per-command statistics. A command that is not in the table does not
//! exist: it gets Redis's `unknown command` error.

use crate::error::{CmdError, CmdResult};
use crate::shard::Ctx;
use std::collections::HashMap;
use std::sync::LazyLock;

/// A command handler: runs on the shard that owns the command's keys.
pub type Handler = fn(&mut Ctx<'_>, &[&[u8]]) -> CmdResult;

/// Command flags, as COMMAND INFO names them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const MOVABLE_KEYS: u32 = 1 << 15;
    pub const ALLOW_BUSY: u32 = 1 << 16;
    /// Served on a cluster slot being imported without a preceding ASKING (RESTORE-ASKING).
    pub const ASKING: u32 = 1 << 17;
    /// Refused while a replica loads its master's data in the background.
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
        (ASKING, "asking"),
    ];
}

/// The documentation group (COMMAND DOCS `group`), which also gives the ACL category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    List,
    Set,
    SortedSet,
    Hash,
    Pubsub,
    Transactions,
    Connection,
    Server,
    Scripting,
    Hyperloglog,
    Geo,
    Stream,
    Bitmap,
    Cluster,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::Pubsub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::Hyperloglog => "hyperloglog",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
            Group::Cluster => "cluster",
        }
    }

    pub fn acl_category(self) -> &'static str {
        match self {
            Group::Generic => "@keyspace",
            Group::String => "@string",
            Group::List => "@list",
            Group::Set => "@set",
            Group::SortedSet => "@sortedset",
            Group::Hash => "@hash",
            Group::Pubsub => "@pubsub",
            Group::Transactions => "@transaction",
            Group::Connection => "@connection",
            Group::Server => "@admin",
            Group::Scripting => "@scripting",
            Group::Hyperloglog => "@hyperloglog",
            Group::Geo => "@geo",
            Group::Stream => "@stream",
            Group::Bitmap => "@bitmap",
            Group::Cluster => "@slow",
        }
    }
}

/// Key positions in the argument vector, Redis's legacy (first, last, step)
/// triple: `last` negative counts from the end (-1 = the last argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keys {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

impl Keys {
    pub const NONE: Keys = Keys { first: 0, last: 0, step: 0 };
    pub const ONE: Keys = Keys { first: 1, last: 1, step: 1 };
    pub const TWO: Keys = Keys { first: 1, last: 2, step: 1 };
    pub const ALL: Keys = Keys { first: 1, last: -1, step: 1 };
    pub const PAIRS: Keys = Keys { first: 1, last: -1, step: 2 };

    /// The indexes of the keys in `argv`.
    pub fn positions(&self, argc: usize) -> std::iter::StepBy<std::ops::Range<usize>> {
        let (first, step) = (self.first.max(0) as usize, self.step.max(1) as usize);
        let last = if self.first == 0 {
            0
        } else if self.last < 0 {
            (argc as i64 + self.last as i64).max(0) as usize
        } else {
            self.last as usize
        };
        let end = if self.first == 0 { 0 } else { last.min(argc.saturating_sub(1)) + 1 };
        (first..end).step_by(step)
    }
}

/// One key specification as COMMAND INFO shows it: the key at `begin`, and
/// up to `last` (relative to `begin`; -1 = the last argument) every `step`.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub begin: i32,
    pub last: i32,
    pub step: i32,
    /// Space-separated flags, e.g. `RW ACCESS UPDATE`.
    pub flags: &'static str,
}

/// A key spec for the single key at argument `begin`.
pub const fn key_at(begin: i32, flags: &'static str) -> KeySpec {
    KeySpec { begin, last: 0, step: 1, flags }
}

/// A key spec for the key right after the command name.
pub const fn one_key(flags: &'static str) -> KeySpec {
    key_at(1, flags)
}

/// The key positions of one command line.
pub enum KeyPositions {
    Range(std::iter::StepBy<std::ops::Range<usize>>),
    List(std::vec::IntoIter<usize>),
}

impl Iterator for KeyPositions {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        match self {
            KeyPositions::Range(r) => r.next(),
            KeyPositions::List(l) => l.next(),
        }
    }
}

/// Key finder for `cmd numkeys key [key ...] ...` (numkeys at position 1).
pub fn numkeys_at_1(argv: &[&[u8]]) -> Vec<usize> {
    numkeys_at(argv, 1)
}

/// Key finder for `cmd x numkeys key [key ...] ...` (numkeys at position 2).
pub fn numkeys_at_2(argv: &[&[u8]]) -> Vec<usize> {
    numkeys_at(argv, 2)
}

/// The keys that follow a `numkeys` count at position `at`; none when the
/// count is not a positive integer that fits (the handler reports the error).
pub fn numkeys_at(argv: &[&[u8]], at: usize) -> Vec<usize> {
    let Some(n) = argv.get(at).and_then(|a| crate::num::parse_i64(a)) else {
        return Vec::new();
    };
    if n <= 0 || at + n as usize >= argv.len() {
        return Vec::new();
    }
    (at + 1..=at + n as usize).collect()
}

/// How a command whose keys live on several cores is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spread {
    /// The keys are brought together on one core, the command runs there, and
    /// the results go back to the owners (the general case: RENAME, COPY, LCS, MSETNX...).
    Gather,
    /// The command runs once per core over that core's keys; the integer replies add up (DEL, EXISTS).
    Sum,
    /// Runs once per core; the array replies are put back in key order (MGET).
    Concat,
    /// Runs once per core; every part replies `+OK` (MSET).
    AllOk,
}

/// Commands carried out by the server layer (connection state, all-core
/// fan-out, configuration) rather than by one shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerCmd {
    Hello,
    Auth,
    Select,
    Quit,
    Reset,
    Client,
    Info,
    Config,
    Command,
    Dbsize,
    Keys,
    Scan,
    Randomkey,
    Flushall,
    Flushdb,
    Swapdb,
    Shutdown,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
    Subscribe,
    Unsubscribe,
    Psubscribe,
    Punsubscribe,
    Ssubscribe,
    Sunsubscribe,
    Publish,
    Spublish,
    Pubsub,
    /// CLUSTER and its subcommands.
    Cluster,
    /// ASKING, READONLY, READWRITE: a cluster client's connection flags.
    Asking,
    Readonly,
    Readwrite,
    Migrate,
    Replicaof,
    Role,
    Wait,
    /// PSYNC and SYNC: the connection becomes a replica.
    Sync,
    Replconf,
    Save,
    Bgsave,
    Lastsave,
}

#[derive(Clone, Copy, Debug)]
pub enum Run {
    Shard(Handler),
    Server(ServerCmd),
    /// A command that only holds subcommands (OBJECT, CLIENT...).
    Container,
}

/// One entry of the command table.
#[derive(Clone, Copy, Debug)]
pub struct Command {
    /// Lower-case name; for a subcommand, the subcommand's own name.
    pub name: &'static str,
    /// Exact argument count including the name, or at least `-arity` when negative.
    pub arity: i32,
    pub flags: u32,
    pub keys: Keys,
    pub spread: Spread,
    pub group: Group,
    pub since: &'static str,
    pub complexity: &'static str,
    pub summary: &'static str,
    /// Space-separated COMMAND INFO tips, e.g. `nondeterministic_output`.
    pub tips: &'static str,
    /// The key specifications COMMAND INFO reports. When empty, one range
    /// spec is derived from `keys` with flags from the command's read/write flag.
    pub key_specs: &'static [KeySpec],
    pub run: Run,
    pub subcommands: &'static [Command],
    /// For commands whose keys the (first, last, step) triple cannot describe
    /// (a `numkeys` argument, STREAMS ...): returns the key positions of a
    /// given argument vector. Such commands also carry the MOVABLE_KEYS flag.
    pub key_finder: Option<KeyFinder>,
    /// ACL categories the flags and group do not imply (space-separated,
    /// e.g. `@dangerous` for ROLE, which Redis files under it without
    /// flagging it admin).
    pub acl_extra: &'static str,
}

/// Finds the key positions of an argument vector (see `Command::key_finder`).
pub type KeyFinder = fn(&[&[u8]]) -> Vec<usize>;

impl Command {
    /// A template to fill in with struct update syntax.
    pub const DEFAULT: Command = Command {
        name: "",
        arity: 1,
        flags: 0,
        keys: Keys::NONE,
        spread: Spread::Gather,
        group: Group::Generic,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "",
        tips: "",
        key_specs: &[],
        run: Run::Container,
        subcommands: &[],
        key_finder: None,
        acl_extra: "",
    };

    pub fn is_write(&self) -> bool {
        self.flags & flags::WRITE != 0
    }

    pub fn has_flag(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// The positions of the keys in `argv`, by the key finder when the
    /// command has one, else by the (first, last, step) triple.
    pub fn key_positions(&self, argv: &[&[u8]]) -> KeyPositions {
        match self.key_finder {
            Some(find) => KeyPositions::List(find(argv).into_iter()),
            None => KeyPositions::Range(self.keys.positions(argv.len())),
        }
    }

    /// Whether the command takes keys at all.
    pub fn has_keys(&self) -> bool {
        self.keys.first > 0 || self.key_finder.is_some()
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }
}

/// A command's index in the registry: the key of its statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CmdId(pub u16);

/// A command or subcommand as registered.
pub struct Registered {
    pub cmd: &'static Command,
    /// `get`, or `object|encoding` for a subcommand.
    pub fullname: String,
    pub parent: Option<CmdId>,
    pub subcommands: Vec<CmdId>,
}

/// Every command, looked up by name.
pub struct Registry {
    entries: Vec<Registered>,
    top: HashMap<&'static str, CmdId>,
}

static TABLES: &[&[Command]] = &[
    crate::cmd::string::COMMANDS,
    crate::cmd::keys::COMMANDS,
    crate::cmd::server::COMMANDS,
    crate::cmd::hash::COMMANDS,
    crate::cmd::list::COMMANDS,
    crate::cmd::set::COMMANDS,
    crate::cmd::zset::COMMANDS,
    crate::cmd::geo::COMMANDS,
    crate::cmd::sort::COMMANDS,
    crate::cmd::bitmap::COMMANDS,
    crate::cmd::hll::COMMANDS,
    crate::cmd::stream::COMMANDS,
    crate::cmd::scripting::COMMANDS,
    crate::cmd::dump::COMMANDS,
];

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry::build(TABLES));

impl Registry {
    pub fn get() -> &'static Registry {
        &REGISTRY
    }

    fn build(tables: &[&'static [Command]]) -> Registry {
        let mut reg = Registry { entries: Vec::new(), top: HashMap::new() };
        for table in tables {
            for cmd in table.iter() {
                let id = reg.push(cmd, cmd.name.to_string(), None);
                assert!(reg.top.insert(cmd.name, id).is_none(), "{} twice", cmd.name);
                for sub in cmd.subcommands {
                    let sid = reg.push(sub, format!("{}|{}", cmd.name, sub.name), Some(id));
                    reg.entries[id.0 as usize].subcommands.push(sid);
                }
            }
        }
        reg
    }

    fn push(&mut self, cmd: &'static Command, fullname: String, parent: Option<CmdId>) -> CmdId {
        let id = CmdId(self.entries.len() as u16);
        self.entries.push(Registered { cmd, fullname, parent, subcommands: Vec::new() });
        id
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entry(&self, id: CmdId) -> &Registered {
        &self.entries[id.0 as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (CmdId, &Registered)> {
        self.entries.iter().enumerate().map(|(i, r)| (CmdId(i as u16), r))
    }

    /// The top-level commands, in table order.
    pub fn top_level(&self) -> impl Iterator<Item = (CmdId, &Registered)> {
        self.iter().filter(|(_, r)| r.parent.is_none())
    }

    /// Finds a top-level command by name, case-insensitively.
    pub fn find(&self, name: &[u8]) -> Option<CmdId> {
        let mut lower = [0u8; 32];
        if name.len() > lower.len() {
            return None;
        }
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let key = std::str::from_utf8(&lower[..name.len()]).ok()?;
        self.top.get(key).copied()
    }

    /// Finds the subcommand `name` of `parent`.
    pub fn find_sub(&self, parent: CmdId, name: &[u8]) -> Option<CmdId> {
        self.entry(parent)
            .subcommands
            .iter()
            .copied()
            .find(|&s| self.entry(s).cmd.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// Resolves `argv` to a command, checking existence and arity as Redis's
    /// `processCommand` does, with its error texts.
    pub fn resolve(&self, argv: &[&[u8]]) -> Result<CmdId, CmdError> {
        let id = self.find(argv[0]).ok_or_else(|| CmdError::unknown_command(argv))?;
        let entry = self.entry(id);
        let id = if entry.subcommands.is_empty() || (argv.len() < 2 && entry.cmd.arity_ok(1)) {
            id
        } else if argv.len() < 2 {
            return Err(CmdError::wrong_arity(&entry.fullname));
        } else {
            match self.find_sub(id, argv[1]) {
                Some(sub) => sub,
                None => {
                    return Err(CmdError::unknown_subcommand(argv[1], entry.cmd.name));
                }
            }
        };
        let entry = self.entry(id);
        if !entry.cmd.arity_ok(argv.len()) {
            return Err(CmdError::wrong_arity(&entry.fullname));
        }
        Ok(id)
    }
}

/// ASCII case-insensitive comparison of an argument with an option name.
pub fn eq_ic(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_positions() {
        let v: Vec<usize> = Keys::ALL.positions(4).collect();
        assert_eq!(v, [1, 2, 3]);
        let v: Vec<usize> = Keys::PAIRS.positions(5).collect();
        assert_eq!(v, [1, 3]);
        let v: Vec<usize> = Keys::ONE.positions(3).collect();
        assert_eq!(v, [1]);
        assert_eq!(Keys::NONE.positions(3).count(), 0);
        let obj = Keys { first: 2, last: 2, step: 1 };
        assert_eq!(obj.positions(3).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn lookup_and_arity_errors_match_redis() {
        let reg = Registry::get();
        assert!(reg.find(b"GeT").is_some());
        let e = reg.resolve(&[b"nosuch", b"a", b"b"]).unwrap_err();
        assert_eq!(e.line(), "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' ");
        let e = reg.resolve(&[b"get"]).unwrap_err();
        assert_eq!(e.line(), "ERR wrong number of arguments for 'get' command");
        let e = reg.resolve(&[b"object", b"nope", b"k"]).unwrap_err();
        assert_eq!(e.line(), "ERR unknown subcommand 'nope'. Try OBJECT HELP.");
        let e = reg.resolve(&[b"object", b"encoding"]).unwrap_err();
        assert_eq!(e.line(), "ERR wrong number of arguments for 'object|encoding' command");
    }
}
