//! Cluster mode on the server side: the cluster bus (run by one core), the
//! routing table every core redirects by, the CLUSTER commands, and Redis
//! Cluster's redirections (MOVED, ASK, TRYAGAIN, CROSSSLOT, CLUSTERDOWN).
//!
//! The rules live in `shoal_cluster::state::Cluster`, which does no I/O. The
//! bus core owns it: its tasks feed it bus messages and a 100 ms tick, carry
//! out the effects it asks for (connect, send, close), save nodes.conf when
//! it changed, and after each change of slot ownership or cluster health
//! send every core a fresh [`Routes`]. A core routes its clients' commands by
//! its own copy; a change reaches the core whose client asked for it before
//! the reply does, because both travel on the same ordered channel.

use crate::config::Config;
use crate::core::{now_ms, Core};
use crate::session::State;
use shoal_cluster::bus::wire;
use shoal_cluster::node::{name_str, LinkId};
use shoal_cluster::routes::{Owner, Routes};
use shoal_cluster::state::{Cluster, Effect, Settings};
use shoal_cluster::{key_slot, Slot, SLOT_COUNT};
use shoal_engine::command::{flags, CmdId, Registry, Run, ServerCmd};
use shoal_engine::{CmdError, Reply};
use shoal_net::socket::{Listener, Socket};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

/// The core that runs the bus.
pub const BUS_CORE: usize = 0;

/// The cluster bus port: `cluster-port`, or the client port + 10000.
pub fn bus_port(config: &Config) -> anyhow::Result<u16> {
    if config.cluster.port != 0 {
        return Ok(config.cluster.port);
    }
    if config.port > 55535 {
        anyhow::bail!(
            "Redis port number too high. Cluster communication port is 10,000 port numbers higher than your Redis port. Your Redis port number must be 55535 or less."
        );
    }
    Ok(config.port + 10000)
}

pub fn settings(config: &Config) -> anyhow::Result<Settings> {
    let c = &config.cluster;
    Ok(Settings {
        node_timeout: c.node_timeout,
        require_full_coverage: c.require_full_coverage,
        allow_reads_when_down: c.allow_reads_when_down,
        allow_pubsubshard_when_down: c.allow_pubsubshard_when_down,
        port: config.port,
        cport: bus_port(config)?,
        announce_ip: c.announce_ip.clone(),
        announce_port: c.announce_port,
        announce_bus_port: c.announce_bus_port,
        announce_hostname: c.announce_hostname.clone(),
        replica_validity_factor: c.replica_validity_factor,
        replica_no_failover: c.replica_no_failover,
        repl_ping_period: config.repl_ping_replica_period,
        allow_replica_migration: c.allow_replica_migration,
        migration_barrier: c.migration_barrier,
    })
}

/// CONFIG SET changed the configuration: the cluster rules take the new
/// cluster-* settings (the ports they were started with stay).
pub fn settings_changed(core: &Core) {
    let Some(bus) = core.bus.borrow().clone() else { return };
    let Ok(new) = settings(&core.config.borrow()) else { return };
    let mut st = bus.state.borrow_mut();
    let (port, cport) = (st.settings.port, st.settings.cport);
    st.settings = Settings { port, cport, ..new };
    st.update_myself_flags();
}

/// Where nodes.conf lives: `cluster-config-file`, relative to `dir`.
pub fn config_path(config: &Config) -> PathBuf {
    Path::new(&config.dir).join(&config.cluster.config_file)
}

/// Loads this node's identity and view of the cluster from nodes.conf, or
/// starts a new node when there is none.
pub fn load(config: &Config) -> anyhow::Result<Cluster> {
    let path = config_path(config);
    let settings = settings(config)?;
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            let c = Cluster::load(&text, settings, now_ms()).map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::info!("Node configuration loaded, I'm {}", name_str(&c.myself));
            Ok(c)
        }
        Ok(_) => Ok(fresh(settings)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(fresh(settings)),
        Err(e) => anyhow::bail!("Can't open the cluster config file {}: {e}", path.display()),
    }
}

fn fresh(settings: Settings) -> Cluster {
    let c = Cluster::new(settings, now_ms());
    tracing::info!("No cluster configuration found, I'm {}", name_str(&c.myself));
    c
}

