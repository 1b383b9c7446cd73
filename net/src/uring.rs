//! Socket readiness on a ring of our own, one per core.
//!
//! glommio waits for sockets with io_uring polls on its own rings, which are
//! set up without `IORING_SETUP_COOP_TASKRUN`. Each completed poll then
//! interrupts the core with an inter-processor interrupt if its thread is
//! running, and a busy core serving many connections is always running: on a
//! VM that cost about a sixth of the CPU. This ring is set up with
//! `COOP_TASKRUN`, so completions wait for the thread's next entry into the
//! kernel (it makes one for every recv and send) instead of interrupting it.
//!
//! The ring is driven by one glommio task per core. While there is work it
//! submits and reaps between the other tasks; when there is none it parks on
//! glommio's own reactor, reading an eventfd that the ring signals when a
//! completion arrives (notifications are switched off while busy, so the
//! eventfd costs nothing then).
//!
//! Only readiness goes through the ring (`POLL_ADD`); the reads and writes
//! themselves are plain non-blocking `recv`/`send` calls, which succeed at once
//! whenever data or buffer space is there, as Redis's do.

use io_uring::{opcode, types, IoUring};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

const RING_ENTRIES: u32 = 4096;
/// The user_data of the cancellations we submit; their completions are ignored.
const CANCEL: u64 = u64::MAX;

enum Slot {
    Free,
    Waiting(Option<Waker>),
    Done(i32),
    /// The waiting future went away; the completion frees the slot.
    Abandoned,
}

struct Inner {
    ring: RefCell<IoUring>,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<u32>>,
    /// Entries pushed to the submission queue and not yet submitted.
    queued: Cell<bool>,
    /// The driver's waker while it waits for work.
    driver: RefCell<Option<Waker>>,
    eventfd: OwnedFd,
}

thread_local! {
    static REACTOR: RefCell<Option<Rc<Inner>>> = const { RefCell::new(None) };
}

fn reactor() -> Rc<Inner> {
    REACTOR.with(|r| r.borrow().clone()).expect("uring::start ran on this executor")
}

/// Reaps this executor's completed socket polls now and wakes their tasks.
/// The driver does so between other tasks, but once the core has nothing
/// else to do it waits for glommio's next I/O poll, which a task that keeps
/// the core busy (writing a snapshot in steps) delays to the preemption
/// timer: such a task calls this between its steps, so that the core's
/// connections run between them.
pub fn poll_sockets() -> bool {
    REACTOR.with(|r| r.borrow().clone()).is_some_and(|inner| inner.turn())
}

/// Creates this executor's ring and starts its driver task. Call once per
/// executor thread, before any socket is used.
pub fn start() -> io::Result<()> {
    let ring = IoUring::builder()
        .setup_coop_taskrun()
        .setup_taskrun_flag()
        .setup_single_issuer()
        .build(RING_ENTRIES)
        .or_else(|_| {
            // Kernels before 5.19/6.0: a plain ring still works, with interrupts.
            IoUring::builder().build(RING_ENTRIES)
        })?;
    // SAFETY: eventfd has no preconditions; the descriptor is checked below.
    let efd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if efd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: efd is a new descriptor that nothing else owns.
    let eventfd = unsafe { OwnedFd::from_raw_fd(efd) };
    ring.submitter().register_eventfd(eventfd.as_raw_fd())?;
    let mut ring = ring;
    ring.completion().disable_eventfd();
    let inner = Rc::new(Inner {
        ring: RefCell::new(ring),
        slots: RefCell::new(Vec::new()),
        free: RefCell::new(Vec::new()),
        queued: Cell::new(false),
        driver: RefCell::new(None),
        eventfd,
    });
    REACTOR.with(|r| *r.borrow_mut() = Some(inner.clone()));
    glommio::spawn_local(drive(inner)).detach();
    Ok(())
}

impl Inner {
    fn alloc(&self) -> u32 {
        let mut slots = self.slots.borrow_mut();
        match self.free.borrow_mut().pop() {
            Some(i) => {
                slots[i as usize] = Slot::Waiting(None);
                i
            }
            None => {
                slots.push(Slot::Waiting(None));
                (slots.len() - 1) as u32
            }
        }
    }

    fn release(&self, i: u32) {
        self.slots.borrow_mut()[i as usize] = Slot::Free;
        self.free.borrow_mut().push(i);
    }

    /// Queues an entry, submitting first if the queue is full.
    fn push(&self, entry: io_uring::squeue::Entry) {
        let mut ring = self.ring.borrow_mut();
        // SAFETY: the entry refers to no memory (poll and cancel entries only).
        while unsafe { ring.submission().push(&entry) }.is_err() {
            if let Err(e) = ring.submit() {
                if e.raw_os_error() != Some(libc::EBUSY) {
                    panic!("io_uring submit failed: {e}");
                }
            }
        }
        drop(ring);
        self.queued.set(true);
        if let Some(w) = self.driver.borrow_mut().take() {
            w.wake();
        }
    }

