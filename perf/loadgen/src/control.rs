//! Blocking request/reply over a plain socket, for everything that is not
//! measured: opening load connections (connect, AUTH) and asking for the
//! cluster topology. Replies are framed by the skimmer and decoded by the
//! `redis` crate's parser.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{bail, Context};

use crate::resp;

/// How long connecting, or waiting for one reply, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Control {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Control {
    /// Connects to `addr` (TCP_NODELAY) and authenticates when `auth` is given.
    pub fn connect(addr: SocketAddr, auth: Option<&str>) -> anyhow::Result<Control> {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT)
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        let mut ctl = Control { stream, buf: Vec::new() };
        if let Some(password) = auth {
            ctl.call(&[b"AUTH", password.as_bytes()]).with_context(|| format!("AUTH on {addr}"))?;
        }
        Ok(ctl)
    }

    pub fn peer(&self) -> std::io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// Sends one command and waits for its reply; an error reply is an error.
    pub fn call(&mut self, args: &[&[u8]]) -> anyhow::Result<redis::Value> {
        let mut req = Vec::new();
        resp::encode(&mut req, args);
        self.stream.write_all(&req)?;
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        let len = loop {
            if let Some(reply) = resp::skim(&self.buf)? {
                break reply.len;
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                bail!("connection closed by the server");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        if len != self.buf.len() {
            bail!("unexpected bytes after the reply");
        }
        match redis::parse_redis_value(&self.buf)? {
            redis::Value::ServerError(e) => bail!("{e}"),
            v => Ok(v),
        }
    }

    /// The socket, ready for an event loop: non-blocking, no timeouts.
    pub fn into_stream(self) -> std::io::Result<TcpStream> {
        self.stream.set_read_timeout(None)?;
        self.stream.set_write_timeout(None)?;
        self.stream.set_nonblocking(true)?;
        Ok(self.stream)
    }
}
