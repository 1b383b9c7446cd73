//! The part of the cluster state that every core needs to route a command:
//! who serves each slot, where to redirect, and whether the cluster is up.
//! The bus core builds one after each change and hands every core a copy.

use crate::node::Node;
use crate::state::Cluster;
use crate::SLOT_COUNT;
use std::collections::{HashMap, HashSet};

const NONE: u16 = u16::MAX;

#[derive(Clone, Debug)]
pub struct Routes {
    pub ok: bool,
    pub allow_reads_when_down: bool,
    pub allow_pubsubshard_when_down: bool,
    owner: Box<[u16; SLOT_COUNT]>,
    /// `ip:port` of each node that serves slots (or is a migration target).
    addrs: Vec<String>,
    /// This node's index in `addrs`, and its master's when it is a replica.
    me: u16,
    my_master: u16,
    migrating: HashMap<u16, u16>,
    importing: HashSet<u16>,
}

/// Where a slot's commands go.
#[derive(Debug, PartialEq, Eq)]
pub enum Owner<'a> {
    Me,
    /// Another node, at `ip:port`.
    Other(&'a str),
    Unbound,
}

impl Routes {
    pub fn build(c: &Cluster) -> Routes {
        let mut index: HashMap<[u8; 40], u16> = HashMap::new();
        let mut addrs = Vec::new();
        let mut idx = |n: &Node| {
            *index.entry(n.name).or_insert_with(|| {
                addrs.push(format!("{}:{}", n.ip, n.port));
                (addrs.len() - 1) as u16
            })
        };
        let mut owner = Box::new([NONE; SLOT_COUNT]);
        // From each owner's slot bitmap (which the state keeps in step with
        // `c.slots`): 2 KB per node rather than 16384 names of 40 bytes,
        // which took most of the 65-100 us a CLUSTER SETSLOT spent here.
        for n in c.nodes.values().filter(|n| n.numslots > 0) {
            let i = idx(n);
            for (byte, &bits) in n.slots.iter().enumerate().filter(|(_, b)| **b != 0) {
                for bit in 0..8 {
                    if bits & (1 << bit) != 0 {
                        owner[byte * 8 + bit] = i;
                    }
                }
            }
        }
        let me = idx(c.me());
        let my_master = match c.me().master.and_then(|m| c.nodes.get(&m)) {
            Some(m) if c.me().is_replica() => idx(m),
            _ => NONE,
        };
        let migrating =
            c.migrating.iter().filter_map(|(&s, n)| c.nodes.get(n).map(|n| (s, idx(n)))).collect();
        Routes {
            ok: c.ok,
            allow_reads_when_down: c.settings.allow_reads_when_down,
            allow_pubsubshard_when_down: c.settings.allow_pubsubshard_when_down,
            owner,
            addrs,
            me,
            my_master,
            migrating,
            importing: c.importing.keys().copied().collect(),
        }
    }

    pub fn owner(&self, slot: u16) -> Owner<'_> {
        match self.owner[slot as usize] {
            NONE => Owner::Unbound,
            i if i == self.me => Owner::Me,
            i => Owner::Other(&self.addrs[i as usize]),
        }
    }

    /// Whether `slot` is served by this node's master (for READONLY replicas).
    pub fn served_by_my_master(&self, slot: u16) -> bool {
        self.my_master != NONE && self.owner[slot as usize] == self.my_master
    }

    /// The address of the node `slot` is migrating to, when this node is moving it away.
    pub fn migrating_to(&self, slot: u16) -> Option<&str> {
        self.migrating.get(&slot).map(|&i| self.addrs[i as usize].as_str())
    }

    /// Whether this node is migrating any slot.
    pub fn migrating_any(&self) -> bool {
        !self.migrating.is_empty()
    }

    pub fn importing(&self, slot: u16) -> bool {
        self.importing.contains(&slot)
    }
}
