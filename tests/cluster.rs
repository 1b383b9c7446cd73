//! Cluster mode with real processes on loopback: clusters built with
//! `redis-cli --cluster create`, the `redis` crate's ClusterClient,
//! redirections as a plain client sees them, failure detection after a
//! SIGKILL, a node restarted from its nodes.conf, and a cluster of Shoal and
//! redis-server nodes together.

mod support;

use redis::Commands;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::cluster::{
    addr, cluster_client, create, info_field, myid, node, redis_cli, wait_cluster_ok, Dir, NODE_TIMEOUT,
};
use support::{q, wait_for, wait_until, Kind, Server, WAIT};

/// The node (of `nodes`) serving `key`, from CLUSTER SLOTS.
fn owner_of<'a>(nodes: &'a [&'a Server], key: &str) -> &'a Server {
    let slot: i64 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query(&mut nodes[0].conn()).unwrap();
    let slots: Vec<(i64, i64, Vec<redis::Value>)> =
        redis::cmd("CLUSTER").arg("SLOTS").query(&mut nodes[0].conn()).unwrap();
    for (a, b, master) in slots {
        if (a..=b).contains(&slot) {
            let port: i64 = redis::from_redis_value(master[1].clone()).unwrap();
            return nodes.iter().find(|n| n.port as i64 == port).expect("a known node");
        }
    }
    panic!("slot {slot} not served");
}

/// Three Shoal nodes made one cluster, and the directory of their nodes.conf
/// files (dropped after the servers).
fn shoal_cluster() -> (Vec<Server>, Dir) {
    let dir = Dir::new();
    let servers: Vec<Server> = (0..3).map(|i| node(Kind::Shoal, &dir, &i.to_string())).collect();
    create(&servers.iter().collect::<Vec<_>>());
    (servers, dir)
}

/// Sets `prefix:i` to `i` for `i` in `0..n`, a thousand keys per pipeline.
fn preload(con: &mut redis::cluster::ClusterConnection, prefix: &str, n: usize) {
    for chunk in (0..n).step_by(1000) {
        let mut pipe = redis::cluster::cluster_pipe();
        for i in chunk..(chunk + 1000).min(n) {
            pipe.set(format!("{prefix}:{i}"), i).ignore();
        }
        pipe.query::<()>(con).expect("pipelined SETs");
    }
}

#[test]
fn a_created_cluster_serves_100k_keys_through_a_cluster_client() {
    let (servers, _dir) = shoal_cluster();
    let nodes: Vec<&Server> = servers.iter().collect();
    let client = cluster_client(&nodes);
    let mut con = client.get_connection().expect("cluster connection");
    preload(&mut con, "key", 100_000);
    let total: i64 = nodes.iter().map(|n| redis::cmd("DBSIZE").query::<i64>(&mut n.conn()).unwrap()).sum();
    assert_eq!(total, 100_000);
    for n in &nodes {
        let keys: i64 = redis::cmd("DBSIZE").query(&mut n.conn()).unwrap();
        assert!(keys > 30_000, "keys spread over the nodes: {keys} on {}", n.port);
    }
    for i in (0..100_000).step_by(997) {
        let v: i64 = con.get(format!("key:{i}")).unwrap();
        assert_eq!(v, i);
    }
    // Multi-key commands within one slot work through hash tags.
    let _: () = con.mset(&[("{user1}.a", "1"), ("{user1}.b", "2")]).unwrap();
    let got: Vec<String> = con.mget(&["{user1}.a", "{user1}.b"]).unwrap();
    assert_eq!(got, ["1", "2"]);
    // COUNTKEYSINSLOT and GETKEYSINSLOT agree with what is stored.
    let n = owner_of(&nodes, "key:0");
    let slot: i64 = redis::cmd("CLUSTER").arg("KEYSLOT").arg("key:0").query(&mut n.conn()).unwrap();
    let count: i64 = redis::cmd("CLUSTER").arg("COUNTKEYSINSLOT").arg(slot).query(&mut n.conn()).unwrap();
    let keys: Vec<String> =
        redis::cmd("CLUSTER").arg("GETKEYSINSLOT").arg(slot).arg(1000).query(&mut n.conn()).unwrap();
    assert_eq!(keys.len() as i64, count);
    assert!(keys.contains(&"key:0".to_string()));
    // redis-benchmark's cluster mode runs against it.
    let out = Command::new("redis-benchmark")
        .args(["-p", &n.port.to_string(), "--cluster", "-t", "set,get", "-n", "20000", "-P", "16", "-q"])
        .output()
        .expect("redis-benchmark");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("GET:"), "{text}");
}

