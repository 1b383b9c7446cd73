//! Replicas and failover, with Redis 7.0's rules: CLUSTER REPLICATE, the
//! election a replica of a FAIL master runs (its delay by rank, the
//! FAILOVER_AUTH_REQUEST it broadcasts, the ACKs it counts), the one vote
//! per epoch a master gives, the promotion, manual failover (CLUSTER
//! FAILOVER [FORCE|TAKEOVER] and the MFSTART handshake), and a master that
//! lost its slots to a newer epoch turning into a replica of their owner.
//!
//! Which master this node replicates is part of the state (`myself`'s
//! `master`); the server starts or stops the replication link to follow it
//! (see [`Cluster::replication_target`]).

use super::*;
use crate::bus::wire::mflags0;

/// How long a master must have been orphaned before a replica moves to it
/// (CLUSTER_SLAVE_MIGRATION_DELAY): its own replicas may be switching to it.
const MIGRATION_DELAY: u64 = 5000;

/// How long a manual failover may take, and how long a master pauses its
/// writes for one (Redis's CLUSTER_MF_TIMEOUT and CLUSTER_MF_PAUSE_MULT).
pub const MF_TIMEOUT: u64 = 5000;
const MF_PAUSE_MULT: u64 = 2;

/// A replica's election (Redis's `failover_auth_*`).
#[derive(Default, Debug)]
pub struct Election {
    /// When the election starts, or started; 0 when none was ever planned.
    pub auth_time: u64,
    /// Votes received for `auth_epoch`.
    pub auth_count: usize,
    pub auth_sent: bool,
    pub auth_rank: usize,
    pub auth_epoch: u64,
}

/// A manual failover in progress (Redis's `mf_*`).
#[derive(Default, Debug)]
pub struct ManualFailover {
    /// When it is abandoned; 0 when none is in progress.
    pub end: u64,
    /// Replica side: the election may start.
    pub can_start: bool,
    /// Replica side: the master's offset once its writes were paused.
    pub master_offset: Option<u64>,
    /// Master side: the replica taking over.
    pub replica: Option<NodeName>,
    /// Master side: writes are paused and everything written before the
    /// pause is in the stream, so the offset this node announces is final.
    pub paused: bool,
}

impl Cluster {
    /// Where this node's replication link must point: its master's client
    /// address while it is a replica of a node with an address.
    pub fn replication_target(&self) -> Option<(String, u16)> {
        let me = self.me();
        let master = me.master.filter(|_| me.is_replica()).and_then(|m| self.nodes.get(&m))?;
        (!master.ip.is_empty() && master.port != 0 && !master.has(F::NOADDR))
            .then(|| (master.ip.clone(), master.port))
    }

    /// What the server's replication tells the bus: this node's offset
    /// (carried in every header), and how long ago its master was last heard
    /// from (ms; how stale a replica's data may be to fail over).
    pub fn set_replication(&mut self, offset: u64, data_age: u64) {
        self.me_mut().repl_offset = offset;
        self.repl_data_age = data_age;
    }

    /// CLUSTER REPLICATE. `keys` is how many keys this node holds in db 0.
    pub fn replicate(&mut self, name: &[u8], keys: u64) -> CmdResult<()> {
        let Some(n) = self.lookup(name) else {
            return Err(format!("ERR Unknown node {}", String::from_utf8_lossy(name)));
        };
        if n.name == self.myself {
            return Err("ERR Can't replicate myself".into());
        }
        if n.is_replica() {
            return Err("ERR I can only replicate a master, not a replica.".into());
        }
        let n = n.name;
        let me = self.me();
        if me.is_master() && (me.numslots != 0 || keys != 0) {
            return Err("ERR To set a master the node must be empty and without assigned slots.".into());
        }
        self.set_master(n);
        Ok(())
    }

    /// Makes this node a replica of `master` (Redis's clusterSetMaster).
    pub(super) fn set_master(&mut self, master: NodeName) {
        let me = self.me_mut();
        if me.is_master() {
            me.flags = (me.flags & !(F::MASTER | F::MIGRATE_TO)) | F::SLAVE;
            self.importing.clear();
            self.migrating.clear();
        }
        self.me_mut().master = Some(master);
        if let Some(m) = self.nodes.get_mut(&master) {
            m.flags |= F::MIGRATE_TO;
        }
        self.reset_manual_failover();
        self.changed();
    }

