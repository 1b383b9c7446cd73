//! Command errors: Redis's exact error lines, rendered to RESP once at the edge.

use std::borrow::Cow;
use std::fmt;

/// The error a command returns instead of a reply. The text is the whole
/// error line, starting with its code (`ERR`, `WRONGTYPE`, ...), exactly as
/// redis-server words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdError(Cow<'static, str>);

impl CmdError {
    pub const fn new(line: &'static str) -> CmdError {
        CmdError(Cow::Borrowed(line))
    }

    pub fn owned(line: String) -> CmdError {
        CmdError(Cow::Owned(line))
    }

    pub fn line(&self) -> &str {
        &self.0
    }

    /// The error code: the first word of the line, as INFO errorstats counts it.
    pub fn code(&self) -> &str {
        self.0.split(' ').next().unwrap_or("ERR")
    }

    pub fn wrong_arity(fullname: &str) -> CmdError {
        CmdError::owned(format!("ERR wrong number of arguments for '{fullname}' command"))
    }

    pub fn unknown_subcommand(sub: &[u8], container: &str) -> CmdError {
        CmdError::owned(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            truncate(sub, 128),
            container.to_ascii_uppercase()
        ))
    }

    /// `ERR unknown command 'name', with args beginning with: 'a' 'b' `.
    pub fn unknown_command(argv: &[&[u8]]) -> CmdError {
        let mut args = String::new();
        for a in argv.iter().skip(1) {
            if args.len() >= 128 {
                break;
            }
            let room = 128 - args.len();
            args.push('\'');
            args.push_str(&truncate(a, room));
            args.push_str("' ");
        }
        let name = argv.first().map(|n| truncate(n, 128)).unwrap_or_default();
        CmdError::owned(format!("ERR unknown command '{name}', with args beginning with: {args}"))
    }

    pub fn invalid_expire(cmd: &str) -> CmdError {
        CmdError::owned(format!("ERR invalid expire time in '{cmd}' command"))
    }
}

fn truncate(b: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(max)]).into_owned()
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type CmdResult = Result<(), CmdError>;

pub const WRONGTYPE: CmdError =
    CmdError::new("WRONGTYPE Operation against a key holding the wrong kind of value");
pub const NOT_INTEGER: CmdError = CmdError::new("ERR value is not an integer or out of range");
pub const NOT_FLOAT: CmdError = CmdError::new("ERR value is not a valid float");
/// A client's write to a read-only replica.
pub const READONLY: CmdError = CmdError::new("READONLY You can't write against a read only replica.");
/// A master with fewer good replicas than `min-replicas-to-write`.
pub const NOREPLICAS: CmdError = CmdError::new("NOREPLICAS Not enough good replicas to write.");
/// The last background save failed and `stop-writes-on-bgsave-error` is yes.
pub const MISCONF: CmdError = CmdError::new(
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. \
     Commands that may modify the data set are disabled, because this instance is configured to report \
     errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check \
     the Redis logs for details about the RDB error.",
);
/// A replica with `replica-serve-stale-data no` and its link down.
pub const MASTERDOWN: CmdError =
    CmdError::new("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
/// A command that cannot run while a replica loads its master's data.
pub const LOADING: CmdError = CmdError::new("LOADING Redis is loading the dataset in memory");
pub const SYNTAX: CmdError = CmdError::new("ERR syntax error");
pub const OVERFLOW: CmdError = CmdError::new("ERR increment or decrement would overflow");
pub const NO_SUCH_KEY: CmdError = CmdError::new("ERR no such key");
pub const DB_INDEX: CmdError = CmdError::new("ERR DB index is out of range");
pub const STRING_TOO_LONG: CmdError =
    CmdError::new("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
pub const NOT_POSITIVE: CmdError = CmdError::new("ERR value is out of range, must be positive");
pub const SAME_OBJECT: CmdError = CmdError::new("ERR source and destination objects are the same");