#[test]
fn plain_clients_get_redis_redirections() {
    let (servers, _dir) = shoal_cluster();
    let nodes: Vec<&Server> = servers.iter().collect();
    let owner = owner_of(&nodes, "foo");
    let other = nodes.iter().find(|n| n.port != owner.port).unwrap();
    let mut c = other.raw();
    assert_eq!(
        c.cmd(&["SET", "foo", "1"]),
        format!("-MOVED 12182 127.0.0.1:{}\r\n", owner.port).into_bytes()
    );
    assert_eq!(
        c.cmd(&["MSET", "a", "1", "b", "2"]),
        b"-CROSSSLOT Keys in request don't hash to the same slot\r\n".to_vec()
    );
    assert_eq!(c.cmd(&["SELECT", "1"]), b"-ERR SELECT is not allowed in cluster mode\r\n".to_vec());
    assert_eq!(c.cmd(&["SELECT", "0"]), b"+OK\r\n".to_vec());
    // Keyless commands are served anywhere.
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n".to_vec());
    // Shard channels route like keys.
    assert_eq!(
        c.cmd(&["SPUBLISH", "foo", "x"]),
        format!("-MOVED 12182 127.0.0.1:{}\r\n", owner.port).into_bytes()
    );
    assert_eq!(
        c.cmd(&["SSUBSCRIBE", "foo", "bar"]),
        b"-CROSSSLOT Keys in request don't hash to the same slot\r\n".to_vec()
    );
    assert_eq!(owner.raw().cmd(&["SPUBLISH", "foo", "x"]), b":0\r\n".to_vec());
    // PUBLISH reaches subscribers on every node; its count is this node's.
    let mut sub = owner.raw();
    sub.cmd(&["SUBSCRIBE", "news"]);
    assert_eq!(c.cmd(&["PUBLISH", "news", "hi"]), b":0\r\n".to_vec());
    assert_eq!(sub.read_reply(), b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n".to_vec());
    // In MULTI, a redirected command fails the transaction.
    c.cmd(&["MULTI"]);
    assert!(c.cmd(&["SET", "foo", "1"]).starts_with(b"-MOVED"));
    assert_eq!(
        c.cmd(&["EXEC"]),
        b"-EXECABORT Transaction discarded because of previous errors.\r\n".to_vec()
    );

    // Migration of foo's slot from its owner to `other`.
    let (src, dst) = (owner, *other);
    let slot = "12182";
    let mut s = src.raw();
    let mut d = dst.raw();
    assert_eq!(s.cmd(&["SET", "{foo}.here", "1"]), b"+OK\r\n".to_vec());
    assert_eq!(d.cmd(&["CLUSTER", "SETSLOT", slot, "IMPORTING", &myid(src)]), b"+OK\r\n".to_vec());
    assert_eq!(s.cmd(&["CLUSTER", "SETSLOT", slot, "MIGRATING", &myid(dst)]), b"+OK\r\n".to_vec());
    // A key still at the source is served there; a missing one gets ASK.
    assert_eq!(s.cmd(&["GET", "{foo}.here"]), b"$1\r\n1\r\n".to_vec());
    assert_eq!(s.cmd(&["GET", "{foo}.gone"]), format!("-ASK {slot} 127.0.0.1:{}\r\n", dst.port).into_bytes());
    // Several keys, some missing: TRYAGAIN.
    assert_eq!(
        s.cmd(&["MGET", "{foo}.here", "{foo}.gone"]),
        b"-TRYAGAIN Multiple keys request during rehashing of slot\r\n".to_vec()
    );
    // Several keys, all missing: ASK, as for one.
    assert_eq!(
        s.cmd(&["MGET", "{foo}.gone", "{foo}.gone2"]),
        format!("-ASK {slot} 127.0.0.1:{}\r\n", dst.port).into_bytes()
    );
    // The target redirects unless the client said ASKING, and only for one command.
    assert_eq!(
        d.cmd(&["GET", "{foo}.gone"]),
        format!("-MOVED {slot} 127.0.0.1:{}\r\n", src.port).into_bytes()
    );
    assert_eq!(d.cmd(&["ASKING"]), b"+OK\r\n".to_vec());
    assert_eq!(d.cmd(&["SET", "{foo}.gone", "2"]), b"+OK\r\n".to_vec());
    assert!(d.cmd(&["GET", "{foo}.gone"]).starts_with(b"-MOVED"));
    // Shard channels too: the target serves SSUBSCRIBE after ASKING.
    let mut sd = dst.raw();
    assert!(sd.cmd(&["SSUBSCRIBE", "{foo}ch"]).starts_with(b"-MOVED"));
    assert_eq!(sd.cmd(&["ASKING"]), b"+OK\r\n".to_vec());
    assert_eq!(
        sd.cmd(&["SSUBSCRIBE", "{foo}ch"]),
        b"*3\r\n$10\r\nssubscribe\r\n$7\r\n{foo}ch\r\n:1\r\n".to_vec()
    );
    // CLUSTER NODES shows the open slots on each side.
    let nodes_text = String::from_utf8_lossy(&s.cmd(&["CLUSTER", "NODES"])).to_string();
    assert!(nodes_text.contains(&format!("[{slot}->-{}]", myid(dst))), "{nodes_text}");
    // The source still holds a key: it may not give the slot away.
    assert_eq!(
        s.cmd(&["CLUSTER", "SETSLOT", slot, "NODE", &myid(dst)]),
        format!("-ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot.\r\n")
            .into_bytes()
    );
    assert_eq!(s.cmd(&["DEL", "{foo}.here"]), b":1\r\n".to_vec());
    assert_eq!(d.cmd(&["CLUSTER", "SETSLOT", slot, "NODE", &myid(dst)]), b"+OK\r\n".to_vec());
    assert_eq!(s.cmd(&["CLUSTER", "SETSLOT", slot, "NODE", &myid(dst)]), b"+OK\r\n".to_vec());
    // Every node learns the new owner through the bus.
    for n in &nodes {
        wait_until("the new owner of foo's slot to be known", WAIT, || {
            let mut c = n.raw();
            let r = c.cmd(&["GET", "{foo}.gone"]);
            r == b"$1\r\n2\r\n" || r == format!("-MOVED {slot} 127.0.0.1:{}\r\n", dst.port).into_bytes()
        });
    }
    let check = redis_cli(&["--cluster", "check", &addr(src)]);
    assert!(check.contains("[OK] All nodes agree about slots configuration."), "{check}");
}

#[test]
fn a_killed_node_is_failed_and_rejoins_from_its_nodes_conf() {
    let (mut servers, dir) = shoal_cluster();
    let victim_id = myid(&servers[2]);
    let shard_id: String = redis::cmd("CLUSTER").arg("MYSHARDID").query(&mut servers[2].conn()).unwrap();
    assert!(shard_id.len() == 40 && shard_id != victim_id, "{shard_id}");
    let victim = servers.pop().unwrap();
    let killed = Instant::now();
    drop(victim); // SIGKILL
    let failed_in = wait_for("the killed node to be FAIL", Duration::from_secs(30), || {
        let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut servers[0].conn()).unwrap();
        let line = nodes.lines().find(|l| l.starts_with(&victim_id))?.to_string();
        line.split(' ').nth(2)?.split(',').any(|f| f == "fail").then(|| killed.elapsed())
    });
    eprintln!("FAIL seen {failed_in:?} after SIGKILL (node timeout {NODE_TIMEOUT} ms)");
    assert!(failed_in >= Duration::from_millis(2000), "not before the node timeout: {failed_in:?}");
    for s in &servers {
        wait_until("cluster_state:fail", WAIT, || info_field(s, "cluster_state") == "fail");
        assert_eq!(s.raw().cmd(&["GET", "x"]), b"-CLUSTERDOWN The cluster is down\r\n".to_vec());
    }
    // Restarted on its nodes.conf (on another port): same identity and epochs.
    let back = node(Kind::Shoal, &dir, "2");
    assert_eq!(myid(&back), victim_id);
    let shard_back: String = redis::cmd("CLUSTER").arg("MYSHARDID").query(&mut back.conn()).unwrap();
    assert_eq!(shard_back, shard_id);
    assert_eq!(info_field(&back, "cluster_my_epoch"), "3");
    let all: Vec<&Server> = servers.iter().chain([&back]).collect();
    wait_cluster_ok(&all);
    let nodes_text: String = redis::cmd("CLUSTER").arg("NODES").query(&mut servers[0].conn()).unwrap();
    assert!(nodes_text.contains(&format!("{victim_id} 127.0.0.1:{}@", back.port)), "{nodes_text}");
    let mut con = cluster_client(&all).get_connection().unwrap();
    for i in 0..300 {
        let _: () = con.set(format!("k{i}"), i).unwrap();
    }
    let total: i64 = all.iter().map(|n| redis::cmd("DBSIZE").query::<i64>(&mut n.conn()).unwrap()).sum();
    assert_eq!(total, 300);
}

