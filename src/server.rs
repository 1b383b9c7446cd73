//! Starting the cores: one pinned glommio executor per core, each with its own
//! io_uring, its own listening socket on the shared port (SO_REUSEPORT, so the
//! kernel spreads connections over the cores), its own connections, its
//! channels to every other core, and its own cron (active expiry, statistics).

use crate::client::{ClientInfo, Clients};
use crate::config::{available_cpus, Config};
use crate::core::{now_ms, Core, Shared};
use crate::hop::{self, Peer};
use crate::session::Session;
use glommio::{LocalExecutorBuilder, Placement};
use shoal_net::socket::{Listener, Socket};
use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

static PEAK_MEMORY: AtomicUsize = AtomicUsize::new(0);
static STARTUP_MEMORY: AtomicUsize = AtomicUsize::new(0);

/// Records `used` as a candidate peak and returns the peak so far.
pub fn note_peak(used: usize) -> usize {
    PEAK_MEMORY.fetch_max(used, Ordering::Relaxed).max(used)
}

pub fn startup_memory() -> usize {
    STARTUP_MEMORY.load(Ordering::Relaxed)
}

/// The addresses to listen on at `port`, from `bind`: `*` is every IPv4
/// address, `::*` every IPv6 one, and a leading `-` makes an address optional.
pub fn bind_addrs(config: &Config, port: u16) -> Vec<(SocketAddr, bool)> {
    config
        .bind
        .iter()
        .filter_map(|b| {
            let (optional, b) = match b.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, b.as_str()),
            };
            let ip = match b {
                "*" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                "::*" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
                other => match other.parse() {
                    Ok(ip) => ip,
                    Err(_) => {
                        tracing::warn!("Could not parse bind address {other}");
                        return None;
                    }
                },
            };
            Some((SocketAddr::new(ip, port), optional))
        })
        .collect()
}

/// Starts every core and serves until SHUTDOWN or a signal ends the process.
pub fn run(config: Config) -> anyhow::Result<()> {
    let cores = config.cores();
    let cpus_allowed = available_cpus();
    // Started from this thread, which may run on any allowed CPU: a thread
    // started by a core would inherit that core's pinning and compete with it.
    shoal_engine::lazyfree::start();
    let cpus: Vec<usize> = (0..cores).map(|i| cpus_allowed[i % cpus_allowed.len().max(1)]).collect();
    if config.cluster.enabled && config.replicaof.is_some() {
        anyhow::bail!("replicaof directive not allowed in cluster mode");
    }
    let mut cluster = if config.cluster.enabled { Some(crate::cluster::load(&config)?) } else { None };
    let mut shared = Shared::new(&config, cores, cpus.clone());
    // Clients that connect before the file is in get LOADING.
    let load_file = crate::save::file_to_load(&config);
    shared.loading.store(load_file, Ordering::Relaxed);
    shared.cluster_routes = cluster.as_ref().map(|c| Arc::new(shoal_cluster::routes::Routes::build(c)));
    let shared = Arc::new(shared);
    let mesh = hop::mesh(cores);
    let (ready_tx, ready_rx) = mpsc::channel::<Result<usize, String>>();
    let startup = Arc::new(AtomicUsize::new(0));
    STARTUP_MEMORY.store(crate::alloc::used_memory(), Ordering::Relaxed);
    let mut handles = Vec::new();
    for (i, ends) in mesh.into_iter().enumerate() {
        let (shared, config, ready) = (shared.clone(), config.clone(), ready_tx.clone());
        let startup = startup.clone();
        let cluster = if i == crate::cluster::BUS_CORE { cluster.take() } else { None };
        let mut builder = LocalExecutorBuilder::new(Placement::Fixed(cpus[i]))
            .name(&format!("shoal-core-{i}"))
            .io_memory(64 << 10)
            .preempt_timer(Duration::from_millis(10));
        if config.spin_before_park_us > 0 {
            builder = builder.spin_before_park(Duration::from_micros(config.spin_before_park_us));
        }
        let handle = builder
            .spawn(move || async move { core_main(i, shared, config, ends, ready, startup, cluster).await })
            .map_err(|e| anyhow::anyhow!("starting core {i}: {e}"))?;
        handles.push(handle);
    }
    drop(ready_tx);
    for _ in 0..cores {
        match ready_rx.recv() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!("{e}");
                std::process::exit(1);
            }
            Err(_) => anyhow::bail!("a core stopped while starting"),
        }
    }
    tracing::info!(
        "Shoal {} (Redis {} compatible) ready to accept connections on port {} with {} core(s)",
        env!("CARGO_PKG_VERSION"),
        crate::REDIS_VERSION,
        config.port,
        cores
    );
    for h in handles {
        h.join().map_err(|e| anyhow::anyhow!("core stopped: {e}"))?;
    }
    Ok(())
}

