//! Values in Redis's RDB serialization, as DUMP, RESTORE and MIGRATE carry
//! them (and, later, RDB files).
//!
//! A DUMP payload is one RDB object (a type byte and the encoded value),
//! then the RDB version as two little-endian bytes and a CRC-64 of all that
//! (see [`crc64`]) as eight. Shoal writes what redis-server 7.0 reads (RDB
//! version 10) and reads every encoding redis-server 7.0 writes or still
//! loads from older versions, so values move both ways between Shoal and
//! Redis nodes.
//!
//! Reading trusts nothing: a payload may come from any client. Every length
//! is checked against the bytes that are left before anything is read or
//! allocated, so a malformed payload is an error ([`RdbError::BadFormat`],
//! Redis's `Bad data format`), never a panic or a huge allocation.

pub mod crc64;
mod decode;
mod encode;
pub mod file;
pub mod listpack;
pub mod lzf;

pub use decode::Reader;
pub use encode::ObjectWriter;

use crate::error::CmdError;
use crate::shard::EngineConfig;
use crate::types::{hash, zset};
use crate::value::Value;

/// The RDB version Shoal writes, and the newest it accepts: Redis 7.0's.
pub const RDB_VERSION: u16 = 10;

/// The RDB object types (`RDB_TYPE_*` in Redis's `rdb.h`). These numbers
/// are on disk and on the wire: they never change, and new ones are only added.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RdbType {
    String = 0,
    List = 1,
    Set = 2,
    ZSet = 3,
    Hash = 4,
    /// Sorted set with binary double scores.
    ZSet2 = 5,
    Module = 6,
    Module2 = 7,
    HashZipmap = 9,
    ListZiplist = 10,
    SetIntset = 11,
    ZSetZiplist = 12,
    HashZiplist = 13,
    ListQuicklist = 14,
    StreamListpacks = 15,
    HashListpack = 16,
    ZSetListpack = 17,
    ListQuicklist2 = 18,
    StreamListpacks2 = 19,
}

impl RdbType {
    pub fn from_u8(b: u8) -> Option<RdbType> {
        use RdbType::*;
        Some(match b {
            0 => String,
            1 => List,
            2 => Set,
            3 => ZSet,
            4 => Hash,
            5 => ZSet2,
            6 => Module,
            7 => Module2,
            9 => HashZipmap,
            10 => ListZiplist,
            11 => SetIntset,
            12 => ZSetZiplist,
            13 => HashZiplist,
            14 => ListQuicklist,
            15 => StreamListpacks,
            16 => HashListpack,
            17 => ZSetListpack,
            18 => ListQuicklist2,
            19 => StreamListpacks2,
            _ => return None,
        })
    }
}

/// Why a payload could not be restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RdbError {
    /// Too short for its footer, a newer RDB version, or a wrong checksum.
    VersionOrChecksum,
    /// The value itself is malformed (or empty, or of a type Shoal does not
    /// hold, such as a module value); the text says what was wrong, for logs.
    BadFormat(&'static str),
}

pub const VERSION_OR_CHECKSUM: CmdError = CmdError::new("ERR DUMP payload version or checksum are wrong");
pub const BAD_DATA_FORMAT: CmdError = CmdError::new("ERR Bad data format");

impl RdbError {
    /// The error RESTORE replies with, in Redis's words.
    pub fn cmd_error(&self) -> CmdError {
        match self {
            RdbError::VersionOrChecksum => VERSION_OR_CHECKSUM,
            RdbError::BadFormat(_) => BAD_DATA_FORMAT,
        }
    }
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RdbError::VersionOrChecksum => f.write_str("DUMP payload version or checksum are wrong"),
            RdbError::BadFormat(why) => write!(f, "bad data format: {why}"),
        }
    }
}

impl std::error::Error for RdbError {}

/// The encoding thresholds a loaded value is fitted to, as the commands
/// that build values apply them (from the configuration).
#[derive(Clone, Copy, Debug)]
pub struct LoadLimits {
    pub hash: hash::Limits,
    pub zset: zset::Limits,
    pub set_max_intset_entries: usize,
}