#[test]
fn shoal_and_redis_server_nodes_form_one_cluster() {
    let dir = Dir::new();
    let servers: Vec<Server> = (0..6)
        .map(|i| node(if i % 2 == 0 { Kind::Shoal } else { Kind::Redis }, &dir, &i.to_string()))
        .collect();
    let nodes: Vec<&Server> = servers.iter().collect();
    create(&nodes);
    for n in &nodes {
        let text: String = redis::cmd("CLUSTER").arg("NODES").query(&mut n.conn()).unwrap();
        assert_eq!(text.lines().count(), 6, "{text}");
        assert!(!text.contains("fail") && !text.contains("handshake"), "{text}");
    }
    let mut con = cluster_client(&nodes).get_connection().unwrap();
    for i in 0..3000 {
        let _: () = con.set(format!("m{i}"), i).unwrap();
    }
    for i in (0..3000).step_by(7) {
        let v: i64 = con.get(format!("m{i}")).unwrap();
        assert_eq!(v, i);
    }
    for n in &nodes {
        let keys: i64 = redis::cmd("DBSIZE").query(&mut n.conn()).unwrap();
        assert!(keys > 300, "{} {} holds {keys} keys", n.kind.name(), n.port);
    }
    // A Shoal node and a redis-server node answer alike.
    let (shoal, redis) = (nodes[0], nodes[1]);
    for cmd in [&["CLUSTER", "KEYSLOT", "{user}x"][..], &["CLUSTER", "COUNTKEYSINSLOT", "20000"]] {
        assert_eq!(q(&mut shoal.conn(), cmd), q(&mut redis.conn(), cmd), "{cmd:?}");
    }
    let shoal_info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut shoal.conn()).unwrap();
    let redis_info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut redis.conn()).unwrap();
    let fields = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("cluster_stats") && !l.contains("epoch"))
            .map(String::from)
            .collect()
    };
    assert_eq!(fields(&shoal_info), fields(&redis_info));
}

