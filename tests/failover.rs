//! Replicas and failover in a cluster, with real processes on loopback:
//! the 3-masters-3-replicas cluster `redis-cli --cluster create
//! --cluster-replicas 1` builds, a master SIGKILLed under writes and replaced
//! by its replica (no write acknowledged by WAIT 1 lost), the old master
//! restarted and following the new one, CLUSTER FAILOVER under writes with
//! no write lost, failovers both ways between Shoal and redis-server nodes
//! of one cluster, and the cross-replication layout (each "machine" a
//! master and another's replica) losing a machine.

mod support;

use redis::Commands;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::cluster::{
    addr, cluster_client, create, create_with_replicas, info_field, myid, node, redis_cli, wait_cluster_ok,
    Dir, NODE_TIMEOUT,
};
use support::{q, wait_for, wait_until, Kind, Server, WAIT};

/// One line of CLUSTER NODES.
struct Line {
    id: String,
    port: u16,
    flags: Vec<String>,
    master: Option<String>,
    slots: Vec<(u16, u16)>,
}

/// CLUSTER NODES of `s` (a replica answers LOADING while it loads its master's data: asked again).
fn nodes_of(s: &Server) -> Vec<Line> {
    let text: String =
        wait_for("CLUSTER NODES", WAIT, || redis::cmd("CLUSTER").arg("NODES").query(&mut s.conn()).ok());
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let port = f[1].split('@').next().unwrap().rsplit(':').next().unwrap().parse().unwrap();
            let slots = f[8..]
                .iter()
                .filter(|r| !r.starts_with('['))
                .map(|r| match r.split_once('-') {
                    Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                    None => (r.parse().unwrap(), r.parse().unwrap()),
                })
                .collect();
            Line {
                id: f[0].to_string(),
                port,
                flags: f[2].split(',').map(String::from).collect(),
                master: (f[3] != "-").then(|| f[3].to_string()),
                slots,
            }
        })
        .collect()
}

/// How `observer` sees `node`: "master" or "replica of <id>".
fn role_seen(observer: &Server, node: &str) -> String {
    let lines = nodes_of(observer);
    let l = lines.iter().find(|l| l.id == node).expect("a known node");
    match &l.master {
        Some(m) if l.flags.iter().any(|f| f == "slave") => format!("replica of {m}"),
        _ => "master".into(),
    }
}

/// The (master, replica) pairs of the cluster, as indexes into `nodes`.
fn pairs(nodes: &[&Server]) -> Vec<(usize, usize)> {
    let lines = nodes_of(nodes[0]);
    let index = |port: u16| nodes.iter().position(|n| n.port == port).expect("a node of ours");
    let ids: HashMap<&str, u16> = lines.iter().map(|l| (l.id.as_str(), l.port)).collect();
    let mut out: Vec<(usize, usize)> = lines
        .iter()
        .filter_map(|l| l.master.as_ref().map(|m| (index(ids[m.as_str()]), index(l.port))))
        .collect();
    out.sort();
    out
}

/// A hash tag whose slot `s` serves (so plain clients of `s` need no redirection).
fn tag_served_by(s: &Server) -> String {
    let mine = nodes_of(s).into_iter().find(|l| l.flags.iter().any(|f| f == "myself")).unwrap().slots;
    let mut c = s.conn();
    (0..)
        .map(|i| format!("t{i}"))
        .find(|t| {
            let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(t).query(&mut c).unwrap();
            mine.iter().any(|&(a, b)| (a..=b).contains(&slot))
        })
        .unwrap()
}

fn link_up(s: &Server) -> bool {
    support::data::info_field(&mut s.conn(), "replication", "master_link_status").as_deref() == Some("up")
}

fn six_node_cluster(dir: &Dir) -> Vec<Server> {
    let servers: Vec<Server> = (0..6).map(|i| node(Kind::Shoal, dir, &i.to_string())).collect();
    let nodes: Vec<&Server> = servers.iter().collect();
    create_with_replicas(&nodes, 1);
    // Every node learns every replica's role through gossip.
    for n in &nodes {
        let seen = |s: &Server| nodes_of(s).iter().filter(|l| l.master.is_some()).count();
        wait_until("three replicas seen", WAIT, || seen(n) == 3);
    }
    for &(_, r) in &pairs(&nodes) {
        wait_until("a replica's link to its master", WAIT, || link_up(nodes[r]));
    }
    servers
}

