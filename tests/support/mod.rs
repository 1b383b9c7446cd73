//! Fixtures shared by the integration tests: a real `shoal-server` or
//! `redis-server` process on a free loopback port, clients for it (the
//! blocking `redis` crate and raw TCP), and polling with a deadline.
//!
//! Every process started here is killed and reaped when its `Server` is
//! dropped (and, should the test process die first, killed by the kernel
//! through `PR_SET_PDEATHSIG`). Nothing here sleeps in place of
//! synchronisation: every wait polls a condition until a deadline.

#![allow(dead_code)]

pub mod cluster;
pub mod data;
mod request;
pub mod script;
pub use request::encode;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long any single wait in the tests may take before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// How many times a server is restarted on a fresh port when the port it
/// was given was taken in the meantime.
const PORT_ATTEMPTS: usize = 8;

/// Polls `cond` until it holds; panics naming `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Polls `f` until it returns `Some`; panics naming `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let mut out = None;
    wait_until(what, timeout, || {
        out = f();
        out.is_some()
    });
    out.expect("condition held")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Shoal,
    Redis,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Shoal => "shoal-server",
            Kind::Redis => "redis-server",
        }
    }
}

/// A server process of ours, listening on 127.0.0.1:`port`.
pub struct Server {
    pub kind: Kind,
    pub port: u16,
    child: Option<Child>,
    log: PathBuf,
    /// Whether the fixture should expect a password when probing for readiness.
    pub password: Option<String>,
    /// Holds the port for a Shoal server (see `reserve`).
    _reservation: Option<socket2::Socket>,
    /// Shoal's pidfile (unique per server), and whether the fixture chose it.
    pidfile: Option<PathBuf>,
    own_pidfile: bool,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A port nobody listens on right now (bind port 0, read it, close).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port()
}

/// Keeps `port` bound (not listening) with SO_REUSEPORT for as long as the
/// socket lives. Shoal listens with SO_REUSEPORT, so it can still bind the
/// port, but nobody else's `free_port` can be handed it in the meantime: two
/// Shoal servers sharing a port would otherwise both start and split the
/// connections between them without any error.
fn reserve(port: u16) -> Option<socket2::Socket> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    s.set_reuse_address(true).ok()?;
    s.set_reuse_port(true).ok()?;
    s.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into()).ok()?;
    Some(s)
}

fn log_path(kind: Kind) -> PathBuf {
    std::env::temp_dir().join(format!(
        "shoal-test-{}-{}-{}.log",
        kind.name(),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ))
}

pub fn shoal_bin() -> &'static str {
    env!("CARGO_BIN_EXE_shoal-server")
}

pub fn redis_bin() -> &'static str {
    const BIN: &str = "/usr/bin/redis-server";
    if !Path::new(BIN).exists() {
        panic!(
            "{BIN} is missing: the differential tests compare Shoal with a real Redis; \
             install it with `apt-get install redis-server` (Debian package, Redis 7)"
        );
    }
    BIN
}

/// Makes the child die with the test process (the thread that spawned it, in
/// fact: test fixtures live on the test's own thread, so that is the same).
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches only the child being set up.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

impl Server {
    /// Starts Shoal with `args` (on top of `--bind 127.0.0.1 --port P`).
    pub fn shoal(args: &[&str]) -> Server {
        Server::start(Kind::Shoal, args)
    }

    /// Starts Shoal with `--threads threads`.
    pub fn shoal_threads(threads: usize) -> Server {
        Server::shoal(&["--threads", &threads.to_string()])
    }

    /// Starts redis-server with `args` (on top of the port, bind, and no persistence).
    pub fn redis(args: &[&str]) -> Server {
        Server::start(Kind::Redis, args)
    }