#[test]
fn cluster_commands_without_cluster_mode() {
    let s = Server::shoal(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CLUSTER", "INFO"]), b"-ERR This instance has cluster support disabled\r\n".to_vec());
    assert_eq!(c.cmd(&["READONLY"]), b"-ERR This instance has cluster support disabled\r\n".to_vec());
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "cluster"])).to_string();
    assert!(info.contains("cluster_enabled:0"), "{info}");
}

#[test]
fn cluster_command_errors_match_redis() {
    let dir = Dir::new();
    let shoal = node(Kind::Shoal, &dir, "s");
    let redis = node(Kind::Redis, &dir, "r");
    let cases: &[&[&str]] = &[
        &["CLUSTER", "ADDSLOTS", "16384"],
        &["CLUSTER", "ADDSLOTS", "x"],
        &["CLUSTER", "ADDSLOTS", "1", "1"],
        &["CLUSTER", "ADDSLOTSRANGE", "5", "1"],
        &["CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"],
        &["CLUSTER", "DELSLOTS", "7"],
        &["CLUSTER", "ADDSLOTS", "7"],
        &["CLUSTER", "ADDSLOTS", "7"],
        &["CLUSTER", "COUNTKEYSINSLOT", "-1"],
        &["CLUSTER", "COUNTKEYSINSLOT", "x"],
        &["CLUSTER", "GETKEYSINSLOT", "1", "-1"],
        &["CLUSTER", "KEYSLOT", "{a}b"],
        &["CLUSTER", "SETSLOT", "7", "MIGRATING", "nope"],
        &["CLUSTER", "SETSLOT", "8", "MIGRATING", "nope"],
        &["CLUSTER", "SETSLOT", "7", "BOGUS"],
        &["CLUSTER", "SETSLOT", "7", "NODE", "nope"],
        &["CLUSTER", "FORGET", "nope"],
        &["CLUSTER", "COUNT-FAILURE-REPORTS", "nope"],
        &["CLUSTER", "MEET", "not-an-ip", "7000"],
        &["CLUSTER", "MEET", "127.0.0.1", "x"],
        &["CLUSTER", "SET-CONFIG-EPOCH", "-1"],
        &["CLUSTER", "SET-CONFIG-EPOCH", "5"],
        &["CLUSTER", "SET-CONFIG-EPOCH", "6"],
        &["CLUSTER", "BUMPEPOCH"],
        &["CLUSTER", "NOSUCH"],
        &["CLUSTER", "DELSLOTSRANGE", "7", "7"],
        &["CLUSTER", "FLUSHSLOTS"],
        &["CLUSTER", "RESET", "BOGUS"],
        &["CLUSTER", "SLOTS"],
        &["CLUSTER", "SHARDS", "extra"],
        &["ASKING"],
        &["READONLY"],
        &["READWRITE"],
        &["SET", "k", "v"],
        &["SPUBLISH", "foo", "x"],
        &["SSUBSCRIBE", "foo", "bar"],
        &["MSET", "a", "1", "b", "2"],
        &["MIGRATE", "127.0.0.1", "1", "k", "0", "10"],
    ];
    let (mut a, mut b) = (shoal.raw(), redis.raw());
    for cmd in cases {
        assert_eq!(String::from_utf8_lossy(&a.cmd(cmd)), String::from_utf8_lossy(&b.cmd(cmd)), "{cmd:?}");
    }
}

