//! Settings: a redis.conf-style file plus command-line overrides, read the way
//! redis-server reads them, and the table behind CONFIG GET/SET.
//!
//! Every directive can be given in the file (`port 7000`) or on the command
//! line (`--port 7000`); the command line is applied after the file. An unknown
//! directive, a wrong argument count or a bad value stops startup with a
//! message naming the directive, as Redis does. Redis's names are used for
//! every setting Redis has; `threads` and `spin-before-park-us` are Shoal's own.

use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl LogLevel {
    const NAMES: &'static [&'static str] = &["debug", "verbose", "notice", "warning"];

    fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.to_ascii_lowercase().as_str() {
            "debug" => LogLevel::Debug,
            "verbose" => LogLevel::Verbose,
            "notice" => LogLevel::Notice,
            "warning" => LogLevel::Warning,
            _ => return None,
        })
    }
}

/// Every setting, with Redis's defaults.
#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    /// Cores to run on; 0 = every core the process may run on.
    pub threads: usize,
    /// How long an idle core spins before it sleeps, in microseconds.
    pub spin_before_park_us: u64,
    pub databases: usize,
    pub requirepass: String,
    pub maxclients: usize,
    /// Close clients idle this many seconds (0 = never).
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub tcp_backlog: i32,
    pub loglevel: LogLevel,
    pub logfile: String,
    pub daemonize: bool,
    pub pidfile: String,
    pub dir: String,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    /// `client-output-buffer-limit`: hard bytes, soft bytes and soft seconds
    /// for normal, replica and pub/sub clients (in [`ObufClass`] order).
    pub client_output_buffer_limits: [(u64, u64, u64); 3],
    pub hz: u32,
    pub protected_mode: bool,
    /// DEL frees large values on the lazyfree thread, as UNLINK does.
    pub lazyfree_lazy_user_del: bool,
    /// FLUSHALL and FLUSHDB without SYNC or ASYNC free on the lazyfree thread.
    pub lazyfree_lazy_user_flush: bool,
    /// `save`: snapshot points, (seconds, changes): a BGSAVE starts once at
    /// least `changes` writes happened and `seconds` passed since the last save.
    pub save: Vec<(u64, u64)>,
    /// `stop-writes-on-bgsave-error`: refuse writes while the last background save failed.
    pub stop_writes_on_bgsave_error: bool,
    /// `dbfilename`: the RDB file SAVE and BGSAVE write and startup loads, in `dir`.
    pub dbfilename: String,
    /// Directives are being read at startup (a config file or the command
    /// line), not set by CONFIG SET: there, `save` lines add up.
    pub reading_config: bool,
    pub save_seen_at_startup: bool,
    /// `enable-protected-configs`: whether CONFIG SET may change `dir` and
    /// `dbfilename` (`no`, `yes`, or `local` for loopback clients only).
    pub enable_protected_configs: String,
    /// `rdb-key-save-delay`: microseconds a save waits per key written (a
    /// debugging aid from Redis, to make a save last; negative values wait
    /// one microsecond with a chance of one in minus that many).
    pub rdb_key_save_delay: i64,
    pub appendonly: bool,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// `hll-sparse-max-bytes`: a HyperLogLog stays sparse up to this size.
    pub hll_sparse_max_bytes: usize,
    /// `list-max-listpack-size` and `list-compress-depth`: accepted and
    /// reported as Redis does (configuration files carry them), while the
    /// size of Shoal's list chunks is its own and lists are not compressed.
    pub list_max_listpack_size: i64,
    pub list_compress_depth: i64,
    /// `busy-reply-threshold` (alias `lua-time-limit`): after this many
    /// milliseconds a script counts as busy and can be killed.
    pub busy_reply_threshold_ms: u64,
    /// `replicaof host port`: the master to replicate at startup. REPLICAOF
    /// changes it while the server runs.
    pub replicaof: Option<(String, u16)>,
    pub masterauth: String,
    pub masteruser: String,
    /// A replica refuses clients' writes (`replica-read-only`).
    pub replica_read_only: bool,
    /// A full sync streams the RDB to a replica that takes the EOF framing
    /// (`repl-diskless-sync`); with no, the RDB goes through a file and is
    /// sent with its length.
    pub repl_diskless_sync: bool,
    /// A replica whose link is down still answers from its data
    /// (`replica-serve-stale-data`); with no, only commands flagged stale.
    pub replica_serve_stale_data: bool,
    /// Seconds without data from the master before a replica drops the link.
    pub repl_timeout: u64,
    /// Seconds between the PINGs a master puts into its replication stream.
    pub repl_ping_replica_period: u64,
    pub repl_backlog_size: u64,
    /// A master refuses writes unless this many replicas lag at most
    /// `min_replicas_max_lag` seconds (0 = off).
    pub min_replicas_to_write: u64,
    pub min_replicas_max_lag: u64,
    pub replica_priority: u64,
    /// The `cluster-*` settings.
    pub cluster: ClusterConfig,
    /// The config file given at startup, if any.
    pub config_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            threads: 0,
            spin_before_park_us: 0,
            databases: 16,
            requirepass: String::new(),
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            daemonize: false,
            pidfile: String::new(),
            dir: std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| ".".into()),
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            client_output_buffer_limits: [(0, 0, 0), (256 << 20, 64 << 20, 60), (32 << 20, 8 << 20, 60)],
            hz: 10,
            protected_mode: true,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            dbfilename: "dump.rdb".into(),
            stop_writes_on_bgsave_error: true,
            reading_config: false,
            save_seen_at_startup: false,
            enable_protected_configs: "no".into(),
            rdb_key_save_delay: 0,
            appendonly: false,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            busy_reply_threshold_ms: 5000,
            replicaof: None,
            masterauth: String::new(),
            masteruser: String::new(),
            replica_read_only: true,
            repl_diskless_sync: true,
            replica_serve_stale_data: true,
            repl_timeout: 60,
            repl_ping_replica_period: 10,
            repl_backlog_size: 1 << 20,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            replica_priority: 100,
            cluster: ClusterConfig::default(),
            config_file: None,
        }
    }
}