    /// Starts a server. A first argument that is not an option (a config
    /// file) goes first on the command line, as both servers want it.
    pub fn start(kind: Kind, args: &[&str]) -> Server {
        let (config_file, args) = match args.first() {
            Some(a) if !a.starts_with("--") => (Some(*a), &args[1..]),
            _ => (None, args),
        };
        let password = args
            .iter()
            .position(|a| *a == "--requirepass")
            .map(|i| args[i + 1].to_string())
            .filter(|p| !p.is_empty());
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let reservation = match kind {
                Kind::Shoal => match reserve(port) {
                    Some(r) => Some(r),
                    None => continue,
                },
                Kind::Redis => None,
            };
            let log = log_path(kind);
            let mut cmd = match kind {
                Kind::Shoal => Command::new(shoal_bin()),
                Kind::Redis => Command::new(redis_bin()),
            };
            cmd.args(config_file);
            cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()]);
            cmd.args(["--save", "", "--appendonly", "no", "--loglevel", "warning"]);
            // A file of its own (SAVE, or a master's for a replica's sync):
            // another server started in the same directory must not load it.
            cmd.arg("--dbfilename").arg(log.with_extension("rdb").file_name().expect("a file name"));
            cmd.args(args);
            let user_pidfile =
                args.iter().position(|a| *a == "--pidfile").map(|i| PathBuf::from(args[i + 1]));
            let own_pidfile = kind == Kind::Shoal && user_pidfile.is_none();
            let pidfile = if own_pidfile {
                let p = log.with_extension("pid");
                cmd.arg("--pidfile").arg(&p);
                Some(p)
            } else {
                user_pidfile
            };
            let out = std::fs::File::create(&log).expect("create server log");
            cmd.stdin(Stdio::null())
                .stdout(out.try_clone().expect("dup log"))
                .stderr(out)
                .current_dir(std::env::temp_dir());
            die_with_parent(&mut cmd);
            let child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {}: {e}", kind.name()));
            let mut server = Server {
                kind,
                port,
                child: Some(child),
                log,
                password: password.clone(),
                _reservation: reservation,
                pidfile,
                own_pidfile,
            };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(log) => {
                    // Exited early. A port somebody took in the meantime is
                    // worth another try; anything else is a real failure.
                    if !log.contains("in use") {
                        panic!("{} exited during startup:\n{log}", kind.name());
                    }
                    last_log = log;
                }
            }
        }
        panic!(
            "{} could not get a free port in {PORT_ATTEMPTS} attempts; last log:\n{last_log}",
            kind.name()
        );
    }

    /// Waits until the server answers PING (NOAUTH and LOADING count as answers) and
    /// checks that the process answering is ours. `Err(log)` if it exited.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child_mut().try_wait().expect("try_wait") {
                self.child = None;
                return Err(format!("({status})\n{}", self.log_text()));
            }
            if let Some(reply) = self.try_ping() {
                assert!(
                    reply.starts_with(b"+PONG")
                        || reply.starts_with(b"-NOAUTH")
                        || reply.starts_with(b"-LOADING"),
                    "{} on port {} answered PING with {:?}",
                    self.kind.name(),
                    self.port,
                    String::from_utf8_lossy(&reply)
                );
                break;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} did not answer PING on port {} within {WAIT:?}; log:\n{}",
                    self.kind.name(),
                    self.port,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Make sure the process answering is the one we started, not another
        // test's server that happened to get the same port. For Shoal this
        // asks for its (unique) pidfile with CONFIG GET, which runs on the
        // connection's own core: the check must not depend on cross-core
        // messaging, which has its own tests.
        let mut c = RawConn::connect(self.port);
        if let Some(p) = &self.password {
            c.cmd(&["AUTH", p]);
        }
        let (answer, ours) = match (self.kind, &self.pidfile) {
            (Kind::Shoal, Some(pidfile)) => {
                let reply = lossy(&c.cmd(&["CONFIG", "GET", "pidfile"]));
                let ours = reply.contains(&*pidfile.to_string_lossy());
                (reply, ours)
            }
            _ => {
                let reply = lossy(&c.cmd(&["INFO", "server"]));
                let pid = format!("process_id:{}", self.pid());
                let ours = reply.lines().any(|l| l.trim_end() == pid);
                (reply, ours)
            }
        };
        assert!(
            ours,
            "port {} is answered by another process than our {} (pid {}):\n{answer}",
            self.port,
            self.kind.name(),
            self.pid()
        );
        Ok(())
    }

    fn try_ping(&self) -> Option<Vec<u8>> {
        let mut s = TcpStream::connect(self.addr()).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(b"PING\r\n").ok()?;
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).ok()?;
        (n > 0).then(|| buf[..n].to_vec())
    }

    fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("server process")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server process").id()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            None => false,
            Some(c) => c.try_wait().expect("try_wait").is_none(),
        }
    }

    /// Waits (with the standard deadline) for the process to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("server process");
        let status =
            wait_for(&format!("{} to exit", self.kind.name()), WAIT, || child.try_wait().expect("try_wait"));
        self.child = None;
        status
    }

    /// A `redis` crate client configured for this server (no CLIENT SETINFO:
    /// Redis 7.0 does not know it, so leaving it out keeps both servers
    /// equal), authenticating with the server's password if it has one.
    pub fn client(&self) -> redis::Client {
        self.client_as(self.password.as_deref())
    }

    /// A client that authenticates with `password` (`None`: not at all).
    pub fn client_as(&self, password: Option<&str>) -> redis::Client {
        use redis::IntoConnectionInfo;
        let info =
            format!("redis://127.0.0.1:{}/", self.port).into_connection_info().expect("connection info");
        let mut settings = info.redis_settings().clone().set_skip_set_lib_name();
        if let Some(p) = password {
            settings = settings.set_password(p);
        }
        redis::Client::open(info.set_redis_settings(settings)).expect("client")
    }

    /// A blocking connection with a read timeout, so a missing reply fails the test.
    pub fn conn(&self) -> redis::Connection {
        self.conn_as(self.password.as_deref())
    }

    /// `conn`, authenticating with `password` (`None`: not at all).
    pub fn conn_as(&self, password: Option<&str>) -> redis::Connection {
        let c = self.client_as(password).get_connection().unwrap_or_else(|e| {
            panic!("connecting to {} on {}: {e}; its log:\n{}", self.kind.name(), self.port, self.log_text())
        });
        c.set_read_timeout(Some(WAIT)).expect("read timeout");
        c.set_write_timeout(Some(WAIT)).expect("write timeout");
        c
    }

    /// A raw TCP connection.
    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_file(self.log.with_extension("rdb"));
        if let (true, Some(p)) = (self.own_pidfile, &self.pidfile) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Runs one command on `con` and returns its reply as a `redis::Value`,