    /// CLUSTER REPLICAS / SLAVES: the CLUSTER NODES lines of `name`'s replicas.
    pub fn replicas_text(&self, name: &[u8]) -> CmdResult<Vec<String>> {
        let Some(n) = self.lookup(name) else {
            return Err(format!("ERR Unknown node {}", String::from_utf8_lossy(name)));
        };
        if n.is_replica() {
            return Err("ERR The specified node is not a master".into());
        }
        Ok(self.replicas_of(n.name).into_iter().map(|r| self.node_line(r, false)).collect())
    }

    /// CLUSTER FAILOVER [FORCE|TAKEOVER].
    pub fn failover(&mut self, force: bool, takeover: bool, now: u64) -> CmdResult<()> {
        let me = self.me();
        if me.is_master() {
            return Err("ERR You should send CLUSTER FAILOVER to a replica".into());
        }
        let Some(master) = me.master.and_then(|m| self.nodes.get(&m)) else {
            return Err("ERR I'm a replica but my master is unknown to me".into());
        };
        if !force && (master.failed() || master.link.is_none()) {
            return Err("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE".into());
        }
        let link = master.link;
        self.reset_manual_failover();
        self.mf.end = now + MF_TIMEOUT;
        if takeover {
            tracing::warn!("Taking over the master (user request).");
            self.bump_epoch_without_consensus();
            self.replace_my_master(now);
        } else if force {
            tracing::warn!("Forced failover user request accepted.");
            self.mf.can_start = true;
        } else {
            tracing::warn!("Manual failover user request accepted.");
            if let Some(link) = link {
                let msg = Message { header: self.header(T::MFSTART), body: Body::Empty };
                self.send(link, &msg);
            }
        }
        Ok(())
    }

    /// A new config epoch without asking anyone, unless ours is already the
    /// greatest (clusterBumpConfigEpochWithoutConsensus).
    fn bump_epoch_without_consensus(&mut self) {
        let max = self.nodes.values().map(|n| n.config_epoch).max().unwrap_or(0).max(self.current_epoch);
        let mine = self.me().config_epoch;
        if mine == 0 || mine != max {
            self.current_epoch += 1;
            let e = self.current_epoch;
            self.me_mut().config_epoch = e;
            self.changed();
            tracing::warn!("New configEpoch set to {e}");
        }
    }

    /// Ends any manual failover; a master that paused its writes for one
    /// resumes them.
    pub(super) fn reset_manual_failover(&mut self) {
        if self.mf.replica.is_some() {
            self.effects.push(Effect::ResumeWrites);
        }
        self.mf = ManualFailover::default();
    }

    /// The master side has paused its writes for the manual failover and its
    /// stream holds everything written before: announce the offset.
    pub fn writes_paused(&mut self, now: u64) {
        if self.mf.end == 0 || !self.me().is_master() {
            return;
        }
        let Some(link) = self.mf.replica.and_then(|r| self.nodes.get(&r)).and_then(|r| r.link) else {
            return;
        };
        self.mf.paused = true;
        self.send_ping(link, T::PING, now);
    }

    /// The `mflags[0]` this node's headers carry.
    pub(super) fn header_mflags(&self) -> u8 {
        if self.me().is_master() && self.mf.end != 0 && self.mf.paused {
            mflags0::PAUSED
        } else {
            0
        }
    }

    /// After the header's epochs and offset were taken: a replica in a manual
    /// failover learns the offset its paused master stopped at.
    pub(super) fn note_master_offset(&mut self, sender: NodeName, h: &Header) {
        let me = self.me();
        if self.mf.end != 0
            && me.is_replica()
            && me.master == Some(sender)
            && h.mflags[0] & mflags0::PAUSED != 0
            && self.mf.master_offset.is_none()
        {
            self.mf.master_offset = Some(h.offset);
            tracing::warn!("Received replication offset for paused master manual failover: {}", h.offset);
        }
    }

