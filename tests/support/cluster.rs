//! Cluster nodes for the integration tests: Shoal or redis-server processes
//! in cluster mode, each with its own nodes.conf, joined with `redis-cli
//! --cluster create`, and the questions the tests ask them.

use super::{free_port, wait_until, Kind, Server, WAIT};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const NODE_TIMEOUT: &str = "2000";

/// A directory of this test's own for nodes.conf files, removed at the end.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new() -> Dir {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "shoal-cluster-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&d).expect("create test dir");
        Dir(d)
    }

    pub fn conf(&self, name: &str) -> String {
        self.0.join(format!("nodes-{name}.conf")).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A cluster node: Shoal with two cores, or redis-server, with its own
/// nodes.conf and a bus port of its own choosing.
pub fn node(kind: Kind, dir: &Dir, name: &str) -> Server {
    let conf = dir.conf(name);
    let bus = free_port().to_string();
    let mut args = vec![
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        &conf,
        "--cluster-node-timeout",
        NODE_TIMEOUT,
    ];
    args.extend(["--cluster-port", &bus]);
    match kind {
        Kind::Shoal => {
            args.extend(["--threads", "2"]);
            Server::shoal(&args)
        }
        Kind::Redis => Server::redis(&args),
    }
}

pub fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli").args(args).output().expect("run redis-cli");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "redis-cli {args:?} failed:\n{text}");
    text
}

pub fn addr(s: &Server) -> String {
    format!("127.0.0.1:{}", s.port)
}

/// A field of CLUSTER INFO; "" while the node answers LOADING (a replica
/// loading its master's data), for the waits that poll it.
pub fn info_field(s: &Server, field: &str) -> String {
    let mut c = s.conn();
    let text: String = match redis::cmd("CLUSTER").arg("INFO").query(&mut c) {
        Ok(t) => t,
        Err(e) if e.to_string().to_lowercase().contains("loading") => return String::new(),
        Err(e) => panic!("CLUSTER INFO: {e}"),
    };
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

pub fn wait_cluster_ok(nodes: &[&Server]) {
    for n in nodes {
        wait_until(&format!("cluster_state:ok on {}", n.port), WAIT, || {
            info_field(n, "cluster_state") == "ok"
        });
    }
}

/// `redis-cli --cluster create` over `nodes` (all masters), then waits until
/// every node says the cluster is up.
pub fn create(nodes: &[&Server]) {
    create_with_replicas(nodes, 0)
}

/// `redis-cli --cluster create --cluster-replicas <replicas>`: the first
/// nodes become masters, and each of the others a replica of one of them.
pub fn create_with_replicas(nodes: &[&Server], replicas: usize) {
    let addrs: Vec<String> = nodes.iter().map(|n| addr(n)).collect();
    let replicas = replicas.to_string();
    let mut args = vec!["--cluster", "create"];
    args.extend(addrs.iter().map(String::as_str));
    args.extend(["--cluster-replicas", &replicas, "--cluster-yes"]);
    let out = redis_cli(&args);
    assert!(out.contains("[OK] All 16384 slots covered."), "{out}");
    wait_cluster_ok(nodes);
    let check = redis_cli(&["--cluster", "check", &addrs[0]]);
    assert!(check.contains("[OK] All nodes agree about slots configuration."), "{check}");
    assert!(check.contains("[OK] All 16384 slots covered."), "{check}");
}

pub fn myid(s: &Server) -> String {
    redis::cmd("CLUSTER").arg("MYID").query(&mut s.conn()).expect("CLUSTER MYID")
}

pub fn cluster_client(nodes: &[&Server]) -> redis::cluster::ClusterClient {
    let urls: Vec<String> = nodes.iter().map(|n| format!("redis://{}/", addr(n))).collect();
    redis::cluster::ClusterClientBuilder::new(urls).build().expect("cluster client")
}