#[test]
fn replicas_show_in_every_view_of_the_cluster() {
    let dir = Dir::new();
    let servers = six_node_cluster(&dir);
    let nodes: Vec<&Server> = servers.iter().collect();
    for (m, r) in pairs(&nodes) {
        let (mid, rid) = (myid(nodes[m]), myid(nodes[r]));
        for n in &nodes {
            assert_eq!(role_seen(n, &rid), format!("replica of {mid}"));
        }
        let lines: Vec<String> =
            redis::cmd("CLUSTER").arg("REPLICAS").arg(&mid).query(&mut nodes[0].conn()).unwrap();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with(&format!("{rid} {}@", addr(nodes[r]))), "{lines:?}");
        let slaves: Vec<String> =
            redis::cmd("CLUSTER").arg("SLAVES").arg(&mid).query(&mut nodes[r].conn()).unwrap();
        assert_eq!(slaves.len(), 1);
        // CLUSTER SLOTS lists the replica after the master.
        let slots: Vec<Vec<redis::Value>> =
            redis::cmd("CLUSTER").arg("SLOTS").query(&mut nodes[r].conn()).unwrap();
        let range = slots
            .iter()
            .find(|r| {
                redis::from_redis_value::<String>(r[2].clone().into_sequence().unwrap()[2].clone()).unwrap()
                    == mid
            })
            .expect("the master's range");
        let replica: Vec<redis::Value> = range[3].clone().into_sequence().unwrap();
        assert_eq!(redis::from_redis_value::<String>(replica[2].clone()).unwrap(), rid);
        // INFO replication on both sides.
        let mut mc = nodes[m].conn();
        assert_eq!(
            support::data::info_field(&mut mc, "replication", "connected_slaves").as_deref(),
            Some("1")
        );
        let mut rc = nodes[r].conn();
        assert_eq!(support::data::info_field(&mut rc, "replication", "role").as_deref(), Some("slave"));
        let port = nodes[m].port.to_string();
        assert_eq!(support::data::info_field(&mut rc, "replication", "master_port"), Some(port));
        // A replica redirects to its master, and serves reads after READONLY.
        let tag = tag_served_by(nodes[m]);
        let _: () = mc.set(format!("{{{tag}}}k"), "v").unwrap();
        let moved = nodes[r].raw().cmd(&["GET", &format!("{{{tag}}}k")]);
        assert!(
            moved.starts_with(b"-MOVED ") && moved.ends_with(format!(" {}\r\n", addr(nodes[m])).as_bytes())
        );
        let _: i64 = redis::cmd("WAIT").arg(1).arg(5000).query(&mut mc).unwrap();
        let mut raw = nodes[r].raw();
        assert_eq!(raw.cmd(&["READONLY"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["GET", &format!("{{{tag}}}k")]), b"$1\r\nv\r\n");
        assert!(raw.cmd(&["SET", &format!("{{{tag}}}k"), "w"]).starts_with(b"-MOVED "));
    }
    // CLUSTER SHARDS: each shard is a master and its replica.
    let shards = q(&mut nodes[0].conn(), &["CLUSTER", "SHARDS"]);
    let text = format!("{shards:?}");
    assert_eq!(text.matches(r#"bulk-string('"replica"')"#).count(), 3, "{text}");
}

#[test]
fn a_killed_master_is_replaced_by_its_replica_and_comes_back_as_a_replica() {
    let dir = Dir::new();
    let mut servers = six_node_cluster(&dir);
    let (m, r) = pairs(&servers.iter().collect::<Vec<_>>())[0];
    let (victim_id, heir_id) = (myid(&servers[m]), myid(&servers[r]));
    let tag = tag_served_by(&servers[m]);
    // A client writes to the master, alternately with and without WAIT 1.
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (written, port, tag) = (written.clone(), servers[m].port, tag.clone());
        std::thread::spawn(move || {
            let mut c =
                redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
            let (mut waited, mut plain) = (Vec::new(), Vec::new());
            for i in 0.. {
                let key = format!("{{{tag}}}{i}");
                if c.set::<_, _, ()>(&key, i).is_err() {
                    break;
                }
                if i % 2 == 0 {
                    match redis::cmd("WAIT").arg(1).arg(1000).query::<i64>(&mut c) {
                        Ok(1) => waited.push(key),
                        Ok(_) => {}
                        Err(_) => break,
                    }
                } else {
                    plain.push(key);
                }
                written.fetch_add(1, Ordering::Relaxed);
            }
            (waited, plain)
        })
    };
    wait_until("2000 writes", WAIT, || written.load(Ordering::Relaxed) >= 2000);
    let victim = servers.remove(m);
    let killed = Instant::now();
    drop(victim); // SIGKILL
    let (waited, plain) = writer.join().unwrap();
    let heir = &servers[if r > m { r - 1 } else { r }];
    let survivors: Vec<&Server> = servers.iter().collect();
    let took = wait_for("the replica to take over and the cluster to be ok", Duration::from_secs(30), || {
        let ok = survivors.iter().all(|s| info_field(s, "cluster_state") == "ok");
        (ok && role_seen(heir, &heir_id) == "master").then(|| killed.elapsed())
    });
    eprintln!("cluster ok {took:?} after SIGKILL of a master (node timeout {NODE_TIMEOUT} ms)");
    let mut hc = heir.conn();
    for k in &waited {
        let v: Option<String> = hc.get(k).unwrap();
        assert!(v.is_some(), "{k} was acknowledged by WAIT 1 and is lost");
    }
    let lost = plain.iter().filter(|k| hc.get::<_, Option<String>>(*k).unwrap().is_none()).count();
    eprintln!(
        "{} writes acknowledged after WAIT 1, none lost; {lost} of {} without WAIT lost",
        waited.len(),
        plain.len()
    );
    // The old master comes back on its nodes.conf: the newer epoch makes it
    // a replica of the node that took its slots, with a copy of its data.
    let back = node(Kind::Shoal, &dir, &m.to_string());
    assert_eq!(myid(&back), victim_id);
    wait_until("the old master to follow the new one", WAIT, || {
        role_seen(&back, &victim_id) == format!("replica of {heir_id}") && link_up(&back)
    });
    for s in &survivors {
        wait_until("everyone to see it as a replica", WAIT, || {
            role_seen(s, &victim_id) == format!("replica of {heir_id}")
        });
    }
    let dbsize = |s: &Server| redis::cmd("DBSIZE").query::<i64>(&mut s.conn()).ok();
    wait_until("the same data on both", WAIT, || dbsize(&back) == dbsize(heir));
    let all: Vec<&Server> = survivors.iter().copied().chain([&back]).collect();
    wait_cluster_ok(&all);
    let mut con = cluster_client(&all).get_connection().unwrap();
    let _: () = con.set(format!("{{{tag}}}after"), 1).unwrap();
}

#[test]
fn manual_failover_under_writes_loses_no_write() {
    let dir = Dir::new();
    let servers = six_node_cluster(&dir);
    let nodes: Vec<&Server> = servers.iter().collect();
    let (m, r) = pairs(&nodes)[1];
    let (old_id, new_id) = (myid(nodes[m]), myid(nodes[r]));
    let tag = tag_served_by(nodes[m]);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, acked, port, tag) = (stop.clone(), acked.clone(), nodes[m].port, tag.clone());
            std::thread::spawn(move || {
                let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .unwrap()
                    .get_connection()
                    .unwrap();
                let mut mine = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    match c.incr::<_, _, i64>(format!("{{{tag}}}c{w}"), 1) {
                        Ok(v) => {
                            mine += 1;
                            assert_eq!(v, mine, "the counter moved by its one writer");
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            assert!(e.to_string().to_lowercase().contains("moved"), "{e}");
                            break;
                        }
                    }
                }
                mine
            })
        })
        .collect();
    wait_until("writes under way", WAIT, || acked.load(Ordering::Relaxed) >= 1000);
    assert_eq!(nodes[r].raw().cmd(&["CLUSTER", "FAILOVER"]), b"+OK\r\n");
    wait_until("the replica to take over", WAIT, || role_seen(nodes[r], &new_id) == "master");
    for n in &nodes {
        wait_until("the old master to follow it", WAIT, || {
            role_seen(n, &old_id) == format!("replica of {new_id}")
        });
    }
    stop.store(true, Ordering::Relaxed);
    let counts: Vec<i64> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let mut c = nodes[r].conn();
    for (w, n) in counts.iter().enumerate() {
        let v: i64 = c.get(format!("{{{tag}}}c{w}")).unwrap();
        assert_eq!(v, *n, "writer {w}: every acknowledged INCR, and only those");
    }
    wait_cluster_ok(&nodes);
    wait_until("the old master's link", WAIT, || link_up(nodes[m]));
    // The new master's stream continues the old one's: the old master, at
    // the very offset it stopped at, continues with PSYNC.
    let mut rc = nodes[r].conn();
    assert_eq!(support::data::info_field(&mut rc, "stats", "sync_partial_ok").as_deref(), Some("1"));
    assert_eq!(support::data::info_field(&mut rc, "stats", "sync_full").as_deref(), Some("0"));
    // FORCE (an election without the master's part), then TAKEOVER (no
    // election). A replica cannot run a second election within four node
    // timeouts of its last, as in Redis: the old master forces its way back.
    assert_eq!(nodes[m].raw().cmd(&["CLUSTER", "FAILOVER", "FORCE"]), b"+OK\r\n");
    wait_until("a forced failover", WAIT, || role_seen(nodes[r], &new_id) == format!("replica of {old_id}"));
    wait_until("the new replica's link", WAIT, || link_up(nodes[r]));
    assert_eq!(nodes[r].raw().cmd(&["CLUSTER", "FAILOVER", "TAKEOVER"]), b"+OK\r\n");
    wait_until("a takeover", WAIT, || role_seen(nodes[m], &old_id) == format!("replica of {new_id}"));
    wait_cluster_ok(&nodes);
    let v: i64 = cluster_client(&nodes).get_connection().unwrap().get(format!("{{{tag}}}c0")).unwrap();
    assert_eq!(v, counts[0]);
}