async fn core_main(
    i: usize,
    shared: Arc<Shared>,
    config: Config,
    ends: hop::MeshEnds,
    ready: mpsc::Sender<Result<usize, String>>,
    startup: Arc<AtomicUsize>,
    cluster: Option<shoal_cluster::state::Cluster>,
) {
    let core = join_mesh(i, shared.clone(), config.clone(), ends).await;
    crate::multi::watch_busy_scripts(shared.clone());
    // No core takes a client before every core can answer messages. The
    // wait keeps this executor running (a thread blocked here could leave a
    // peer's channel handshake unanswered), polling the count of cores that
    // got this far.
    startup.fetch_add(1, Ordering::AcqRel);
    while startup.load(Ordering::Acquire) < shared.cores {
        stay_awake().await;
    }
    let mut listeners = Vec::new();
    if config.port != 0 {
        for (addr, optional) in bind_addrs(&config, config.port) {
            match Listener::bind(addr, config.tcp_backlog) {
                Ok(l) => listeners.push(l),
                Err(e) if optional => tracing::debug!("skipping optional address {addr}: {e}"),
                Err(e) => {
                    let _ = ready.send(Err(format!(
                        "Warning: Could not create server TCP listening socket {addr}: {e}"
                    )));
                    return;
                }
            }
        }
        if listeners.is_empty() {
            let _ = ready.send(Err("Failed listening on every bind address".into()));
            return;
        }
    }
    let bus_listeners = match cluster.as_ref().map(|_| crate::cluster::bind(&config)) {
        None => None,
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    if let Err(e) = shoal_net::uring::start() {
        let _ = ready.send(Err(format!("Could not set up io_uring: {e}")));
        return;
    }
    let _ = ready.send(Ok(i));
    for l in listeners {
        glommio::spawn_local(accept_loop(core.clone(), l)).detach();
    }
    glommio::spawn_local(cron(core.clone())).detach();
    glommio::spawn_local(crate::master::flusher(core.clone())).detach();
    if i == 0 {
        let c = core.clone();
        glommio::spawn_local(async move {
            for tick in 1u64.. {
                glommio::timer::sleep(Duration::from_secs(1)).await;
                crate::master::cron(&c, tick);
            }
        })
        .detach();
        let core = core.clone();
        let load_file = core.shared.loading.load(Ordering::Acquire);
        glommio::spawn_local(async move {
            if load_file {
                crate::save::load_at_startup(&core).await;
            }
            if config.replicaof.is_some() {
                crate::replica::set_master(&core, config.replicaof.clone());
            }
            persistence_cron(core).await;
        })
        .detach();
    }
    if let (Some(cluster), Some(listeners)) = (cluster, bus_listeners) {
        crate::cluster::start(&core, cluster, listeners);
    }
    futures_lite::future::pending::<()>().await;
}

/// Connects core `i` into the mesh of channels to every other core, makes its
/// [`Core`] and starts a receive loop per peer. Returns once this core's ends
/// are connected; the other cores may still be connecting theirs.
pub async fn join_mesh(i: usize, shared: Arc<Shared>, config: Config, ends: hop::MeshEnds) -> Rc<Core> {
    let hop::MeshEnds { senders, receivers } = ends;
    // A channel end's connect waits for the other end, but the other core
    // does not wake this one when it connects: keep this executor polling
    // (never parked) until the mesh is up, so no connect sleeps through its
    // peer's. A timer-driven tick is not enough: an executor was seen parked
    // with no timer armed while its ticker was still pending.
    let mesh_up = Rc::new(std::cell::Cell::new(false));
    let ticker = {
        let mesh_up = mesh_up.clone();
        glommio::spawn_local(async move {
            while !mesh_up.get() {
                stay_awake().await;
            }
        })
    };
    // Start our ends as tasks so that every core's connects can complete together.
    let receiving: Vec<_> =
        receivers.into_iter().flatten().map(|rx| glommio::spawn_local(rx.connect())).collect();
    let connecting: Vec<_> =
        senders.into_iter().map(|tx| tx.map(|tx| glommio::spawn_local(Peer::connect(tx)))).collect();
    let mut peers = Vec::new();
    for c in connecting {
        peers.push(match c {
            Some(task) => Some(task.await),
            None => None,
        });
    }
    let core = Rc::new(Core::new(i, shared, config, peers));
    for r in receiving {
        let rx = r.await;
        glommio::spawn_local(hop::receive_loop(core.clone(), rx)).detach();
    }
    mesh_up.set(true);
    ticker.await;
    core
}

/// One turn of a startup wait: lets this executor's other tasks and reactor
/// run, and the other cores' threads have the CPU, without parking.
pub async fn stay_awake() {
    std::thread::yield_now();
    futures_lite::future::yield_now().await;
}

async fn accept_loop(core: Rc<Core>, listener: Listener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("accept: {e}");
                glommio::timer::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        core.stats.borrow_mut().connections_received += 1;
        let config = core.config.borrow().clone();
        let local = stream.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let n = core.shared.connected_clients.fetch_add(1, Ordering::Relaxed) + 1;
        if n > config.maxclients {
            core.shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
            core.stats.borrow_mut().rejected_connections += 1;
            reject(stream, b"-ERR max number of clients reached\r\n");
            continue;
        }
        if config.protected_mode && config.requirepass.is_empty() && !peer.ip().is_loopback() {
            core.shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
            core.stats.borrow_mut().rejected_connections += 1;
            reject(stream, PROTECTED_MODE_DENIED);
            continue;
        }
        let sock = stream.sock_ref();
        let _ = sock.set_tcp_nodelay(true);
        if config.tcp_keepalive > 0 {
            let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(config.tcp_keepalive));
            let _ = sock.set_tcp_keepalive(&ka);
        }
        let id = core.shared.next_client_id();
        let info = ClientInfo::new(id, peer, local, stream.raw_fd(), config.requirepass.is_empty());
        let info = Rc::new(RefCell::new(info));
        let core2 = core.clone();
        glommio::spawn_local(async move {
            let id = info.borrow().id;
            core2.clients.borrow_mut().add(info.clone());
            let outbox = Rc::new(shoal_net::conn::Outbox::default());
            let mut session = Session::new(core2.clone(), info, outbox.clone());
            if let Err(e) = shoal_net::conn::serve(&stream, &mut session, &outbox).await {
                tracing::debug!("client {id} closed: {e}");
            }
            crate::pubsub::drop_all(&mut session.st);
            // Deregister first: CLIENT KILL must never shut a reused descriptor down.
            core2.clients.borrow_mut().remove(id);
            drop(stream);
            core2.shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
        })
        .detach();
    }
}