/// Writes nodes.conf atomically: a temporary file renamed over it. With
/// `sync`, the file reaches the disk before the rename, as Redis fsyncs the
/// file when an epoch changes (a vote or a config epoch must survive a
/// crash); routine changes (a slot moved, a node's address) are not synced,
/// which keeps a resharding step from waiting for the disk.
fn save_config(path: &Path, text: &str, sync: bool) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    if sync {
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// The bus: the cluster state and the connections to the other nodes.
pub struct Bus {
    pub state: RefCell<Cluster>,
    links: RefCell<HashMap<LinkId, Rc<LinkIo>>>,
    conf_path: PathBuf,
    /// The epochs last written to nodes.conf: a save that changes them is synced.
    saved_epochs: Cell<(u64, u64, u64)>,
    /// A routine change waits for the next tick to be written.
    save_later: Cell<bool>,
    /// The master the replication link was last pointed at (in cluster
    /// mode the cluster state decides it: CLUSTER REPLICATE, a failover).
    replicating: RefCell<Option<(String, u16)>>,
}

/// One bus connection's outgoing side.
#[derive(Default)]
struct LinkIo {
    out: RefCell<Vec<u8>>,
    waker: RefCell<Option<Waker>>,
    closed: Cell<bool>,
    sock: RefCell<Option<Rc<Socket>>>,
}

impl LinkIo {
    fn push(&self, frame: &[u8]) {
        self.out.borrow_mut().extend_from_slice(frame);
        self.wake();
    }

    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    fn close(&self) {
        self.closed.set(true);
        if let Some(s) = self.sock.borrow().as_ref() {
            let _ = s.sock_ref().shutdown(std::net::Shutdown::Both);
        }
        self.wake();
    }
}

/// Binds the bus port (before the node reports it is ready, so a busy port
/// stops startup as in Redis).
pub fn bind(config: &Config) -> anyhow::Result<Vec<Listener>> {
    let port = bus_port(config)?;
    let mut out = Vec::new();
    for (addr, optional) in crate::server::bind_addrs(config, port) {
        match Listener::bind(addr, config.tcp_backlog) {
            Ok(l) => out.push(l),
            Err(e) if optional => tracing::debug!("skipping optional cluster bus address {addr}: {e}"),
            Err(e) => anyhow::bail!("Could not create the cluster bus listening socket {addr}: {e}"),
        }
    }
    if out.is_empty() {
        anyhow::bail!("Failed listening on every bind address for the cluster bus port {port}");
    }
    Ok(out)
}

/// Starts the bus on this core: accepts other nodes' connections, ticks the
/// state machine, and publishes the first routing table.
pub fn start(core: &Rc<Core>, cluster: Cluster, listeners: Vec<Listener>) {
    let conf_path = config_path(&core.config.borrow());
    let bus = Rc::new(Bus {
        state: RefCell::new(cluster),
        links: RefCell::default(),
        conf_path,
        saved_epochs: Cell::new((u64::MAX, 0, 0)),
        save_later: Cell::new(false),
        replicating: RefCell::new(None),
    });
    *core.bus.borrow_mut() = Some(bus.clone());
    for l in listeners {
        glommio::spawn_local(accept_loop(core.clone(), bus.clone(), l)).detach();
    }
    let (c, b) = (core.clone(), bus.clone());
    glommio::spawn_local(async move {
        loop {
            glommio::timer::sleep(Duration::from_millis(100)).await;
            b.sync_replication(&c);
            b.state.borrow_mut().cron(now_ms());
            b.apply(&c);
            if b.save_later.take() {
                let text = b.state.borrow().config_text();
                b.write_config(&text, false);
            }
        }
    })
    .detach();
    bus.apply(core);
}

async fn accept_loop(core: Rc<Core>, bus: Rc<Bus>, listener: Listener) {
    loop {
        let (sock, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cluster bus accept: {e}");
                glommio::timer::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = sock.sock_ref().set_tcp_nodelay(true);
        let link = bus.state.borrow_mut().inbound_accepted(now_ms());
        let io = Rc::new(LinkIo::default());
        bus.links.borrow_mut().insert(link, io.clone());
        run_link(core.clone(), bus.clone(), link, io, Rc::new(sock), peer);
    }
}

/// Starts the reader and the writer of a connected link.
fn run_link(core: Rc<Core>, bus: Rc<Bus>, link: LinkId, io: Rc<LinkIo>, sock: Rc<Socket>, peer: SocketAddr) {
    *io.sock.borrow_mut() = Some(sock.clone());
    if io.closed.get() {
        let _ = sock.sock_ref().shutdown(std::net::Shutdown::Both);
    }
    let writer_io = io.clone();
    let writer_sock = sock.clone();
    glommio::spawn_local(async move {
        loop {
            let out = futures_lite::future::poll_fn(|cx| {
                if writer_io.closed.get() {
                    return Poll::Ready(None);
                }
                let mut out = writer_io.out.borrow_mut();
                if !out.is_empty() {
                    return Poll::Ready(Some(std::mem::take(&mut *out)));
                }
                *writer_io.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            })
            .await;
            let Some(out) = out else { break };
            if writer_sock.write_all(&out).await.is_err() {
                let _ = writer_sock.sock_ref().shutdown(std::net::Shutdown::Both);
                break;
            }
        }
    })
    .detach();
    glommio::spawn_local(async move {
        let local_ip = sock.local_addr().map(|a| a.ip().to_string()).unwrap_or_default();
        let peer_ip = peer.ip().to_string();
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = vec![0u8; 16384];
        'read: loop {
            let n = match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            loop {
                let len = match wire::frame_len(&buf) {
                    Ok(Some(len)) if buf.len() >= len => len,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::debug!("cluster bus link {link}: {e:?}");
                        break 'read;
                    }
                };
                match wire::decode(&buf[..len]) {
                    Ok(msg) => {
                        bus.sync_replication(&core);
                        bus.state.borrow_mut().on_message(link, msg, &peer_ip, &local_ip, now_ms());
                        bus.apply(&core);
                    }
                    Err(e) => tracing::debug!("cluster bus link {link}: dropping a message: {e:?}"),
                }
                buf.drain(..len);
            }
            if io.closed.get() {
                break;
            }
        }
        io.close();
        bus.links.borrow_mut().remove(&link);
        bus.state.borrow_mut().link_closed(link);
        bus.apply(&core);
    })
    .detach();
}