    /// Submits what is queued, runs pending completion work and wakes the
    /// waiters of completed polls. Returns whether anything happened.
    fn turn(&self) -> bool {
        let mut ring = self.ring.borrow_mut();
        let mut progressed = false;
        let taskrun = ring.submission().taskrun();
        if self.queued.replace(false) || taskrun {
            match ring.submit() {
                Ok(_) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY) | Some(libc::EINTR)) => {
                    self.queued.set(true)
                }
                Err(e) => panic!("io_uring submit failed: {e}"),
            }
            progressed = true;
        }
        let done: Vec<(u64, i32)> = ring.completion().map(|c| (c.user_data(), c.result())).collect();
        drop(ring);
        for (id, res) in done {
            if id == CANCEL {
                continue;
            }
            progressed = true;
            let id = id as u32;
            let waker = {
                let mut slots = self.slots.borrow_mut();
                match std::mem::replace(&mut slots[id as usize], Slot::Done(res)) {
                    Slot::Waiting(w) => w,
                    Slot::Abandoned => {
                        drop(slots);
                        self.release(id);
                        None
                    }
                    Slot::Free | Slot::Done(_) => unreachable!("a completion for an idle slot"),
                }
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
        progressed
    }
}

/// The driver: turns the ring while there is work, and parks on the eventfd
/// (through glommio) when there is none.
async fn drive(inner: Rc<Inner>) {
    // SAFETY: the descriptor stays owned by `inner.eventfd`; glommio's file
    // only borrows it for reads and must not close it, hence ManuallyDrop.
    let efd = Rc::new(std::mem::ManuallyDrop::new(unsafe {
        glommio::io::BufferedFile::from_raw_fd(inner.eventfd.as_raw_fd())
    }));
    let mut wait: Option<Pin<Box<dyn Future<Output = ()>>>> = None;
    loop {
        if inner.turn() {
            futures_lite::future::yield_now().await;
            continue;
        }
        // Idle: let the ring signal the eventfd, then look once more, so that
        // nothing completed between the last turn and the switch is missed.
        inner.ring.borrow_mut().completion().enable_eventfd();
        if inner.turn() {
            inner.ring.borrow_mut().completion().disable_eventfd();
            continue;
        }
        let read = wait.get_or_insert_with(|| {
            let efd = efd.clone();
            Box::pin(async move {
                let _ = efd.read_at(0, 8).await;
            })
        });
        let woke_by_eventfd = futures_lite::future::poll_fn(|cx| {
            if inner.queued.get() {
                return Poll::Ready(false);
            }
            if read.as_mut().poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            *inner.driver.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        if woke_by_eventfd {
            wait = None;
        }
        inner.driver.borrow_mut().take();
        inner.ring.borrow_mut().completion().disable_eventfd();
    }
}

/// Waits until `fd` is readable (`POLLIN`) or writable (`POLLOUT`), or has
/// an error or hang-up, which the following recv or send then reports.
pub struct Ready {
    inner: Rc<Inner>,
    slot: Option<u32>,
}

fn poll_fd(fd: RawFd, events: i16) -> Ready {
    let inner = reactor();
    let slot = inner.alloc();
    inner.push(opcode::PollAdd::new(types::Fd(fd), events as u32).build().user_data(slot as u64));
    Ready { inner, slot: Some(slot) }
}

pub fn readable(fd: RawFd) -> Ready {
    poll_fd(fd, libc::POLLIN)
}

pub fn writable(fd: RawFd) -> Ready {
    poll_fd(fd, libc::POLLOUT)
}

/// Waits until the peer of `fd` closes or shuts down its side, or the socket
/// fails (`POLLRDHUP`): how a client waiting for something else is seen to go.
pub fn hangup(fd: RawFd) -> Ready {
    poll_fd(fd, libc::POLLRDHUP)
}

impl Ready {
    /// Whether the readiness has been delivered (the future completed).
    pub fn is_done(&self) -> bool {
        self.slot.is_none()
    }
}

impl Future for Ready {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let slot = self.slot.expect("polled after completion");
        let res = {
            let mut slots = self.inner.slots.borrow_mut();
            match &mut slots[slot as usize] {
                Slot::Done(res) => Some(*res),
                Slot::Waiting(w) => {
                    *w = Some(cx.waker().clone());
                    None
                }
                Slot::Free | Slot::Abandoned => unreachable!("polling a released slot"),
            }
        };
        match res {
            None => Poll::Pending,
            Some(res) => {
                self.inner.release(slot);
                self.slot = None;
                if res < 0 {
                    Poll::Ready(Err(io::Error::from_raw_os_error(-res)))
                } else {
                    Poll::Ready(Ok(()))
                }
            }
        }
    }
}

impl Drop for Ready {
    fn drop(&mut self) {
        let Some(slot) = self.slot else { return };
        let done = {
            let mut slots = self.inner.slots.borrow_mut();
            match slots[slot as usize] {
                Slot::Done(_) => true,
                _ => {
                    slots[slot as usize] = Slot::Abandoned;
                    false
                }
            }
        };
        if done {
            self.inner.release(slot);
        } else {
            // The poll holds a reference to the socket: cancel it so that a
            // closed socket is really closed.
            self.inner.push(opcode::AsyncCancel::new(slot as u64).build().user_data(CANCEL));
        }
    }
}
