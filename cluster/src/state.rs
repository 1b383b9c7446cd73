//! This node's view of the cluster, and the rules that change it: the
//! handshake, gossip, PFAIL/FAIL detection, epochs, slot ownership.
//!
//! The state machine does no I/O and reads no clock: every input (a message
//! from a bus link, a cron tick, a CLUSTER command) comes with the time in
//! milliseconds, and what it wants done on the network comes out as
//! [`Effect`]s that the caller carries out. The rules follow Redis 7.0's
//! cluster.c, so that Shoal and redis-server nodes agree on every decision.

use crate::bus::wire::{
    self, msg_type as T, node_flags as F, Body, Gossip, Header, Message, NodeName, SlotBits,
};
use crate::node::{name_str, random_name, LinkId, Node};
use crate::SLOT_COUNT;
use std::collections::{BTreeMap, HashMap};

mod failover;
pub use failover::{Election, ManualFailover, MF_TIMEOUT};

/// A failure report counts for this many node timeouts.
const FAIL_REPORT_VALIDITY_MULT: u64 = 2;
/// A FAIL flag on a master that still serves slots is undone after this many node timeouts.
const FAIL_UNDO_TIME_MULT: u64 = 2;
/// A master stays down this long after start before declaring the cluster up.
const WRITABLE_DELAY: u64 = 2000;
/// A forgotten node may not be re-added by gossip for this long (ms).
const BLACKLIST_TTL: u64 = 60_000;

/// What the I/O layer must do.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    /// Open a bus connection to `ip:port`; what is sent on `link` before it connects waits.
    Connect {
        link: LinkId,
        ip: String,
        port: u16,
    },
    Send {
        link: LinkId,
        frame: Vec<u8>,
    },
    Close {
        link: LinkId,
    },
    /// This node lost `slot` to another master while holding keys in it: drop them.
    DropSlotKeys(u16),
    /// A message published on another node: deliver it to this node's subscribers.
    Deliver {
        channel: Vec<u8>,
        message: Vec<u8>,
    },
    /// A replica asked this master for a manual failover: hold every
    /// client's writes until `until` (ms) or [`Effect::ResumeWrites`], and
    /// call [`Cluster::writes_paused`] once everything written before is in
    /// the replication stream.
    PauseWrites {
        until: u64,
    },
    ResumeWrites,
}

/// The settings the cluster rules use.
#[derive(Clone, Debug)]
pub struct Settings {
    pub node_timeout: u64,
    pub require_full_coverage: bool,
    pub allow_reads_when_down: bool,
    pub allow_pubsubshard_when_down: bool,
    /// Client port and bus port this node listens on.
    pub port: u16,
    pub cport: u16,
    /// `cluster-announce-*`: what other nodes are told instead ("" / 0 = not set).
    pub announce_ip: String,
    pub announce_port: u16,
    pub announce_bus_port: u16,
    pub announce_hostname: String,
    /// `cluster-replica-validity-factor`, `cluster-replica-no-failover`, and
    /// `repl-ping-replica-period` (seconds): whether a replica may fail over.
    pub replica_validity_factor: u64,
    pub replica_no_failover: bool,
    pub repl_ping_period: u64,
    /// `cluster-allow-replica-migration` and `cluster-migration-barrier`.
    pub allow_replica_migration: bool,
    pub migration_barrier: u64,
}

impl Settings {
    fn my_port(&self) -> u16 {
        if self.announce_port != 0 {
            self.announce_port
        } else {
            self.port
        }
    }

    fn my_cport(&self) -> u16 {
        if self.announce_bus_port != 0 {
            self.announce_bus_port
        } else {
            self.cport
        }
    }
}

struct Link {
    node: Option<NodeName>,
    inbound: bool,
    ctime: u64,
}

/// The whole cluster as this node knows it.
pub struct Cluster {
    pub myself: NodeName,
    pub nodes: HashMap<NodeName, Node>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    /// The master serving each slot.
    pub slots: Vec<Option<NodeName>>,
    pub migrating: BTreeMap<u16, NodeName>,
    pub importing: BTreeMap<u16, NodeName>,
    pub ok: bool,
    /// Masters serving at least one slot.
    pub size: usize,
    pub settings: Settings,
    pub stats_sent: [u64; 11],
    pub stats_received: [u64; 11],
    links: HashMap<LinkId, Link>,
    next_link: LinkId,
    blacklist: HashMap<NodeName, u64>,
    effects: Vec<Effect>,
    /// The configuration changed and must be saved.
    pub save_pending: bool,
    /// Slot ownership, node addresses or the cluster state changed: the
    /// cores' routing tables must be rebuilt.
    pub routes_changed: bool,
    /// The cluster state must be recomputed.
    update_pending: bool,
    iteration: u64,
    first_update: u64,
    among_minority_time: u64,
    pub election: Election,
    pub mf: ManualFailover,
    /// How long ago this replica last heard from its master (ms).
    repl_data_age: u64,
}

/// A node address that is not an IP address and a port.
#[derive(Debug, PartialEq, Eq)]
pub struct BadAddress;

/// Why a CLUSTER command was refused: the text after `-`.
pub type CmdResult<T> = Result<T, String>;

impl Cluster {
    pub fn new(settings: Settings, now: u64) -> Cluster {
        let myself = random_name();
        let mut me = Node::new(myself, F::MYSELF | F::MASTER, now);
        me.port = settings.my_port();
        me.cport = settings.my_cport();
        me.ip = settings.announce_ip.clone();
        me.hostname = settings.announce_hostname.clone();
        let mut nodes = HashMap::new();
        nodes.insert(myself, me);
        Cluster {
            myself,
            nodes,
            current_epoch: 0,
            last_vote_epoch: 0,
            slots: vec![None; SLOT_COUNT],
            migrating: BTreeMap::new(),
            importing: BTreeMap::new(),
            ok: false,
            size: 0,
            settings,
            stats_sent: [0; 11],
            stats_received: [0; 11],
            links: HashMap::new(),
            next_link: 1,
            blacklist: HashMap::new(),
            effects: Vec::new(),
            save_pending: true,
            routes_changed: true,
            update_pending: true,
            iteration: 0,
            first_update: 0,
            among_minority_time: 0,
            election: Election::default(),
            mf: ManualFailover::default(),
            repl_data_age: 0,
        }
    }