async fn connect(core: Rc<Core>, bus: Rc<Bus>, link: LinkId, io: Rc<LinkIo>, ip: String, port: u16) {
    let timeout = Duration::from_millis(bus.state.borrow().settings.node_timeout.max(1000));
    let addr = ip.parse::<std::net::IpAddr>().map(|ip| SocketAddr::new(ip, port));
    let result = match addr {
        Ok(addr) => {
            futures_lite::future::or(async { Socket::connect(addr).await.map(|s| (s, addr)) }, async {
                glommio::timer::sleep(timeout).await;
                Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))
            })
            .await
        }
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad address")),
    };
    match result {
        Ok((sock, addr)) if !io.closed.get() => {
            let _ = sock.sock_ref().set_tcp_nodelay(true);
            run_link(core, bus, link, io, Rc::new(sock), addr);
        }
        Ok(_) => {}
        Err(e) => {
            tracing::debug!("cluster bus: connecting to {ip}:{port}: {e}");
            bus.links.borrow_mut().remove(&link);
            bus.state.borrow_mut().link_closed(link);
            bus.apply(&core);
        }
    }
}

impl Bus {
    /// Carries out what the state machine asked for, saves nodes.conf and
    /// sends the cores new routes when those changed.
    pub fn apply(self: &Rc<Self>, core: &Rc<Core>) {
        let (effects, routes, save) = {
            let mut st = self.state.borrow_mut();
            let effects = st.take_effects();
            let routes = std::mem::take(&mut st.routes_changed).then(|| Routes::build(&st));
            let epochs = (st.current_epoch, st.last_vote_epoch, st.me().config_epoch);
            let save = std::mem::take(&mut st.save_pending).then_some(epochs);
            (effects, routes, save)
        };
        let mut resume = false;
        for e in effects {
            match e {
                Effect::Connect { link, ip, port } => {
                    let io = Rc::new(LinkIo::default());
                    self.links.borrow_mut().insert(link, io.clone());
                    glommio::spawn_local(connect(core.clone(), self.clone(), link, io, ip, port)).detach();
                }
                Effect::Send { link, frame } => {
                    if let Some(io) = self.links.borrow().get(&link) {
                        io.push(&frame);
                    }
                }
                Effect::Close { link } => {
                    if let Some(io) = self.links.borrow_mut().remove(&link) {
                        io.close();
                    }
                }
                Effect::Deliver { channel, message } => {
                    let core = core.clone();
                    glommio::spawn_local(async move {
                        crate::pubsub::publish(&core, false, &channel, &message).await;
                    })
                    .detach();
                }
                Effect::PauseWrites { until } => {
                    glommio::spawn_local(crate::pause::pause(core.clone(), until)).detach();
                }
                Effect::ResumeWrites => resume = true,
                Effect::DropSlotKeys(slot) => {
                    let owner = core.shared.slot_map.core_of(Slot(slot)).map_or(0, |c| c.index());
                    core.run_on(owner, move |core| {
                        let n = core.shard.borrow_mut().db(0).clear_slot(slot as usize);
                        if n > 0 {
                            tracing::warn!("deleted {n} keys of slot {slot}, now served by another node");
                        }
                    });
                }
            }
        }
        // The replication link follows the role the cluster gives this node.
        let target = self.state.borrow().replication_target();
        if *self.replicating.borrow() != target {
            self.replicating.replace(target.clone());
            crate::replica::set_master(core, target);
        }
        if let Some(routes) = routes {
            let routes = Arc::new(routes);
            for c in 0..core.shared.cores {
                let r = routes.clone();
                core.run_on(c, move |core| *core.routes.borrow_mut() = Some(r));
            }
        }
        if resume {
            crate::pause::resume(core);
        }
        if let Some(epochs) = save {
            // An epoch change is written (and synced) at once; anything else
            // with the next tick, so a burst of changes (a resharding moves
            // thousands of slots) costs one write, not one per change (nor
            // one rendering of the file: that alone took 75-170 us).
            if self.saved_epochs.replace(epochs) != epochs {
                let text = self.state.borrow().config_text();
                self.write_config(&text, true);
                self.save_later.set(false);
            } else {
                self.save_later.set(true);
            }
        }
    }

    /// Tells the cluster state this node's replication offset and how stale
    /// a replica's data is, before it uses them.
    pub fn sync_replication(&self, core: &Core) {
        let offset = core.repl.borrow().offset.max(0) as u64;
        let age = crate::replica::data_age_ms(core);
        self.state.borrow_mut().set_replication(offset, age);
    }

    fn write_config(&self, text: &str, sync: bool) {
        if let Err(e) = save_config(&self.conf_path, text, sync) {
            tracing::error!("Could not save the cluster config file {}: {e}", self.conf_path.display());
        }
    }
}

// ----- redirection -----

/// What to do with a command, from the keys it names (Redis's getNodeByQuery).
enum Decision {
    Serve,
    Refuse(CmdError),
    /// The slot is migrating or importing: whether the keys are here decides.
    CheckKeys {
        slot: u16,
        keys: Vec<Vec<u8>>,
        multiple: bool,
        migrating: bool,
        write: bool,
    },
}

const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";
const TRYAGAIN: &str = "TRYAGAIN Multiple keys request during rehashing of slot";

fn moved(kind: &str, slot: u16, addr: &str) -> CmdError {
    CmdError::owned(format!("{kind} {slot} {addr}"))
}

