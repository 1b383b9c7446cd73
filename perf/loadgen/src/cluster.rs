//! A client's view of a Redis Cluster: which master serves each slot (from
//! `CLUSTER SLOTS`, corrected by MOVED replies), and the redirections a
//! server answers with. Knows nothing of sockets beyond asking a `Control`.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use anyhow::{bail, Context};
use redis::Value;

use crate::control::Control;
use crate::keys::SLOTS;

/// The masters and the slot-to-master map. Node indices never change once
/// given, so connections can be kept per index across refreshes.
#[derive(Clone, Debug)]
pub struct Topology {
    pub nodes: Vec<SocketAddr>,
    /// Index in `nodes` of each slot's master; `UNASSIGNED` if none.
    owner: Vec<u16>,
}

pub const UNASSIGNED: u16 = u16::MAX;

impl Topology {
    /// A topology of no nodes and no assigned slot.
    pub fn empty() -> Topology {
        Topology { nodes: Vec::new(), owner: vec![UNASSIGNED; SLOTS] }
    }

    /// Asks `ctl`'s node for the slots of every master (`CLUSTER SLOTS`).
    pub fn fetch(ctl: &mut Control) -> anyhow::Result<Topology> {
        let reply = ctl.call(&[b"CLUSTER", b"SLOTS"]).context("CLUSTER SLOTS")?;
        // A node whose address it does not know answers an empty one (or
        // "?"); that node is the one we asked.
        let asked = ctl.peer()?.ip();
        let mut topo = Topology::empty();
        for (start, end, addr) in parse_slots(&reply, asked)? {
            let node = topo.index_of(addr);
            topo.owner[usize::from(start)..=usize::from(end)].fill(node);
        }
        if topo.nodes.is_empty() {
            bail!("the cluster has no slot assigned");
        }
        Ok(topo)
    }

    /// The index of `addr` in `nodes`, adding it if it is new.
    pub fn index_of(&mut self, addr: SocketAddr) -> u16 {
        match self.nodes.iter().position(|&a| a == addr) {
            Some(i) => i as u16,
            None => {
                self.nodes.push(addr);
                (self.nodes.len() - 1) as u16
            }
        }
    }

    /// The master of `slot`, or `UNASSIGNED`.
    #[inline]
    pub fn owner(&self, slot: u16) -> u16 {
        self.owner[usize::from(slot)]
    }

    pub fn set_owner(&mut self, slot: u16, node: u16) {
        self.owner[usize::from(slot)] = node;
    }

    /// Takes the slot map of `fresh`, keeping this topology's node indices.
    pub fn update(&mut self, fresh: &Topology) {
        for slot in 0..SLOTS {
            let node = fresh.owner[slot];
            self.owner[slot] =
                if node == UNASSIGNED { UNASSIGNED } else { self.index_of(fresh.nodes[usize::from(node)]) };
        }
    }
}