/// Node id of `s` and its slot count, from CLUSTER NODES as seen by `s`.
fn my_slot_count(s: &Server) -> usize {
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut s.conn()).unwrap();
    let line = nodes.lines().find(|l| l.contains("myself")).unwrap().to_string();
    line.split(' ')
        .skip(8)
        .filter(|r| !r.starts_with('['))
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

fn reshard(from: &Server, to: &Server, slots: usize) -> String {
    let n = slots.to_string();
    let (f, t) = (myid(from), myid(to));
    redis_cli(&[
        "--cluster",
        "reshard",
        &addr(from),
        "--cluster-from",
        &f,
        "--cluster-to",
        &t,
        "--cluster-slots",
        &n,
        "--cluster-yes",
        "--cluster-pipeline",
        "100",
    ])
}

#[test]
fn resharding_under_a_write_load_loses_no_key() {
    let (servers, _dir) = shoal_cluster();
    let nodes: Vec<&Server> = servers.iter().collect();
    let client = cluster_client(&nodes);
    let mut con = client.get_connection().unwrap();
    const PRELOAD: usize = 30_000;
    preload(&mut con, "pre", PRELOAD);
    // A writer keeps writing new keys (and rewriting old ones) while slots move.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let client = client.clone();
        std::thread::spawn(move || {
            let mut con = client.get_connection().unwrap();
            let mut written = 0usize;
            while !stop.load(Ordering::Relaxed) || written < 2000 {
                let _: () = con.set(format!("live:{written}"), written).expect("write during resharding");
                let _: i64 = con.incr(format!("pre:{}", written % PRELOAD), 1_000_000).expect("update");
                written += 1;
            }
            written
        })
    };
    let before = my_slot_count(&servers[0]);
    let started = Instant::now();
    let out = reshard(&servers[0], &servers[1], 600);
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().expect("writer");
    assert!(!out.contains("[ERR]"), "{out}");
    assert_eq!(my_slot_count(&servers[0]), before - 600);
    wait_until("every node agrees after resharding", WAIT, || {
        redis_cli(&["--cluster", "check", &addr(&servers[2])]).contains("[OK] All nodes agree")
    });
    let total: i64 = nodes.iter().map(|n| redis::cmd("DBSIZE").query::<i64>(&mut n.conn()).unwrap()).sum();
    assert_eq!(total as usize, PRELOAD + written, "no key lost or duplicated");
    for i in 0..written {
        let v: usize = con.get(format!("live:{i}")).unwrap();
        assert_eq!(v, i);
    }
    for i in (0..PRELOAD).step_by(13) {
        let v: usize = con.get(format!("pre:{i}")).unwrap();
        let bumps = (0..written).filter(|w| w % PRELOAD == i).count();
        assert_eq!(v, i + bumps * 1_000_000, "pre:{i}");
    }
    eprintln!("resharded 600 slots (~{} keys) in {took:?} under a write load", PRELOAD * 600 / 16384);
}