    /// The effects accumulated since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn me(&self) -> &Node {
        &self.nodes[&self.myself]
    }

    fn me_mut(&mut self) -> &mut Node {
        self.nodes.get_mut(&self.myself).expect("myself is always known")
    }

    /// Looks a node up by its name as given in a command.
    pub fn lookup(&self, name: &[u8]) -> Option<&Node> {
        let name: NodeName = name.try_into().ok()?;
        self.nodes.get(&name)
    }

    fn changed(&mut self) {
        self.save_pending = true;
        self.update_pending = true;
        self.routes_changed = true;
    }

    // ----- slots -----

    pub fn add_slot(&mut self, owner: NodeName, slot: u16) -> bool {
        if self.slots[slot as usize].is_some() {
            return false;
        }
        let Some(n) = self.nodes.get_mut(&owner) else { return false };
        wire::slot_set(&mut n.slots, slot);
        n.numslots += 1;
        self.slots[slot as usize] = Some(owner);
        self.changed();
        true
    }

    pub fn del_slot(&mut self, slot: u16) -> bool {
        let Some(owner) = self.slots[slot as usize].take() else { return false };
        if let Some(n) = self.nodes.get_mut(&owner) {
            n.slots[slot as usize / 8] &= !(1 << (slot % 8));
            n.numslots -= 1;
        }
        self.changed();
        true
    }

    fn del_node_slots(&mut self, name: NodeName) -> usize {
        let owned: Vec<u16> =
            (0..SLOT_COUNT as u16).filter(|&s| self.slots[s as usize] == Some(name)).collect();
        for &s in &owned {
            self.del_slot(s);
        }
        owned.len()
    }

    /// The slots this node serves, ascending.
    pub fn my_slots(&self) -> impl Iterator<Item = u16> + '_ {
        (0..SLOT_COUNT as u16).filter(|&s| self.slots[s as usize] == Some(self.myself))
    }

    // ----- nodes and links -----

    fn new_link(&mut self, node: Option<NodeName>, inbound: bool, now: u64) -> LinkId {
        let id = self.next_link;
        self.next_link += 1;
        self.links.insert(id, Link { node, inbound, ctime: now });
        id
    }

    /// A bus connection from another node was accepted.
    pub fn inbound_accepted(&mut self, now: u64) -> LinkId {
        self.new_link(None, true, now)
    }

    /// A link's connection failed or closed.
    pub fn link_closed(&mut self, link: LinkId) {
        let Some(l) = self.links.remove(&link) else { return };
        if let Some(n) = l.node.and_then(|n| self.nodes.get_mut(&n)) {
            if n.link == Some(link) {
                n.link = None;
            }
            if n.inbound_link == Some(link) {
                n.inbound_link = None;
            }
        }
    }

    fn close_link(&mut self, link: LinkId) {
        self.link_closed(link);
        self.effects.push(Effect::Close { link });
    }

    fn free_node_links(&mut self, name: NodeName) {
        let (out, inb) = match self.nodes.get(&name) {
            Some(n) => (n.link, n.inbound_link),
            None => return,
        };
        for l in [out, inb].into_iter().flatten() {
            self.close_link(l);
        }
    }

    /// Removes a node: its links, its slots, the reports it made and its
    /// migration marks.
    pub fn del_node(&mut self, name: NodeName) {
        self.free_node_links(name);
        for s in 0..SLOT_COUNT as u16 {
            if self.slots[s as usize] == Some(name) {
                self.del_slot(s);
            }
        }
        self.migrating.retain(|_, n| *n != name);
        self.importing.retain(|_, n| *n != name);
        for n in self.nodes.values_mut() {
            n.fail_reports.retain(|(r, _)| *r != name);
            if n.master == Some(name) {
                n.master = None;
            }
        }
        self.nodes.remove(&name);
        self.changed();
    }

    fn rename_node(&mut self, old: NodeName, new: NodeName) {
        let Some(mut n) = self.nodes.remove(&old) else { return };
        n.name = new;
        for l in [n.link, n.inbound_link].into_iter().flatten() {
            if let Some(link) = self.links.get_mut(&l) {
                link.node = Some(new);
            }
        }
        self.nodes.insert(new, n);
        self.changed();
    }

    /// Starts meeting a node at `ip:port` (bus port `cport`). `Err` when the
    /// address is not valid; `Ok(false)` when a handshake with it is already
    /// under way.
    pub fn start_handshake(&mut self, ip: &str, port: i64, cport: i64, now: u64) -> Result<bool, BadAddress> {
        let ip: std::net::IpAddr = ip.parse().map_err(|_| BadAddress)?;
        if !(1..=65535).contains(&port) || !(1..=65535).contains(&cport) {
            return Err(BadAddress);
        }
        let ip = ip.to_string();
        let busy = self
            .nodes
            .values()
            .any(|n| n.in_handshake() && n.ip == ip && n.port == port as u16 && n.cport == cport as u16);
        if busy {
            return Ok(false);
        }
        let mut n = Node::new(random_name(), F::HANDSHAKE | F::MEET, now);
        n.ip = ip;
        n.port = port as u16;
        n.cport = cport as u16;
        self.nodes.insert(n.name, n);
        self.changed();
        Ok(true)
    }

    fn blacklisted(&mut self, name: &NodeName, now: u64) -> bool {
        self.blacklist.retain(|_, until| *until > now);
        self.blacklist.contains_key(name)
    }

    // ----- messages out -----

    fn header(&self, kind: u16) -> Header {
        let me = self.me();
        let master = me.master.and_then(|m| self.nodes.get(&m)).filter(|_| me.is_replica());
        let owner = master.unwrap_or(me);
        Header {
            kind,
            port: self.settings.my_port(),
            current_epoch: self.current_epoch,
            config_epoch: owner.config_epoch,
            offset: me.repl_offset,
            sender: self.myself,
            myslots: owner.slots.clone(),
            slaveof: master.map(|m| m.name),
            myip: self.settings.announce_ip.clone(),
            pport: 0,
            cport: self.settings.my_cport(),
            flags: me.flags,
            state_ok: self.ok,
            mflags: [self.header_mflags(), 0, 0],
        }
    }

    fn gossip_of(n: &Node) -> Gossip {
        Gossip {
            name: n.name,
            ping_sent: (n.ping_sent / 1000) as u32,
            pong_received: (n.pong_received / 1000) as u32,
            ip: n.ip.clone(),
            port: n.port,
            cport: n.cport,
            flags: n.flags,
            pport: n.pport,
        }
    }

    fn send(&mut self, link: LinkId, msg: &Message) {
        let mut frame = Vec::new();
        wire::encode(msg, &mut frame);
        if let Some(c) = self.stats_sent.get_mut(msg.header.kind as usize) {
            *c += 1;
        }
        self.effects.push(Effect::Send { link, frame });
    }

    /// Sends a PING, PONG or MEET with gossip about a few random nodes and
    /// every node we think is failing.
    fn send_ping(&mut self, link: LinkId, kind: u16, now: u64) {
        let outbound_to = self.links.get(&link).filter(|l| !l.inbound).and_then(|l| l.node);
        if kind == T::PING {
            if let Some(n) = outbound_to.and_then(|n| self.nodes.get_mut(&n)) {
                n.ping_sent = now;
            }
        }
        let mut fresh = self.nodes.len().saturating_sub(2);
        let wanted = (self.nodes.len() / 10).max(3).min(fresh);
        let candidates: Vec<&Node> = self.nodes.values().collect();
        let mut chosen: Vec<NodeName> = Vec::new();
        let mut tries = wanted * 3;
        while fresh > 0 && chosen.len() < wanted && tries > 0 {
            tries -= 1;
            let n = candidates[fastrand::usize(..candidates.len())];
            if n.name == self.myself || n.timed_out() {
                continue;
            }
            if n.has(F::HANDSHAKE | F::NOADDR) || (n.link.is_none() && n.numslots == 0) {
                fresh -= 1;
                continue;
            }
            if chosen.contains(&n.name) {
                continue;
            }
            chosen.push(n.name);
            fresh -= 1;
        }
        let mut gossip: Vec<Gossip> = chosen.iter().map(|n| Self::gossip_of(&self.nodes[n])).collect();
        gossip.extend(
            self.nodes
                .values()
                .filter(|n| n.timed_out() && !n.has(F::HANDSHAKE | F::NOADDR))
                .map(Self::gossip_of),
        );
        let mut exts = Vec::new();
        if !self.settings.announce_hostname.is_empty() {
            exts.push(wire::PingExt::Hostname(self.settings.announce_hostname.clone()));
        }
        let msg = Message { header: self.header(kind), body: Body::Ping { gossip, exts } };
        self.send(link, &msg);
    }

    /// Our links to every other node past its handshake: where broadcasts go.
    fn peer_links(&self) -> Vec<LinkId> {
        self.nodes
            .values()
            .filter(|n| n.name != self.myself && !n.has(F::HANDSHAKE))
            .filter_map(|n| n.link)
            .collect()
    }

    /// Sends `msg` to every node we have a link to that is past its handshake.
    fn broadcast(&mut self, msg: &Message) {
        for l in self.peer_links() {
            self.send(l, msg);
        }
    }

    /// PUBLISH in cluster mode: every other node delivers the message to its
    /// own subscribers.
    pub fn publish(&mut self, channel: &[u8], message: &[u8]) {
        let body = Body::Publish { channel: channel.to_vec(), message: message.to_vec() };
        let msg = Message { header: self.header(T::PUBLISH), body };
        self.broadcast(&msg);
    }

    /// A PONG to every node: how a changed configuration is announced at once.
    pub fn broadcast_pong(&mut self, now: u64) {
        for l in self.peer_links() {
            self.send_ping(l, T::PONG, now);
        }
    }

    // ----- cron -----

    /// Runs ten times a second: connects to nodes we have no link to, pings,
    /// and detects nodes that stopped answering.
    pub fn cron(&mut self, now: u64) {
        self.iteration += 1;
        let timeout = self.settings.node_timeout;
        let handshake_timeout = timeout.max(1000);
        let names: Vec<NodeName> = self.nodes.keys().copied().collect();
        for name in &names {
            let Some(n) = self.nodes.get(name) else { continue };
            if n.has(F::MYSELF | F::NOADDR) {
                continue;
            }
            if n.in_handshake() && now.saturating_sub(n.ctime) > handshake_timeout {
                self.del_node(*name);
                continue;
            }
            if n.link.is_none() {
                let (ip, cport, meet, old_ping) = (n.ip.clone(), n.cport, n.has(F::MEET), n.ping_sent);
                let link = self.new_link(Some(*name), false, now);
                self.effects.push(Effect::Connect { link, ip, port: cport });
                let n = self.nodes.get_mut(name).expect("present");
                n.link = Some(link);
                self.send_ping(link, if meet { T::MEET } else { T::PING }, now);
                let n = self.nodes.get_mut(name).expect("present");
                if old_ping != 0 {
                    n.ping_sent = old_ping;
                }
                n.flags &= !F::MEET;
            }
        }
        // Every second, ping the node we heard from least recently among a few random ones.
        if self.iteration % 10 == 0 && !names.is_empty() {
            let mut best: Option<(u64, LinkId)> = None;
            for _ in 0..5 {
                let n = &self.nodes[&names[fastrand::usize(..names.len())]];
                let Some(link) = n.link else { continue };
                if n.ping_sent != 0 || n.has(F::MYSELF | F::HANDSHAKE) {
                    continue;
                }
                if best.is_none_or(|(t, _)| n.pong_received < t) {
                    best = Some((n.pong_received, link));
                }
            }
            if let Some((_, link)) = best {
                self.send_ping(link, T::PING, now);
            }
        }
        for name in &names {
            let Some(n) = self.nodes.get(name) else { continue };
            if n.has(F::MYSELF | F::NOADDR | F::HANDSHAKE) {
                continue;
            }
            let ping_delay = now.saturating_sub(n.ping_sent);
            let data_delay = now.saturating_sub(n.data_received);
            if let Some(link) = n.link {
                let link_age = self.links.get(&link).map_or(0, |l| now.saturating_sub(l.ctime));
                if link_age > timeout
                    && n.ping_sent != 0
                    && ping_delay > timeout / 2
                    && data_delay > timeout / 2
                {
                    // The link looks stuck: reconnect on the next tick.
                    self.close_link(link);
                    continue;
                }
                if n.ping_sent == 0 && now.saturating_sub(n.pong_received) > timeout / 2 {
                    self.send_ping(link, T::PING, now);
                    continue;
                }
            }
            let n = &self.nodes[name];
            if n.ping_sent != 0 && ping_delay.min(data_delay) > timeout && !n.has(F::PFAIL | F::FAIL) {
                self.nodes.get_mut(name).expect("present").flags |= F::PFAIL;
                self.update_pending = true;
                self.routes_changed = true;
            }
        }
        // A failing node's reports may now be enough.
        let suspects: Vec<NodeName> = self.nodes.values().filter(|n| n.timed_out()).map(|n| n.name).collect();
        for s in suspects {
            self.mark_failing_if_needed(s, now);
        }
        self.failover_cron(now);
        if self.update_pending {
            self.update_state(now);
        }
    }

    // ----- failure detection -----

    fn add_failure_report(&mut self, failing: NodeName, sender: NodeName, now: u64) {
        let Some(n) = self.nodes.get_mut(&failing) else { return };
        match n.fail_reports.iter_mut().find(|(r, _)| *r == sender) {
            Some(r) => r.1 = now,
            None => n.fail_reports.push((sender, now)),
        }
    }

    fn failure_reports(&mut self, name: NodeName, now: u64) -> usize {
        let max_age = self.settings.node_timeout * FAIL_REPORT_VALIDITY_MULT;
        let Some(n) = self.nodes.get_mut(&name) else { return 0 };
        n.fail_reports.retain(|(_, t)| now.saturating_sub(*t) <= max_age);
        n.fail_reports.len()
    }

    /// CLUSTER COUNT-FAILURE-REPORTS.
    pub fn count_failure_reports(&mut self, name: &[u8], now: u64) -> CmdResult<usize> {
        let Some(n) = self.lookup(name).map(|n| n.name) else {
            return Err(format!("ERR Unknown node {}", String::from_utf8_lossy(name)));
        };
        Ok(self.failure_reports(n, now))
    }

    /// Flags `name` FAIL when enough masters agree it is unreachable, and tells everyone.
    fn mark_failing_if_needed(&mut self, name: NodeName, now: u64) {
        let quorum = self.size / 2 + 1;
        match self.nodes.get(&name) {
            Some(n) if n.timed_out() && !n.failed() => {}
            _ => return,
        }
        let mut failures = self.failure_reports(name, now);
        if self.me().is_master() {
            failures += 1;
        }
        if failures < quorum {
            return;
        }
        tracing::info!("marking node {} as failing (quorum reached)", name_str(&name));
        let n = self.nodes.get_mut(&name).expect("checked");
        n.flags = (n.flags & !F::PFAIL) | F::FAIL;
        n.fail_time = now;
        if self.me().is_master() {
            let msg = Message { header: self.header(T::FAIL), body: Body::Fail { name } };
            self.broadcast(&msg);
        }
        self.changed();
    }

    fn clear_failure_if_needed(&mut self, name: NodeName, now: u64) {
        let timeout = self.settings.node_timeout;
        let Some(n) = self.nodes.get_mut(&name) else { return };
        let clear = (n.is_replica() || n.numslots == 0)
            || (n.is_master() && now.saturating_sub(n.fail_time) > timeout * FAIL_UNDO_TIME_MULT);
        if clear {
            tracing::info!("clear FAIL state for node {}", name_str(&name));
            n.flags &= !F::FAIL;
            self.changed();
        }
    }

    /// Recomputes `ok` and `size` as Redis's clusterUpdateState does.
    pub fn update_state(&mut self, now: u64) {
        self.update_pending = false;
        if self.first_update == 0 {
            self.first_update = now;
        }
        if self.me().is_master() && !self.ok && now.saturating_sub(self.first_update) < WRITABLE_DELAY {
            // Give a restarted master time to learn the configuration first.
            self.update_pending = true;
            return;
        }
        let mut ok = true;
        if self.settings.require_full_coverage {
            let failed: Vec<NodeName> = self.nodes.values().filter(|n| n.failed()).map(|n| n.name).collect();
            ok = self.slots.iter().all(|s| s.is_some_and(|n| !failed.contains(&n)));
        }
        let masters = self.nodes.values().filter(|n| n.is_master() && n.numslots > 0);
        let (mut size, mut reachable) = (0, 0);
        for n in masters {
            size += 1;
            if !n.has(F::FAIL | F::PFAIL) {
                reachable += 1;
            }
        }
        self.size = size;
        if reachable < size / 2 + 1 {
            ok = false;
            self.among_minority_time = now;
        }
        if ok != self.ok {
            let rejoin_delay = self.settings.node_timeout.clamp(500, 5000);
            if ok && self.me().is_master() && now.saturating_sub(self.among_minority_time) < rejoin_delay {
                self.update_pending = true;
                return;
            }
            tracing::warn!("cluster state changed: {}", if ok { "ok" } else { "fail" });
            self.ok = ok;
            self.routes_changed = true;
        }
    }

    // ----- messages in -----

    /// Handles one message that arrived on `link`. `peer_ip` is the other end's
    /// address, `local_ip` ours on that connection.
    pub fn on_message(&mut self, link: LinkId, msg: Message, peer_ip: &str, local_ip: &str, now: u64) {
        let Some(l) = self.links.get(&link) else { return };
        let (link_node, inbound) = (l.node, l.inbound);
        let h = &msg.header;
        let kind = h.kind;
        if let Some(c) = self.stats_received.get_mut(kind as usize) {
            *c += 1;
        }
        let sender = match link_node.filter(|n| self.nodes.get(n).is_some_and(|n| !n.in_handshake())) {
            Some(n) => Some(n),
            None => {
                let s = self.nodes.get(&h.sender).map(|n| n.name);
                if let (Some(s), true) = (s, inbound) {
                    if link_node.is_none() {
                        self.links.get_mut(&link).expect("present").node = Some(s);
                        let n = self.nodes.get_mut(&s).expect("present");
                        if let Some(old) = n.inbound_link.replace(link) {
                            if old != link {
                                self.close_link(old);
                            }
                        }
                    }
                }
                s
            }
        };
        if let Some(s) = sender {
            let n = self.nodes.get_mut(&s).expect("present");
            n.data_received = now;
            if !n.in_handshake() {
                if h.current_epoch > self.current_epoch {
                    self.current_epoch = h.current_epoch;
                    self.save_pending = true;
                }
                let n = self.nodes.get_mut(&s).expect("present");
                if h.config_epoch > n.config_epoch {
                    n.config_epoch = h.config_epoch;
                    self.save_pending = true;
                }
                self.nodes.get_mut(&s).expect("present").repl_offset = h.offset;
                self.note_master_offset(s, h);
            }
        }
        if kind == T::PING || kind == T::MEET {
            if (kind == T::MEET || self.me().ip.is_empty())
                && self.settings.announce_ip.is_empty()
                && !local_ip.is_empty()
                && self.me().ip != local_ip
            {
                tracing::info!("IP address for this node updated to {local_ip}");
                self.me_mut().ip = local_ip.to_string();
                self.changed();
            }
            if sender.is_none() && kind == T::MEET {
                let mut n = Node::new(random_name(), F::HANDSHAKE, now);
                n.ip = if h.myip.is_empty() { peer_ip.to_string() } else { h.myip.clone() };
                n.port = h.port;
                n.pport = h.pport;
                n.cport = h.cport;
                self.nodes.insert(n.name, n);
                self.changed();
            }
            self.send_ping(link, T::PONG, now);
        }
        match (kind, &msg.body) {
            (T::PING | T::PONG | T::MEET, Body::Ping { gossip, exts }) => {
                self.on_ping(link, link_node, inbound, sender, &msg.header, gossip, exts, peer_ip, now)
            }
            (T::FAIL, Body::Fail { name }) if sender.is_some() => {
                if let Some(n) = self.nodes.get_mut(name) {
                    if !n.has(F::FAIL | F::MYSELF) {
                        tracing::info!("FAIL message received about {}", name_str(name));
                        n.flags = (n.flags & !F::PFAIL) | F::FAIL;
                        n.fail_time = now;
                        self.changed();
                    }
                }
            }
            (T::FAILOVER_AUTH_REQUEST, _) => {
                if let Some(s) = sender {
                    self.on_auth_request(s, &msg.header, now);
                }
            }
            (T::FAILOVER_AUTH_ACK, _) => {
                if let Some(s) = sender {
                    self.on_auth_ack(s, &msg.header, now);
                }
            }
            (T::MFSTART, _) => {
                if let Some(s) = sender {
                    self.on_mfstart(s, now);
                }
            }
            (T::PUBLISH, Body::Publish { channel, message }) if sender.is_some() => {
                self.effects.push(Effect::Deliver { channel: channel.clone(), message: message.clone() });
            }
            (T::UPDATE, Body::Update { config_epoch, name, slots }) => {
                if sender.is_none() {
                    return;
                }
                let Some(n) = self.nodes.get_mut(name) else { return };
                if n.config_epoch >= *config_epoch {
                    return;
                }
                if n.is_replica() {
                    n.flags = (n.flags & !F::SLAVE) | F::MASTER;
                    n.master = None;
                }
                n.config_epoch = *config_epoch;
                self.save_pending = true;
                self.update_slots_config_with(*name, *config_epoch, slots);
            }
            _ => {}
        }
        if self.update_pending {
            self.update_state(now);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_ping(
        &mut self,
        link: LinkId,
        link_node: Option<NodeName>,
        inbound: bool,
        sender: Option<NodeName>,
        h: &Header,
        gossip: &[Gossip],
        exts: &[wire::PingExt],
        peer_ip: &str,
        now: u64,
    ) {
        // The node at the other end of our outbound link, under its current name.
        let mut outbound_node = None;
        if !inbound {
            let Some(ln) = link_node.filter(|n| self.nodes.contains_key(n)) else { return };
            outbound_node = Some(ln);
            if self.nodes[&ln].in_handshake() {
                if let Some(known) = sender {
                    // We met a node we already know under its real name.
                    self.update_address(known, link, h, peer_ip);
                    self.del_node(ln);
                    return;
                }
                self.rename_node(ln, h.sender);
                outbound_node = Some(h.sender);
                let n = self.nodes.get_mut(&h.sender).expect("renamed");
                n.flags &= !F::HANDSHAKE;
                n.flags |= h.flags & (F::MASTER | F::SLAVE);
                tracing::info!("handshake with node {} completed", name_str(&h.sender));
                self.changed();
            } else if ln != h.sender {
                // Someone else answers at this address now.
                let n = self.nodes.get_mut(&ln).expect("present");
                n.flags |= F::NOADDR;
                n.ip.clear();
                n.port = 0;
                n.pport = 0;
                n.cport = 0;
                self.close_link(link);
                self.changed();
                return;
            }
        }
        if let Some(s) = sender {
            let n = self.nodes.get_mut(&s).expect("present");
            n.flags = (n.flags & !F::NOFAILOVER) | (h.flags & F::NOFAILOVER);
            if h.kind == T::PING && !n.in_handshake() && self.update_address(s, link, h, peer_ip) {
                self.changed();
            }
        }
        if !inbound && h.kind == T::PONG {
            if let Some(ln) = outbound_node {
                let n = self.nodes.get_mut(&ln).expect("present");
                n.pong_received = now;
                n.ping_sent = 0;
                if n.timed_out() {
                    n.flags &= !F::PFAIL;
                    self.changed();
                } else if n.failed() {
                    self.clear_failure_if_needed(ln, now);
                }
            }
        }
        let Some(sender) = sender else { return };
        // Role: master, or replica of another node.
        match h.slaveof {
            None => {
                let n = self.nodes.get_mut(&sender).expect("present");
                if !n.is_master() || n.master.is_some() {
                    if n.is_replica() {
                        // A promoted replica: a master that may take a migrating replica.
                        n.flags |= F::MIGRATE_TO;
                    }
                    n.flags = (n.flags & !F::SLAVE) | F::MASTER;
                    n.master = None;
                    self.changed();
                }
            }
            Some(master) => {
                if self.nodes[&sender].is_master() {
                    self.del_node_slots(sender);
                    let n = self.nodes.get_mut(&sender).expect("present");
                    n.flags = (n.flags & !(F::MASTER | F::MIGRATE_TO)) | F::SLAVE;
                    self.changed();
                }
                let n = self.nodes.get_mut(&sender).expect("present");
                if n.master != Some(master) {
                    n.master = Some(master);
                    self.save_pending = true;
                }
                if let Some(m) = self.nodes.get_mut(&master) {
                    m.flags |= F::MIGRATE_TO;
                }
            }
        }
        // Slots: the sender (or its master) claims `myslots`.
        let sender_node = &self.nodes[&sender];
        let sender_master = if sender_node.is_master() { Some(sender) } else { sender_node.master };
        let dirty =
            sender_master.and_then(|m| self.nodes.get(&m)).is_some_and(|m| m.slots[..] != h.myslots[..]);
        if dirty && self.nodes[&sender].is_master() {
            self.update_slots_config_with(sender, h.config_epoch, &h.myslots);
        }
        if dirty {
            // The sender claims slots someone newer owns: tell it.
            for j in 0..SLOT_COUNT as u16 {
                if !wire::slot_get(&h.myslots, j) {
                    continue;
                }
                let Some(owner) = self.slots[j as usize] else { continue };
                if owner == sender {
                    continue;
                }
                let owner = &self.nodes[&owner];
                if owner.config_epoch > h.config_epoch {
                    if let Some(l) = self.nodes[&sender].link {
                        let msg = Message {
                            header: self.header(T::UPDATE),
                            body: Body::Update {
                                config_epoch: owner.config_epoch,
                                name: owner.name,
                                slots: owner.slots.clone(),
                            },
                        };
                        self.send(l, &msg);
                    }
                    break;
                }
            }
        }
        // Two masters with the same config epoch: the one with the smaller name moves on.
        if self.me().is_master()
            && self.nodes[&sender].is_master()
            && h.config_epoch == self.me().config_epoch
            && sender < self.myself
        {
            self.current_epoch += 1;
            let epoch = self.current_epoch;
            self.me_mut().config_epoch = epoch;
            self.save_pending = true;
            tracing::info!(
                "configEpoch collision with node {}: configEpoch set to {epoch}",
                name_str(&sender)
            );
        }
        self.process_gossip(sender, gossip, now);
        for e in exts {
            if let wire::PingExt::Hostname(host) = e {
                let n = self.nodes.get_mut(&sender).expect("present");
                if n.hostname != *host {
                    n.hostname = host.clone();
                    self.changed();
                }
            }
        }
    }

    /// Takes the address a node announces (or that its connection comes
    /// from); true when it changed.
    fn update_address(&mut self, name: NodeName, link: LinkId, h: &Header, peer_ip: &str) -> bool {
        let ip = if h.myip.is_empty() { peer_ip.to_string() } else { h.myip.clone() };
        let Some(n) = self.nodes.get_mut(&name) else { return false };
        if n.has(F::MYSELF) || ip.is_empty() {
            return false;
        }
        if n.ip == ip && n.port == h.port && n.cport == h.cport && n.pport == h.pport {
            return false;
        }
        n.ip = ip;
        n.port = h.port;
        n.cport = h.cport;
        n.pport = h.pport;
        n.flags &= !F::NOADDR;
        let old = n.link.filter(|&l| l != link);
        if let Some(l) = old {
            self.close_link(l);
        }
        self.routes_changed = true;
        true
    }

    fn process_gossip(&mut self, sender: NodeName, gossip: &[Gossip], now: u64) {
        let sender_is_master = self.nodes[&sender].is_master();
        for g in gossip {
            if self.nodes.contains_key(&g.name) {
                if sender_is_master && g.name != self.myself {
                    if g.flags & (F::FAIL | F::PFAIL) != 0 {
                        self.add_failure_report(g.name, sender, now);
                        self.mark_failing_if_needed(g.name, now);
                    } else if let Some(n) = self.nodes.get_mut(&g.name) {
                        n.fail_reports.retain(|(r, _)| *r != sender);
                    }
                }
                let n = self.nodes.get_mut(&g.name).expect("present");
                if g.flags & (F::FAIL | F::PFAIL) == 0 && n.ping_sent == 0 && n.fail_reports.is_empty() {
                    let pong = g.pong_received as u64 * 1000;
                    if pong <= now + 500 && pong > n.pong_received {
                        n.pong_received = pong;
                    }
                }
                if n.has(F::FAIL | F::PFAIL)
                    && g.flags & F::NOADDR == 0
                    && n.link.is_none()
                    && (n.ip != g.ip || n.port != g.port || n.cport != g.cport)
                {
                    n.ip = g.ip.clone();
                    n.port = g.port;
                    n.cport = g.cport;
                    n.pport = g.pport;
                    n.flags &= !F::NOADDR;
                    self.routes_changed = true;
                }
            } else if g.flags & F::NOADDR == 0 && !self.blacklisted(&g.name, now) && !g.ip.is_empty() {
                let _ = self.start_handshake(&g.ip, g.port as i64, g.cport as i64, now);
            }
        }
    }

    /// The sender, with config epoch `epoch`, claims `claimed`: take each
    /// slot from owners with an older epoch. A master left without slots
    /// this way was failed over and becomes a replica of the sender; so does
    /// a replica whose master was (Redis's clusterUpdateSlotsConfigWith).
    fn update_slots_config_with(&mut self, sender: NodeName, epoch: u64, claimed: &SlotBits) {
        if sender == self.myself {
            return;
        }
        let me = self.me();
        let cur_master = if me.is_master() { Some(self.myself) } else { me.master };
        let (mut sender_slots, mut migrated_ours, mut new_master) = (0, 0, false);
        let mut dirty = Vec::new();
        for j in 0..SLOT_COUNT as u16 {
            if !wire::slot_get(claimed, j) {
                continue;
            }
            sender_slots += 1;
            let owner = self.slots[j as usize];
            if owner == Some(sender) || self.importing.contains_key(&j) {
                continue;
            }
            let older = match owner {
                None => true,
                Some(o) => self.nodes.get(&o).is_none_or(|o| o.config_epoch < epoch),
            };
            if older {
                if owner == Some(self.myself) {
                    dirty.push(j);
                    self.migrating.remove(&j);
                }
                if owner.is_some() && owner == cur_master {
                    new_master = true;
                    migrated_ours += 1;
                }
                self.del_slot(j);
                self.add_slot(sender, j);
            }
        }
        let cur_empty = cur_master.and_then(|m| self.nodes.get(&m)).is_some_and(|m| m.numslots == 0);
        let grand = self.me().master.filter(|_| self.me().is_replica()).and_then(|m| self.nodes.get(&m));
        let grand = grand.and_then(|m| m.master.filter(|_| m.is_replica()));
        if new_master && cur_empty && (self.settings.allow_replica_migration || sender_slots == migrated_ours)
        {
            tracing::warn!(
                "Configuration change detected. Reconfiguring myself as a replica of {}",
                name_str(&sender)
            );
            self.set_master(sender);
        } else if let Some(grand) = grand.filter(|&g| g != self.myself) {
            tracing::warn!(
                "I'm a sub-replica! Reconfiguring myself as a replica of grandmaster {}",
                name_str(&grand)
            );
            self.set_master(grand);
        } else {
            for j in dirty {
                self.effects.push(Effect::DropSlotKeys(j));
            }
        }
    }

    // ----- commands -----

    /// CLUSTER ADDSLOTS / DELSLOTS over a set of slots already validated
    /// with [`Cluster::check_slots`].
    pub fn assign_slots(&mut self, slots: &[u16], del: bool) {
        for &s in slots {
            if del {
                self.del_slot(s);
            } else {
                self.importing.remove(&s);
                self.add_slot(self.myself, s);
            }
        }
    }

    /// Checks an ADDSLOTS/DELSLOTS request as Redis does.
    pub fn check_slots(&self, slots: &[u16], del: bool) -> CmdResult<()> {
        let mut seen = vec![false; SLOT_COUNT];
        for &s in slots {
            let owner = self.slots[s as usize];
            if del && owner.is_none() {
                return Err(format!("ERR Slot {s} is already unassigned"));
            }
            if !del && owner.is_some() {
                return Err(format!("ERR Slot {s} is already busy"));
            }
            if std::mem::replace(&mut seen[s as usize], true) {
                return Err(format!("ERR Slot {s} specified multiple times"));
            }
        }
        Ok(())
    }

    /// CLUSTER FLUSHSLOTS (the caller checked the keyspace is empty).
    pub fn flush_slots(&mut self) {
        self.del_node_slots(self.myself);
    }

    /// CLUSTER SETSLOT. `keys_in_slot` is how many keys this node holds in `slot`.
    pub fn set_slot(
        &mut self,
        slot: u16,
        action: &[u8],
        node: Option<&[u8]>,
        keys_in_slot: u64,
        now: u64,
    ) -> CmdResult<()> {
        if self.me().is_replica() {
            return Err("ERR Please use SETSLOT only with masters.".into());
        }
        let find = |unknown: &str| -> CmdResult<NodeName> {
            let name = node.unwrap_or_default();
            let n = self
                .lookup(name)
                .ok_or_else(|| format!("ERR {unknown} {}", String::from_utf8_lossy(name)))?;
            if n.is_replica() {
                return Err("ERR Target node is not a master".into());
            }
            Ok(n.name)
        };
        let action = action.to_ascii_lowercase();
        match (action.as_slice(), node.is_some()) {
            (b"migrating", true) => {
                if self.slots[slot as usize] != Some(self.myself) {
                    return Err(format!("ERR I'm not the owner of hash slot {slot}"));
                }
                let n = find("I don't know about node")?;
                self.migrating.insert(slot, n);
            }
            (b"importing", true) => {
                if self.slots[slot as usize] == Some(self.myself) {
                    return Err(format!("ERR I'm already the owner of hash slot {slot}"));
                }
                let n = find("I don't know about node")?;
                self.importing.insert(slot, n);
            }
            (b"stable", false) => {
                self.importing.remove(&slot);
                self.migrating.remove(&slot);
            }
            (b"node", true) => {
                let n = find("Unknown node")?;
                if self.slots[slot as usize] == Some(self.myself) && n != self.myself && keys_in_slot != 0 {
                    return Err(format!(
                        "ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot."
                    ));
                }
                if keys_in_slot == 0 {
                    self.migrating.remove(&slot);
                }
                self.del_slot(slot);
                self.add_slot(n, slot);
                if n == self.myself && self.importing.remove(&slot).is_some() {
                    // Claim the slot with an epoch nobody else has.
                    self.bump_epoch();
                    self.broadcast_pong(now);
                }
            }
            _ => {
                return Err(
                    "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP".into()
                )
            }
        }
        self.changed();
        Ok(())
    }

    /// Takes a new config epoch without asking the cluster, if ours is not
    /// already the only maximum (CLUSTER BUMPEPOCH). True when it bumped.
    pub fn bump_epoch(&mut self) -> bool {
        let max = self.nodes.values().map(|n| n.config_epoch).max().unwrap_or(0);
        let mine = self.me().config_epoch;
        let unique = self.nodes.values().filter(|n| n.config_epoch == max).count() == 1;
        if mine == 0 || mine != max || !unique {
            self.current_epoch += 1;
            let e = self.current_epoch;
            self.me_mut().config_epoch = e;
            self.changed();
            true
        } else {
            false
        }
    }

    /// CLUSTER SET-CONFIG-EPOCH.
    pub fn set_config_epoch(&mut self, epoch: i64) -> CmdResult<()> {
        if epoch < 0 {
            return Err(format!("ERR Invalid config epoch specified: {epoch}"));
        }
        if self.nodes.len() > 1 {
            return Err(
                "ERR The user can assign a config epoch only when the node does not know any other node."
                    .into(),
            );
        }
        if self.me().config_epoch != 0 {
            return Err("ERR Node config epoch is already non-zero".into());
        }
        self.me_mut().config_epoch = epoch as u64;
        if self.current_epoch < epoch as u64 {
            self.current_epoch = epoch as u64;
        }
        self.changed();
        Ok(())
    }

    /// CLUSTER FORGET.
    pub fn forget(&mut self, name: &[u8], now: u64) -> CmdResult<()> {
        let Some(n) = self.lookup(name) else {
            return Err(format!("ERR Unknown node {}", String::from_utf8_lossy(name)));
        };
        let n = n.name;
        if n == self.myself {
            return Err("ERR I tried hard but I can't forget myself...".into());
        }
        if self.me().is_replica() && self.me().master == Some(n) {
            return Err("ERR Can't forget my master!".into());
        }
        self.blacklist.insert(n, now + BLACKLIST_TTL);
        self.del_node(n);
        Ok(())
    }

    /// CLUSTER RESET (the caller checked a master's keyspace is empty): forget
    /// every other node and every slot; HARD also takes a new name and zeroes the epochs.
    pub fn reset(&mut self, hard: bool) {
        self.importing.clear();
        self.migrating.clear();
        let others: Vec<NodeName> = self.nodes.keys().copied().filter(|n| *n != self.myself).collect();
        for n in others {
            self.del_node(n);
        }
        self.del_node_slots(self.myself);
        let me = self.me_mut();
        me.flags = (me.flags & !(F::SLAVE | F::MIGRATE_TO)) | F::MASTER;
        me.master = None;
        if hard {
            self.current_epoch = 0;
            self.last_vote_epoch = 0;
            self.me_mut().config_epoch = 0;
            let new = random_name();
            self.rename_node(self.myself, new);
            self.myself = new;
            self.me_mut().shard_id = random_name();
        }
        self.changed();
    }

    /// The slots this node is migrating or importing, for the `[slot->-node]` marks.
    fn open_slots_text(&self) -> String {
        let mut s = String::new();
        for slot in 0..SLOT_COUNT as u16 {
            if let Some(n) = self.migrating.get(&slot) {
                s.push_str(&format!(" [{slot}->-{}]", name_str(n)));
            } else if let Some(n) = self.importing.get(&slot) {
                s.push_str(&format!(" [{slot}-<-{}]", name_str(n)));
            }
        }
        s
    }

    /// One line of CLUSTER NODES, without the newline. In nodes.conf
    /// (`aux`), the address field also carries Redis 7.2's auxiliary fields
    /// after the (possibly empty) hostname: here the shard id.
    pub fn node_line(&self, n: &Node, aux: bool) -> String {
        let mut line = String::with_capacity(128);
        line.push_str(n.name_str());
        line.push_str(&format!(" {}:{}@{}", n.ip, n.port, n.cport));
        if !n.hostname.is_empty() || aux {
            line.push(',');
            line.push_str(&n.hostname);
        }
        if aux {
            line.push_str(",shard-id=");
            line.push_str(name_str(&n.shard_id));
        }
        line.push(' ');
        line.push_str(&crate::node::flags_text(n.flags));
        line.push(' ');
        match n.master.filter(|_| n.is_replica()) {
            Some(m) => line.push_str(name_str(&m)),
            None => line.push('-'),
        }
        let epoch = match n.master.filter(|_| n.is_replica()).and_then(|m| self.nodes.get(&m)) {
            Some(m) => m.config_epoch,
            None => n.config_epoch,
        };
        let connected = n.link.is_some() || n.has(F::MYSELF);
        line.push_str(&format!(
            " {} {} {} {}",
            n.ping_sent,
            n.pong_received,
            epoch,
            if connected { "connected" } else { "disconnected" }
        ));
        for (a, b) in ranges(|s| n.owns(s)) {
            if a == b {
                line.push_str(&format!(" {a}"));
            } else {
                line.push_str(&format!(" {a}-{b}"));
            }
        }
        if n.has(F::MYSELF) {
            line.push_str(&self.open_slots_text());
        }
        line
    }

    /// CLUSTER NODES: one line per node, in a stable order (this node first).
    pub fn nodes_text(&self, include_handshake: bool) -> String {
        self.node_lines(include_handshake, false)
    }

    fn node_lines(&self, include_handshake: bool, aux: bool) -> String {
        let mut nodes: Vec<&Node> =
            self.nodes.values().filter(|n| include_handshake || !n.in_handshake()).collect();
        nodes.sort_by_key(|n| (!n.has(F::MYSELF), n.name));
        let mut out = String::new();
        for n in nodes {
            out.push_str(&self.node_line(n, aux));
            out.push('\n');
        }
        out
    }

    /// CLUSTER INFO.
    pub fn info_text(&self) -> String {
        let (mut assigned, mut ok, mut pfail, mut fail) = (0, 0, 0, 0);
        for n in self.slots.iter().flatten() {
            assigned += 1;
            match self.nodes.get(n) {
                Some(n) if n.failed() => fail += 1,
                Some(n) if n.timed_out() => pfail += 1,
                _ => ok += 1,
            }
        }
        let me = self.me();
        let my_epoch = match me.master.filter(|_| me.is_replica()).and_then(|m| self.nodes.get(&m)) {
            Some(m) => m.config_epoch,
            None => me.config_epoch,
        };
        let mut s = format!(
            "cluster_state:{}\r\ncluster_slots_assigned:{assigned}\r\ncluster_slots_ok:{ok}\r\n\
             cluster_slots_pfail:{pfail}\r\ncluster_slots_fail:{fail}\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\n\
             cluster_current_epoch:{}\r\ncluster_my_epoch:{my_epoch}\r\n",
            if self.ok { "ok" } else { "fail" },
            self.nodes.len(),
            self.size,
            self.current_epoch,
        );
        for (dir, stats) in [("sent", &self.stats_sent), ("received", &self.stats_received)] {
            let mut total = 0;
            for (i, &c) in stats.iter().enumerate() {
                if c > 0 {
                    total += c;
                    s.push_str(&format!("cluster_stats_messages_{}_{dir}:{c}\r\n", msg_type_name(i as u16)));
                }
            }
            s.push_str(&format!("cluster_stats_messages_{dir}:{total}\r\n"));
        }
        s.push_str("total_cluster_links_buffer_limit_exceeded:0\r\n");
        s
    }

    /// The contiguous slot ranges and their owners, ascending (CLUSTER SLOTS).
    pub fn slot_ranges(&self) -> Vec<(u16, u16, NodeName)> {
        let mut out: Vec<(u16, u16, NodeName)> = Vec::new();
        for (s, owner) in self.slots.iter().enumerate() {
            let Some(o) = owner else { continue };
            match out.last_mut() {
                Some((_, end, n)) if *n == *o && *end as usize + 1 == s => *end = s as u16,
                _ => out.push((s as u16, s as u16, *o)),
            }
        }
        out
    }

    /// The replicas of `master`.
    pub fn replicas_of(&self, master: NodeName) -> Vec<&Node> {
        let mut r: Vec<&Node> =
            self.nodes.values().filter(|n| n.is_replica() && n.master == Some(master)).collect();
        r.sort_by_key(|n| n.name);
        r
    }

    /// CLUSTER LINKS: (link, inbound, node, created ms) of the links whose node is known.
    pub fn links_info(&self) -> Vec<(LinkId, bool, NodeName, u64)> {
        let mut v: Vec<(LinkId, bool, NodeName, u64)> =
            self.links.iter().filter_map(|(&id, l)| l.node.map(|n| (id, l.inbound, n, l.ctime))).collect();
        v.sort_by_key(|&(_, inb, n, _)| (n, inb));
        v
    }

    // ----- nodes.conf -----

    /// The nodes.conf text: every node past its handshake, then the epochs.
    pub fn config_text(&self) -> String {
        let mut s = self.node_lines(false, true);
        s.push_str(&format!(
            "vars currentEpoch {} lastVoteEpoch {}\n",
            self.current_epoch, self.last_vote_epoch
        ));
        s
    }

    /// Loads a nodes.conf written by Shoal or Redis. `Err` names the bad line.
    pub fn load(text: &str, settings: Settings, now: u64) -> Result<Cluster, String> {
        let mut c = Cluster::new(settings, now);
        c.nodes.clear();
        let mut myself = None;
        for line in text.lines() {
            let argv: Vec<&str> = line.split_whitespace().collect();
            if argv.is_empty() {
                continue;
            }
            if argv[0] == "vars" {
                for kv in argv[1..].chunks(2) {
                    if let [k, v] = kv {
                        let v: u64 = v.parse().map_err(|_| format!("bad vars line: {line}"))?;
                        match *k {
                            "currentEpoch" => c.current_epoch = v,
                            "lastVoteEpoch" => c.last_vote_epoch = v,
                            _ => {}
                        }
                    }
                }
                continue;
            }
            if argv.len() < 8 {
                return Err(format!("Unrecoverable error: corrupted cluster config file \"{line}\"."));
            }
            let bad = || format!("Unrecoverable error: corrupted cluster config file \"{line}\".");
            let name: NodeName = argv[0].as_bytes().try_into().map_err(|_| bad())?;
            let n = c.nodes.entry(name).or_insert_with(|| Node::new(name, 0, now));
            // `ip:port@cport[,hostname[,key=value...]]`: Redis 7.0 writes the
            // hostname when there is one, 7.2 its auxiliary fields after it.
            let mut fields = argv[1].split(',');
            let addr = fields.next().unwrap_or_default();
            let host = fields.next().unwrap_or_default();
            for kv in fields {
                if let Some(id) = kv.strip_prefix("shard-id=") {
                    n.shard_id = id.as_bytes().try_into().map_err(|_| bad())?;
                }
            }
            let (hostport, cport) = addr.split_once('@').ok_or_else(bad)?;
            let (ip, port) = hostport.rsplit_once(':').ok_or_else(bad)?;
            n.ip = ip.to_string();
            n.port = port.parse().map_err(|_| bad())?;
            n.cport = cport.parse().map_err(|_| bad())?;
            n.hostname = host.to_string();
            n.flags = crate::node::parse_flags(argv[2]);
            if argv[3] != "-" {
                n.master = Some(argv[3].as_bytes().try_into().map_err(|_| bad())?);
            }
            if argv[4] != "0" {
                n.ping_sent = now;
            }
            if argv[5] != "0" {
                n.pong_received = now;
            }
            n.config_epoch = argv[6].parse().map_err(|_| bad())?;
            if n.has(F::MYSELF) {
                myself = Some(name);
            }
            for s in &argv[8..] {
                if let Some(inner) = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                    let (slot, dir, other) = if let Some((a, b)) = inner.split_once("->-") {
                        (a, true, b)
                    } else if let Some((a, b)) = inner.split_once("-<-") {
                        (a, false, b)
                    } else {
                        return Err(bad());
                    };
                    let slot: u16 = slot.parse().map_err(|_| bad())?;
                    let other: NodeName = other.as_bytes().try_into().map_err(|_| bad())?;
                    c.nodes.entry(other).or_insert_with(|| Node::new(other, 0, now));
                    if dir {
                        c.migrating.insert(slot, other);
                    } else {
                        c.importing.insert(slot, other);
                    }
                    continue;
                }
                let (a, b) = match s.split_once('-') {
                    Some((a, b)) => {
                        (a.parse::<u16>().map_err(|_| bad())?, b.parse::<u16>().map_err(|_| bad())?)
                    }
                    None => {
                        let a = s.parse::<u16>().map_err(|_| bad())?;
                        (a, a)
                    }
                };
                if b as usize >= SLOT_COUNT || a > b {
                    return Err(bad());
                }
                for slot in a..=b {
                    c.slots[slot as usize] = None;
                    c.add_slot(name, slot);
                }
            }
        }
        let myself = myself.ok_or("Unrecoverable error: no myself node in the cluster config file.")?;
        c.myself = myself;
        let me = c.me_mut();
        me.ping_sent = 0;
        me.pong_received = 0;
        let (port, cport, ip) = (c.settings.my_port(), c.settings.my_cport(), c.settings.announce_ip.clone());
        let me = c.me_mut();
        me.port = port;
        me.cport = cport;
        if !ip.is_empty() {
            me.ip = ip;
        }
        if c.nodes.values().any(|n| n.config_epoch > c.current_epoch) {
            c.current_epoch = c.nodes.values().map(|n| n.config_epoch).max().unwrap_or(0);
        }
        c.changed();
        Ok(c)
    }
}

/// The maximal runs of slots for which `owned` holds, as (first, last).
pub fn ranges(owned: impl Fn(u16) -> bool) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    let mut start = None;
    for s in 0..=SLOT_COUNT as u16 {
        let on = (s as usize) < SLOT_COUNT && owned(s);
        match (on, start) {
            (true, None) => start = Some(s),
            (false, Some(a)) => {
                out.push((a, s - 1));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The name CLUSTER INFO's statistics use for a message type.
pub fn msg_type_name(kind: u16) -> &'static str {
    match kind {
        T::PING => "ping",
        T::PONG => "pong",
        T::MEET => "meet",
        T::FAIL => "fail",
        T::PUBLISH => "publish",
        T::PUBLISHSHARD => "publishshard",
        T::FAILOVER_AUTH_REQUEST => "auth-req",
        T::FAILOVER_AUTH_ACK => "auth-ack",
        T::UPDATE => "update",
        T::MFSTART => "mfstart",
        T::MODULE => "module",
        _ => "unknown",
    }
}
