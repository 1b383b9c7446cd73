//! Cross-core messages.
//!
//! Every core keeps a bounded single-producer channel to every other core
//! (glommio's `shared_channel`, which wakes a sleeping core through its
//! eventfd). A message is a closure to run on the receiving core, with that
//! core's state. Contract for every message: it owns all its data (it is
//! `Send + 'static`), it runs to completion without awaiting, and it never
//! holds a borrow of the shard beyond its own call.
//!
//! Sending never waits: if the channel is full, the message joins a local
//! outbox that a flusher task drains in order. This keeps two cores that
//! answer each other's requests from deadlocking on full channels, and keeps
//! the per-pair order FIFO, which the transaction protocol relies on (a
//! conclude message always arrives after the schedule message it follows).
//!
//! Replies come back the same way: [`Core::call`] parks the caller on a local
//! slot and the remote core posts a closure back that fills the slot.

use crate::core::Core;
use glommio::channels::shared_channel::{ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender};
use glommio::GlommioError;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A closure to run on another core.
pub type Msg = Box<dyn FnOnce(&Rc<Core>) + Send>;

/// Capacity of each core-to-core channel.
const CHANNEL_CAPACITY: usize = 4096;

/// The not-yet-connected channel ends of a mesh of `n` cores, made on the
/// main thread and handed out to the executors.
pub struct MeshEnds {
    pub senders: Vec<Option<SharedSender<Msg>>>,
    pub receivers: Vec<Option<SharedReceiver<Msg>>>,
}

/// Builds the channels: `ends[i].senders[j]` sends from core i to core j and
/// `ends[j].receivers[i]` receives it.
pub fn mesh(n: usize) -> Vec<MeshEnds> {
    let mut ends: Vec<MeshEnds> = (0..n)
        .map(|_| MeshEnds {
            senders: (0..n).map(|_| None).collect(),
            receivers: (0..n).map(|_| None).collect(),
        })
        .collect();
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let (tx, rx) = glommio::channels::shared_channel::new_bounded(CHANNEL_CAPACITY);
                ends[i].senders[j] = Some(tx);
                ends[j].receivers[i] = Some(rx);
            }
        }
    }
    ends
}

/// The sending side towards one peer.
pub struct Peer {
    tx: Rc<ConnectedSender<Msg>>,
    outbox: Rc<RefCell<VecDeque<Msg>>>,
    flushing: Rc<Cell<bool>>,
}

impl Peer {
    pub async fn connect(tx: SharedSender<Msg>) -> Peer {
        Peer {
            tx: Rc::new(tx.connect().await),
            outbox: Rc::new(RefCell::new(VecDeque::new())),
            flushing: Rc::new(Cell::new(false)),
        }
    }

    /// Queues `msg` for the peer without waiting.
    pub fn post(&self, msg: Msg) {
        if self.outbox.borrow().is_empty() {
            match self.tx.try_send(msg) {
                Ok(()) => return,
                Err(GlommioError::WouldBlock(glommio::ResourceType::Channel(m))) => {
                    self.outbox.borrow_mut().push_back(m)
                }
                // The peer is gone (shutting down): nothing will answer.
                Err(_) => return,
            }
        } else {
            self.outbox.borrow_mut().push_back(msg);
        }
        if !self.flushing.get() {
            self.flushing.set(true);
            let (tx, outbox, flushing) = (self.tx.clone(), self.outbox.clone(), self.flushing.clone());
            glommio::spawn_local(async move {
                loop {
                    let Some(m) = outbox.borrow_mut().pop_front() else {
                        break;
                    };
                    if tx.send(m).await.is_err() {
                        outbox.borrow_mut().clear();
                        break;
                    }
                }
                flushing.set(false);
            })
            .detach();
        }
    }
}

/// Runs every message arriving from one peer, in order.
pub async fn receive_loop(core: Rc<Core>, rx: ConnectedReceiver<Msg>) {
    while let Some(msg) = rx.recv().await {
        core.stats.borrow_mut().hops_received += 1;
        crate::core::tick();
        msg(&core);
        crate::master::collect(&core, &core.shard);
    }
}

/// A slot a parked caller waits on until another core fills it.
struct Slot {
    value: Option<Box<dyn Any>>,
    waker: Option<Waker>,
    abandoned: bool,
}

/// The calls this core is waiting on.
#[derive(Default)]
pub struct Pending {
    slots: RefCell<Vec<Option<Slot>>>,
    free: RefCell<Vec<usize>>,
}

