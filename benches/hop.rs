//! What one cross-core round trip costs: a message from one core to another
//! and its answer back, through the server's own mesh.
//!
//! Two glommio executors, pinned to the first two CPUs this process may use
//! (unpinned if it may use only one, or if pinning fails), are wired exactly
//! as `shoal-server --threads 2` wires its cores: the channels of
//! `hop::mesh`, each core's `Peer`s and `hop::receive_loop`s, a real `Core`
//! on each side. Core 0 runs on the benchmark's thread and calls core 1, as
//! a session does when a pipeline holds keys of the other core:
//!
//! * `call`: `Core::call` of an empty closure: the message there, the answer
//!   back, and waking the caller; nothing else.
//! * `batch_1`, `batch_16`: a `router::Batch` of 1 or of 16 `GET`s of
//!   existing keys (32-byte values) that core 1 serves, built, sent with
//!   `Core::call_with(router::run_batch)`, run there and answered with its
//!   replies: what `Session::flush` does for one core's share of a pipeline.
//!   Throughput: commands.
//!
//! each under three conditions, which set how the cores wait (glommio's
//! `spin_before_park`):
//!
//! * `polling`: both cores poll while idle, as two busy cores do: the hops
//!   cost only the channel and the cache lines that cross.
//! * `remote_parked`: the caller polls while it waits for the answer, but core
//!   1 parks when it has nothing to do, so every message wakes it (eventfd,
//!   the scheduler, glommio's `membarrier` before it sleeps again): a busy
//!   core sending to an idle one.
//! * `both_parked`: both park, so the answer wakes the caller too: one client
//!   on an otherwise idle server.
//!
//! `local/batch_1` and `local/batch_16` run the same batches on the caller's
//! own core (`call_with` to itself, which runs inline), with keys it serves:
//! subtracted from the hop figures, they leave the cost of the hop alone.
//!
//! Time is taken around a loop of round trips inside core 0's executor
//! (`iter_custom`); one round trip is waited for before the next is sent.
//! Each core has a timer ticking `hz` times a second, as the server's cron.
//!
//! criterion's figures are means. After each condition's benchmarks, 3000
//! round trips are also timed one by one and their percentiles printed
//! (`hop/<condition>/<load>: ... p50 ... p99 ...`): on a shared 2-vCPU
//! machine about one round trip in a hundred waits milliseconds for a CPU
//! that went to another process, which lifts the mean well above the median.

mod common;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use glommio::{LocalExecutor, LocalExecutorBuilder, Placement};
use shoal::config::{available_cpus, Config};
use shoal::core::{Core, Shared};
use shoal::hop::{self, MeshEnds};
use shoal::router::{self, Batch};
use shoal::server;
use shoal_engine::command::{CmdId, Registry};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

const VALUE: &[u8; 32] = b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// How long a polling core keeps polling after its last work: longer than
/// the pauses between criterion's samples, so it never parks mid-benchmark.
const SPIN: Duration = Duration::from_secs(1);

#[derive(Clone, Copy)]
enum Mode {
    Polling,
    RemoteParked,
    BothParked,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Polling => "polling",
            Mode::RemoteParked => "remote_parked",
            Mode::BothParked => "both_parked",
        }
    }

    fn caller_polls(self) -> bool {
        matches!(self, Mode::Polling | Mode::RemoteParked)
    }

    fn remote_polls(self) -> bool {
        matches!(self, Mode::Polling)
    }
}

/// An executor configured as `server::run` configures a core's.
fn executor(cpu: Option<usize>, core: usize, polls: bool) -> LocalExecutorBuilder {
    let builder = LocalExecutorBuilder::new(cpu.map_or(Placement::Unbound, Placement::Fixed))
        .name(&format!("bench-core-{core}"))
        .io_memory(64 << 10)
        .preempt_timer(Duration::from_millis(10));
    if polls {
        builder.spin_before_park(SPIN)
    } else {
        builder
    }
}

/// The CPUs for core 0 and core 1: the first two this process may use, if
/// glommio can pin an executor to each.
fn cpus() -> [Option<usize>; 2] {
    let allowed = available_cpus();
    let pinnable = |cpu: usize| {
        LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .spawn(|| async {})
            .is_ok_and(|handle| handle.join().is_ok())
    };
    match allowed[..] {
        [a, b, ..] if pinnable(a) && pinnable(b) => [Some(a), Some(b)],
        _ => {
            eprintln!("hop: cannot pin two executors to two CPUs; running them unpinned");
            [None, None]
        }
    }
}

