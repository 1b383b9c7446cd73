//! One known node of the cluster, as this node sees it.

use crate::bus::wire::{node_flags as F, NodeName, SlotBits};

/// An identifier the state machine gives each bus connection; the I/O layer
/// uses it to find the socket.
pub type LinkId = u64;

/// A node of the cluster (this node included, flagged `MYSELF`).
#[derive(Clone, Debug)]
pub struct Node {
    pub name: NodeName,
    pub ip: String,
    /// Client port, and cluster bus port.
    pub port: u16,
    pub cport: u16,
    /// Plaintext port when the client port is TLS (never, for Shoal nodes).
    pub pport: u16,
    pub hostname: String,
    pub flags: u16,
    /// The master of a replica.
    pub master: Option<NodeName>,
    /// When our unanswered PING was sent (ms), 0 when none is in flight.
    pub ping_sent: u64,
    pub pong_received: u64,
    /// When anything last arrived from this node.
    pub data_received: u64,
    pub config_epoch: u64,
    pub slots: Box<SlotBits>,
    pub numslots: usize,
    /// Masters that reported this node PFAIL or FAIL, and when.
    pub fail_reports: Vec<(NodeName, u64)>,
    pub fail_time: u64,
    /// When this node entry was created.
    pub ctime: u64,
    /// Our connection to its bus port, and its connection to ours.
    pub link: Option<LinkId>,
    pub inbound_link: Option<LinkId>,
    pub repl_offset: u64,
    /// When this node last voted for a replica of this master (ms).
    pub voted_time: u64,
    /// Since when this master has had no working replica (ms; 0: it has one).
    pub orphaned_time: u64,
    /// The shard this node belongs to (Redis 7.2's shard id): random for a
    /// new node, kept in nodes.conf. Redis 7.0's bus does not carry it, so
    /// only this node's own and those read from nodes.conf are known.
    pub shard_id: NodeName,
}

impl Node {
    pub fn new(name: NodeName, flags: u16, now: u64) -> Node {
        Node {
            name,
            ip: String::new(),
            port: 0,
            cport: 0,
            pport: 0,
            hostname: String::new(),
            flags,
            master: None,
            ping_sent: 0,
            pong_received: 0,
            data_received: 0,
            config_epoch: 0,
            slots: Box::new([0; 2048]),
            numslots: 0,
            fail_reports: Vec::new(),
            fail_time: 0,
            ctime: now,
            link: None,
            inbound_link: None,
            repl_offset: 0,
            voted_time: 0,
            orphaned_time: 0,
            shard_id: random_name(),
        }
    }

    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    pub fn is_master(&self) -> bool {
        self.has(F::MASTER)
    }

    pub fn is_replica(&self) -> bool {
        self.has(F::SLAVE)
    }

    pub fn in_handshake(&self) -> bool {
        self.has(F::HANDSHAKE)
    }

    pub fn timed_out(&self) -> bool {
        self.has(F::PFAIL)
    }

    pub fn failed(&self) -> bool {
        self.has(F::FAIL)
    }

    pub fn owns(&self, slot: u16) -> bool {
        self.slots[slot as usize / 8] & (1 << (slot % 8)) != 0
    }

    pub fn name_str(&self) -> &str {
        name_str(&self.name)
    }
}

/// A node name as text (names are 40 hex digits).
pub fn name_str(name: &NodeName) -> &str {
    std::str::from_utf8(name).unwrap_or("????????????????????????????????????????")
}

/// A node name from text, if it is 40 bytes long.
pub fn parse_name(s: &[u8]) -> Option<NodeName> {
    s.try_into().ok()
}

/// A fresh random node name: 40 lowercase hex digits, as Redis makes them.
pub fn random_name() -> NodeName {
    let mut name = [0u8; 40];
    for b in name.iter_mut() {
        *b = b"0123456789abcdef"[fastrand::usize(..16)];
    }
    name
}

/// Redis's `flags` field of CLUSTER NODES and nodes.conf.
pub fn flags_text(flags: u16) -> String {
    const TABLE: [(u16, &str); 8] = [
        (F::MYSELF, "myself"),
        (F::MASTER, "master"),
        (F::SLAVE, "slave"),
        (F::PFAIL, "fail?"),
        (F::FAIL, "fail"),
        (F::HANDSHAKE, "handshake"),
        (F::NOADDR, "noaddr"),
        (F::NOFAILOVER, "nofailover"),
    ];
    let names: Vec<&str> = TABLE.iter().filter(|(f, _)| flags & f != 0).map(|(_, n)| *n).collect();
    if names.is_empty() {
        "noflags".into()
    } else {
        names.join(",")
    }
}

/// The flags named in a nodes.conf `flags` field (unknown names are ignored,
/// as Redis ignores them).
pub fn parse_flags(text: &str) -> u16 {
    text.split(',')
        .map(|f| match f {
            "myself" => F::MYSELF,
            "master" => F::MASTER,
            "slave" => F::SLAVE,
            "fail?" => F::PFAIL,
            "fail" => F::FAIL,
            "handshake" => F::HANDSHAKE,
            "noaddr" => F::NOADDR,
            "nofailover" => F::NOFAILOVER,
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip() {
        let f = F::MYSELF | F::MASTER | F::PFAIL;
        assert_eq!(flags_text(f), "myself,master,fail?");
        assert_eq!(parse_flags(&flags_text(f)), f);
        assert_eq!(flags_text(0), "noflags");
        assert_eq!(parse_flags("noflags"), 0);
    }

    #[test]
    fn random_names_are_hex() {
        let n = random_name();
        assert!(n.iter().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(random_name(), n);
    }
}