/// `redis-cli --cluster add-node` of `replica` as a replica of `master`,
/// through `member` of the cluster, and waits for its link.
fn add_replica(replica: &Server, master: &Server, member: &Server) {
    let id = myid(master);
    let (new, existing) = (addr(replica), addr(member));
    redis_cli(&["--cluster", "add-node", &new, &existing, "--cluster-slave", "--cluster-master-id", &id]);
    wait_until("the replica's link", WAIT, || link_up(replica));
}

/// The servers still running.
fn live<'a>(masters: &'a [Option<Server>], replicas: &'a [Server]) -> Vec<&'a Server> {
    masters.iter().flatten().chain(replicas).collect()
}

#[test]
fn shoal_and_redis_server_replicas_replace_each_others_masters() {
    let dir = Dir::new();
    let masters: Vec<Server> = [Kind::Shoal, Kind::Redis, Kind::Shoal]
        .iter()
        .enumerate()
        .map(|(i, k)| node(*k, &dir, &format!("m{i}")))
        .collect();
    create(&masters.iter().collect::<Vec<_>>());
    // A redis-server replica of a Shoal master, and a Shoal replica of a redis-server master.
    let replicas: Vec<Server> = [Kind::Redis, Kind::Shoal]
        .iter()
        .enumerate()
        .map(|(i, k)| node(*k, &dir, &format!("r{i}")))
        .collect();
    for (rep, master) in replicas.iter().zip(&masters) {
        add_replica(rep, master, &masters[2]);
    }
    let mut masters: Vec<Option<Server>> = masters.into_iter().map(Some).collect();
    {
        let mut con = cluster_client(&live(&masters, &replicas)).get_connection().unwrap();
        for i in 0..2000 {
            let _: () = con.set(format!("k{i}"), i).unwrap();
        }
    }
    for (i, rep) in replicas.iter().enumerate() {
        let rid = myid(rep);
        let tag = tag_served_by(masters[i].as_ref().unwrap());
        let mut mc = masters[i].as_ref().unwrap().conn();
        let _: () = mc.set(format!("{{{tag}}}last"), "acked").unwrap();
        let n: i64 = redis::cmd("WAIT").arg(1).arg(5000).query(&mut mc).unwrap();
        assert_eq!(n, 1);
        drop(masters[i].take()); // SIGKILL
        let nodes = live(&masters, &replicas);
        wait_until("the replica to be elected", Duration::from_secs(30), || {
            nodes.iter().all(|n| role_seen(n, &rid) == "master" && info_field(n, "cluster_state") == "ok")
        });
        let v: String = rep.conn().get(format!("{{{tag}}}last")).unwrap();
        assert_eq!(v, "acked", "{} replica", rep.kind.name());
        let mut con = cluster_client(&nodes).get_connection().unwrap();
        for i in (0..2000).step_by(13) {
            let v: i64 = con.get(format!("k{i}")).unwrap();
            assert_eq!(v, i);
        }
    }
}