fn decide(st: &State, id: CmdId, argv: &[&[u8]], routes: &Routes, asking: bool) -> Decision {
    let reg = Registry::get();
    let cmd = reg.entry(id).cmd;
    let mut slot: Option<(u16, &[u8])> = None;
    let mut multiple = false;
    let mut write = cmd.has_flag(flags::WRITE);
    let mut all_keys: Vec<&[u8]> = Vec::new();
    let queued;
    let commands: Vec<(CmdId, Vec<&[u8]>)> = if matches!(cmd.run, Run::Server(ServerCmd::Exec)) {
        let Some(q) = st.queue.as_ref() else { return Decision::Serve };
        queued = q.commands();
        queued.iter().map(|(id, a)| (*id, a.args())).collect()
    } else {
        vec![(id, argv.to_vec())]
    };
    // Shard channels route like keys (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH).
    let shard_pubsub = |c: &shoal_engine::command::Command| {
        matches!(c.run, Run::Server(ServerCmd::Spublish | ServerCmd::Ssubscribe | ServerCmd::Sunsubscribe))
    };
    let pubsub = shard_pubsub(cmd);
    for (cid, args) in &commands {
        let c = reg.entry(*cid).cmd;
        write |= c.has_flag(flags::WRITE);
        let positions: Vec<usize> = if shard_pubsub(c) {
            match c.run {
                Run::Server(ServerCmd::Spublish) => vec![1],
                _ => (1..args.len()).collect(),
            }
        } else if c.has_keys() {
            c.key_positions(args).collect()
        } else {
            continue;
        };
        for p in positions {
            let key = args[p];
            let s = key_slot(key).0;
            match slot {
                // As in Redis, an unserved slot is reported at the first key,
                // before any later key could be found in another slot.
                None if routes.owner(s) == Owner::Unbound => {
                    return Decision::Refuse(CmdError::new("CLUSTERDOWN Hash slot not served"))
                }
                None => slot = Some((s, key)),
                Some((first_slot, first)) => {
                    if key != first {
                        if s != first_slot {
                            return Decision::Refuse(CmdError::new(CROSSSLOT));
                        }
                        multiple = true;
                    }
                }
            }
            all_keys.push(key);
        }
    }
    let Some((slot, _)) = slot else { return Decision::Serve };
    let owner = routes.owner(slot);
    if owner == Owner::Unbound {
        return Decision::Refuse(CmdError::new("CLUSTERDOWN Hash slot not served"));
    }
    if pubsub {
        // Channels are not keys: no migration checks; served while the
        // cluster is down unless cluster-allow-pubsubshard-when-down is no.
        if !routes.ok && !routes.allow_pubsubshard_when_down {
            return Decision::Refuse(CmdError::new("CLUSTERDOWN The cluster is down"));
        }
        // An importing node serves them after ASKING, as it serves keys.
        if asking && routes.importing(slot) {
            return Decision::Serve;
        }
        return finish(st, routes, slot, false);
    }
    if !routes.ok {
        if !routes.allow_reads_when_down {
            return Decision::Refuse(CmdError::new("CLUSTERDOWN The cluster is down"));
        }
        if write {
            return Decision::Refuse(CmdError::new(
                "CLUSTERDOWN The cluster is down and only accepts read commands",
            ));
        }
    }
    let migrating = owner == Owner::Me && routes.migrating_to(slot).is_some();
    let importing = !migrating && routes.importing(slot);
    if (migrating || importing) && matches!(cmd.run, Run::Server(ServerCmd::Migrate)) {
        // MIGRATE works on this node's keys while the slot is open.
        return Decision::Serve;
    }
    if migrating || importing {
        let keys = all_keys.iter().map(|k| k.to_vec()).collect();
        return Decision::CheckKeys { slot, keys, multiple, migrating, write };
    }
    finish(st, routes, slot, write)
}

/// The last rules: replicas serving reads, then MOVED.
fn finish(st: &State, routes: &Routes, slot: u16, write: bool) -> Decision {
    match routes.owner(slot) {
        Owner::Me => Decision::Serve,
        _ if st.readonly && !write && routes.served_by_my_master(slot) => Decision::Serve,
        Owner::Other(addr) => Decision::Refuse(moved("MOVED", slot, addr)),
        Owner::Unbound => Decision::Refuse(CmdError::new("CLUSTERDOWN Hash slot not served")),
    }
}

/// What the session does with a command after the cluster's checks.
pub enum Redirect {
    /// Not in cluster mode, or this node serves the keys: run it as usual.
    Run,
    /// A redirection or an error, in place of the reply.
    Refuse(CmdError),
    /// The command already ran (on a migrating slot); this is its reply.
    Done(Vec<u8>),
}

