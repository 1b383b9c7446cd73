//! Tests of the cluster rules over a simulated network: several state
//! machines whose effects are carried out in memory, on a simulated clock.

use crate::bus::wire;
use crate::node::LinkId;
use crate::state::{Cluster, Effect, Settings};
use std::collections::{HashMap, VecDeque};

const TIMEOUT: u64 = 2000;

fn settings(port: u16) -> Settings {
    Settings {
        node_timeout: TIMEOUT,
        require_full_coverage: true,
        allow_reads_when_down: false,
        allow_pubsubshard_when_down: true,
        port,
        cport: port + 10000,
        announce_ip: String::new(),
        announce_port: 0,
        announce_bus_port: 0,
        announce_hostname: String::new(),
        replica_validity_factor: 10,
        replica_no_failover: false,
        repl_ping_period: 10,
        allow_replica_migration: true,
        migration_barrier: 1,
    }
}

struct Net {
    nodes: Vec<Cluster>,
    up: Vec<bool>,
    /// (node, link) -> the other end (node, link).
    peer: HashMap<(usize, LinkId), (usize, LinkId)>,
    queue: VecDeque<(usize, LinkId, Vec<u8>)>,
    now: u64,
    /// PUBLISH messages delivered: (node, channel).
    delivered: Vec<(usize, Vec<u8>)>,
}

impl Net {
    fn new(n: usize) -> Net {
        let now = 1_000_000;
        let nodes = (0..n).map(|i| Cluster::new(settings(7000 + i as u16), now)).collect();
        Net {
            nodes,
            up: vec![true; n],
            peer: HashMap::new(),
            queue: VecDeque::new(),
            now,
            delivered: Vec::new(),
        }
    }

    fn run_effects(&mut self) {
        loop {
            let mut progress = false;
            for i in 0..self.nodes.len() {
                for e in self.nodes[i].take_effects() {
                    progress = true;
                    match e {
                        Effect::Connect { link, port, .. } => {
                            let target = self.nodes.iter().position(|n| n.settings.cport == port);
                            match target.filter(|&t| self.up[t] && self.up[i]) {
                                Some(t) => {
                                    let back = self.nodes[t].inbound_accepted(self.now);
                                    self.peer.insert((i, link), (t, back));
                                    self.peer.insert((t, back), (i, link));
                                }
                                None => self.nodes[i].link_closed(link),
                            }
                        }
                        Effect::Send { link, frame } => self.queue.push_back((i, link, frame)),
                        Effect::Close { link } => {
                            if let Some((t, back)) = self.peer.remove(&(i, link)) {
                                self.peer.remove(&(t, back));
                                self.nodes[t].link_closed(back);
                            }
                        }
                        // A master's writes stop at once here: its stream is complete.
                        Effect::PauseWrites { .. } => self.nodes[i].writes_paused(self.now),
                        Effect::DropSlotKeys(_) | Effect::ResumeWrites => {}
                        Effect::Deliver { channel, .. } => self.delivered.push((i, channel)),
                    }
                }
            }
            while let Some((from, link, frame)) = self.queue.pop_front() {
                progress = true;
                let Some(&(to, back)) = self.peer.get(&(from, link)) else { continue };
                if !self.up[to] || !self.up[from] {
                    continue;
                }
                let msg = wire::decode(&frame).expect("valid frame");
                self.nodes[to].on_message(back, msg, "127.0.0.1", "127.0.0.1", self.now);
            }
            if !progress {
                return;
            }
        }
    }

    /// Advances the clock by `ms`, ticking every node every 100 ms.
    fn advance(&mut self, ms: u64) {
        for _ in 0..ms / 100 {
            self.now += 100;
            for i in 0..self.nodes.len() {
                if self.up[i] {
                    self.nodes[i].cron(self.now);
                }
            }
            self.run_effects();
        }
    }

    /// Kills node `i`: its links break and it answers nothing.
    fn kill(&mut self, i: usize) {
        self.up[i] = false;
        let links: Vec<(usize, LinkId)> = self.peer.keys().filter(|(n, _)| *n == i).copied().collect();
        for l in links {
            if let Some((t, back)) = self.peer.remove(&l) {
                self.peer.remove(&(t, back));
                self.nodes[t].link_closed(back);
            }
        }
    }