/// Connects core `i` into the mesh as the server does (`server::join_mesh`),
/// then waits until both cores are connected.
async fn join_mesh(i: usize, shared: Arc<Shared>, ends: MeshEnds, joined: Arc<AtomicUsize>) -> Rc<Core> {
    let config = Config { threads: shared.cores, port: 0, ..Config::default() };
    let core = server::join_mesh(i, shared.clone(), config, ends).await;
    glommio::spawn_local(cron()).detach();
    joined.fetch_add(1, Ordering::AcqRel);
    while joined.load(Ordering::Acquire) < shared.cores {
        server::stay_awake().await;
    }
    core
}

/// Stands for the server's cron, which keeps a timer armed on every core, so
/// a parked core wakes at least `hz` times a second whatever else happens.
///
/// Without it the benchmark hangs now and then, both executors parked with
/// a round trip outstanding. The likely cause is a glommio 0.9 bug: an
/// executor asked to yield for preemption before it ran anything reports
/// "nothing ran" and parks with a task still runnable (glommio/glommio#53),
/// and with no timer armed nothing wakes it again. The server's cron bounds
/// such a stall to one period (100 ms at the default `hz`); so does this.
async fn cron() {
    let hz = Config::default().hz.max(1) as u64;
    loop {
        glommio::timer::sleep(Duration::from_micros(1_000_000 / hz)).await;
    }
}

thread_local! {
    /// Set on core 1's thread by the message that ends a run.
    static STOP: Cell<bool> = const { Cell::new(false) };
    static STOP_WAKER: RefCell<Option<Waker>> = const { RefCell::new(None) };
}

/// Resolves once the stop message has run on this thread.
fn stopped() -> impl Future<Output = ()> {
    std::future::poll_fn(|cx| {
        if STOP.get() {
            Poll::Ready(())
        } else {
            STOP_WAKER.set(Some(cx.waker().clone()));
            Poll::Pending
        }
    })
}

/// Two connected cores: core 0 driven from this thread, core 1 on its own.
/// Dropping it stops core 1's thread.
struct Pair {
    core: Rc<Core>,
    /// 16 keys each core serves, stored with 32-byte values.
    keys: [Vec<Vec<u8>>; 2],
    remote: Option<glommio::ExecutorJoinHandle<()>>,
    /// Last, so that it outlives the tasks and channels of `core`.
    ex: LocalExecutor,
}

impl Pair {
    fn start(mode: Mode, cpus: [Option<usize>; 2]) -> Pair {
        let config = Config { threads: 2, port: 0, ..Config::default() };
        let shared = Arc::new(Shared::new(&config, 2, cpus.map(|c| c.unwrap_or(0)).to_vec()));
        let joined = Arc::new(AtomicUsize::new(0));
        let mut mesh = hop::mesh(2).into_iter();
        let (ends0, ends1) = (mesh.next().expect("two cores"), mesh.next().expect("two cores"));
        let remote = {
            let (shared, joined) = (shared.clone(), joined.clone());
            executor(cpus[1], 1, mode.remote_polls())
                .spawn(move || async move {
                    let core = join_mesh(1, shared, ends1, joined).await;
                    stopped().await;
                    drop(core);
                })
                .expect("an executor for core 1")
        };
        let ex = executor(cpus[0], 0, mode.caller_polls()).make().expect("an executor for core 0");
        let core = ex.run(join_mesh(0, shared.clone(), ends0, joined));
        let keys = [0, 1].map(|c| {
            (0..)
                .map(|i| format!("key:{i:012}").into_bytes())
                .filter(|k| shared.core_of(k) == c)
                .take(16)
                .collect()
        });
        let pair = Pair { core, keys, remote: Some(remote), ex };
        let set = command(&[b"SET", b"key", VALUE]);
        for (c, keys) in pair.keys.iter().enumerate() {
            let answered = pair.ex.run(send(&pair.core, c, batch(set, keys, Some(VALUE))));
            assert_eq!(replies(&answered), b"+OK\r\n".repeat(16));
        }
        pair
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.ex.run(async {
            self.core.run_on(1, |_| {
                STOP.set(true);
                if let Some(w) = STOP_WAKER.take() {
                    w.wake();
                }
            })
        });
        if let Some(remote) = self.remote.take() {
            let _ = remote.join();
        }
    }
}

fn command(argv: &[&[u8]]) -> CmdId {
    Registry::get().resolve(argv).expect("a known command")
}

/// A batch of `GET key` for each key (or `SET key value`, given a value),
/// its arguments copied in as a session copies them.
fn batch(id: CmdId, keys: &[Vec<u8>], value: Option<&[u8]>) -> Batch {
    let mut batch = Batch::new(false);
    for k in keys {
        match value {
            Some(v) => batch.push(id, 0, &[b"SET", k, v]),
            None => batch.push(id, 0, &[b"GET", k]),
        };
    }
    batch
}