/// Answers a refused connection with `line` and closes it.
fn reject(stream: Socket, line: &'static [u8]) {
    glommio::spawn_local(async move {
        let _ = stream.write_all(line).await;
    })
    .detach();
}

const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Shoal is running in protected mode: no password is set for the default user, so only connections from the loopback interface are accepted. To accept others, set a password (requirepass), or turn protected mode off with 'CONFIG SET protected-mode no' from a loopback connection or with the '--protected-mode no' option at start, making sure the server is not reachable from untrusted networks.\r\n";

/// The periodic work of one core: active expiry and the ops/sec meter, `hz` times a second.
async fn cron(core: Rc<Core>) {
    loop {
        let hz = core.config.borrow().hz.max(1) as u64;
        let period = Duration::from_micros(1_000_000 / hz);
        glommio::timer::sleep(period).await;
        let commands = core.stats.borrow().commands;
        core.ops.borrow_mut().sample(commands);
        close_idle_clients(&core);
        active_expire(&core, period / 4);
        if core.index() == 0 {
            note_peak(crate::alloc::used_memory());
        }
    }
}

/// Core 0's once-a-second duties that wait on other cores: the `save`
/// points, and a shutdown asked for by a signal (which saves first when
/// there are save points, as redis-server does).
async fn persistence_cron(core: Rc<Core>) {
    let mut ticks = 0u64;
    loop {
        glommio::timer::sleep(Duration::from_millis(100)).await;
        if SIGNALLED.load(Ordering::Acquire) {
            if crate::save::has_save_points(&core) && crate::save::save_before_exit(&core).await.is_err() {
                tracing::warn!("SIGTERM received but errors trying to shut down the server, check the logs for more information");
                SIGNALLED.store(false, Ordering::Release);
                continue;
            }
            request_shutdown(&core);
        }
        crate::save::run_scheduled(&core).await;
        ticks += 1;
        if ticks % 10 == 0 {
            crate::save::check_save_points(&core).await;
        }
    }
}

