//! Values and their encodings.
//!
//! A value remembers which of Redis's encodings it would have, because
//! `OBJECT ENCODING` reports it and clients and tests read that: a string that
//! is a canonical 64-bit integer is `int`, a short string written whole is
//! `embstr`, anything longer or modified in place (APPEND, SETRANGE) is `raw`.

use crate::bytes::SmallBytes;
use crate::num;
pub use crate::types::{Hash, List, Set, Stream, ZSet};

/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`: strings up to this length set whole are `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// Integers below this are Redis's shared integer objects (`OBJ_SHARED_INTEGERS`),
/// which `OBJECT REFCOUNT` reports as `INT_MAX`.
pub const SHARED_INTEGERS: i64 = 10000;

/// A value of any Redis type. The collections are boxed so that every value
/// stays as small as a string's handle.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Str),
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

/// A string value in one of Redis's three encodings.
#[derive(Clone, Debug, PartialEq)]
pub enum Str {
    /// A canonical decimal integer (`int`).
    Int(i64),
    /// A string of at most [`EMBSTR_MAX`] bytes, written whole (`embstr`);
    /// up to 22 bytes are kept inline.
    Emb(SmallBytes),
    /// Any other string; keeps spare capacity for APPEND (`raw`). Boxed so
    /// that the three variants fit the 24 bytes of [`SmallBytes`] and a
    /// [`Value`] stays 24 bytes: every key pays for the handle, few keys hold
    /// long strings, and those pay one pointer hop beside a long copy.
    Raw(Box<Vec<u8>>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(Str::Int(_)) => "int",
            Value::Str(Str::Emb(_)) => "embstr",
            Value::Str(Str::Raw(_)) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// A string value from bytes a client sent whole (SET, MSET, ...), encoded
    /// as Redis's `tryObjectEncoding` would.
    pub fn string(bytes: &[u8]) -> Value {
        Value::Str(Str::from_bytes(bytes))
    }

    pub fn as_str(&self) -> Option<&Str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str_mut(&mut self) -> Option<&mut Str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Approximate heap bytes owned by this value, for memory accounting.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(Str::Int(_)) => 0,
            Value::Str(Str::Emb(b)) => b.heap_size(),
            Value::Str(Str::Raw(v)) => v.capacity(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }
}

/// Typed access to a value, with Redis's WRONGTYPE error for any other type.
macro_rules! typed {
    ($get:ident, $get_mut:ident, $variant:ident, $ty:ty) => {
        impl Value {
            pub fn $get(&self) -> Result<&$ty, crate::error::CmdError> {
                match self {
                    Value::$variant(v) => Ok(v),
                    _ => Err(crate::error::WRONGTYPE),
                }
            }

            pub fn $get_mut(&mut self) -> Result<&mut $ty, crate::error::CmdError> {
                match self {
                    Value::$variant(v) => Ok(v),
                    _ => Err(crate::error::WRONGTYPE),
                }
            }
        }
    };
}

typed!(list, list_mut, List, List);
typed!(hash, hash_mut, Hash, Hash);
typed!(set, set_mut, Set, Set);
typed!(zset, zset_mut, ZSet, ZSet);
typed!(stream, stream_mut, Stream, Stream);

impl Str {
    pub fn from_bytes(bytes: &[u8]) -> Str {
        if bytes.len() <= 20 {
            if let Some(n) = num::parse_i64(bytes) {
                return Str::Int(n);
            }
        }
        if bytes.len() <= EMBSTR_MAX {
            Str::Emb(SmallBytes::new(bytes))
        } else {
            Str::Raw(Box::new(bytes.to_vec()))
        }
    }

    /// A string built by a command rather than sent whole (APPEND, SETRANGE): `raw`.
    pub fn raw(bytes: Vec<u8>) -> Str {
        Str::Raw(Box::new(bytes))
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => int_len(*n),
            Str::Emb(b) => b.len(),
            Str::Raw(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The string's bytes; integers are rendered into `scratch`.
    pub fn bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> &'a [u8] {
        match self {
            Str::Int(n) => scratch.format(*n).as_bytes(),
            Str::Emb(b) => b,
            Str::Raw(v) => v,
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut s = itoa::Buffer::new();
        self.bytes(&mut s).to_vec()
    }

    /// The value as an integer, if it is one in Redis's strict sense.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Str::Int(n) => Some(*n),
            Str::Emb(b) => num::parse_i64(b),
            Str::Raw(v) if v.len() <= 20 => num::parse_i64(v),
            Str::Raw(_) => None,
        }
    }

    /// Converts to the `raw` encoding in place (for APPEND, SETRANGE) and
    /// returns the bytes for modification.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            *self = Str::raw(self.to_vec());
        }
        match self {
            Str::Raw(v) => v,
            _ => unreachable!(),
        }
    }
}

fn int_len(n: i64) -> usize {
    itoa::Buffer::new().format(n).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_as_small_as_a_short_string() {
        assert_eq!(std::mem::size_of::<Str>(), std::mem::size_of::<SmallBytes>());
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Value::string(b"123").encoding(), "int");
        assert_eq!(Value::string(b"-9223372036854775808").encoding(), "int");
        assert_eq!(Value::string(b"0123").encoding(), "embstr");
        assert_eq!(Value::string(b"hello").encoding(), "embstr");
        assert_eq!(Value::string(&[b'x'; 44]).encoding(), "embstr");
        assert_eq!(Value::string(&[b'x'; 45]).encoding(), "raw");
        let mut v = Value::string(b"12");
        v.as_str_mut().unwrap().make_raw().push(b'3');
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.as_str().unwrap().as_i64(), Some(123));
    }
}