    /// FAILOVER_AUTH_REQUEST from `sender`: vote for it if Redis would.
    pub(super) fn on_auth_request(&mut self, sender: NodeName, h: &Header, now: u64) {
        let me = self.me();
        if me.is_replica() || me.numslots == 0 {
            return;
        }
        let who = name_str(&sender).to_string();
        if h.current_epoch < self.current_epoch {
            tracing::warn!(
                "Failover auth denied to {who}: reqEpoch ({}) < curEpoch({})",
                h.current_epoch,
                self.current_epoch
            );
            return;
        }
        if self.last_vote_epoch == self.current_epoch {
            tracing::warn!("Failover auth denied to {who}: already voted for epoch {}", self.current_epoch);
            return;
        }
        let node = &self.nodes[&sender];
        let force = h.mflags[0] & mflags0::FORCEACK != 0;
        let master = node.master.filter(|_| node.is_replica()).and_then(|m| self.nodes.get(&m));
        let Some(master) = master else {
            if node.is_master() {
                tracing::warn!("Failover auth denied to {who}: it is a master node");
            } else {
                tracing::warn!("Failover auth denied to {who}: I don't know its master");
            }
            return;
        };
        if !master.failed() && !force {
            tracing::warn!("Failover auth denied to {who}: its master is up");
            return;
        }
        let wait = self.settings.node_timeout * 2;
        if master.voted_time != 0 && now.saturating_sub(master.voted_time) < wait {
            tracing::warn!(
                "Failover auth denied to {who}: can't vote about this master before {} milliseconds",
                wait - now.saturating_sub(master.voted_time)
            );
            return;
        }
        for j in 0..SLOT_COUNT as u16 {
            if !wire::slot_get(&h.myslots, j) {
                continue;
            }
            let Some(owner) = self.slots[j as usize].and_then(|o| self.nodes.get(&o)) else { continue };
            if owner.config_epoch > h.config_epoch {
                tracing::warn!(
                    "Failover auth denied to {who}: slot {j} epoch ({}) > reqEpoch ({})",
                    owner.config_epoch,
                    h.config_epoch
                );
                return;
            }
        }
        let master = master.name;
        self.last_vote_epoch = self.current_epoch;
        self.nodes.get_mut(&master).expect("present").voted_time = now;
        self.save_pending = true;
        if let Some(link) = self.nodes[&sender].link {
            let msg = Message { header: self.header(T::FAILOVER_AUTH_ACK), body: Body::Empty };
            self.send(link, &msg);
        }
        tracing::warn!("Failover auth granted to {who} for epoch {}", self.current_epoch);
    }

    /// FAILOVER_AUTH_ACK: a vote, if it comes from a master with slots and
    /// is for this election.
    pub(super) fn on_auth_ack(&mut self, sender: NodeName, h: &Header, now: u64) {
        let n = &self.nodes[&sender];
        if n.is_master() && n.numslots > 0 && h.current_epoch >= self.election.auth_epoch {
            self.election.auth_count += 1;
            self.handle_replica_failover(now);
        }
    }

    /// MFSTART from one of this master's replicas: pause writes, and once
    /// the server reports them paused ([`Cluster::writes_paused`]), tell the
    /// replica the offset to reach.
    pub(super) fn on_mfstart(&mut self, sender: NodeName, now: u64) {
        let n = &self.nodes[&sender];
        if !(n.is_replica() && n.master == Some(self.myself)) {
            return;
        }
        self.reset_manual_failover();
        self.mf.end = now + MF_TIMEOUT;
        self.mf.replica = Some(sender);
        self.effects.push(Effect::PauseWrites { until: now + MF_TIMEOUT * MF_PAUSE_MULT });
        tracing::warn!("Manual failover requested by replica {}.", name_str(&sender));
    }

    /// `cluster-replica-no-failover` shows as this node's `nofailover` flag
    /// (Redis's clusterUpdateMyselfFlags), which other replicas' ranks skip.
    pub fn update_myself_flags(&mut self) {
        let nofailover = if self.settings.replica_no_failover { F::NOFAILOVER } else { 0 };
        let me = self.me_mut();
        if me.flags & F::NOFAILOVER != nofailover {
            me.flags = (me.flags & !F::NOFAILOVER) | nofailover;
            self.save_pending = true;
        }
    }