    /// What `redis-cli --cluster create` does: slots, epochs, then MEETs from node 0.
    fn create(&mut self) {
        let n = self.nodes.len();
        let per = crate::SLOT_COUNT / n;
        for i in 0..n {
            let first = i * per;
            let last = if i == n - 1 { crate::SLOT_COUNT - 1 } else { first + per - 1 };
            let slots: Vec<u16> = (first as u16..=last as u16).collect();
            self.nodes[i].check_slots(&slots, false).unwrap();
            self.nodes[i].assign_slots(&slots, false);
            self.nodes[i].set_config_epoch(i as i64 + 1).unwrap();
        }
        for i in 1..n {
            let port = self.nodes[i].settings.port as i64;
            assert_eq!(self.nodes[0].start_handshake("127.0.0.1", port, port + 10000, self.now), Ok(true));
        }
        self.advance(5000);
    }

    /// `masters` nodes serve the slots; each of the others replicates one of
    /// them in turn (`redis-cli --cluster create --cluster-replicas`).
    fn create_with_replicas(&mut self, masters: usize) {
        let per = crate::SLOT_COUNT / masters;
        for i in 0..self.nodes.len() {
            if i < masters {
                let first = i * per;
                let last = if i == masters - 1 { crate::SLOT_COUNT - 1 } else { first + per - 1 };
                let slots: Vec<u16> = (first as u16..=last as u16).collect();
                self.nodes[i].assign_slots(&slots, false);
            }
            self.nodes[i].set_config_epoch(i as i64 + 1).unwrap();
        }
        for i in 1..self.nodes.len() {
            let port = self.nodes[i].settings.port as i64;
            self.nodes[0].start_handshake("127.0.0.1", port, port + 10000, self.now).unwrap();
        }
        self.advance(3000);
        for i in masters..self.nodes.len() {
            let master = self.nodes[(i - masters) % masters].myself;
            self.nodes[i].replicate(&master, 0).unwrap();
        }
        self.advance(3000);
    }

    fn role_of(&self, observer: usize, node: usize) -> String {
        let n = &self.nodes[observer].nodes[&self.nodes[node].myself];
        match n.master.filter(|_| n.is_replica()) {
            Some(m) => format!("replica of {}", crate::node::name_str(&m)),
            None => format!("master with {} slots", n.numslots),
        }
    }

    fn all_ok(&self) -> bool {
        (0..self.nodes.len()).filter(|&i| self.up[i]).all(|i| self.nodes[i].ok)
    }

    /// Every node's routes agree with its slot table (the routes are built
    /// from the owners' slot bitmaps, which the state keeps in step).
    fn check_routes(&self) {
        use crate::routes::{Owner, Routes};
        for c in &self.nodes {
            let routes = Routes::build(c);
            for (s, o) in c.slots.iter().enumerate() {
                let want = match o.and_then(|o| c.nodes.get(&o)) {
                    None => None,
                    Some(n) if n.name == c.myself => Some("me".to_string()),
                    Some(n) => Some(format!("{}:{}", n.ip, n.port)),
                };
                let got = match routes.owner(s as u16) {
                    Owner::Unbound => None,
                    Owner::Me => Some("me".to_string()),
                    Owner::Other(a) => Some(a.to_string()),
                };
                assert_eq!(got, want, "slot {s}");
            }
        }
    }
}

#[test]
fn meet_and_gossip_form_one_cluster() {
    let mut net = Net::new(4);
    net.create();
    for (i, c) in net.nodes.iter().enumerate() {
        assert_eq!(c.nodes.len(), 4, "node {i} knows {}", c.nodes_text(true));
        assert!(c.nodes.values().all(|n| !n.in_handshake()));
        assert!(c.ok, "node {i}: {}", c.info_text());
        assert_eq!(c.size, 4);
        // Every node agrees on every slot's owner.
        assert_eq!(c.slots, net.nodes[0].slots);
    }
    net.check_routes();
}

