//! The clients connected to one core, for CLIENT LIST/INFO/KILL and INFO clients.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::rc::Rc;

/// What CLIENT LIST shows of a connection, kept current by its session.
#[derive(Debug)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub fd: RawFd,
    pub name: Vec<u8>,
    pub created_ms: u64,
    pub last_ms: u64,
    pub db: usize,
    pub resp: u8,
    pub authenticated: bool,
    pub last_cmd: Option<shoal_engine::CmdId>,
    /// The session is in the middle of handling input (CLIENT KILL then closes it after the reply).
    pub busy: bool,
    pub qbuf: usize,
    pub qbuf_free: usize,
    /// Set by CLIENT KILL: close after the current reply.
    pub killed: bool,
}

impl ClientInfo {
    /// A connection just made, in database 0 with RESP2.
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, fd: RawFd, authenticated: bool) -> ClientInfo {
        let now = crate::core::now_ms();
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            name: Vec::new(),
            created_ms: now,
            last_ms: now,
            db: 0,
            resp: 2,
            authenticated,
            last_cmd: None,
            busy: false,
            qbuf: 0,
            qbuf_free: 0,
            killed: false,
        }
    }

    /// One CLIENT LIST line, with Redis's fields in Redis's order.
    pub fn line(&self, now_ms: u64) -> String {
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags=N db={} sub=0 psub=0 ssub=0 multi=-1 qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            String::from_utf8_lossy(&self.name),
            now_ms.saturating_sub(self.created_ms) / 1000,
            now_ms.saturating_sub(self.last_ms) / 1000,
            self.db,
            self.qbuf,
            self.qbuf_free,
            self.qbuf + self.qbuf_free + 16384,
            self.last_cmd
                .map_or("NULL", |id| shoal_engine::Registry::get().entry(id).fullname.as_str()),
            self.resp,
        )
    }
}

/// This core's clients by id.
#[derive(Default)]
pub struct Clients {
    pub by_id: BTreeMap<u64, Rc<RefCell<ClientInfo>>>,
}

impl Clients {
    pub fn add(&mut self, c: Rc<RefCell<ClientInfo>>) {
        let id = c.borrow().id;
        self.by_id.insert(id, c);
    }

    pub fn remove(&mut self, id: u64) {
        self.by_id.remove(&id);
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }
}