/// In cluster mode, checks that this node serves the command's keys and
/// gives the redirection or error Redis would.
pub async fn redirect(st: &mut State, id: CmdId, argv: &[&[u8]], out: &mut Vec<u8>) -> Redirect {
    let asking = st.asking;
    let cmd = Registry::get().entry(id).cmd;
    if st.queue.is_none() && !matches!(cmd.run, Run::Server(ServerCmd::Asking)) {
        st.asking = false;
    }
    let decision = {
        let routes = st.core.routes.borrow();
        let Some(routes) = routes.as_ref() else { return Redirect::Run };
        decide(st, id, argv, routes, asking)
    };
    let (slot, keys, multiple, migrating, write) = match decision {
        Decision::Serve => return Redirect::Run,
        Decision::Refuse(e) => return Redirect::Refuse(e),
        Decision::CheckKeys { slot, keys, multiple, migrating, write } => {
            (slot, keys, multiple, migrating, write)
        }
    };
    // Count the keys that are not here, on the core that serves the slot,
    // after everything this connection sent before. On the migrating side a
    // plain command also runs in that same step, under its keys' locks: a
    // MIGRATE (which locks the keys it moves) can then never take a key away
    // between the check and the command, which would write it here again.
    st.flush(out).await;
    let core = st.core.clone();
    let owner = core.shared.slot_map.core_of(Slot(slot)).map_or(0, |c| c.index());
    let run_there = migrating
        && st.queue.is_none()
        && st.tx_mode == crate::txn::TxMode::Fresh
        && matches!(cmd.run, Run::Shard(_))
        && !cmd.has_flag(flags::BLOCKING);
    let (db, resp3) = (st.db, st.resp3);
    let argv = crate::multi::OwnedArgv::from(argv);
    // Err: how many of the keys are missing, and how many are here.
    let checked: Result<Option<Vec<u8>>, (usize, usize)> = core
        .call_with(owner, move |core, responder| {
            let intents = if run_there { core.intents(id, &argv.args(), db) } else { Vec::new() };
            let step = move |core: &Rc<Core>| {
                let now = now_ms();
                let missing = keys.iter().filter(|k| !core.shard.borrow_mut().db(0).contains(k, now)).count();
                let r = if missing > 0 {
                    Err((missing, keys.len() - missing))
                } else if run_there {
                    let mut o = Vec::new();
                    core.exec(id, &argv.args(), db, resp3, &mut o);
                    Ok(Some(o))
                } else {
                    Ok(None)
                };
                responder.send(core, r);
            };
            if !run_there || core.txq.borrow().is_idle() {
                step(core);
            } else {
                crate::txn::run_after_locks(core, intents, Box::new(step));
            }
        })
        .await;
    let (missing, present) = match checked {
        Ok(Some(reply)) => return Redirect::Done(reply),
        Ok(None) => (0, 0),
        Err(counts) => counts,
    };
    let Some(routes) = st.core.routes.borrow().clone() else { return Redirect::Run };
    if migrating && missing > 0 {
        // Some keys here and some gone: TRYAGAIN. All gone: ASK, however
        // many there are (Redis 7.0 does the same).
        if present > 0 {
            return Redirect::Refuse(CmdError::new(TRYAGAIN));
        }
        return match routes.migrating_to(slot) {
            Some(addr) => Redirect::Refuse(moved("ASK", slot, addr)),
            None => Redirect::Run,
        };
    }
    if !migrating && (asking || cmd.has_flag(flags::ASKING)) {
        if multiple && missing > 0 {
            return Redirect::Refuse(CmdError::new(TRYAGAIN));
        }
        return Redirect::Run;
    }
    match finish(st, &routes, slot, write) {
        Decision::Refuse(e) => Redirect::Refuse(e),
        _ => Redirect::Run,
    }
}

/// The last check before a keyed command runs on a slot this node is
/// migrating: a command routed with this core's routes from before the
/// slot was marked migrating may reach the slot's core after MIGRATE moved
/// its key; it then gets the ASK (or TRYAGAIN) it would have got, instead of
/// writing the key here again. Costs one test while no slot is migrating.
pub fn moved_meanwhile(core: &Core, id: CmdId, argv: &[&[u8]]) -> Option<CmdError> {
    let routes = core.routes.borrow();
    let routes = routes.as_ref().filter(|r| r.migrating_any())?;
    let cmd = Registry::get().entry(id).cmd;
    if !cmd.has_keys() {
        return None;
    }
    let mut keys = cmd.key_positions(argv).map(|p| argv[p]);
    let first = keys.next()?;
    let slot = key_slot(first).0;
    let addr = routes.migrating_to(slot)?;
    let now = now_ms();
    let mut shard = core.shard.borrow_mut();
    let db = shard.db(0);
    let (mut missing, mut present) = (false, false);
    for k in std::iter::once(first).chain(keys) {
        match db.contains(k, now) {
            true => present = true,
            false => missing = true,
        }
    }
    match (missing, present) {
        (false, _) => None,
        (true, true) => Some(CmdError::new(TRYAGAIN)),
        (true, false) => Some(moved("ASK", slot, addr)),
    }
}

// ----- CLUSTER commands -----

const DISABLED: &str = "ERR This instance has cluster support disabled";
const INVALID_SLOT: &str = "ERR Invalid or out of range slot";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

fn parse_i64(a: &[u8]) -> Option<i64> {
    shoal_engine::num::parse_i64(a)
}

fn slot_arg(a: &[u8]) -> Result<u16, CmdError> {
    match parse_i64(a) {
        Some(s) if (0..SLOT_COUNT as i64).contains(&s) => Ok(s as u16),
        _ => Err(CmdError::new(INVALID_SLOT)),
    }
}

/// How many keys this node holds in db 0 of `slot`.
async fn keys_in_slot(core: &Rc<Core>, slot: u16) -> u64 {
    let owner = core.shared.slot_map.core_of(Slot(slot)).map_or(0, |c| c.index());
    core.call(owner, move |core| core.shard.borrow().dbs()[0].slot_len(slot as usize) as u64).await
}

/// How many keys this node holds in db 0.
async fn keys_in_db0(core: &Rc<Core>) -> u64 {
    crate::admin::on_all_cores(core, |core| core.shard.borrow().dbs()[0].len() as u64).await.into_iter().sum()
}

/// Runs `f` against the cluster state on the bus core, then carries out its effects.
async fn with_state<R: Send + 'static>(
    core: &Rc<Core>,
    f: impl FnOnce(&mut Cluster, u64) -> R + Send + 'static,
) -> R {
    core.call(BUS_CORE, move |core| {
        let bus = core.bus.borrow().clone().expect("the bus runs on the bus core in cluster mode");
        bus.sync_replication(core);
        let r = f(&mut bus.state.borrow_mut(), now_ms());
        bus.apply(core);
        r
    })
    .await
}

