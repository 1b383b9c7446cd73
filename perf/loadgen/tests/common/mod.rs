//! Fixtures for shoal-load's integration tests: redis-server processes on
//! free loopback ports (alone or as a cluster), and runs of the built
//! `shoal-load` binary with its CSV row read back.
//!
//! Every process started here is killed and reaped when its fixture is
//! dropped, and killed by the kernel should the test process die first
//! (`PR_SET_PDEATHSIG`). Every wait polls a condition until a deadline.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `cond` until it holds; panics naming `what` after `WAIT`.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out after {WAIT:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `port` can be bound on loopback right now.
fn bindable(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A redis-server process listening on 127.0.0.1:`port`.
pub struct Redis {
    pub port: u16,
    child: Child,
    /// Working directory (cluster nodes.conf); removed on drop.
    _dir: tempfile::TempDir,
}

impl Redis {
    /// Starts redis-server on a free port with `args` on top of no
    /// persistence. With `cluster_bus`, the port's bus port (+10000) must be
    /// free too.
    pub fn start(args: &[&str], cluster_bus: bool) -> Redis {
        for attempt in 0..20u16 {
            let port = if cluster_bus {
                // Ports whose bus port (+10000) is below the ephemeral range.
                20000 + (std::process::id() as u16).wrapping_mul(7).wrapping_add(attempt * 131) % 10000
            } else {
                TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind :0").port()
            };
            if !bindable(port) || (cluster_bus && !bindable(port + 10000)) {
                continue;
            }
            let dir = tempfile::tempdir().expect("temp dir");
            let mut cmd = Command::new("redis-server");
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
                .arg("--dir")
                .arg(dir.path())
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe and only touches the child being set up.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = cmd.spawn().expect("redis-server is installed");
            let pid = child.id();
            let deadline = Instant::now() + WAIT;
            loop {
                if child.try_wait().expect("try_wait").is_some() {
                    // Most likely the port was taken in the meantime.
                    break;
                }
                // Answered by our process, not another test's on the same port.
                let info = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(1)))
                    .and_then(|mut c| redis::cmd("INFO").arg("server").query::<String>(&mut c));
                match info {
                    Ok(info) if info.contains(&format!("process_id:{pid}\r")) => {
                        return Redis { port, child, _dir: dir }
                    }
                    Err(e) if e.to_string().contains("NOAUTH") => return Redis { port, child, _dir: dir },
                    _ => {}
                }
                assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        panic!("no free port for redis-server");
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .and_then(|c| c.get_connection())
            .expect("connect to redis-server")
    }

    pub fn query<T: redis::FromRedisValue>(&self, args: &[&str]) -> T {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut self.conn()).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three masters formed into a Redis Cluster by `redis-cli --cluster create`.
pub struct Cluster {
    pub nodes: Vec<Redis>,
}

impl Cluster {
    pub fn new(masters: usize) -> Cluster {
        let nodes: Vec<Redis> = (0..masters)
            .map(|_| Redis::start(&["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"], true))
            .collect();
        let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli is installed");
        assert!(out.status.success(), "cluster create: {}", String::from_utf8_lossy(&out.stdout));
        for n in &nodes {
            wait_until("cluster_state:ok", || {
                n.query::<String>(&["CLUSTER", "INFO"]).contains("cluster_state:ok")
            });
        }
        Cluster { nodes }
    }

    /// Keys stored on all masters together.
    pub fn dbsize(&self) -> i64 {
        self.nodes.iter().map(|n| n.query::<i64>(&["DBSIZE"])).sum()
    }
}

/// Runs the built `shoal-load` with `args`.
pub fn shoal_load(args: &[&str]) -> Output {
    let bin = env!("CARGO_BIN_EXE_shoal-load");
    assert!(Path::new(bin).exists());
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run shoal-load");
    // Bounded: a run that hangs fails the test instead of blocking CI.
    let deadline = Instant::now() + WAIT;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("shoal-load {args:?} did not finish within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().expect("shoal-load output")
}

/// Runs `shoal-load --csv` with `args`, checks it succeeded, and returns
/// its row by column name.
pub fn csv_row(args: &[&str]) -> HashMap<String, String> {
    let mut all = args.to_vec();
    all.push("--csv");
    let out = shoal_load(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "shoal-load {args:?} failed:\n{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one header and one row:\n{stdout}");
    let row: HashMap<String, String> =
        lines[0].split(',').zip(lines[1].split(',')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    assert_eq!(row.len(), 13, "{stdout}");
    row
}