#[test]
fn a_dead_master_is_failed_by_the_majority_and_comes_back() {
    let mut net = Net::new(3);
    net.create();
    assert!(net.all_ok());
    let dead = net.nodes[2].myself;
    net.kill(2);
    let start = net.now;
    while !net.nodes[0].nodes[&dead].failed() {
        assert!(net.now - start < 4 * TIMEOUT, "no FAIL after {} ms", net.now - start);
        net.advance(100);
    }
    // PFAIL after the node timeout, FAIL once the other master agrees.
    assert!(net.now - start > TIMEOUT);
    net.advance(200);
    assert!(net.nodes[1].nodes[&dead].failed(), "the FAIL was broadcast");
    assert!(!net.nodes[0].ok && !net.nodes[1].ok, "slots are uncovered");
    // It returns: the FAIL is cleared and the cluster is whole again.
    net.up[2] = true;
    net.advance(3 * TIMEOUT + 6000);
    assert!(!net.nodes[0].nodes[&dead].failed());
    assert!(net.all_ok());
}

#[test]
fn equal_config_epochs_are_made_distinct() {
    let mut net = Net::new(3);
    for c in &mut net.nodes {
        c.set_config_epoch(1).unwrap();
    }
    let ports: Vec<i64> = net.nodes.iter().map(|c| c.settings.port as i64).collect();
    for p in &ports[1..] {
        net.nodes[0].start_handshake("127.0.0.1", *p, p + 10000, net.now).unwrap();
    }
    net.advance(10_000);
    let mut epochs: Vec<u64> = net.nodes.iter().map(|c| c.me().config_epoch).collect();
    epochs.sort();
    epochs.dedup();
    assert_eq!(epochs.len(), 3, "collisions resolved: {epochs:?}");
}

#[test]
fn a_slot_moved_with_setslot_reaches_every_node() {
    let mut net = Net::new(3);
    net.create();
    let target = net.nodes[1].myself;
    let source = net.nodes[0].myself;
    let tname = target.to_vec();
    let sname = source.to_vec();
    let now = net.now;
    net.nodes[1].set_slot(100, b"importing", Some(&sname), 0, now).unwrap();
    net.nodes[0].set_slot(100, b"migrating", Some(&tname), 0, now).unwrap();
    assert!(net.nodes[0].nodes_text(false).contains(&format!("[100->-{}]", crate::node::name_str(&target))));
    net.nodes[1].set_slot(100, b"node", Some(&tname), 0, now).unwrap();
    net.nodes[0].set_slot(100, b"node", Some(&tname), 0, now).unwrap();
    net.advance(3000);
    for c in &net.nodes {
        assert_eq!(c.slots[100], Some(target));
    }
    assert!(net.nodes[1].me().config_epoch > 3, "the importer took a new epoch");
    assert!(net.all_ok());
    net.check_routes();
}