/// Runs `batch` on core `to` and waits for it to come back with its replies,
/// as `Session::flush` does.
async fn send(core: &Rc<Core>, to: usize, batch: Batch) -> Batch {
    core.call_with(to, move |core, responder| router::run_batch(core, batch, 0, responder)).await
}

fn replies(batch: &Batch) -> Vec<u8> {
    (0..batch.len()).flat_map(|i| batch.reply(i).to_vec()).collect()
}

/// What one round trip carries.
#[derive(Clone, Copy)]
enum Load {
    /// An empty closure there, and `()` back.
    Call,
    /// A batch of this many `GET`s there, and their replies back.
    Gets(usize),
}

impl Load {
    fn name(self) -> String {
        match self {
            Load::Call => "call".into(),
            Load::Gets(n) => format!("batch_{n}"),
        }
    }
}

/// One round trip from core 0 to core `to` (itself for 0) carrying `load`.
async fn round_trip(pair: &Pair, to: usize, load: Load, get: CmdId) {
    match load {
        Load::Call => pair.core.call(to, |_| ()).await,
        Load::Gets(n) => {
            black_box(send(&pair.core, to, batch(get, &pair.keys[to][..n], None)).await);
        }
    }
}

/// Benchmarks round trips to core `to` carrying each of `loads`, named
/// `hop/<name>/<load>`.
fn round_trips(group: &mut BenchmarkGroup<'_, WallTime>, pair: &Pair, name: &str, to: usize, loads: &[Load]) {
    let get = command(&[b"GET", b"key"]);
    let one_reply = [&b"$32\r\n"[..], VALUE, b"\r\n"].concat();
    for &load in loads {
        let commands = match load {
            Load::Call => 1,
            Load::Gets(n) => {
                let answered = pair.ex.run(send(&pair.core, to, batch(get, &pair.keys[to][..n], None)));
                assert_eq!(replies(&answered), one_reply.repeat(n));
                n
            }
        };
        group.throughput(Throughput::Elements(commands as u64));
        group.bench_function(format!("{name}/{}", load.name()), |b| {
            b.iter_custom(|iters| {
                pair.ex.run(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        round_trip(pair, to, load, get).await;
                    }
                    start.elapsed()
                })
            })
        });
    }
}

/// Times `ROUNDS` single round trips to core 1 for each load and prints
/// their percentiles. The means criterion reports are pulled up by a few
/// round trips in a hundred that wait milliseconds for a CPU the scheduler
/// gave to another process (on this shared VM); the median is what a round
/// trip costs when both threads have their CPU.
fn distribution(pair: &Pair, mode: Mode, loads: &[Load]) {
    const ROUNDS: usize = 3000;
    let get = command(&[b"GET", b"key"]);
    for &load in loads {
        let mut times = pair.ex.run(async {
            let mut times = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                let start = Instant::now();
                round_trip(pair, 1, load, get).await;
                times.push(start.elapsed());
            }
            times
        });
        times.sort_unstable();
        let at = |q: f64| times[((ROUNDS as f64 * q) as usize).min(ROUNDS - 1)];
        let slow = times.iter().filter(|&&t| t > Duration::from_millis(1)).count();
        println!(
            "hop/{}/{}: {ROUNDS} round trips: p50 {:.1?} p90 {:.1?} p99 {:.1?} max {:.1?}, {slow} over 1 ms",
            mode.name(),
            load.name(),
            at(0.5),
            at(0.9),
            at(0.99),
            times[ROUNDS - 1],
        );
    }
}

fn hop(c: &mut Criterion) {
    let cpus = cpus();
    let loads = [Load::Call, Load::Gets(1), Load::Gets(16)];
    // Without `--bench` (`cargo test --benches`), or with `--list` or
    // `--test`, criterion only checks that each benchmark runs.
    let args: Vec<String> = std::env::args().collect();
    let measuring =
        args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list" || a == "--test");
    let mut group = c.benchmark_group("hop");
    for mode in [Mode::Polling, Mode::RemoteParked, Mode::BothParked] {
        let pair = Pair::start(mode, cpus);
        round_trips(&mut group, &pair, mode.name(), 1, &loads);
        if let Mode::Polling = mode {
            round_trips(&mut group, &pair, "local", 0, &loads[1..]);
        }
        if measuring {
            distribution(&pair, mode, &loads);
        }
    }
    group.finish();
}

// A round trip takes microseconds to tens of microseconds: a couple of
// seconds per benchmark give tens of thousands; the whole `cargo bench` must
// stay within a few minutes.
criterion_group! {
    name = benches;
    config = common::config(Duration::from_secs(1), Duration::from_secs(2));
    targets = hop
}
criterion_main!(benches);
