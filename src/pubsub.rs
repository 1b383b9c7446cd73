//! Publish/subscribe across cores.
//!
//! A subscription lives on the core of the subscribing connection. PUBLISH
//! (and SPUBLISH) runs on every core, each delivering to its own subscribers
//! through their connections' outboxes (net/src/conn.rs), and the counts of
//! receivers add up to the reply. A subscriber that does not read has its
//! outbox bounded by `client-output-buffer-limit pubsub` and is disconnected
//! past it, as Redis does.

use crate::admin::on_all_cores;
use crate::core::Core;
use crate::session::State;
use shoal_engine::error::CmdError;
use shoal_engine::{glob, Reply};
use shoal_net::conn::Outbox;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

/// Which namespace a subscription is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// The subscriptions of one core's connections.
#[derive(Default)]
pub struct Registry {
    channels: HashMap<Vec<u8>, Vec<u64>>,
    patterns: HashMap<Vec<u8>, Vec<u64>>,
    shard: HashMap<Vec<u8>, Vec<u64>>,
    outboxes: HashMap<u64, Rc<Outbox>>,
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Vec<u64>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    fn add(&mut self, kind: Kind, name: &[u8], client: u64, outbox: &Rc<Outbox>) {
        self.map(kind).entry(name.to_vec()).or_default().push(client);
        self.outboxes.entry(client).or_insert_with(|| outbox.clone());
    }

    fn remove(&mut self, kind: Kind, name: &[u8], client: u64) {
        let map = self.map(kind);
        if let Some(list) = map.get_mut(name) {
            list.retain(|&c| c != client);
            if list.is_empty() {
                map.remove(name);
            }
        }
    }

    /// The channels and the patterns with subscribers here.
    pub fn names(&self) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        (self.channels.keys().cloned().collect(), self.patterns.keys().cloned().collect())
    }

    /// Forgets a client's outbox once it has no subscription left.
    fn forget(&mut self, client: u64, still_subscribed: bool) {
        if !still_subscribed {
            self.outboxes.remove(&client);
        }
    }
}

/// A connection's own subscriptions.
#[derive(Default)]
pub struct Subscriptions {
    channels: BTreeSet<Vec<u8>>,
    patterns: BTreeSet<Vec<u8>>,
    shard: BTreeSet<Vec<u8>>,
}

impl Subscriptions {
    fn set(&mut self, kind: Kind) -> &mut BTreeSet<Vec<u8>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count the (un)subscribe replies report: channels and patterns
    /// together, shard channels apart (Redis's two counts).
    fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    /// In RESP2, a client with any subscription may only run the pub/sub commands.
    pub fn active(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }
}

/// The frame announcing a (un)subscription, as a push in RESP3.
fn notice(out: &mut Vec<u8>, resp3: bool, word: &[u8], name: Option<&[u8]>, count: usize) {
    let mut r = Reply::new(out, resp3);
    r.push(3);
    r.bulk(word);
    match name {
        Some(n) => r.bulk(n),
        None => r.null(),
    }
    r.int(count as i64);
}

pub fn subscribe(st: &mut State, kind: Kind, names: &[&[u8]], buf: &mut Vec<u8>) {
    let (core, id, outbox) = (st.core.clone(), st.client.borrow().id, st.outbox.clone());
    for &name in names {
        if st.subs.set(kind).insert(name.to_vec()) {
            core.pubsub.borrow_mut().add(kind, name, id, &outbox);
        }
        notice(buf, st.resp3, kind.subscribe_word(), Some(name), st.subs.count(kind));
    }
    // Pub/sub clients get the pubsub class of output limits.
    let c = core.config.borrow();
    let (hard, soft, secs) = c.client_output_buffer_limits[crate::config::ObufClass::Pubsub as usize];
    outbox.set_limits(hard as usize, soft as usize, secs);
}

pub fn unsubscribe(st: &mut State, kind: Kind, names: &[&[u8]], buf: &mut Vec<u8>) {
    let (core, id) = (st.core.clone(), st.client.borrow().id);
    let names: Vec<Vec<u8>> = if names.is_empty() {
        st.subs.set(kind).iter().cloned().collect()
    } else {
        names.iter().map(|n| n.to_vec()).collect()
    };
    if names.is_empty() {
        notice(buf, st.resp3, kind.unsubscribe_word(), None, st.subs.count(kind));
    }
    for name in names {
        if st.subs.set(kind).remove(&name) {
            core.pubsub.borrow_mut().remove(kind, &name, id);
        }
        notice(buf, st.resp3, kind.unsubscribe_word(), Some(&name), st.subs.count(kind));
    }
    core.pubsub.borrow_mut().forget(id, st.subs.active());
}

/// Drops every subscription of a connection that closes or RESETs.
pub fn drop_all(st: &mut State) {
    let (core, id) = (st.core.clone(), st.client.borrow().id);
    let mut reg = core.pubsub.borrow_mut();
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in std::mem::take(st.subs.set(kind)) {
            reg.remove(kind, &name, id);
        }
    }
    reg.forget(id, false);
}