const HELP: &[&str] = &[
    "ADDSLOTS <slot> [<slot> ...]",
    "    Assign slots to current node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Assign slots which are between <start-slot> and <end-slot> to current node.",
    "BUMPEPOCH",
    "    Advance the cluster config epoch.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Return number of failure reports for <node-id>.",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Delete slots information from current node.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "FORGET <node-id>",
    "    Remove a node from the cluster.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "FLUSHSLOTS",
    "    Delete current node own slots information.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MEET <ip> <port> [<bus-port>]",
    "    Connect nodes into a working cluster.",
    "MYID",
    "    Return the node id.",
    "MYSHARDID",
    "    Return the node's shard id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICATE <node-id>",
    "    Configure current node as replica to <node-id>.",
    "RESET [HARD|SOFT]",
    "    Reset current node (default: soft).",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set config epoch of current node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Set slot state.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SAVECONFIG",
    "    Force saving cluster configuration on disk.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "LINKS",
    "    Return information about all network links between this node and its peers.",
    "    Output format is an array where each array element is a map containing attributes of a link",
];

/// CLUSTER and its subcommands.
pub async fn command(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let core = st.core.clone();
    let resp3 = st.resp3;
    if core.routes.borrow().is_none() {
        return Err(CmdError::new(DISABLED));
    }
    let sub = argv[1].to_ascii_lowercase();
    let owned: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    let mut r = Reply::new(buf, resp3);
    match sub.as_slice() {
        b"help" => r.help("CLUSTER", HELP),
        b"keyslot" => r.int(key_slot(argv[2]).0 as i64),
        b"countkeysinslot" => {
            let slot = parse_i64(argv[2]).ok_or(CmdError::new(NOT_INTEGER))?;
            if !(0..SLOT_COUNT as i64).contains(&slot) {
                return Err(CmdError::new("ERR Invalid slot"));
            }
            r.int(keys_in_slot(&core, slot as u16).await as i64);
        }
        b"getkeysinslot" => {
            let slot = parse_i64(argv[2]).ok_or(CmdError::new(NOT_INTEGER))?;
            let max = parse_i64(argv[3]).ok_or(CmdError::new(NOT_INTEGER))?;
            if !(0..SLOT_COUNT as i64).contains(&slot) || max < 0 {
                return Err(CmdError::new("ERR Invalid slot or number of keys"));
            }
            let owner = core.shared.slot_map.core_of(Slot(slot as u16)).map_or(0, |c| c.index());
            let keys: Vec<Vec<u8>> = core
                .call(owner, move |core| {
                    let mut keys = Vec::new();
                    let mut shard = core.shard.borrow_mut();
                    shard.db(0).scan_slot(slot as usize, None, max as usize, now_ms(), |e| {
                        keys.push(e.key().to_vec())
                    });
                    keys
                })
                .await;
            r.array(keys.len());
            for k in &keys {
                r.bulk(k);
            }
        }
        b"myid" => {
            let id = with_state(&core, |c, _| c.myself).await;
            r.bulk(&id);
        }
        b"myshardid" => {
            let id = with_state(&core, |c, _| c.me().shard_id).await;
            r.bulk(&id);
        }
        b"info" => {
            let text = with_state(&core, |c, _| c.info_text()).await;
            r.verbatim("txt", text.as_bytes());
        }
        b"nodes" => {
            let text = with_state(&core, |c, _| c.nodes_text(true)).await;
            r.verbatim("txt", text.as_bytes());
        }
        b"slots" => slots_reply(&core, &mut r).await,
        b"shards" => shards_reply(&core, &mut r).await,
        b"links" => links_reply(&core, &mut r).await,
        b"meet" => {
            if argv.len() > 5 {
                return Err(subcommand_syntax(argv));
            }
            let port = parse_i64(argv[3]).ok_or_else(|| {
                CmdError::owned(format!(
                    "ERR Invalid TCP base port specified: {}",
                    String::from_utf8_lossy(argv[3])
                ))
            })?;
            let cport = match argv.get(4) {
                Some(a) => parse_i64(a).ok_or_else(|| {
                    CmdError::owned(format!(
                        "ERR Invalid TCP bus port specified: {}",
                        String::from_utf8_lossy(a)
                    ))
                })?,
                None => port + 10000,
            };
            let ip = String::from_utf8_lossy(argv[2]).into_owned();
            let ip2 = ip.clone();
            let ok = with_state(&core, move |c, now| c.start_handshake(&ip2, port, cport, now)).await;
            if ok.is_err() {
                return Err(CmdError::owned(format!(
                    "ERR Invalid node address specified: {ip}:{}",
                    String::from_utf8_lossy(argv[3])
                )));
            }
            r.ok();
        }
        b"addslots" | b"delslots" | b"addslotsrange" | b"delslotsrange" => {
            let del = sub.starts_with(b"del");
            let mut slots = Vec::new();
            if sub.ends_with(b"range") {
                if argv.len() % 2 == 1 {
                    return Err(CmdError::owned(format!(
                        "ERR wrong number of arguments for 'cluster|{}' command",
                        String::from_utf8_lossy(&sub)
                    )));
                }
                for pair in argv[2..].chunks(2) {
                    let (a, b) = (slot_arg(pair[0])?, slot_arg(pair[1])?);
                    if a > b {
                        return Err(CmdError::owned(format!(
                            "ERR start slot number {a} is greater than end slot number {b}"
                        )));
                    }
                    slots.extend(a..=b);
                }
            } else {
                for a in &argv[2..] {
                    slots.push(slot_arg(a)?);
                }
            }
            with_state(&core, move |c, now| {
                c.check_slots(&slots, del)?;
                c.assign_slots(&slots, del);
                c.update_state(now);
                Ok::<(), String>(())
            })
            .await
            .map_err(CmdError::owned)?;
            r.ok();
        }
        b"flushslots" => {
            if argv.len() != 2 {
                return Err(wrong_args("flushslots"));
            }
            if keys_in_db0(&core).await != 0 {
                return Err(CmdError::new("ERR DB must be empty to perform CLUSTER FLUSHSLOTS."));
            }
            with_state(&core, |c, now| {
                c.flush_slots();
                c.update_state(now);
            })
            .await;
            r.ok();
        }
        b"setslot" => {
            let slot = slot_arg(argv[2])?;
            let keys = keys_in_slot(&core, slot).await;
            let node = owned.get(4).cloned();
            let action = owned[3].clone();
            if argv.len() > 5 {
                return Err(CmdError::new(
                    "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
                ));
            }
            with_state(&core, move |c, now| {
                let r = c.set_slot(slot, &action, node.as_deref(), keys, now);
                c.update_state(now);
                r
            })
            .await
            .map_err(CmdError::owned)?;
            r.ok();
        }
        b"bumpepoch" => {
            let (bumped, epoch) = with_state(&core, |c, _| (c.bump_epoch(), c.me().config_epoch)).await;
            r.simple(format!("{} {epoch}", if bumped { "BUMPED" } else { "STILL" }).as_bytes());
        }
        b"set-config-epoch" => {
            let epoch = parse_i64(argv[2]).ok_or(CmdError::new(NOT_INTEGER))?;
            with_state(&core, move |c, _| c.set_config_epoch(epoch)).await.map_err(CmdError::owned)?;
            r.ok();
        }
        b"forget" => {
            let name = owned[2].clone();
            with_state(&core, move |c, now| c.forget(&name, now)).await.map_err(CmdError::owned)?;
            r.ok();
        }
        b"replicate" => {
            let name = owned[2].clone();
            let keys = keys_in_db0(&core).await;
            with_state(&core, move |c, now| {
                c.replicate(&name, keys)?;
                c.update_state(now);
                Ok::<(), String>(())
            })
            .await
            .map_err(CmdError::owned)?;
            r.ok();
        }
        b"replicas" | b"slaves" => {
            let name = owned[2].clone();
            let lines =
                with_state(&core, move |c, _| c.replicas_text(&name)).await.map_err(CmdError::owned)?;
            r.array(lines.len());
            for l in &lines {
                r.bulk(l.as_bytes());
            }
        }
        b"failover" => {
            if argv.len() > 3 {
                return Err(subcommand_syntax(argv));
            }
            let (force, takeover) = match argv.get(2).map(|a| a.to_ascii_lowercase()) {
                None => (false, false),
                Some(a) if a == b"force" => (true, false),
                Some(a) if a == b"takeover" => (true, true),
                Some(_) => return Err(CmdError::new("ERR syntax error")),
            };
            with_state(&core, move |c, now| c.failover(force, takeover, now))
                .await
                .map_err(CmdError::owned)?;
            r.ok();
        }
        b"count-failure-reports" => {
            let name = owned[2].clone();
            let n = with_state(&core, move |c, now| c.count_failure_reports(&name, now))
                .await
                .map_err(CmdError::owned)?;
            r.int(n as i64);
        }
        b"saveconfig" => {
            let result = core
                .call(BUS_CORE, |core| {
                    let bus = core.bus.borrow().clone().expect("bus core");
                    let text = bus.state.borrow().config_text();
                    save_config(&bus.conf_path, &text, true).map_err(|e| e.to_string())
                })
                .await;
            result.map_err(|e| CmdError::owned(format!("ERR error saving the cluster node config: {e}")))?;
            r.ok();
        }
        b"reset" => {
            let hard = match argv.get(2).map(|a| a.to_ascii_lowercase()) {
                None => false,
                Some(a) if a == b"hard" => true,
                Some(a) if a == b"soft" => false,
                Some(_) => return Err(CmdError::new("ERR syntax error")),
            };
            if argv.len() > 3 {
                return Err(CmdError::new("ERR syntax error"));
            }
            let master = with_state(&core, |c, _| c.me().is_master()).await;
            if master && keys_in_db0(&core).await != 0 {
                return Err(CmdError::new(
                    "ERR CLUSTER RESET can't be called with master nodes containing keys",
                ));
            }
            with_state(&core, move |c, now| {
                c.reset(hard);
                c.update_state(now);
            })
            .await;
            r.ok();
        }
        _ => {
            return Err(CmdError::owned(format!(
                "ERR unknown subcommand '{}'. Try CLUSTER HELP.",
                String::from_utf8_lossy(argv[1])
            )))
        }
    }
    Ok(())
}