#[test]
fn slots_move_between_shoal_and_redis_server_nodes() {
    let dir = Dir::new();
    let servers: Vec<Server> =
        vec![node(Kind::Shoal, &dir, "s0"), node(Kind::Redis, &dir, "r0"), node(Kind::Shoal, &dir, "s1")];
    let nodes: Vec<&Server> = servers.iter().collect();
    create(&nodes);
    let mut con = cluster_client(&nodes).get_connection().unwrap();
    for i in 0..5000 {
        let _: () = con.set(format!("x{i}"), i).unwrap();
    }
    let _: () = con.rpush("{x1}list", (0..1000).collect::<Vec<i32>>()).unwrap();
    let _: () = con.hset_multiple("{x2}hash", &[("a", "1"), ("b", "2")]).unwrap();
    // Shoal -> redis-server, then redis-server -> Shoal.
    let out = reshard(&servers[0], &servers[1], 300);
    assert!(!out.contains("[ERR]"), "{out}");
    let out = reshard(&servers[1], &servers[2], 600);
    assert!(!out.contains("[ERR]"), "{out}");
    wait_until("every node agrees", WAIT, || {
        redis_cli(&["--cluster", "check", &addr(&servers[0])]).contains("[OK] All nodes agree")
    });
    let total: i64 = nodes.iter().map(|n| redis::cmd("DBSIZE").query::<i64>(&mut n.conn()).unwrap()).sum();
    assert_eq!(total, 5002);
    for i in 0..5000 {
        let v: i64 = con.get(format!("x{i}")).unwrap();
        assert_eq!(v, i);
    }
    let list: Vec<i32> = con.lrange("{x1}list", 0, -1).unwrap();
    assert_eq!(list, (0..1000).collect::<Vec<i32>>());
    let h: std::collections::HashMap<String, String> = con.hgetall("{x2}hash").unwrap();
    assert_eq!(h.len(), 2);
}