/// server errors included (as `Value::ServerError`). Panics on I/O errors.
pub fn query(con: &mut redis::Connection, args: &[&[u8]]) -> redis::Value {
    use redis::ConnectionLike;
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).expect("utf-8 command name"));
    for a in &args[1..] {
        cmd.arg(*a);
    }
    con.req_command(&cmd).unwrap_or_else(|e| panic!("{:?}: {e}", show_args(args)))
}

/// `query` with string arguments.
pub fn q(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    query(con, &args)
}

pub fn show_args(args: &[&[u8]]) -> String {
    args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" ")
}

/// A raw TCP connection that reads whole RESP replies as their exact bytes.
pub struct RawConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    pub fn connect(port: u16) -> RawConn {
        RawConn::connect_to(("127.0.0.1", port))
    }

    pub fn connect_to(addr: impl std::net::ToSocketAddrs + std::fmt::Debug) -> RawConn {
        let stream = TcpStream::connect(&addr).unwrap_or_else(|e| panic!("connect to {addr:?}: {e}"));
        stream.set_read_timeout(Some(WAIT)).expect("read timeout");
        stream.set_write_timeout(Some(WAIT)).expect("write timeout");
        stream.set_nodelay(true).expect("nodelay");
        RawConn { stream, buf: Vec::new() }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Sends a command encoded as a RESP array of bulk strings.
    pub fn send_cmd(&mut self, args: &[&[u8]]) {
        let bytes = encode(args);
        self.send(&bytes);
    }

    /// Sends `args` and returns the exact bytes of the reply.
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send_cmd(&args);
        self.read_reply()
    }

    /// Reads more bytes; false at end of stream.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => false,
            Err(e) => panic!("reading from server: {e} (have {:?})", lossy(&self.buf)),
        }
    }

    /// The exact bytes of the next complete reply (RESP2 or RESP3).
    pub fn read_reply(&mut self) -> Vec<u8> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return self.buf.drain(..n).collect();
            }
            if !self.fill() {
                panic!("connection closed before a whole reply; have {:?}", lossy(&self.buf));
            }
        }
    }

    /// The next reply, or `None` if the server closed the connection first.
    pub fn try_read_reply(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return Some(self.buf.drain(..n).collect());
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// The next reply; `Err` (instead of a panic) if none comes within the
    /// read timeout or the connection closes first.
    pub fn reply_within_timeout(&mut self) -> Result<Vec<u8>, String> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return Ok(self.buf.drain(..n).collect());
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err("connection closed".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("no reply within {WAIT:?}: {e}")),
            }
        }
    }

    /// Reads everything until the server closes the connection (bounded by
    /// the read timeout, which fails the test).
    pub fn read_to_close(&mut self) -> Vec<u8> {
        while self.fill() {}
        std::mem::take(&mut self.buf)
    }

    /// Whether the server closes this connection within the read timeout
    /// (data received before the close is ignored).
    pub fn closes_in_time(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    return false
                }
                Err(e) => panic!("reading from server: {e}"),
            }
        }
    }

    /// Whether the server has closed this connection: reads until end of
    /// stream, failing on any further data.
    pub fn expect_closed(&mut self) {
        let rest = self.read_to_close();
        assert!(rest.is_empty(), "expected the connection to be closed, got {:?}", lossy(&rest));
    }
}

pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `encode` with string arguments.
pub fn encode_str(args: &[&str]) -> Vec<u8> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    encode(&args)
}

/// The length of the complete RESP value at the start of `b`, if complete.
pub fn reply_len(b: &[u8]) -> Option<usize> {
    let line_end = b.windows(2).position(|w| w == b"\r\n")?;
    let line = &b[1..line_end];
    let after = line_end + 2;
    let num = || -> i64 {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad length line {:?}", lossy(&b[..line_end])))
    };
    match b.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n = num();
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (b.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = num();
            if n < 0 {
                return Some(after);
            }
            let items = if matches!(b[0], b'%' | b'|') { 2 * n } else { n };
            let mut at = after;
            for _ in 0..items {
                at += reply_len(&b[at..])?;
            }
            Some(at)
        }
        other => panic!("unexpected RESP type byte {:?} in {:?}", *other as char, lossy(b)),
    }
}

/// The hash slot of a key (CRC16/XMODEM of the key or its `{hash tag}`, mod 16384).
pub fn key_slot(key: &[u8]) -> u16 {
    let key = match key.iter().position(|&c| c == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&c| c == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    let mut crc: u16 = 0;
    for &byte in key {
        crc ^= (byte as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc % 16384
}

/// Which core of `cores` owns a key's slot (Shoal deals the 16384 slots to
/// its cores in turn: slot `s` goes to core `s % cores`).
pub fn core_of(key: &[u8], cores: usize) -> usize {
    key_slot(key) as usize % cores
}

/// `key:1`..`key:n`.
pub fn keys(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("key:{i}")).collect()
}

/// The `INFO` field `name` from an INFO text.
pub fn info_field(info: &str, name: &str) -> Option<String> {
    info.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).map(|v| v.trim_end().to_string())
}

/// The text of a bulk, verbatim or simple string reply.
pub fn text(v: &redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => lossy(b),
        redis::Value::SimpleString(s) => s.clone(),
        redis::Value::VerbatimString { text, .. } => text.clone(),
        redis::Value::Okay => "OK".into(),
        other => panic!("expected a string reply, got {other:?}"),
    }
}

pub fn int(v: &redis::Value) -> i64 {
    match v {
        redis::Value::Int(i) => *i,
        other => panic!("expected an integer reply, got {other:?}"),
    }
}

/// Runs a tool (redis-cli...) with a deadline, returning its output.
pub fn run_tool(cmd: &mut Command, stdin: Option<&[u8]>) -> std::process::Output {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    die_with_parent(cmd);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    if let Some(input) = stdin {
        let mut i = child.stdin.take().expect("stdin");
        i.write_all(input).expect("write tool stdin");
    }
    // Read the pipes on threads so a chatty tool cannot block on a full pipe.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    std::process::Output {
        status,
        stdout: t_out.join().expect("stdout reader"),
        stderr: t_err.join().expect("stderr reader"),
    }
}