    /// The replica's part of each cron tick: the manual failover's progress,
    /// then the election.
    pub(super) fn failover_cron(&mut self, now: u64) {
        self.update_myself_flags();
        if self.mf.end != 0 && self.mf.end < now {
            tracing::warn!("Manual failover timed out.");
            self.reset_manual_failover();
        }
        if self.me().is_master() {
            // A master in a manual failover keeps its replica posted.
            if self.mf.paused {
                if let Some(link) = self.mf.replica.and_then(|r| self.nodes.get(&r)).and_then(|r| r.link) {
                    self.send_ping(link, T::PING, now);
                }
            }
            return;
        }
        if self.mf.end != 0 && !self.mf.can_start && self.mf.master_offset == Some(self.me().repl_offset) {
            tracing::warn!("All master replication stream processed, manual failover can start.");
            self.mf.can_start = true;
        }
        self.handle_replica_failover(now);
        self.replica_migration(now);
    }

    /// The replicas of `master` not flagged FAIL.
    fn working_replicas(&self, master: NodeName) -> usize {
        self.replicas_of(master).iter().filter(|r| !r.failed()).count()
    }

    /// Redis's replica migration: a master left without working replicas
    /// (that had some, `MIGRATE_TO`) for five seconds gets one from a master
    /// with the most, if that one keeps more than `cluster-migration-barrier`:
    /// the replica with the smallest name among those masters' moves.
    fn replica_migration(&mut self, now: u64) {
        if !self.settings.allow_replica_migration || !self.ok {
            return;
        }
        let Some(my_master) = self.me().master else { return };
        let (mut orphaned, mut max_replicas, mut mine) = (false, 0, 0);
        for n in self.nodes.values() {
            if n.has(F::MYSELF | F::NOADDR | F::HANDSHAKE) || !n.is_master() || n.failed() {
                continue;
            }
            let ok = self.working_replicas(n.name);
            orphaned |= ok == 0 && n.numslots > 0 && n.has(F::MIGRATE_TO);
            max_replicas = max_replicas.max(ok);
            if n.name == my_master {
                mine = ok;
            }
        }
        if !orphaned || max_replicas < 2 || mine != max_replicas {
            return;
        }
        let staying = self.replicas_of(my_master).iter().filter(|r| !r.has(F::FAIL | F::PFAIL)).count();
        if staying as u64 <= self.settings.migration_barrier {
            return;
        }
        let mut target = None;
        let mut candidate = self.myself;
        let names: Vec<NodeName> = self.nodes.keys().copied().collect();
        for name in names {
            let n = &self.nodes[&name];
            let ok = if n.is_master() { self.working_replicas(name) } else { 0 };
            let is_orphaned = n.is_master() && !n.failed() && n.has(F::MIGRATE_TO) && ok == 0;
            if ok == max_replicas {
                for r in self.replicas_of(name) {
                    candidate = candidate.min(r.name);
                }
            }
            let n = self.nodes.get_mut(&name).expect("present");
            if is_orphaned {
                if target.is_none() && n.numslots > 0 {
                    target = Some(name);
                }
                if n.orphaned_time == 0 {
                    n.orphaned_time = now;
                }
            } else {
                n.orphaned_time = 0;
            }
        }
        let Some(target) = target else { return };
        if candidate == self.myself && now.saturating_sub(self.nodes[&target].orphaned_time) > MIGRATION_DELAY
        {
            tracing::warn!("Migrating to orphaned master {}", name_str(&target));
            self.set_master(target);
        }
    }

    /// How many other replicas of this node's master have a greater offset.
    fn replica_rank(&self) -> usize {
        let me = self.me();
        let Some(master) = me.master else { return 0 };
        self.replicas_of(master)
            .iter()
            .filter(|r| r.name != self.myself && !r.has(F::NOFAILOVER) && r.repl_offset > me.repl_offset)
            .count()
    }