impl Pending {
    fn alloc(&self) -> usize {
        let slot = Slot { value: None, waker: None, abandoned: false };
        let mut slots = self.slots.borrow_mut();
        match self.free.borrow_mut().pop() {
            Some(i) => {
                slots[i] = Some(slot);
                i
            }
            None => {
                slots.push(Some(slot));
                slots.len() - 1
            }
        }
    }

    fn release(&self, i: usize) {
        self.slots.borrow_mut()[i] = None;
        self.free.borrow_mut().push(i);
    }

    /// Delivers a result to slot `i` and wakes its waiter.
    pub fn complete(&self, i: usize, value: Box<dyn Any>) {
        let waker = {
            let mut slots = self.slots.borrow_mut();
            let slot = slots[i].as_mut().expect("live reply slot");
            if slot.abandoned {
                drop(slots);
                self.release(i);
                return;
            }
            slot.value = Some(value);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The future of a call: ready when the slot is filled.
pub struct Reply<R> {
    core: Rc<Core>,
    slot: usize,
    done: bool,
    _r: std::marker::PhantomData<R>,
}

impl<R> Unpin for Reply<R> {}

impl<R: 'static> Future for Reply<R> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        let pending = &self.core.pending;
        let taken = {
            let mut slots = pending.slots.borrow_mut();
            let slot = slots[self.slot].as_mut().expect("live reply slot");
            match slot.value.take() {
                Some(v) => Some(v),
                None => {
                    slot.waker = Some(cx.waker().clone());
                    None
                }
            }
        };
        match taken {
            Some(v) => {
                pending.release(self.slot);
                self.done = true;
                Poll::Ready(*v.downcast::<R>().expect("reply of the type the call expects"))
            }
            None => Poll::Pending,
        }
    }
}

impl<R> Drop for Reply<R> {
    fn drop(&mut self) {
        if !self.done {
            let mut slots = self.core.pending.slots.borrow_mut();
            let finished = match slots[self.slot].as_mut() {
                Some(slot) if slot.value.is_some() => true,
                Some(slot) => {
                    slot.abandoned = true;
                    false
                }
                None => false,
            };
            drop(slots);
            if finished {
                self.core.pending.release(self.slot);
            }
        }
    }
}

/// The right to answer a call once, from whichever core ends up doing the work.
pub struct Responder<R> {
    origin: usize,
    slot: usize,
    _r: std::marker::PhantomData<fn(R)>,
}

impl<R: Send + 'static> Responder<R> {
    /// Sends the answer back to the caller's core (or fills the slot directly when already there).
    pub fn send(self, here: &Rc<Core>, value: R) {
        let slot = self.slot;
        if here.id.index() == self.origin {
            here.pending.complete(slot, Box::new(value));
        } else {
            here.post(
                self.origin,
                Box::new(move |core: &Rc<Core>| core.pending.complete(slot, Box::new(value))),
            );
        }
    }
}

impl Core {
    /// Runs `f` on core `to` and awaits its answer. `f` gets a [`Responder`]
    /// it may keep (to answer after waiting for locks) but must eventually use.
    pub fn call_with<R, F>(self: &Rc<Self>, to: usize, f: F) -> Reply<R>
    where
        R: Send + 'static,
        F: FnOnce(&Rc<Core>, Responder<R>) + Send + 'static,
    {
        let slot = self.pending.alloc();
        let responder = Responder { origin: self.id.index(), slot, _r: std::marker::PhantomData };
        if to == self.id.index() {
            f(self, responder);
        } else {
            self.post(to, Box::new(move |core: &Rc<Core>| f(core, responder)));
        }
        Reply { core: self.clone(), slot, done: false, _r: std::marker::PhantomData }
    }

    /// Runs `f` on core `to` and awaits what it returns.
    pub fn call<R, F>(self: &Rc<Self>, to: usize, f: F) -> Reply<R>
    where
        R: Send + 'static,
        F: FnOnce(&Rc<Core>) -> R + Send + 'static,
    {
        self.call_with(to, move |core, responder| {
            let r = f(core);
            responder.send(core, r);
        })
    }

    /// Runs `f` on core `to` without waiting for it (inline when `to` is this core).
    pub fn run_on(self: &Rc<Self>, to: usize, f: impl FnOnce(&Rc<Core>) + Send + 'static) {
        if to == self.id.index() {
            f(self);
        } else {
            self.post(to, Box::new(f));
        }
    }

    pub fn post(&self, to: usize, msg: Msg) {
        self.stats.borrow_mut().hops_sent += 1;
        self.peers[to].as_ref().expect("a peer for every other core").post(msg);
    }
}
