//! Whole RDB files, as redis-server 7.0 writes and loads them: the
//! `REDIS0010` header, auxiliary fields, then for each database a SELECTDB
//! and a RESIZEDB hint followed by its keys (each with its expiry, if any),
//! and an EOF byte with the CRC-64 of everything before it.
//!
//! These are what a full sync sends a replica and what SAVE writes. The
//! writer keeps the checksum as the bytes are taken, so a file can be sent
//! or written piece by piece while the dataset is walked; a large value can
//! be written in steps with [`ObjectWriter::keyed`] into [`RdbWriter::out`].

use super::decode::{read_value, Reader};
use super::encode::{put_len, put_string, ObjectWriter};
use super::{crc64, LoadLimits, RdbError, RDB_VERSION};
use crate::value::Value;

pub const OP_FUNCTION2: u8 = 245;
pub const OP_FUNCTION_PRE_GA: u8 = 246;
pub const OP_MODULE_AUX: u8 = 247;
pub const OP_IDLE: u8 = 248;
pub const OP_FREQ: u8 = 249;
pub const OP_AUX: u8 = 250;
pub const OP_RESIZEDB: u8 = 251;
pub const OP_EXPIRETIME_MS: u8 = 252;
pub const OP_EXPIRETIME: u8 = 253;
pub const OP_SELECTDB: u8 = 254;
pub const OP_EOF: u8 = 255;

/// Writes an RDB file front to back.
pub struct RdbWriter {
    buf: Vec<u8>,
    /// The CRC of the bytes already taken.
    crc: u64,
}

impl RdbWriter {
    /// Starts a file: the header and the auxiliary fields, in order.
    pub fn new(aux: &[(&str, &[u8])]) -> RdbWriter {
        let mut buf = format!("REDIS{RDB_VERSION:04}").into_bytes();
        for (k, v) in aux {
            buf.push(OP_AUX);
            put_string(&mut buf, k.as_bytes());
            put_string(&mut buf, v);
        }
        RdbWriter { buf, crc: 0 }
    }

    /// Starts database `db`, which holds `keys` keys, `expires` of them with
    /// a time to live (a sizing hint for the loader).
    pub fn select_db(&mut self, db: usize, keys: u64, expires: u64) {
        self.buf.push(OP_SELECTDB);
        put_len(&mut self.buf, db as u64);
        self.buf.push(OP_RESIZEDB);
        put_len(&mut self.buf, keys);
        put_len(&mut self.buf, expires);
    }

    /// Writes a key whole: its expiry (Unix ms), then its entry.
    pub fn key(&mut self, key: &[u8], value: &Value, expire_at: Option<u64>) {
        write_key(&mut self.buf, key, value, expire_at);
    }

    /// Writes a key's expiry, before an entry written in steps into [`RdbWriter::out`].
    pub fn expiry(&mut self, expire_at: Option<u64>) {
        write_expiry(&mut self.buf, expire_at);
    }

    /// Writes a function library (its code, as FUNCTION LOAD takes it).
    pub fn function(&mut self, code: &[u8]) {
        self.buf.push(OP_FUNCTION2);
        put_string(&mut self.buf, code);
    }

    /// Switches to database `db` without a sizing hint: the keys that follow
    /// belong to it (a file may select the same database more than once).
    pub fn switch_db(&mut self, db: usize) {
        self.buf.push(OP_SELECTDB);
        put_len(&mut self.buf, db as u64);
    }

    /// Appends key records written elsewhere (by [`write_key`]) to the file.
    pub fn records(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The bytes written so far and not yet taken.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Where an [`ObjectWriter::keyed`] writes an entry in steps.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The bytes written since the last take, to send or store.
    pub fn take(&mut self) -> Vec<u8> {
        self.crc = crc64::crc64(self.crc, &self.buf);
        std::mem::take(&mut self.buf)
    }

    /// The last bytes of the file: what was not taken yet, EOF, the checksum.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(OP_EOF);
        let crc = crc64::crc64(self.crc, &self.buf);
        self.buf.extend_from_slice(&crc.to_le_bytes());
        self.buf
    }
}