#[test]
fn replication_commands_answer_as_redis_does() {
    let dir = Dir::new();
    let shoal = node(Kind::Shoal, &dir, "s");
    let redis = node(Kind::Redis, &dir, "r");
    let unknown = "0123456789012345678901234567890123456789";
    for args in [
        vec!["CLUSTER", "REPLICATE", unknown],
        vec!["CLUSTER", "REPLICATE"],
        vec!["CLUSTER", "REPLICAS", unknown],
        vec!["CLUSTER", "SLAVES", "x"],
        vec!["CLUSTER", "FAILOVER"],
        vec!["CLUSTER", "FAILOVER", "FORCE"],
        vec!["CLUSTER", "FAILOVER", "TAKEOVER"],
        vec!["CLUSTER", "FAILOVER", "NOW"],
        vec!["CLUSTER", "FAILOVER", "FORCE", "x"],
        vec!["REPLICAOF", "127.0.0.1", "1"],
        vec!["SLAVEOF", "NO", "ONE"],
    ] {
        assert_eq!(q(&mut shoal.conn(), &args), q(&mut redis.conn(), &args), "{args:?}");
    }
    for s in [&shoal, &redis] {
        // cluster-replica-no-failover shows as the node's own flag.
        let flags = |s: &Server| nodes_of(s).into_iter().next().unwrap().flags.join(",");
        assert_eq!(flags(s), "myself,master");
        q(&mut s.conn(), &["CONFIG", "SET", "cluster-replica-no-failover", "yes"]);
        assert_eq!(flags(s), "myself,master,nofailover", "{}", s.kind.name());
        q(&mut s.conn(), &["CONFIG", "SET", "cluster-replica-no-failover", "no"]);
        assert_eq!(flags(s), "myself,master");
        let id = myid(s);
        assert_eq!(s.raw().cmd(&["CLUSTER", "REPLICATE", &id]), b"-ERR Can't replicate myself\r\n".to_vec());
        assert_eq!(s.raw().cmd(&["CLUSTER", "REPLICAS", &id]), b"*0\r\n".to_vec());
    }
}