/// Redis Cluster's settings, with Redis's defaults.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    pub enabled: bool,
    pub config_file: String,
    pub node_timeout: u64,
    /// The bus port; 0 = the client port + 10000.
    pub port: u16,
    pub announce_ip: String,
    pub announce_port: u16,
    pub announce_bus_port: u16,
    pub announce_hostname: String,
    pub require_full_coverage: bool,
    pub allow_reads_when_down: bool,
    pub allow_pubsubshard_when_down: bool,
    pub replica_validity_factor: u64,
    pub migration_barrier: u64,
    pub allow_replica_migration: bool,
    pub replica_no_failover: bool,
    pub link_sendbuf_limit: u64,
    pub preferred_endpoint_type: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            enabled: false,
            config_file: "nodes.conf".into(),
            node_timeout: 15000,
            port: 0,
            announce_ip: String::new(),
            announce_port: 0,
            announce_bus_port: 0,
            announce_hostname: String::new(),
            require_full_coverage: true,
            allow_reads_when_down: false,
            allow_pubsubshard_when_down: true,
            replica_validity_factor: 10,
            migration_barrier: 1,
            allow_replica_migration: true,
            replica_no_failover: false,
            link_sendbuf_limit: 0,
            preferred_endpoint_type: "ip".into(),
        }
    }
}

/// The client classes `client-output-buffer-limit` sets limits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObufClass {
    Normal = 0,
    Replica = 1,
    Pubsub = 2,
}

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, &[String]) -> Result<(), String>;

/// One directive: its name, whether CONFIG SET may change it at run time, and how to read and write it.
pub struct Directive {
    pub name: &'static str,
    pub mutable: bool,
    /// Takes several arguments in a file line (`bind a b`, `save 3600 1`); CONFIG SET gives them as one string.
    multi_arg: bool,
    get: Getter,
    set: Setter,
}

fn one(args: &[String]) -> Result<&str, String> {
    match args {
        [a] => Ok(a),
        _ => Err("wrong number of arguments".into()),
    }
}

/// An integer setting within `[min, max]`, with Redis's two error texts.
fn int(args: &[String], min: i64, max: i64) -> Result<i64, String> {
    let v: i64 = one(args)?.parse().map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if v < min || v > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(v)
}

/// A size setting (entries, bytes): a non-negative integer, memory units allowed as Redis does.
fn size(args: &[String]) -> Result<usize, String> {
    let a = one(args)?;
    let v = parse_memory(a).ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    usize::try_from(v).map_err(|_| "argument must be between 0 and 18446744073709551615 inclusive".into())
}

fn yes_no(args: &[String]) -> Result<bool, String> {
    match one(args)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// `replicaof host port`, or `replicaof no one`.
fn replicaof(args: &[String]) -> Result<Option<(String, u16)>, String> {
    let [host, port] = args else {
        return Err("wrong number of arguments".into());
    };
    if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
        return Ok(None);
    }
    let port = port.parse::<u16>().map_err(|_| "Invalid master port".to_string())?;
    Ok(Some((host.clone(), port)))
}