/// Writes one key record as a file holds it: its expiry (Unix ms), if any,
/// then the type, the key and the value.
pub fn write_key(out: &mut Vec<u8>, key: &[u8], value: &Value, expire_at: Option<u64>) {
    write_expiry(out, expire_at);
    let mut w = ObjectWriter::keyed(key);
    while !w.step(value, out, usize::MAX) {}
}

fn write_expiry(out: &mut Vec<u8>, expire_at: Option<u64>) {
    if let Some(at) = expire_at {
        out.push(OP_EXPIRETIME_MS);
        out.extend_from_slice(&at.to_le_bytes());
    }
}

/// A file's auxiliary fields (`redis-ver`, `ctime`, `repl-id`...), in order.
pub type AuxFields = Vec<(Vec<u8>, Vec<u8>)>;

/// A key read from a file.
pub struct LoadedKey {
    pub db: usize,
    pub key: Vec<u8>,
    pub value: Value,
    /// Unix ms.
    pub expire_at: Option<u64>,
}

/// What a file holds besides its keys.
#[derive(Debug, Default)]
pub struct FileExtras {
    pub aux: AuxFields,
    /// The code of each function library (what FUNCTION LOAD takes).
    pub functions: Vec<Vec<u8>>,
}

/// Reads a whole RDB file of version 1 to 10, calling `each` for every key
/// in file order. Returns the auxiliary fields and function libraries. A
/// checksum of zero means the writer did not compute one (`rdbchecksum no`)
/// and is not checked.
pub fn load(
    buf: &[u8],
    limits: &LoadLimits,
    mut each: impl FnMut(LoadedKey),
) -> Result<FileExtras, RdbError> {
    let version = match buf {
        [b'R', b'E', b'D', b'I', b'S', v @ ..] if v.len() >= 4 => std::str::from_utf8(&v[..4])
            .ok()
            .and_then(|v| v.parse::<u16>().ok())
            .ok_or(RdbError::BadFormat("not an RDB file"))?,
        _ => return Err(RdbError::BadFormat("not an RDB file")),
    };
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(RdbError::VersionOrChecksum);
    }
    let mut r = Reader::new(&buf[9..]);
    let (mut extras, mut db, mut expire_at) = (FileExtras::default(), 0usize, None);
    loop {
        let op = r.u8()?;
        match op {
            OP_EOF => break,
            OP_AUX => {
                let k = r.string()?.into_owned();
                let v = r.string()?.into_owned();
                extras.aux.push((k, v));
            }
            OP_SELECTDB => db = usize::try_from(r.length()?).map_err(|_| RdbError::BadFormat("database"))?,
            OP_RESIZEDB => {
                r.length()?;
                r.length()?;
            }
            OP_EXPIRETIME_MS => {
                let b = r.take(8)?;
                expire_at = Some(u64::from_le_bytes(b.try_into().expect("8 bytes")));
            }
            OP_EXPIRETIME => {
                let b = r.take(4)?;
                expire_at = Some(u64::from(u32::from_le_bytes(b.try_into().expect("4 bytes"))) * 1000);
            }
            OP_IDLE => {
                r.length()?;
            }
            OP_FREQ => {
                r.u8()?;
            }
            OP_MODULE_AUX => return Err(RdbError::BadFormat("module data")),
            OP_FUNCTION2 => extras.functions.push(r.string()?.into_owned()),
            // The format of Redis 7.0's release candidates only.
            OP_FUNCTION_PRE_GA => return Err(RdbError::BadFormat("pre-release function libraries")),
            t => {
                let key = r.string()?.into_owned();
                let value = read_value(&mut r, t, limits)?;
                each(LoadedKey { db, key, value, expire_at: expire_at.take() });
            }
        }
    }
    let end = 9 + r.position();
    if version >= 5 {
        let footer = buf.get(end..end + 8).ok_or(RdbError::VersionOrChecksum)?;
        let want = u64::from_le_bytes(footer.try_into().expect("8 bytes"));
        if want != 0 && crc64::crc64(0, &buf[..end]) != want {
            return Err(RdbError::VersionOrChecksum);
        }
    }
    Ok(extras)
}