/// Redis's addReplySubcommandSyntaxError.
fn subcommand_syntax(argv: &[&[u8]]) -> CmdError {
    CmdError::owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLUSTER HELP.",
        String::from_utf8_lossy(argv[1])
    ))
}

fn wrong_args(sub: &str) -> CmdError {
    CmdError::owned(format!("ERR wrong number of arguments for 'cluster|{sub}' command"))
}

/// One node as CLUSTER SLOTS lists it: ip, port, id, and a map of extra endpoints.
struct SlotNode {
    ip: String,
    port: u16,
    name: [u8; 40],
    hostname: String,
}

async fn slots_reply(core: &Rc<Core>, r: &mut Reply<'_>) {
    let ranges: Vec<(u16, u16, Vec<SlotNode>)> = with_state(core, |c, _| {
        c.slot_ranges()
            .into_iter()
            .map(|(a, b, owner)| {
                let m = &c.nodes[&owner];
                let mut nodes = vec![m];
                nodes.extend(c.replicas_of(owner).into_iter().filter(|n| !n.failed()));
                let nodes = nodes
                    .into_iter()
                    .map(|n| SlotNode {
                        ip: n.ip.clone(),
                        port: n.port,
                        name: n.name,
                        hostname: n.hostname.clone(),
                    })
                    .collect();
                (a, b, nodes)
            })
            .collect()
    })
    .await;
    r.array(ranges.len());
    for (a, b, nodes) in &ranges {
        r.array(2 + nodes.len());
        r.int(*a as i64);
        r.int(*b as i64);
        for n in nodes {
            r.array(4);
            r.bulk(n.ip.as_bytes());
            r.int(n.port as i64);
            r.bulk(&n.name);
            if n.hostname.is_empty() {
                r.map(0);
            } else {
                r.map(1);
                r.bulk(b"hostname");
                r.bulk(n.hostname.as_bytes());
            }
        }
    }
}