#[test]
fn migrate_between_standalone_servers_both_ways() {
    let shoal = Server::shoal(&["--threads", "2"]);
    let redis = Server::redis(&[]);
    let (mut s, mut r) = (shoal.conn(), redis.conn());
    q(&mut s, &["SET", "a", "1"]);
    q(&mut s, &["RPUSH", "l", "x", "y"]);
    q(&mut s, &["SET", "t", "v", "PX", "100000"]);
    let reply = |c: &mut redis::Connection, args: &[&str]| format!("{:?}", q(c, args));
    let ok = format!("{:?}", redis::Value::Okay);
    let port = redis.port.to_string();
    assert_eq!(reply(&mut s, &["MIGRATE", "127.0.0.1", &port, "a", "0", "1000"]), ok);
    assert_eq!(
        reply(&mut s, &["MIGRATE", "127.0.0.1", &port, "", "0", "1000", "KEYS", "l", "t", "missing"]),
        ok
    );
    assert_eq!(
        reply(&mut s, &["MIGRATE", "127.0.0.1", &port, "nothing", "0", "1000"]),
        reply(&mut r, &["MIGRATE", "127.0.0.1", &port, "nothing", "0", "1000"])
    );
    assert_eq!(q(&mut s, &["DBSIZE"]), redis::Value::Int(0));
    assert_eq!(q(&mut r, &["GET", "a"]), q(&mut r, &["GET", "a"]));
    assert_eq!(
        format!("{:?}", q(&mut r, &["LRANGE", "l", "0", "-1"])),
        format!(
            "{:?}",
            redis::Value::Array(vec![
                redis::Value::BulkString(b"x".to_vec()),
                redis::Value::BulkString(b"y".to_vec())
            ])
        )
    );
    let ttl: i64 = redis::cmd("PTTL").arg("t").query(&mut r).unwrap();
    assert!(ttl > 90_000 && ttl <= 100_000, "{ttl}");
    // An existing key at the target: BUSYKEY, unless REPLACE; COPY keeps the source.
    q(&mut s, &["SET", "a", "2"]);
    let e = reply(&mut s, &["MIGRATE", "127.0.0.1", &port, "a", "0", "1000"]);
    assert!(e.contains("Target instance replied with error: BUSYKEY"), "{e}");
    assert_eq!(reply(&mut s, &["MIGRATE", "127.0.0.1", &port, "a", "0", "1000", "COPY", "REPLACE"]), ok);
    assert_eq!(q(&mut s, &["GET", "a"]), q(&mut r, &["GET", "a"]));
    // And back, from redis-server into Shoal.
    let sport = shoal.port.to_string();
    assert_eq!(reply(&mut r, &["MIGRATE", "127.0.0.1", &sport, "l", "0", "1000"]), ok);
    assert_eq!(
        format!("{:?}", q(&mut s, &["LRANGE", "l", "0", "-1"])),
        format!(
            "{:?}",
            redis::Value::Array(vec![
                redis::Value::BulkString(b"x".to_vec()),
                redis::Value::BulkString(b"y".to_vec())
            ])
        )
    );
    // The target closing the connection MIGRATE keeps open for reuse costs nothing.
    let killed = redis.raw().cmd(&["CLIENT", "KILL", "TYPE", "normal"]);
    assert!(killed.starts_with(b":"), "{killed:?}");
    let mut r = redis.conn();
    q(&mut s, &["SET", "late", "1"]);
    assert_eq!(reply(&mut s, &["MIGRATE", "127.0.0.1", &port, "late", "0", "1000"]), ok);
    assert_eq!(q(&mut r, &["GET", "late"]), redis::Value::BulkString(b"1".to_vec()));
    // Errors as Redis gives them.
    for args in [
        &["MIGRATE", "127.0.0.1", &port, "a", "0", "1000", "KEYS", "a"][..],
        &["MIGRATE", "127.0.0.1", &port, "a", "x", "1000"],
        &["MIGRATE", "127.0.0.1", &port, "a", "0", "1000", "AUTH"],
        &["MIGRATE", "127.0.0.1", &port, "a", "0", "1000", "BOGUS"],
        &["MIGRATE", "127.0.0.1", "1", "a", "0", "1000"],
    ] {
        assert_eq!(reply(&mut s, args), reply(&mut r, args), "{args:?}");
    }
}