#[test]
fn nodes_conf_round_trips() {
    let mut net = Net::new(3);
    net.create();
    let c = &mut net.nodes[0];
    let now = net.now;
    let other = c.nodes.keys().copied().find(|n| *n != c.myself).unwrap();
    c.set_slot(5, b"migrating", Some(&other), 0, now).unwrap();
    let text = c.config_text();
    let loaded = Cluster::load(&text, settings(7000), now).unwrap();
    assert_eq!(loaded.myself, c.myself);
    assert_eq!(loaded.slots, c.slots);
    assert_eq!(loaded.current_epoch, c.current_epoch);
    assert_eq!(loaded.migrating, c.migrating);
    assert_eq!(loaded.nodes.len(), 3);
    assert_eq!(loaded.me().config_epoch, c.me().config_epoch);
    assert_eq!(loaded.me().shard_id, c.me().shard_id);
    // CLUSTER NODES shows no auxiliary fields; nodes.conf does.
    assert!(!c.nodes_text(false).contains("shard-id="));
    assert!(text.contains(&format!(",shard-id={}", String::from_utf8_lossy(&c.me().shard_id))));
    // A line Redis 7.0 wrote loads too.
    let redis = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001,host1 myself,master - 0 0 1 connected 0-5460 [17->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]\n\
                 292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383\n\
                 vars currentEpoch 6 lastVoteEpoch 0\n";
    let loaded = Cluster::load(redis, settings(30001), now).unwrap();
    assert_eq!(loaded.me().numslots, 5461);
    assert_eq!(loaded.me().hostname, "host1");
    assert_eq!(loaded.current_epoch, 6);
    assert_eq!(loaded.migrating.len(), 1);
    // And one of Redis 7.2's, with auxiliary fields after an empty hostname.
    let redis72 = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001,,tls-port=0,shard-id=8c0d0ed4c0cbb1b0d0c8e7c8c1e6b7ffa5cfd3c9 myself,master - 0 0 1 connected 0-16383\n\
                   vars currentEpoch 1 lastVoteEpoch 0\n";
    let loaded = Cluster::load(redis72, settings(30001), now).unwrap();
    assert_eq!(loaded.me().hostname, "");
    assert_eq!(&loaded.me().shard_id, b"8c0d0ed4c0cbb1b0d0c8e7c8c1e6b7ffa5cfd3c9");
    assert!(Cluster::load("garbage line\n", settings(1), now).is_err());
    // A hard reset gives the node a new shard as well as a new name.
    let (name, shard) = (c.myself, c.me().shard_id);
    c.reset(true);
    assert_ne!((c.myself, c.me().shard_id), (name, shard));
}

#[test]
fn addslots_checks_as_redis_does() {
    let mut c = Cluster::new(settings(7000), 0);
    assert_eq!(c.check_slots(&[1, 2, 1], false), Err("ERR Slot 1 specified multiple times".into()));
    c.assign_slots(&[1, 2], false);
    assert_eq!(c.check_slots(&[2], false), Err("ERR Slot 2 is already busy".into()));
    assert_eq!(c.check_slots(&[3], true), Err("ERR Slot 3 is already unassigned".into()));
    assert_eq!(c.me().numslots, 2);
    assert!(c.nodes_text(false).contains(" connected 1-2\n"));
}

#[test]
fn publish_reaches_every_other_node() {
    let mut net = Net::new(3);
    net.create();
    net.nodes[1].publish(b"news", b"hello");
    net.run_effects();
    let mut got: Vec<usize> = net.delivered.iter().map(|(i, c)| (assert_eq!(c, b"news"), *i).1).collect();
    got.sort();
    assert_eq!(got, [0, 2]);
}

#[test]
fn a_replica_of_a_dead_master_is_elected_and_the_master_rejoins_as_its_replica() {
    let mut net = Net::new(6);
    net.create_with_replicas(3);
    assert!(net.all_ok());
    let (old, new) = (net.nodes[0].myself, net.nodes[3].myself);
    for i in 0..6 {
        assert_eq!(net.nodes[i].replicas_of(old).len(), 1, "node {i}: {}", net.nodes[i].nodes_text(false));
        assert_eq!(net.nodes[i].size, 3);
    }
    assert_eq!(net.nodes[3].replication_target(), Some(("127.0.0.1".into(), 7000)));
    assert_eq!(net.nodes[0].replication_target(), None);
    let slots = net.nodes[0].me().numslots;
    net.kill(0);
    let start = net.now;
    while !(net.nodes[3].me().is_master() && (1..6).all(|i| net.nodes[i].ok)) {
        assert!(net.now - start < 10 * TIMEOUT, "no failover after {} ms", net.now - start);
        net.advance(100);
    }
    // FAIL after the node timeout, then 500-1000 ms of election delay.
    let took = net.now - start;
    assert!(took > TIMEOUT + 500 && took < 3 * TIMEOUT + 1500, "took {took} ms");
    for i in 1..6 {
        assert_eq!(net.role_of(i, 3), format!("master with {slots} slots"), "as node {i} sees it");
    }
    assert!(net.nodes[3].me().config_epoch > 6, "a new epoch: {}", net.nodes[3].me().config_epoch);
    assert_eq!(net.nodes[3].replication_target(), None);
    net.check_routes();
    // The old master comes back with its old configuration, learns of the
    // newer epoch and follows the node that took its slots.
    net.up[0] = true;
    net.advance(3 * TIMEOUT + 6000);
    let want = format!("replica of {}", crate::node::name_str(&new));
    for i in 0..6 {
        assert_eq!(net.role_of(i, 0), want, "as node {i} sees it");
    }
    assert_eq!(net.nodes[0].replication_target(), Some(("127.0.0.1".into(), 7003)));
    assert!(net.all_ok());
    net.check_routes();
}