/// A shard of CLUSTER SHARDS: its slot ranges and its nodes.
type Shard = (Vec<(u16, u16)>, Vec<ShardNode>);

struct ShardNode {
    name: [u8; 40],
    port: u16,
    ip: String,
    hostname: String,
    replica: bool,
    offset: u64,
    failed: bool,
}

async fn shards_reply(core: &Rc<Core>, r: &mut Reply<'_>) {
    let shards: Vec<Shard> = with_state(core, |c, _| {
        let mut masters: Vec<&shoal_cluster::node::Node> =
            c.nodes.values().filter(|n| n.is_master()).collect();
        masters.sort_by_key(|n| n.name);
        masters
            .into_iter()
            .map(|m| {
                let ranges = shoal_cluster::state::ranges(|s| m.owns(s));
                let mut nodes = vec![m];
                nodes.extend(c.replicas_of(m.name));
                let nodes = nodes
                    .into_iter()
                    .map(|n| ShardNode {
                        name: n.name,
                        port: n.port,
                        ip: n.ip.clone(),
                        hostname: n.hostname.clone(),
                        replica: n.is_replica(),
                        offset: n.repl_offset,
                        failed: n.failed(),
                    })
                    .collect();
                (ranges, nodes)
            })
            .collect()
    })
    .await;
    r.array(shards.len());
    for (ranges, nodes) in &shards {
        r.map(2);
        r.bulk(b"slots");
        r.array(ranges.len() * 2);
        for (a, b) in ranges {
            r.int(*a as i64);
            r.int(*b as i64);
        }
        r.bulk(b"nodes");
        r.array(nodes.len());
        for n in nodes {
            r.map(if n.hostname.is_empty() { 7 } else { 8 });
            r.bulk(b"id");
            r.bulk(&n.name);
            r.bulk(b"port");
            r.int(n.port as i64);
            r.bulk(b"ip");
            r.bulk(n.ip.as_bytes());
            r.bulk(b"endpoint");
            r.bulk(n.ip.as_bytes());
            if !n.hostname.is_empty() {
                r.bulk(b"hostname");
                r.bulk(n.hostname.as_bytes());
            }
            r.bulk(b"role");
            r.bulk(if n.replica { b"replica".as_slice() } else { b"master" });
            r.bulk(b"replication-offset");
            r.int(n.offset as i64);
            r.bulk(b"health");
            r.bulk(if n.failed {
                b"fail".as_slice()
            } else if n.replica && n.offset == 0 {
                b"loading"
            } else {
                b"online"
            });
        }
    }
}

async fn links_reply(core: &Rc<Core>, r: &mut Reply<'_>) {
    let links = core
        .call(BUS_CORE, |core| {
            let bus = core.bus.borrow().clone().expect("bus core");
            let st = bus.state.borrow();
            let io = bus.links.borrow();
            st.links_info()
                .into_iter()
                .map(|(link, inbound, name, ctime)| {
                    let (used, allocated) = io
                        .get(&link)
                        .map_or((0, 0), |io| (io.out.borrow().len(), io.out.borrow().capacity()));
                    (inbound, name, ctime, used, allocated)
                })
                .collect::<Vec<_>>()
        })
        .await;
    r.array(links.len());
    for (inbound, name, ctime, used, allocated) in &links {
        r.map(6);
        r.bulk(b"direction");
        r.bulk(if *inbound { b"from".as_slice() } else { b"to" });
        r.bulk(b"node");
        r.bulk(name);
        r.bulk(b"create-time");
        r.int(*ctime as i64);
        r.bulk(b"events");
        r.bulk(if *inbound { b"r".as_slice() } else { b"rw" });
        r.bulk(b"send-buffer-allocated");
        r.int(*allocated as i64);
        r.bulk(b"send-buffer-used");
        r.int(*used as i64);
    }
}

/// PUBLISH in cluster mode: the message also goes to every other node.
pub async fn publish(core: &Rc<Core>, channel: &[u8], message: &[u8]) {
    if !enabled(core) {
        return;
    }
    let (c, m) = (channel.to_vec(), message.to_vec());
    with_state(core, move |state, _| state.publish(&c, &m)).await;
}

/// Whether this process runs in cluster mode.
pub fn enabled(core: &Core) -> bool {
    core.routes.borrow().is_some()
}

/// The `cluster_enabled` and `cluster_connections` values INFO reports.
pub fn info_connections(core: &Rc<Core>) -> usize {
    core.bus.borrow().as_ref().map_or(0, |b| b.links.borrow().len())
}
