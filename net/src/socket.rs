//! TCP sockets driven by plain non-blocking syscalls, waiting for readiness
//! on this core's ring ([`crate::uring`]).

use crate::uring;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// A connected TCP socket owned by one core.
pub struct Socket {
    fd: OwnedFd,
}

impl Socket {
    /// Takes ownership of a connected, non-blocking TCP socket (one handed
    /// over from another core's connection).
    pub fn from_owned(fd: OwnedFd) -> Socket {
        Socket { fd }
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        socket2::SockRef::from(&self.fd)
            .peer_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an IP socket"))
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        socket2::SockRef::from(&self.fd)
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an IP socket"))
    }

    pub fn sock_ref(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(&self.fd)
    }

    /// Opens a TCP connection to `addr` without blocking the core: the
    /// connect runs in the background and the ring reports when it is done.
    pub async fn connect(addr: SocketAddr) -> io::Result<Socket> {
        use socket2::{Domain, Protocol, Socket as S, Type};
        let sock =
            S::new(Domain::for_address(addr), Type::STREAM.nonblocking().cloexec(), Some(Protocol::TCP))?;
        match sock.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                uring::writable(sock.as_raw_fd()).await?;
                if let Some(e) = sock.take_error()? {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        Ok(Socket { fd: sock.into() })
    }

    /// Reads what is there without waiting: `None` when nothing is. 0 means the peer closed.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            // SAFETY: buf is valid for writes of its length.
            let n =
                unsafe { libc::recv(self.raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
            if n >= 0 {
                return Ok(Some(n as usize));
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => return Ok(None),
                io::ErrorKind::Interrupted => {}
                _ => return Err(e),
            }
        }
    }

    /// Reads what is there, waiting until something is. 0 means the peer closed.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: buf is valid for writes of its length.
            let n =
                unsafe { libc::recv(self.raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => uring::readable(self.raw_fd()).await?,
                io::ErrorKind::Interrupted => {}
                _ => return Err(e),
            }
        }
    }

    /// Writes all of `buf`, waiting for buffer space as needed.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        write_all_fd(self.raw_fd(), buf).await
    }
}

/// Writes all of `buf` to the connected socket `fd` of this core, waiting
/// for buffer space as needed: for replies that must go out before the
/// connection's loop gets back to writing (those ahead of a blocking command).
pub async fn write_all_fd(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: buf is valid for reads of its length.
        let n = unsafe {
            libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
        };
        if n >= 0 {
            buf = &buf[n as usize..];
            continue;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock => uring::writable(fd).await?,
            io::ErrorKind::Interrupted => {}
            _ => return Err(e),
        }
    }
    Ok(())
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A listening TCP socket.
pub struct Listener {
    fd: OwnedFd,
}

impl Listener {
    /// Listens on `addr` with SO_REUSEPORT, so that every core can listen on
    /// the same port and the kernel spreads connections over them.
    pub fn bind(addr: SocketAddr, backlog: i32) -> io::Result<Listener> {
        use socket2::{Domain, Protocol, Socket as S, Type};
        let sock =
            S::new(Domain::for_address(addr), Type::STREAM.nonblocking().cloexec(), Some(Protocol::TCP))?;
        sock.set_reuse_address(true)?;
        sock.set_reuse_port(true)?;
        if addr.is_ipv6() {
            sock.set_only_v6(true)?;
        }
        sock.bind(&addr.into())?;
        sock.listen(backlog)?;
        Ok(Listener { fd: sock.into() })
    }

    /// Accepts the next connection, waiting for one.
    pub async fn accept(&self) -> io::Result<(Socket, SocketAddr)> {
        loop {
            let mut addr: libc::sockaddr_storage =
                // SAFETY: sockaddr_storage is plain data.
                unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            // SAFETY: addr and len describe a writable sockaddr buffer.
            let fd = unsafe {
                libc::accept4(
                    self.fd.as_raw_fd(),
                    (&mut addr as *mut libc::sockaddr_storage).cast(),
                    &mut len,
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                )
            };
            if fd >= 0 {
                // SAFETY: accept4 returned a new descriptor that nothing else owns.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                let sock = Socket { fd };
                let peer = sock.peer_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                return Ok((sock, peer));
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EAGAIN) => uring::readable(self.fd.as_raw_fd()).await?,
                Some(libc::EINTR) | Some(libc::ECONNABORTED) => {}
                _ => return Err(e),
            }
        }
    }
}