#[test]
fn masters_vote_once_per_epoch_and_not_while_the_master_is_up() {
    let mut net = Net::new(6);
    net.create_with_replicas(3);
    // Only a replica fails over; a forced one is voted for while its master is up.
    let now = net.now;
    assert_eq!(
        net.nodes[0].failover(false, false, now),
        Err("ERR You should send CLUSTER FAILOVER to a replica".into())
    );
    net.nodes[4].failover(true, false, now).unwrap();
    net.advance(1000);
    assert!(net.nodes[4].me().is_master(), "{}", net.nodes[4].nodes_text(false));
    assert_eq!(net.role_of(1, 1), format!("replica of {}", crate::node::name_str(&net.nodes[4].myself)));
    // Each master voted in that epoch, and only once.
    let epoch = net.nodes[4].me().config_epoch;
    for i in [0, 2] {
        assert_eq!(net.nodes[i].last_vote_epoch, epoch);
    }
    net.advance(3000);
    assert!(net.all_ok());
}

#[test]
fn manual_failover_waits_for_the_paused_master_offset() {
    let mut net = Net::new(6);
    net.create_with_replicas(3);
    let now = net.now;
    // The replica is behind its master: nothing happens until it catches up.
    net.nodes[2].set_replication(1000, 0);
    net.nodes[5].set_replication(900, 0);
    net.nodes[5].failover(false, false, now).unwrap();
    net.advance(1000);
    assert!(net.nodes[5].me().is_replica());
    assert_eq!(net.nodes[5].mf.master_offset, Some(1000));
    assert!(net.nodes[2].mf.paused);
    net.nodes[5].set_replication(1000, 0);
    net.advance(1000);
    assert!(net.nodes[5].me().is_master());
    assert!(net.nodes[2].me().is_replica(), "the old master follows: {}", net.nodes[2].nodes_text(false));
    assert_eq!(net.nodes[2].mf.end, 0, "its pause ended");
    // TAKEOVER needs nobody.
    let now = net.now;
    net.nodes[2].failover(true, true, now).unwrap();
    assert!(net.nodes[2].me().is_master());
    net.advance(2000);
    assert!(net.nodes[5].me().is_replica());
    assert!(net.all_ok());
}

#[test]
fn a_spare_replica_migrates_to_an_orphaned_master() {
    let mut net = Net::new(7);
    // Master 0 has replicas 3 and 6, masters 1 and 2 one each (4 and 5).
    net.create_with_replicas(3);
    let m1 = net.nodes[1].myself;
    assert_eq!(net.nodes[0].replicas_of(net.nodes[0].myself).len(), 2);
    net.kill(4);
    let spare = if net.nodes[3].myself < net.nodes[6].myself { 3 } else { 6 };
    let start = net.now;
    while net.nodes[spare].me().master != Some(m1) {
        assert!(net.now - start < 30_000, "no migration: {}", net.nodes[spare].nodes_text(false));
        net.advance(100);
    }
    // Only once the orphan was seen for the migration delay.
    assert!(net.now - start > TIMEOUT + 5000);
    net.advance(2000);
    for i in [0, 1, 2, 3, 5, 6] {
        let working: Vec<_> =
            net.nodes[i].replicas_of(m1).iter().filter(|r| !r.failed()).map(|r| r.name).collect();
        assert_eq!(working, [net.nodes[spare].myself], "as node {i} sees it");
    }
    let other = 9 - spare;
    assert_eq!(net.nodes[other].me().master, Some(net.nodes[0].myself), "the other one stays");
}
