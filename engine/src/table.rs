//! The table of one slot of one database.
//!
//! Entries live in a dense vector, found through a hashbrown index of
//! positions. The dense vector is what makes the slot a unit: it can be
//! counted, walked by SCAN with a cursor that survives concurrent inserts and
//! deletes, sampled for RANDOMKEY and active expiry in O(1), and later handed
//! to another core or node whole.
//!
//! Deletion swaps the last entry into the hole, so a walk that goes from the
//! end towards index 0 never misses an entry that stayed in the table for the
//! whole walk: the only entry that moves is the last one, which has already
//! been visited (or, once the table shrank below the cursor, is still ahead).

use crate::bytes::SmallBytes;
use crate::value::Value;
use hashbrown::HashTable;

/// One key with its value, expiry and access clock.
#[derive(Clone, Debug)]
pub struct Entry {
    key: SmallBytes,
    pub(crate) value: Value,
    /// Absolute expiry in Unix milliseconds; 0 when the key has none.
    pub(crate) expire_at: u64,
    /// Seconds clock of the last access, for OBJECT IDLETIME.
    pub(crate) lru: u32,
    /// Changes whenever the entry is written (WATCH compares it at EXEC).
    pub(crate) version: u32,
}

impl Entry {
    pub fn new(key: &[u8], value: Value, expire_at: u64, lru: u32) -> Entry {
        Entry { key: key.into(), value, expire_at, lru, version: 0 }
    }

    pub fn key(&self) -> &[u8] {
        &self.key
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The absolute expiry (Unix ms), if the key has one.
    pub fn expire_at(&self) -> Option<u64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }

    pub fn lru(&self) -> u32 {
        self.lru
    }

    /// Changes whenever the entry is written; WATCH compares it at EXEC.
    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at != 0 && self.expire_at <= now_ms
    }

    pub fn into_parts(self) -> (SmallBytes, Value, u64) {
        (self.key, self.value, self.expire_at)
    }
}

#[derive(Default, Clone)]
pub struct SlotTable {
    entries: Vec<Entry>,
    index: HashTable<u32>,
    /// How many entries carry an expiry.
    expiring: u32,
}

impl SlotTable {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn expiring(&self) -> usize {
        self.expiring as usize
    }

    pub fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index.find(hash, |&i| &*entries[i as usize].key == key).map(|&i| i as usize)
    }

    /// Starts loading into the cache the entries that may hold `hash` (every
    /// candidate the index's control bytes point at), without comparing keys.
    /// The first step of a pipelined lookup: the later `find` then hits.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        let entries = &self.entries;
        let _ = self.index.find(hash, |&i| {
            if let Some(e) = entries.get(i as usize) {
                crate::prefetch::read(e as *const Entry);
            }
            false
        });
    }

    pub fn at(&self, i: usize) -> &Entry {
        &self.entries[i]
    }

    pub(crate) fn at_mut(&mut self, i: usize) -> &mut Entry {
        &mut self.entries[i]
    }

    /// Adds an entry whose key is not in the table. Returns its position.
    pub fn insert_new(&mut self, hash: u64, entry: Entry, hasher: &impl Fn(&[u8]) -> u64) -> usize {
        debug_assert!(self.find(hash, &entry.key).is_none());
        let i = self.entries.len();
        if i == self.entries.capacity() {
            self.entries.reserve_exact(growth(i));
        }
        if entry.expire_at != 0 {
            self.expiring += 1;
        }
        self.entries.push(entry);
        let entries = &self.entries;
        self.index.insert_unique(hash, i as u32, |&j| hasher(&entries[j as usize].key));
        i
    }

    /// Removes the entry at position `i`, moving the last entry into its place.
    pub fn remove_at(&mut self, i: usize, hasher: &impl Fn(&[u8]) -> u64) -> Entry {
        let hash = hasher(&self.entries[i].key);
        self.index.find_entry(hash, |&j| j as usize == i).expect("indexed entry").remove();
        let last = self.entries.len() - 1;
        if i != last {
            let moved_hash = hasher(&self.entries[last].key);
            *self.index.find_mut(moved_hash, |&j| j as usize == last).expect("indexed entry") = i as u32;
        }
        let entry = self.entries.swap_remove(i);
        if entry.expire_at != 0 {
            self.expiring -= 1;
        }
        entry
    }

    /// Sets the expiry of the entry at `i`, returning the previous one (0 = none).
    pub(crate) fn set_expire_at(&mut self, i: usize, at: u64) -> u64 {
        let e = &mut self.entries[i];
        let old = std::mem::replace(&mut e.expire_at, at);
        match (old != 0, at != 0) {
            (false, true) => self.expiring += 1,
            (true, false) => self.expiring -= 1,
            _ => {}
        }
        old
    }

    /// Sets every entry's version to 0 (the database restarts its count).
    pub(crate) fn reset_versions(&mut self) {
        self.entries.iter_mut().for_each(|e| e.version = 0);
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Gives back memory after mass deletion.
    pub fn shrink(&mut self, hasher: &impl Fn(&[u8]) -> u64) {
        if self.entries.capacity() > 64 && self.entries.len() < self.entries.capacity() / 4 {
            self.entries.shrink_to(self.entries.len() * 2);
            let entries = &self.entries;
            self.index.shrink_to(entries.len(), |&j| hasher(&entries[j as usize].key));
        }
    }
}

/// How many entries a full table of `capacity` makes room for. An eighth
/// instead of Vec's doubling: with the keys spread over 16384 slots every
/// table fills at the same pace, so doubling would leave a quarter of all
/// entry memory empty on average (40% just after the tables grow); an eighth
/// wastes 6%, and the extra copying stays amortized O(1) per insert.
fn growth(capacity: usize) -> usize {
    (capacity / 8).max(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn h(k: &[u8]) -> u64 {
        foldhash::fast::FixedState::with_seed(7).hash_one(k)
    }

    /// Inserts the key `i` (as decimal text).
    fn insert(t: &mut SlotTable, i: u32) {
        let k = i.to_string();
        t.insert_new(h(k.as_bytes()), Entry::new(k.as_bytes(), Value::string(b"v"), 0, 0), &h);
    }

    #[test]
    fn insert_find_remove_keep_the_index_right() {
        let mut t = SlotTable::default();
        for i in 0..1000u32 {
            insert(&mut t, i);
        }
        for i in (0..1000u32).step_by(3) {
            let k = i.to_string();
            let pos = t.find(h(k.as_bytes()), k.as_bytes()).unwrap();
            assert_eq!(t.remove_at(pos, &h).key(), k.as_bytes());
        }
        for i in 0..1000u32 {
            let k = i.to_string();
            assert_eq!(t.find(h(k.as_bytes()), k.as_bytes()).is_some(), i % 3 != 0, "{i}");
        }
        t.shrink(&h);
        assert_eq!(t.len(), 666);
    }

    #[test]
    fn tables_grow_by_an_eighth() {
        let mut t = SlotTable::default();
        for i in 0..10_000u32 {
            insert(&mut t, i);
            assert!(t.entries.capacity() <= t.len() + t.len() / 8 + 4, "{i}: {}", t.entries.capacity());
        }
        assert_eq!(std::mem::size_of::<Entry>(), 64);
    }
}