fn yn(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// Parses a memory size as Redis's `memtoull` does: `1k` = 1000, `1kb` = 1024, and so on.
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (digits, mul) = [
        ("gb", 1u64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suffix, mul)| lower.strip_suffix(suffix).map(|d| (d, *mul)))
    .unwrap_or((lower.as_str(), 1));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(mul)
}

fn memory(args: &[String]) -> Result<u64, String> {
    parse_memory(one(args)?).ok_or_else(|| "argument must be a memory value".into())
}

pub static DIRECTIVES: &[Directive] = &[
    Directive {
        name: "port",
        mutable: false,
        multi_arg: false,
        get: |c| c.port.to_string(),
        set: |c, a| {
            c.port = int(a, 0, 65535)? as u16;
            Ok(())
        },
    },
    Directive {
        name: "bind",
        mutable: false,
        multi_arg: true,
        get: |c| c.bind.join(" "),
        set: |c, a| {
            if a.is_empty() {
                return Err("wrong number of arguments".into());
            }
            c.bind = a.iter().flat_map(|s| s.split_whitespace().map(String::from)).collect();
            Ok(())
        },
    },
    Directive {
        name: "threads",
        mutable: false,
        multi_arg: false,
        get: |c| c.threads.to_string(),
        set: |c, a| {
            c.threads = int(a, 0, 1024)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "spin-before-park-us",
        mutable: false,
        multi_arg: false,
        get: |c| c.spin_before_park_us.to_string(),
        set: |c, a| {
            c.spin_before_park_us = int(a, 0, 1_000_000)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "databases",
        mutable: false,
        multi_arg: false,
        get: |c| c.databases.to_string(),
        set: |c, a| {
            c.databases = int(a, 1, i32::MAX as i64)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "requirepass",
        mutable: true,
        multi_arg: false,
        get: |c| c.requirepass.clone(),
        set: |c, a| {
            c.requirepass = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "maxclients",
        mutable: true,
        multi_arg: false,
        get: |c| c.maxclients.to_string(),
        set: |c, a| {
            c.maxclients = int(a, 1, u32::MAX as i64)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "timeout",
        mutable: true,
        multi_arg: false,
        get: |c| c.timeout.to_string(),
        set: |c, a| {
            c.timeout = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "tcp-keepalive",
        mutable: true,
        multi_arg: false,
        get: |c| c.tcp_keepalive.to_string(),
        set: |c, a| {
            c.tcp_keepalive = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "tcp-backlog",
        mutable: false,
        multi_arg: false,
        get: |c| c.tcp_backlog.to_string(),
        set: |c, a| {
            c.tcp_backlog = int(a, 0, i32::MAX as i64)? as i32;
            Ok(())
        },
    },
    Directive {
        name: "loglevel",
        mutable: true,
        multi_arg: false,
        get: |c| c.loglevel.name().into(),
        set: |c, a| {
            c.loglevel = LogLevel::parse(one(a)?).ok_or_else(|| {
                format!("argument(s) must be one of the following: {}", LogLevel::NAMES.join(", "))
            })?;
            Ok(())
        },
    },
    Directive {
        name: "logfile",
        mutable: false,
        multi_arg: false,
        get: |c| c.logfile.clone(),
        set: |c, a| {
            c.logfile = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "daemonize",
        mutable: false,
        multi_arg: false,
        get: |c| yn(c.daemonize),
        set: |c, a| {
            c.daemonize = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "pidfile",
        mutable: false,
        multi_arg: false,
        get: |c| c.pidfile.clone(),
        set: |c, a| {
            c.pidfile = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "dir",
        mutable: true,
        multi_arg: false,
        get: |c| c.dir.clone(),
        set: |c, a| {
            let d = one(a)?;
            std::env::set_current_dir(d).map_err(|e| e.to_string())?;
            c.dir = std::env::current_dir().map(|p| p.display().to_string()).unwrap_or(d.into());
            Ok(())
        },
    },
    Directive {
        name: "proto-max-bulk-len",
        mutable: true,
        multi_arg: false,
        get: |c| c.proto_max_bulk_len.to_string(),
        set: |c, a| {
            let v = memory(a)?;
            if v < 1024 * 1024 {
                return Err("argument must be between 1048576 and 9223372036854775807 inclusive".into());
            }
            c.proto_max_bulk_len = v;
            Ok(())
        },
    },
    Directive {
        name: "client-output-buffer-limit",
        mutable: true,
        multi_arg: true,
        get: |c| {
            let names = ["normal", "slave", "pubsub"];
            let parts: Vec<String> = c
                .client_output_buffer_limits
                .iter()
                .zip(names)
                .map(|((hard, soft, secs), name)| format!("{name} {hard} {soft} {secs}"))
                .collect();
            parts.join(" ")
        },
        set: |c, a| {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            if a.len() % 4 != 0 {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut limits = c.client_output_buffer_limits;
            for group in a.chunks(4) {
                let class = match group[0].to_ascii_lowercase().as_str() {
                    "normal" => ObufClass::Normal,
                    "slave" | "replica" => ObufClass::Replica,
                    "pubsub" => ObufClass::Pubsub,
                    _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
                };
                let values = (parse_memory(group[1]), parse_memory(group[2]), group[3].parse::<u64>().ok());
                let (Some(hard), Some(soft), Some(secs)) = values else {
                    return Err(
                        "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into()
                    );
                };
                limits[class as usize] = (hard, soft, secs);
            }
            c.client_output_buffer_limits = limits;
            Ok(())
        },
    },
    Directive {
        name: "client-query-buffer-limit",
        mutable: true,
        multi_arg: false,
        get: |c| c.client_query_buffer_limit.to_string(),
        set: |c, a| {
            let v = memory(a)?;
            if v < 1024 * 1024 {
                return Err("argument must be between 1048576 and 9223372036854775807 inclusive".into());
            }
            c.client_query_buffer_limit = v;
            Ok(())
        },
    },
    Directive {
        name: "hz",
        mutable: true,
        multi_arg: false,
        get: |c| c.hz.to_string(),
        set: |c, a| {
            // Redis clamps rather than rejects values past 500.
            c.hz = (int(a, 0, i32::MAX as i64)?.clamp(1, 500)) as u32;
            Ok(())
        },
    },
    Directive {
        name: "lazyfree-lazy-user-del",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.lazyfree_lazy_user_del),
        set: |c, a| {
            c.lazyfree_lazy_user_del = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "lazyfree-lazy-user-flush",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.lazyfree_lazy_user_flush),
        set: |c, a| {
            c.lazyfree_lazy_user_flush = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "protected-mode",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.protected_mode),
        set: |c, a| {
            c.protected_mode = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "save",
        mutable: true,
        multi_arg: true,
        get: |c| c.save.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(" "),
        set: |c, a| {
            let a = if a.len() == 1 && a[0].is_empty() { &[][..] } else { a };
            if a.len() % 2 == 1 {
                return Err("Invalid save parameters".into());
            }
            let mut points = Vec::new();
            for pair in a.chunks(2) {
                let (secs, changes) = (pair[0].parse::<i64>(), pair[1].parse::<i64>());
                match (secs, changes) {
                    (Ok(secs), Ok(changes)) if secs >= 1 && changes >= 0 => {
                        points.push((secs as u64, changes as u64))
                    }
                    _ => return Err("Invalid save parameters".into()),
                }
            }
            // At startup the first `save` replaces the defaults and the next add to it.
            if c.reading_config && c.save_seen_at_startup {
                c.save.extend(points);
            } else {
                c.save = points;
            }
            c.save_seen_at_startup |= c.reading_config;
            Ok(())
        },
    },
    Directive {
        name: "rdb-key-save-delay",
        mutable: true,
        multi_arg: false,
        get: |c| c.rdb_key_save_delay.to_string(),
        set: |c, a| {
            c.rdb_key_save_delay = int(a, i32::MIN as i64, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "enable-protected-configs",
        mutable: false,
        multi_arg: false,
        get: |c| c.enable_protected_configs.clone(),
        set: |c, a| {
            let v = one(a)?.to_ascii_lowercase();
            if !["no", "yes", "local"].contains(&v.as_str()) {
                return Err("argument(s) must be one of the following: no, yes, local".into());
            }
            c.enable_protected_configs = v;
            Ok(())
        },
    },
    Directive {
        name: "stop-writes-on-bgsave-error",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.stop_writes_on_bgsave_error),
        set: |c, a| {
            c.stop_writes_on_bgsave_error = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "dbfilename",
        mutable: true,
        multi_arg: false,
        get: |c| c.dbfilename.clone(),
        set: |c, a| {
            let name = one(a)?;
            if name.contains('/') {
                return Err("dbfilename can't be a path, just a filename".into());
            }
            c.dbfilename = name.to_string();
            Ok(())
        },
    },
    Directive {
        name: "appendonly",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.appendonly),
        set: |c, a| {
            if yes_no(a)? {
                return Err("the append only file is not implemented in Shoal yet".into());
            }
            c.appendonly = false;
            Ok(())
        },
    },
    Directive {
        name: "replicaof",
        mutable: false,
        multi_arg: true,
        get: |c| c.replicaof.as_ref().map_or(String::new(), |(h, p)| format!("{h} {p}")),
        set: |c, a| {
            c.replicaof = replicaof(a)?;
            Ok(())
        },
    },
    Directive {
        name: "slaveof",
        mutable: false,
        multi_arg: true,
        get: |c| c.replicaof.as_ref().map_or(String::new(), |(h, p)| format!("{h} {p}")),
        set: |c, a| {
            c.replicaof = replicaof(a)?;
            Ok(())
        },
    },
    Directive {
        name: "masterauth",
        mutable: true,
        multi_arg: false,
        get: |c| c.masterauth.clone(),
        set: |c, a| {
            c.masterauth = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "masteruser",
        mutable: true,
        multi_arg: false,
        get: |c| c.masteruser.clone(),
        set: |c, a| {
            c.masteruser = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "replica-read-only",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.replica_read_only),
        set: |c, a| {
            c.replica_read_only = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "repl-diskless-sync",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.repl_diskless_sync),
        set: |c, a| {
            c.repl_diskless_sync = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "slave-read-only",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.replica_read_only),
        set: |c, a| {
            c.replica_read_only = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "replica-serve-stale-data",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.replica_serve_stale_data),
        set: |c, a| {
            c.replica_serve_stale_data = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "slave-serve-stale-data",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.replica_serve_stale_data),
        set: |c, a| {
            c.replica_serve_stale_data = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "min-replicas-to-write",
        mutable: true,
        multi_arg: false,
        get: |c| c.min_replicas_to_write.to_string(),
        set: |c, a| {
            c.min_replicas_to_write = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "min-slaves-to-write",
        mutable: true,
        multi_arg: false,
        get: |c| c.min_replicas_to_write.to_string(),
        set: |c, a| {
            c.min_replicas_to_write = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "min-replicas-max-lag",
        mutable: true,
        multi_arg: false,
        get: |c| c.min_replicas_max_lag.to_string(),
        set: |c, a| {
            c.min_replicas_max_lag = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "min-slaves-max-lag",
        mutable: true,
        multi_arg: false,
        get: |c| c.min_replicas_max_lag.to_string(),
        set: |c, a| {
            c.min_replicas_max_lag = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "repl-timeout",
        mutable: true,
        multi_arg: false,
        get: |c| c.repl_timeout.to_string(),
        set: |c, a| {
            c.repl_timeout = int(a, 1, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "repl-ping-replica-period",
        mutable: true,
        multi_arg: false,
        get: |c| c.repl_ping_replica_period.to_string(),
        set: |c, a| {
            c.repl_ping_replica_period = int(a, 1, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "repl-ping-slave-period",
        mutable: true,
        multi_arg: false,
        get: |c| c.repl_ping_replica_period.to_string(),
        set: |c, a| {
            c.repl_ping_replica_period = int(a, 1, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "repl-backlog-size",
        mutable: true,
        multi_arg: false,
        get: |c| c.repl_backlog_size.to_string(),
        set: |c, a| {
            c.repl_backlog_size = size(a)?.max(1) as u64;
            Ok(())
        },
    },
    Directive {
        name: "replica-priority",
        mutable: true,
        multi_arg: false,
        get: |c| c.replica_priority.to_string(),
        set: |c, a| {
            c.replica_priority = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "slave-priority",
        mutable: true,
        multi_arg: false,
        get: |c| c.replica_priority.to_string(),
        set: |c, a| {
            c.replica_priority = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "hash-max-listpack-entries",
        mutable: true,
        multi_arg: false,
        get: |c| c.hash_max_listpack_entries.to_string(),
        set: |c, a| {
            c.hash_max_listpack_entries = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "hash-max-ziplist-entries",
        mutable: true,
        multi_arg: false,
        get: |c| c.hash_max_listpack_entries.to_string(),
        set: |c, a| {
            c.hash_max_listpack_entries = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "hash-max-listpack-value",
        mutable: true,
        multi_arg: false,
        get: |c| c.hash_max_listpack_value.to_string(),
        set: |c, a| {
            c.hash_max_listpack_value = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "hash-max-ziplist-value",
        mutable: true,
        multi_arg: false,
        get: |c| c.hash_max_listpack_value.to_string(),
        set: |c, a| {
            c.hash_max_listpack_value = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "set-max-intset-entries",
        mutable: true,
        multi_arg: false,
        get: |c| c.set_max_intset_entries.to_string(),
        set: |c, a| {
            c.set_max_intset_entries = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "zset-max-listpack-entries",
        mutable: true,
        multi_arg: false,
        get: |c| c.zset_max_listpack_entries.to_string(),
        set: |c, a| {
            c.zset_max_listpack_entries = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "zset-max-ziplist-entries",
        mutable: true,
        multi_arg: false,
        get: |c| c.zset_max_listpack_entries.to_string(),
        set: |c, a| {
            c.zset_max_listpack_entries = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "zset-max-listpack-value",
        mutable: true,
        multi_arg: false,
        get: |c| c.zset_max_listpack_value.to_string(),
        set: |c, a| {
            c.zset_max_listpack_value = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "zset-max-ziplist-value",
        mutable: true,
        multi_arg: false,
        get: |c| c.zset_max_listpack_value.to_string(),
        set: |c, a| {
            c.zset_max_listpack_value = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "hll-sparse-max-bytes",
        mutable: true,
        multi_arg: false,
        get: |c| c.hll_sparse_max_bytes.to_string(),
        set: |c, a| {
            c.hll_sparse_max_bytes = size(a)?;
            Ok(())
        },
    },
    Directive {
        name: "list-max-listpack-size",
        mutable: true,
        multi_arg: false,
        get: |c| c.list_max_listpack_size.to_string(),
        set: |c, a| {
            c.list_max_listpack_size = int(a, i32::MIN as i64, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "list-max-ziplist-size",
        mutable: true,
        multi_arg: false,
        get: |c| c.list_max_listpack_size.to_string(),
        set: |c, a| {
            c.list_max_listpack_size = int(a, i32::MIN as i64, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "busy-reply-threshold",
        mutable: true,
        multi_arg: false,
        get: |c| c.busy_reply_threshold_ms.to_string(),
        set: |c, a| {
            c.busy_reply_threshold_ms = int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "lua-time-limit",
        mutable: true,
        multi_arg: false,
        get: |c| c.busy_reply_threshold_ms.to_string(),
        set: |c, a| {
            c.busy_reply_threshold_ms = int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "list-compress-depth",
        mutable: true,
        multi_arg: false,
        get: |c| c.list_compress_depth.to_string(),
        set: |c, a| {
            c.list_compress_depth = int(a, 0, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-enabled",
        mutable: false,
        multi_arg: false,
        get: |c| yn(c.cluster.enabled),
        set: |c, a| {
            c.cluster.enabled = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-config-file",
        mutable: false,
        multi_arg: false,
        get: |c| c.cluster.config_file.clone(),
        set: |c, a| {
            c.cluster.config_file = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "cluster-node-timeout",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.node_timeout.to_string(),
        set: |c, a| {
            c.cluster.node_timeout = int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "cluster-port",
        mutable: false,
        multi_arg: false,
        get: |c| c.cluster.port.to_string(),
        set: |c, a| {
            c.cluster.port = int(a, 0, 65535)? as u16;
            Ok(())
        },
    },
    Directive {
        name: "cluster-announce-ip",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.announce_ip.clone(),
        set: |c, a| {
            c.cluster.announce_ip = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "cluster-announce-port",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.announce_port.to_string(),
        set: |c, a| {
            c.cluster.announce_port = int(a, 0, 65535)? as u16;
            Ok(())
        },
    },
    Directive {
        name: "cluster-announce-bus-port",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.announce_bus_port.to_string(),
        set: |c, a| {
            c.cluster.announce_bus_port = int(a, 0, 65535)? as u16;
            Ok(())
        },
    },
    Directive {
        name: "cluster-announce-tls-port",
        mutable: true,
        multi_arg: false,
        get: |_| "0".into(),
        set: |_, a| {
            int(a, 0, 65535)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-announce-hostname",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.announce_hostname.clone(),
        set: |c, a| {
            c.cluster.announce_hostname = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "cluster-require-full-coverage",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.cluster.require_full_coverage),
        set: |c, a| {
            c.cluster.require_full_coverage = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-allow-reads-when-down",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.cluster.allow_reads_when_down),
        set: |c, a| {
            c.cluster.allow_reads_when_down = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-allow-pubsubshard-when-down",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.cluster.allow_pubsubshard_when_down),
        set: |c, a| {
            c.cluster.allow_pubsubshard_when_down = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-replica-validity-factor",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.replica_validity_factor.to_string(),
        set: |c, a| {
            c.cluster.replica_validity_factor = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "cluster-slave-validity-factor",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.replica_validity_factor.to_string(),
        set: |c, a| {
            c.cluster.replica_validity_factor = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "cluster-migration-barrier",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.migration_barrier.to_string(),
        set: |c, a| {
            c.cluster.migration_barrier = int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "cluster-allow-replica-migration",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.cluster.allow_replica_migration),
        set: |c, a| {
            c.cluster.allow_replica_migration = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-replica-no-failover",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.cluster.replica_no_failover),
        set: |c, a| {
            c.cluster.replica_no_failover = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-slave-no-failover",
        mutable: true,
        multi_arg: false,
        get: |c| yn(c.cluster.replica_no_failover),
        set: |c, a| {
            c.cluster.replica_no_failover = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-link-sendbuf-limit",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.link_sendbuf_limit.to_string(),
        set: |c, a| {
            c.cluster.link_sendbuf_limit = memory(a)?;
            Ok(())
        },
    },
    Directive {
        name: "cluster-preferred-endpoint-type",
        mutable: true,
        multi_arg: false,
        get: |c| c.cluster.preferred_endpoint_type.clone(),
        set: |c, a| {
            let v = one(a)?.to_ascii_lowercase();
            if v != "ip" {
                // Only IP endpoints are served: MOVED and CLUSTER SLOTS always give addresses.
                return Err("argument(s) must be one of the following: ip".into());
            }
            c.cluster.preferred_endpoint_type = v;
            Ok(())
        },
    },
];

pub fn directive(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

impl Directive {
    pub fn get(&self, c: &Config) -> String {
        (self.get)(c)
    }

    /// A multi-argument directive given one argument takes it split on
    /// spaces (`save "3600 1 300 100"`), as Redis 7 does.
    fn split_single(&self, args: &[String]) -> Vec<String> {
        match args {
            [one] if self.multi_arg && one.contains(' ') => {
                one.split_whitespace().map(String::from).collect()
            }
            _ => args.to_vec(),
        }
    }

    /// Applies a CONFIG SET value (one string, split on spaces for multi-argument directives).
    pub fn set_from_string(&self, c: &mut Config, value: &str) -> Result<(), String> {
        let args: Vec<String> = if self.multi_arg {
            value.split_whitespace().map(String::from).collect()
        } else {
            vec![value.to_string()]
        };
        if self.multi_arg && args.is_empty() {
            return (self.set)(c, &[]).or_else(|e| {
                if self.name == "save" {
                    (self.set)(c, &[String::new()])
                } else {
                    Err(e)
                }
            });
        }
        (self.set)(c, &args)
    }
}

/// A startup configuration error, printed the way redis-server prints its own.
#[derive(Debug)]
pub struct ConfigError {
    pub line_no: Option<usize>,
    pub line: String,
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "\n*** FATAL CONFIG FILE ERROR (Shoal {}) ***", env!("CARGO_PKG_VERSION"))?;
        if let Some(n) = self.line_no {
            writeln!(f, "Reading the configuration file, at line {n}")?;
        }
        writeln!(f, ">>> '{}'", self.line)?;
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Applies the lines of a config text (file contents and then the command
    /// line's directives, as redis-server concatenates them).
    pub fn apply_text(&mut self, text: &str, first_line_no: Option<usize>) -> Result<(), ConfigError> {
        self.reading_config = true;
        let result = self.apply_lines(text, first_line_no);
        self.reading_config = false;
        result
    }

    fn apply_lines(&mut self, text: &str, first_line_no: Option<usize>) -> Result<(), ConfigError> {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| ConfigError {
                line_no: first_line_no.map(|f| f + i),
                line: line.to_string(),
                reason,
            };
            let words =
                split_args(line).ok_or_else(|| err("Unbalanced quotes in configuration line".into()))?;
            let Some((name, args)) = words.split_first() else {
                continue;
            };
            let d =
                directive(name).ok_or_else(|| err("Bad directive or wrong number of arguments".into()))?;
            if args.is_empty() && !d.multi_arg {
                return Err(err("wrong number of arguments".into()));
            }
            (d.set)(self, &d.split_single(args)).map_err(err)?;
        }
        Ok(())
    }

    /// Applies one directive given on the command line (`--name value...`).
    pub fn apply_directive(&mut self, name: &str, args: &[String]) -> Result<(), ConfigError> {
        let err = |reason: String| ConfigError {
            line_no: None,
            line: format!("{name} {}", args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")),
            reason,
        };
        let d = directive(name).ok_or_else(|| err("Bad directive or wrong number of arguments".into()))?;
        self.reading_config = true;
        let result = (d.set)(self, &d.split_single(args)).map_err(err);
        self.reading_config = false;
        result
    }

    /// The effective number of cores to run on.
    pub fn cores(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        available_cpus().len().max(1)
    }

    /// Renders the settings as config file lines (for logging and tests).
    pub fn render(&self) -> String {
        let mut s = String::new();
        for d in DIRECTIVES {
            let _ = writeln!(s, "{} {}", d.name, quote((d.get)(self).as_str()));
        }
        s
    }
}

fn quote(s: &str) -> String {
    if s.is_empty() || s.contains(char::is_whitespace) || s.contains('"') {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s.to_string()
    }
}

/// The CPUs this process may run on (its affinity mask), ascending.
pub fn available_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it for pid 0 (this thread).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            return (0..n).collect();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
    }
}

/// Debugging directives CONFIG GET shows only when asked by name, as Redis's hidden ones.
pub const HIDDEN: &[&str] = &["rdb-key-save-delay"];

/// Directives CONFIG SET changes only as `enable-protected-configs` allows.
pub const PROTECTED: &[&str] = &["dir", "dbfilename"];

/// Lets the calling thread run on any of `cpus` (a helper thread started by
/// a pinned core would otherwise inherit that core's single CPU).
pub fn allow_cpus(cpus: &[usize]) {
    // SAFETY: cpu_set_t is plain data; sched_setaffinity reads it for pid 0 (this thread).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Splits a config line into words the way Redis's `sdssplitargs` does:
/// whitespace separates, "double quotes" take C escapes (\n, \xHH, ...),
/// 'single quotes' take \' only. `None` for unbalanced quotes.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= b.len() {
                    return None;
                }
                if b[i] == b'\\'
                    && i + 3 < b.len()
                    && b[i + 1] == b'x'
                    && is_hex(b[i + 2])
                    && is_hex(b[i + 3])
                {
                    cur.push(hex(b[i + 2]) * 16 + hex(b[i + 3]));
                    i += 3;
                } else if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else if insq {
                if i >= b.len() {
                    return None;
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else {
                if i >= b.len() {
                    break;
                }
                match b[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_overrides() {
        let mut c = Config::default();
        c.apply_text("# comment\nport 7000\nbind 127.0.0.1 ::1\nsave \"\"\nthreads 2\n", Some(1)).unwrap();
        assert_eq!((c.port, c.threads), (7000, 2));
        assert_eq!(c.bind, ["127.0.0.1", "::1"]);
        c.apply_text("proto-max-bulk-len 2mb\nclient-query-buffer-limit 1gb", None).unwrap();
        assert_eq!(c.proto_max_bulk_len, 2 << 20);
        assert_eq!(c.client_query_buffer_limit, 1 << 30);
    }

    #[test]
    fn errors_name_the_directive() {
        let mut c = Config::default();
        let e = c.apply_text("port 7000\nnosuch 1\n", Some(1)).unwrap_err();
        assert_eq!(e.line_no, Some(2));
        assert_eq!(e.line, "nosuch 1");
        let e = c.apply_text("port abc", Some(1)).unwrap_err();
        assert!(e.reason.contains("integer"), "{e}");
        let e = c.apply_text("daemonize maybe", Some(1)).unwrap_err();
        assert!(e.reason.contains("yes"), "{e}");
        c.apply_text("save 3600 1\nsave \"300 100\"", None).unwrap();
        assert_eq!(c.save, [(3600, 1), (300, 100)]);
        assert!(c.apply_text("save 3600", None).is_err());
    }

    #[test]
    fn splitting_like_sdssplitargs() {
        assert_eq!(split_args("a \"b c\" 'd e'").unwrap(), ["a", "b c", "d e"]);
        assert_eq!(split_args("save \"\"").unwrap(), ["save", ""]);
        assert_eq!(split_args("x \"\\x41\\n\"").unwrap(), ["x", "A\n"]);
        assert!(split_args("a \"b").is_none());
        assert!(split_args("a \"b\"c").is_none());
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("512MB"), Some(512 << 20));
        assert_eq!(parse_memory("12"), Some(12));
        assert_eq!(parse_memory("x"), None);
    }
}