impl LoadLimits {
    pub fn from_config(c: &EngineConfig) -> LoadLimits {
        LoadLimits {
            hash: hash::Limits { entries: c.hash_max_listpack_entries, value: c.hash_max_listpack_value },
            zset: zset::Limits { entries: c.zset_max_listpack_entries, value: c.zset_max_listpack_value },
            set_max_intset_entries: c.set_max_intset_entries,
        }
    }
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits::from_config(&EngineConfig::default())
    }
}

/// Appends the RDB object for `value`: its type byte, then its encoding.
pub fn write_object(value: &Value, out: &mut Vec<u8>) {
    encode::write_value(value, out)
}

/// Reads one RDB object (type byte and encoding) from `r`.
pub fn read_object(r: &mut Reader<'_>, limits: &LoadLimits) -> Result<Value, RdbError> {
    let t = r.u8()?;
    decode::read_value(r, t, limits)
}

/// The DUMP payload of `value`.
pub fn dump_value(value: &Value) -> Vec<u8> {
    let mut w = PayloadWriter::new();
    while !w.step(value, usize::MAX) {}
    w.finish().concat()
}

/// A DUMP payload written in steps (see [`ObjectWriter`]), one piece per
/// step, so that a large payload never moves as it grows; its checksum is
/// kept up to date, so sealing it costs nothing.
#[derive(Default)]
pub struct PayloadWriter {
    object: ObjectWriter,
    pieces: Vec<Vec<u8>>,
    crc: u64,
}

impl PayloadWriter {
    pub fn new() -> PayloadWriter {
        PayloadWriter::default()
    }

    /// Writes about `budget` more bytes of `value`, which must be the value
    /// earlier steps wrote, unchanged. True once the object is complete.
    pub fn step(&mut self, value: &Value, budget: usize) -> bool {
        // Grown as written: most values are small, and sizing a piece for
        // the whole budget cost every DUMP a 2 MB allocation (a piece that
        // stays empty is dropped).
        let mut piece = Vec::new();
        let done = self.object.step(value, &mut piece, budget);
        if !piece.is_empty() {
            self.crc = crc64::crc64(self.crc, &piece);
            self.pieces.push(piece);
        }
        done
    }

    /// The payload in pieces: the object, then the RDB version and the
    /// CRC-64 of both.
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        let version = RDB_VERSION.to_le_bytes();
        let crc = crc64::crc64(self.crc, &version);
        let mut footer = version.to_vec();
        footer.extend_from_slice(&crc.to_le_bytes());
        match self.pieces.last_mut() {
            Some(last) if last.len() < 4096 || last.capacity() - last.len() >= footer.len() => {
                last.extend_from_slice(&footer)
            }
            _ => self.pieces.push(footer),
        }
        self.pieces
    }
}

/// Checks a payload's footer (Redis's `verifyDumpPayload`) and returns the
/// object before it.
pub fn verify_payload(payload: &[u8]) -> Result<&[u8], RdbError> {
    if payload.len() < 10 {
        return Err(RdbError::VersionOrChecksum);
    }
    let (object, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(RdbError::VersionOrChecksum);
    }
    let crc = crc64::crc64(0, &payload[..payload.len() - 8]);
    if crc.to_le_bytes() != footer[2..] {
        return Err(RdbError::VersionOrChecksum);
    }
    Ok(object)
}

/// The value a DUMP payload holds, in the encodings the default
/// configuration gives (see [`restore_value_with`]).
pub fn restore_value(payload: &[u8]) -> Result<Value, RdbError> {
    restore_value_with(payload, &LoadLimits::default())
}

/// The value a DUMP payload holds, fitted to `limits`. As in Redis, the
/// object is read from the whole payload: bytes after it are ignored, and an
/// object whose last length runs into the footer takes the footer's bytes
/// (Redis accepts such a payload, so Shoal does too).
pub fn restore_value_with(payload: &[u8], limits: &LoadLimits) -> Result<Value, RdbError> {
    verify_payload(payload)?;
    read_object(&mut Reader::new(payload), limits)
}

#[cfg(test)]
mod tests;