/// A signal asked for a shutdown; core 0 carries it out.
static SIGNALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Closes the clients idle longer than `timeout` seconds (Redis's clientsCron).
fn close_idle_clients(core: &Rc<Core>) {
    let timeout = core.config.borrow().timeout;
    if timeout == 0 {
        return;
    }
    let now = now_ms();
    for c in core.clients.borrow().by_id.values() {
        let c = c.borrow();
        if !c.busy && now.saturating_sub(c.last_ms) > timeout * 1000 {
            // SAFETY: shutdown on the client's own open socket; it only ends its pending read.
            unsafe { libc::shutdown(c.fd, libc::SHUT_RDWR) };
        }
    }
}

/// Frees expired keys no client reads: samples keys with an expiry in every
/// database and keeps going while more than a quarter of the sample had
/// expired, within a quarter of the cron period (Redis's slow cycle).
fn active_expire(core: &Rc<Core>, budget: Duration) {
    if !core.txq.borrow().is_idle() || crate::pause::active(core) {
        // Expiry deletes keys; leave it until no multi-core command holds
        // any, and while a manual failover holds the data still.
        return;
    }
    let start = std::time::Instant::now();
    let now = now_ms();
    let mut shard = core.shard.borrow_mut();
    for db in shard.dbs_mut() {
        loop {
            let (examined, deleted) = db.expire_cycle(now, 64);
            if examined == 0 || deleted * 4 < examined || start.elapsed() > budget {
                break;
            }
        }
    }
    drop(shard);
    // Replicas get a DEL for each key expired here.
    crate::master::collect(core, &core.shard);
    core.stats.borrow_mut().expire_cycles += 1;
}

/// Ends the process after SHUTDOWN (and its save, if any): the pid file
/// goes and the process exits.
pub fn request_shutdown(core: &Rc<Core>) {
    let pidfile = core.config.borrow().pidfile.clone();
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(&pidfile);
    }
    tracing::warn!("Shoal is now ready to exit, bye bye...");
    std::process::exit(0);
}

/// Waits for SIGTERM or SIGINT on a thread of its own and has core 0 shut
/// down as SHUTDOWN does. A second signal while that runs ends the process
/// at once.
pub fn handle_signals(pidfile: String) {
    // SAFETY: sigset_t is plain data; the calls only read and write it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        std::thread::Builder::new()
            .name("shoal-signals".into())
            .spawn(move || loop {
                let mut sig = 0;
                libc::sigwait(&set, &mut sig);
                let name = if sig == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
                if SIGNALLED.swap(true, Ordering::AcqRel) {
                    tracing::warn!("You insist... exiting now.");
                    if !pidfile.is_empty() {
                        let _ = std::fs::remove_file(&pidfile);
                    }
                    std::process::exit(1);
                }
                tracing::warn!("Received {name} scheduling shutdown...");
            })
            .expect("signal thread");
    }
}

impl Clients {
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