    /// Redis's clusterHandleSlaveFailover: when this replica's master is
    /// FAIL (or a manual failover may start), plan an election after a delay
    /// of 500 ms, up to 500 ms more at random, and a second per better
    /// replica; then ask the masters for their votes, and with a majority
    /// take the master's slots.
    fn handle_replica_failover(&mut self, now: u64) {
        let timeout = self.settings.node_timeout;
        let quorum = self.size / 2 + 1;
        let manual = self.mf.end != 0 && self.mf.can_start;
        let auth_timeout = (timeout * 2).max(2000);
        let auth_retry = auth_timeout * 2;
        let me = self.me();
        let Some(master) = me.master.filter(|_| me.is_replica()).and_then(|m| self.nodes.get(&m)) else {
            return;
        };
        if (!manual && (!master.failed() || self.settings.replica_no_failover)) || master.numslots == 0 {
            return;
        }
        let mut data_age = self.repl_data_age;
        if data_age > timeout {
            data_age -= timeout;
        }
        let factor = self.settings.replica_validity_factor;
        if factor != 0 && data_age > self.settings.repl_ping_period * 1000 + timeout * factor && !manual {
            return;
        }
        let auth_age = now as i64 - self.election.auth_time as i64;
        if auth_age > auth_retry as i64 {
            let rank = self.replica_rank();
            let e = &mut self.election;
            e.auth_time = now + 500 + fastrand::u64(..500) + rank as u64 * 1000;
            e.auth_count = 0;
            e.auth_sent = false;
            e.auth_rank = rank;
            if self.mf.end != 0 {
                e.auth_time = now;
                e.auth_rank = 0;
            }
            let (delay, rank) = (e.auth_time - now, e.auth_rank);
            tracing::warn!(
                "Start of election delayed for {delay} milliseconds (rank #{rank}, offset {}).",
                self.me().repl_offset
            );
            // Other replicas of the same master learn this offset now.
            let siblings: Vec<LinkId> = self
                .replicas_of(master.name)
                .iter()
                .filter(|r| r.name != self.myself)
                .filter_map(|r| r.link)
                .collect();
            for l in siblings {
                self.send_ping(l, T::PONG, now);
            }
            if self.mf.end == 0 {
                return;
            }
        }
        if !self.election.auth_sent && self.mf.end == 0 {
            let rank = self.replica_rank();
            if rank > self.election.auth_rank {
                let added = (rank - self.election.auth_rank) as u64 * 1000;
                self.election.auth_time += added;
                self.election.auth_rank = rank;
                tracing::warn!("Replica rank updated to #{rank}, added {added} milliseconds of delay.");
            }
        }
        if now < self.election.auth_time {
            return;
        }
        if now - self.election.auth_time > auth_timeout {
            return;
        }
        if !self.election.auth_sent {
            self.current_epoch += 1;
            self.election.auth_epoch = self.current_epoch;
            self.election.auth_sent = true;
            tracing::warn!("Starting a failover election for epoch {}.", self.current_epoch);
            let mut header = self.header(T::FAILOVER_AUTH_REQUEST);
            if self.mf.end != 0 {
                header.mflags[0] |= mflags0::FORCEACK;
            }
            self.broadcast(&Message { header, body: Body::Empty });
            self.save_pending = true;
            return;
        }
        if self.election.auth_count >= quorum {
            tracing::warn!("Failover election won: I'm the new master.");
            if self.me().config_epoch < self.election.auth_epoch {
                let e = self.election.auth_epoch;
                self.me_mut().config_epoch = e;
                tracing::warn!("configEpoch set to {e} after successful failover");
            }
            self.replace_my_master(now);
        }
    }

    /// The end of every failover: this replica becomes a master, takes its
    /// master's slots and tells everyone (clusterFailoverReplaceYourMaster).
    fn replace_my_master(&mut self, now: u64) {
        let me = self.me();
        let Some(old) = me.master.filter(|_| me.is_replica()) else { return };
        let me = self.me_mut();
        me.flags = (me.flags & !F::SLAVE) | F::MASTER;
        me.master = None;
        let slots: Vec<u16> =
            (0..SLOT_COUNT as u16).filter(|&s| self.nodes.get(&old).is_some_and(|n| n.owns(s))).collect();
        for s in slots {
            self.del_slot(s);
            self.add_slot(self.myself, s);
        }
        self.changed();
        self.update_state(now);
        self.broadcast_pong(now);
        self.reset_manual_failover();
    }
}