/// Delivers one message to this core's subscribers; returns how many got it.
fn deliver(core: &Rc<Core>, shard: bool, channel: &[u8], message: &[u8]) -> usize {
    let reg = core.pubsub.borrow();
    let clients = core.clients.borrow();
    let resp3_of = |id: u64| clients.by_id.get(&id).is_some_and(|c| c.borrow().resp == 3);
    let mut frames: [Option<Vec<u8>>; 2] = [None, None];
    let mut frame = |resp3: bool| -> Vec<u8> {
        frames[resp3 as usize]
            .get_or_insert_with(|| {
                let mut out = Vec::new();
                let mut r = Reply::new(&mut out, resp3);
                r.push(3);
                r.bulk(if shard { b"smessage" } else { b"message" });
                r.bulk(channel);
                r.bulk(message);
                out
            })
            .clone()
    };
    let mut n = 0;
    let direct = if shard { &reg.shard } else { &reg.channels };
    for id in direct.get(channel).into_iter().flatten() {
        if let Some(o) = reg.outboxes.get(id) {
            o.push(&frame(resp3_of(*id)));
            n += 1;
        }
    }
    if !shard {
        for (pattern, ids) in &reg.patterns {
            if !glob::matches(pattern, channel, false) {
                continue;
            }
            for id in ids {
                if let Some(o) = reg.outboxes.get(id) {
                    let mut out = Vec::new();
                    let mut r = Reply::new(&mut out, resp3_of(*id));
                    r.push(4);
                    r.bulk(b"pmessage");
                    r.bulk(pattern);
                    r.bulk(channel);
                    r.bulk(message);
                    o.push(&out);
                    n += 1;
                }
            }
        }
    }
    n
}

/// PUBLISH and SPUBLISH: every core delivers to its subscribers.
pub async fn publish(core: &Rc<Core>, shard: bool, channel: &[u8], message: &[u8]) -> usize {
    let (c, m) = (channel.to_vec(), message.to_vec());
    on_all_cores(core, move |core| deliver(core, shard, &c, &m)).await.into_iter().sum()
}

/// PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB / HELP.
pub async fn pubsub_command(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let core = st.core.clone();
    let sub = String::from_utf8_lossy(argv[1]).to_ascii_lowercase();
    let mut r = Reply::new(buf, st.resp3);
    match sub.as_str() {
        "channels" | "shardchannels" if argv.len() <= 3 => {
            let shard = sub == "shardchannels";
            let pattern = argv.get(2).map(|p| p.to_vec());
            let lists = on_all_cores(&core, move |core| {
                let reg = core.pubsub.borrow();
                let map = if shard { &reg.shard } else { &reg.channels };
                map.keys()
                    .filter(|c| pattern.as_ref().is_none_or(|p| glob::matches(p, c, false)))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .await;
            let all: BTreeSet<Vec<u8>> = lists.into_iter().flatten().collect();
            r.array(all.len());
            for c in all {
                r.bulk(&c);
            }
        }
        "numsub" | "shardnumsub" => {
            let shard = sub == "shardnumsub";
            let names: Vec<Vec<u8>> = argv[2..].iter().map(|n| n.to_vec()).collect();
            let asked = names.clone();
            let counts = on_all_cores(&core, move |core| {
                let reg = core.pubsub.borrow();
                let map = if shard { &reg.shard } else { &reg.channels };
                asked.iter().map(|n| map.get(n).map_or(0, |l| l.len())).collect::<Vec<_>>()
            })
            .await;
            r.array(names.len() * 2);
            for (i, n) in names.iter().enumerate() {
                r.bulk(n);
                r.int(counts.iter().map(|c| c[i]).sum::<usize>() as i64);
            }
        }
        "numpat" if argv.len() == 2 => {
            let lists =
                on_all_cores(&core, |core| core.pubsub.borrow().patterns.keys().cloned().collect::<Vec<_>>())
                    .await;
            let all: BTreeSet<Vec<u8>> = lists.into_iter().flatten().collect();
            r.int(all.len() as i64);
        }
        "help" if argv.len() == 2 => {
            r.help(
                "pubsub",
                &[
                    "CHANNELS [<pattern>]",
                    "    Return the channels with at least one subscriber, matching the glob-style pattern if given.",
                    "NUMPAT",
                    "    Return the number of distinct patterns clients are subscribed to.",
                    "NUMSUB [<channel> ...]",
                    "    Return the number of subscribers of each channel.",
                    "SHARDCHANNELS [<pattern>]",
                    "    Return the shard channels with at least one subscriber.",
                    "SHARDNUMSUB [<shardchannel> ...]",
                    "    Return the number of subscribers of each shard channel.",
                ],
            );
        }
        _ => return Err(CmdError::unknown_subcommand(argv[1], "pubsub")),
    }
    Ok(())
}

/// Whether `argv` may run while a RESP2 client is subscribed.
pub fn allowed_while_subscribed(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "ssubscribe"
            | "psubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// PING from a RESP2 subscribed client: `pong` and the message (or "") in an array.
pub fn subscribed_ping(argv: &[&[u8]], buf: &mut Vec<u8>) {
    let mut r = Reply::new(buf, false);
    r.array(2);
    r.bulk(b"pong");
    r.bulk(argv.get(1).copied().unwrap_or(b""));
}