/// Everything a large value holds, in an order that does not depend on the
/// server's iteration order.
fn content(c: &mut redis::Connection, key: &str) -> String {
    let sorted = |v: redis::Value, chunk: usize| -> String {
        let redis::Value::Array(items) = v else { panic!("{v:?}") };
        let mut groups: Vec<String> = items.chunks(chunk).map(|g| format!("{g:?}")).collect();
        groups.sort();
        groups.join(",")
    };
    let kind = format!("{:?}", q(c, &["TYPE", key]));
    let body = match kind.as_str() {
        k if k.contains("list") => format!("{:?}", q(c, &["LRANGE", key, "0", "-1"])),
        k if k.contains("hash") => sorted(q(c, &["HGETALL", key]), 2),
        k if k.contains("zset") => format!("{:?}", q(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        k if k.contains("set") => sorted(q(c, &["SMEMBERS", key]), 1),
        k if k.contains("stream") => {
            format!("{:?} {:?}", q(c, &["XRANGE", key, "-", "+"]), q(c, &["XPENDING", key, "g"]))
        }
        _ => panic!("{key} is {kind}"),
    };
    format!("{kind} {body}")
}

#[test]
fn large_values_migrate_in_steps_both_ways() {
    // Values far larger than one MIGRATE step (64 KiB), of every encoding
    // that is written in steps, moved to redis-server and back unchanged.
    let shoal = Server::shoal(&["--threads", "2"]);
    let redis = Server::redis(&[]);
    let (mut s, mut r) = (shoal.conn(), redis.conn());
    let fill = "for i = 1, 100000 do \
        redis.call('RPUSH', KEYS[1], 'element-' .. i, i * 7919, string.rep('x', i % 300)) \
        redis.call('HSET', KEYS[2], 'field-' .. i, 'value-' .. i .. string.rep('y', i % 50)) \
        redis.call('SADD', KEYS[3], 'member-' .. i) \
        redis.call('ZADD', KEYS[4], i % 977, 'm-' .. i) \
        if i <= 30000 then redis.call('XADD', KEYS[5], '*', 'n', i, 'pad', string.rep('z', i % 40)) end \
        end \
        redis.call('XGROUP', 'CREATE', KEYS[5], 'g', '0') \
        redis.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', 5000, 'STREAMS', KEYS[5], '>') \
        return 1";
    let keys = ["{v}list", "{v}hash", "{v}set", "{v}zset", "{v}stream"];
    let mut fill_args = vec!["EVAL", fill, "5"];
    fill_args.extend(keys);
    assert_eq!(q(&mut s, &fill_args), redis::Value::Int(1));
    let before: Vec<String> = keys.iter().map(|k| content(&mut s, k)).collect();
    let ok = redis::Value::Okay;
    let mut migrate = vec!["MIGRATE", "127.0.0.1", "", "", "0", "30000", "KEYS"];
    migrate.extend(keys);
    let port = redis.port.to_string();
    migrate[2] = &port;
    assert_eq!(q(&mut s, &migrate), ok);
    assert_eq!(q(&mut s, &["DBSIZE"]), redis::Value::Int(0));
    for (k, want) in keys.iter().zip(&before) {
        assert!(content(&mut r, k) == *want, "{k} differs on redis-server");
    }
    // And back: Shoal restores what redis-server dumps of them.
    let sport = shoal.port.to_string();
    migrate[2] = &sport;
    assert_eq!(q(&mut r, &migrate), ok);
    for (k, want) in keys.iter().zip(&before) {
        assert!(content(&mut s, k) == *want, "{k} differs back on Shoal");
    }
}