#[test]
fn cross_replication_survives_the_loss_of_a_machine() {
    // Three "machines", each running a master and the replica of the next
    // machine's master, on two ports.
    let dir = Dir::new();
    let masters: Vec<Server> = (0..3).map(|i| node(Kind::Shoal, &dir, &format!("m{i}"))).collect();
    create(&masters.iter().collect::<Vec<_>>());
    let replicas: Vec<Server> = (0..3).map(|i| node(Kind::Shoal, &dir, &format!("r{i}"))).collect();
    for (i, rep) in replicas.iter().enumerate() {
        add_replica(rep, &masters[(i + 1) % 3], &masters[0]);
    }
    {
        let nodes: Vec<&Server> = masters.iter().chain(&replicas).collect();
        let mut con = cluster_client(&nodes).get_connection().unwrap();
        for i in 0..3000 {
            let _: () = con.set(format!("x{i}"), i).unwrap();
        }
        let _: i64 = redis::cmd("WAIT").arg(1).arg(5000).query(&mut masters[0].conn()).unwrap();
    }
    // Machine 0 goes: master 0 and the replica of master 1.
    let heir_id = myid(&replicas[2]);
    let mut masters: Vec<Option<Server>> = masters.into_iter().map(Some).collect();
    let mut replicas: Vec<Option<Server>> = replicas.into_iter().map(Some).collect();
    drop(masters[0].take());
    drop(replicas[0].take());
    let nodes: Vec<&Server> = masters.iter().chain(&replicas).flatten().collect();
    wait_until("master 0's replica, on machine 2, to take over", Duration::from_secs(30), || {
        nodes.iter().all(|n| role_seen(n, &heir_id) == "master" && info_field(n, "cluster_state") == "ok")
    });
    let mut con = cluster_client(&nodes).get_connection().unwrap();
    for i in (0..3000).step_by(11) {
        let v: i64 = con.get(format!("x{i}")).unwrap();
        assert_eq!(v, i);
    }
}