/// (first slot, last slot, master address) of each range of a `CLUSTER
/// SLOTS` reply: `[[start, end, [ip, port, id, ...], replicas...], ...]`.
fn parse_slots(reply: &Value, asked: IpAddr) -> anyhow::Result<Vec<(u16, u16, SocketAddr)>> {
    let Value::Array(ranges) = reply else { bail!("CLUSTER SLOTS: not an array") };
    let mut out = Vec::with_capacity(ranges.len());
    for range in ranges {
        let (start, end, master) = match range.as_sequence() {
            Some([Value::Int(start), Value::Int(end), master, ..]) => (*start, *end, master),
            _ => bail!("CLUSTER SLOTS: malformed range {range:?}"),
        };
        let (host, port) = match master.as_sequence() {
            Some([host, Value::Int(port), ..]) => (text(host), *port),
            _ => bail!("CLUSTER SLOTS: malformed node {master:?}"),
        };
        let slots = 0..SLOTS as i64;
        if !slots.contains(&start) || !slots.contains(&end) || start > end {
            bail!("CLUSTER SLOTS: bad range {start}-{end}");
        }
        let port = u16::try_from(port).context("CLUSTER SLOTS: bad port")?;
        let addr = resolve(host.as_deref().unwrap_or(""), port, asked)
            .with_context(|| format!("CLUSTER SLOTS: cannot resolve {host:?}"))?;
        out.push((start as u16, end as u16, addr));
    }
    Ok(out)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// The address of `host:port`; an empty or unknown ("?") host is `asked`.
pub fn resolve(host: &str, port: u16, asked: IpAddr) -> Option<SocketAddr> {
    if host.is_empty() || host == "?" {
        return Some(SocketAddr::new(asked, port));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    (host, port).to_socket_addrs().ok()?.next()
}

/// Where a server sent a request instead of serving it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirect<'a> {
    /// The slot lives elsewhere for good: update the map and resend there.
    Moved { slot: u16, host: &'a str, port: u16 },
    /// The slot is migrating: resend there once, preceded by ASKING.
    Ask { slot: u16, host: &'a str, port: u16 },
}

/// Parses "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>".
pub fn parse_redirect(error: &[u8]) -> Option<Redirect<'_>> {
    let text = std::str::from_utf8(error).ok()?;
    let mut words = text.split(' ');
    let kind = words.next()?;
    let slot: u16 = words.next()?.parse().ok().filter(|&s| usize::from(s) < SLOTS)?;
    // The host may be an IPv6 address: the port follows the last colon.
    let (host, port) = words.next()?.rsplit_once(':')?;
    let port = port.parse().ok()?;
    match kind {
        "MOVED" => Some(Redirect::Moved { slot, host, port }),
        "ASK" => Some(Redirect::Ask { slot, host, port }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn redirects() {
        assert_eq!(
            parse_redirect(b"MOVED 3999 127.0.0.1:6381"),
            Some(Redirect::Moved { slot: 3999, host: "127.0.0.1", port: 6381 })
        );
        assert_eq!(
            parse_redirect(b"ASK 1 ::1:7000"),
            Some(Redirect::Ask { slot: 1, host: "::1", port: 7000 })
        );
        assert_eq!(parse_redirect(b"MOVED 1 :7000"), Some(Redirect::Moved { slot: 1, host: "", port: 7000 }));
        assert_eq!(parse_redirect(b"MOVED 16384 127.0.0.1:1"), None);
        assert_eq!(parse_redirect(b"ERR unknown command"), None);
        assert_eq!(parse_redirect(b"MOVED x 127.0.0.1:1"), None);
        assert_eq!(parse_redirect(b"MOVED 1"), None);
    }

    #[test]
    fn cluster_slots_reply() {
        let local = IpAddr::from([127, 0, 0, 1]);
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                Value::Array(vec![bulk("127.0.0.1"), Value::Int(30001), bulk("id1"), Value::Array(vec![])]),
                Value::Array(vec![bulk("127.0.0.1"), Value::Int(30004), bulk("id4")]),
            ]),
            Value::Array(vec![
                Value::Int(5461),
                Value::Int(16383),
                Value::Array(vec![bulk(""), Value::Int(30002), bulk("id2")]),
            ]),
        ]);
        let ranges = parse_slots(&reply, local).unwrap();
        assert_eq!(
            ranges,
            [(0, 5460, SocketAddr::new(local, 30001)), (5461, 16383, SocketAddr::new(local, 30002))]
        );
        assert!(parse_slots(&Value::Int(1), local).is_err());
        let bad = Value::Array(vec![Value::Array(vec![Value::Int(0), Value::Int(16384), Value::Nil])]);
        assert!(parse_slots(&bad, local).is_err());
    }

    #[test]
    fn update_keeps_node_indices() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let mut mine = Topology::empty();
        mine.index_of(a);
        mine.set_owner(0, 0);
        let mut fresh = Topology::empty();
        fresh.index_of(b);
        fresh.index_of(a);
        fresh.set_owner(0, 0);
        fresh.set_owner(1, 1);
        mine.update(&fresh);
        assert_eq!(mine.nodes, [a, b]);
        assert_eq!((mine.owner(0), mine.owner(1), mine.owner(2)), (1, 0, UNASSIGNED));
    }
}
