//! One core's keyspace: its databases, each a set of per-slot tables.
//!
//! A key is found by its slot (the cluster slot, computed by the function the
//! server hands in, so this crate does not depend on the cluster crate) and
//! then by its hash inside that slot's table. Only the slots this core serves
//! ever get a table; the rest stay `None`.
//!
//! Expiry is lazy here: every lookup treats an expired key as absent and
//! deletes it. The active cycle in [`Db::expire_cycle`] frees the keys that
//! nobody reads.

use crate::table::{Entry, SlotTable};
use crate::value::Value;
use std::hash::BuildHasher;

pub const SLOT_COUNT: usize = 16384;

/// Maps a key to its cluster slot (CRC16 with hash tags).
pub type KeySlotFn = fn(&[u8]) -> u16;

#[derive(Default, Clone, Copy, Debug)]
pub struct DbStats {
    pub hits: u64,
    pub misses: u64,
    pub expired_keys: u64,
}

/// One numbered database of one core.
pub struct Db {
    /// One table per slot, allocated on the first insert (tables themselves are inline:
    /// a lookup reaches the slot's index without another pointer to follow).
    slots: Vec<SlotTable>,
    keys: usize,
    expires: usize,
    /// Sum of the expiry times of all keys that have one: with `expires` it gives INFO's avg_ttl exactly.
    expire_sum: u128,
    hasher: foldhash::fast::FixedState,
    keyslot: KeySlotFn,
    pub stats: DbStats,
    expire_cursor: ExpireCursor,
    /// The last version stamped on a written entry.
    last_version: u32,
    /// Unique per database object: SWAPDB moves databases, and WATCH notices.
    id: u64,
    /// Replication: keys deleted on expiry, for the DELs a replica gets
    /// (`None` while no replication stream exists).
    pub expired_log: Option<Vec<Box<[u8]>>>,
    /// A point-in-time copy being written out (SAVE, BGSAVE, a full sync).
    snap: Option<Box<Snapshot>>,
}

/// A database's content as it was when a snapshot began, written out while
/// the database keeps changing, without a copy of the data and without fork.
///
/// Every write stamps its entry with a new version, so the entries whose
/// version is at most the one at the cut are those unchanged since. At the
/// cut every slot that holds keys is pending; a step writes the unchanged
/// entries of pending slots, in slot order. A change to an unchanged entry
/// of a pending slot first writes that entry as it still is (copy before
/// write, per key; Dragonfly does it per bucket), and the change gives it a
/// newer version, so the step skips it, as it skips keys added after the
/// cut. Each key of the cut is therefore written exactly once, as it was. A
/// database emptied meanwhile (FLUSHALL, FLUSHDB) hands its old tables to
/// the snapshot whole, which writes them out from there.
pub struct Snapshot {
    /// Which save this is (a later save replaces an abandoned one).
    id: u64,
    /// The database's number when the snapshot began: SWAPDB moves the
    /// database object, and the snapshot with it.
    index: usize,
    /// The database's last version at the cut.
    cut: u32,
    /// One bit per slot still to write.
    pending: Vec<u64>,
    left: usize,
    /// Where the next step looks for a pending slot.
    cursor: usize,
    /// The tables as they were, when the database was emptied meanwhile.
    frozen: Vec<SlotTable>,
    /// Key records written and not taken yet.
    out: Vec<u8>,
    keys: u64,
}

impl Snapshot {
    fn is_pending(&self, slot: usize) -> bool {
        self.pending[slot / 64] & (1 << (slot % 64)) != 0
    }

    /// Writes the entries of `slot` unchanged since the cut, and marks it done.
    fn write_slot(&mut self, slot: usize, tables: &[SlotTable]) {
        self.pending[slot / 64] &= !(1 << (slot % 64));
        self.left -= 1;
        let Some(table) = tables.get(slot) else { return };
        let cut = self.cut;
        for e in table.entries().iter().filter(|e| e.version <= cut) {
            self.write_entry(e);
        }
    }

    fn write_entry(&mut self, e: &Entry) {
        crate::rdb::file::write_key(&mut self.out, e.key(), e.value(), e.expire_at());
        self.keys += 1;
    }

    /// The save this snapshot belongs to.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The database's number when the snapshot began.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether every slot has been written (the records may not all be taken yet).
    pub fn is_written(&self) -> bool {
        self.left == 0
    }

    /// How many keys were written.
    pub fn keys(&self) -> u64 {
        self.keys
    }
}

static NEXT_DB_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[derive(Default, Clone, Copy)]
struct ExpireCursor {
    slot: usize,
    /// Next position to examine in that slot's table, counting down; `None` means start from the top.
    pos: Option<usize>,
}

/// Where a SCAN of one slot stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotScan {
    /// Every entry of the slot has been visited.
    Done,
    /// Resume below this position.
    At(usize),
}

impl Db {
    pub fn new(keyslot: KeySlotFn, seed: u64) -> Db {
        Db {
            slots: Vec::new(),
            keys: 0,
            expires: 0,
            expire_sum: 0,
            hasher: foldhash::fast::FixedState::with_seed(seed),
            keyslot,
            stats: DbStats::default(),
            expire_cursor: ExpireCursor::default(),
            last_version: 0,
            id: NEXT_DB_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            expired_log: None,
            snap: None,
        }
    }

    /// Deletes an entry found expired, counting it and logging it for replication.
    fn expire_entry(&mut self, slot: usize, i: usize) {
        let e = self.remove_at(slot, i);
        self.stats.expired_keys += 1;
        if let Some(log) = &mut self.expired_log {
            log.push(e.key().into());
        }
    }

    /// Begins snapshot `id` of this database as it is now, numbered `index`
    /// in the file. Replaces any snapshot still running.
    pub fn begin_snapshot(&mut self, id: u64, index: usize) {
        if self.last_version > u32::MAX / 2 {
            // Leave room for 2^31 writes before versions wrap during the
            // snapshot. (A key under WATCH then looks changed: EXEC aborts once.)
            for t in &mut self.slots {
                t.reset_versions();
            }
            self.last_version = 0;
        }
        let mut pending = vec![0u64; SLOT_COUNT / 64];
        let mut left = 0;
        for s in self.nonempty_slots() {
            pending[s / 64] |= 1 << (s % 64);
            left += 1;
        }
        self.snap = Some(Box::new(Snapshot {
            id,
            index,
            cut: self.last_version,
            pending,
            left,
            cursor: 0,
            frozen: Vec::new(),
            out: Vec::new(),
            keys: 0,
        }));
    }

    /// Writes pending slots until `budget` bytes of records are waiting,
    /// `max_keys` keys were looked at, or none is left. Returns the records
    /// written so far (taken), or `None` when there is no snapshot.
    pub fn snapshot_step(&mut self, budget: usize, max_keys: usize) -> Option<Vec<u8>> {
        let snap = self.snap.as_mut()?;
        let frozen = std::mem::take(&mut snap.frozen);
        let tables = if frozen.is_empty() { &self.slots } else { &frozen };
        let mut looked = 0;
        while snap.left > 0 && snap.out.len() < budget && looked < max_keys {
            let slot = (snap.cursor..SLOT_COUNT).find(|&s| snap.is_pending(s)).expect("a pending slot");
            snap.cursor = slot + 1;
            snap.write_slot(slot, tables);
            looked += tables.get(slot).map_or(0, |t| t.len());
        }
        // Tables kept from a database emptied meanwhile go once written.
        if snap.left > 0 {
            snap.frozen = frozen;
        }
        Some(std::mem::take(&mut snap.out))
    }

    /// The snapshot under way, if any.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snap.as_deref()
    }

    /// Ends the snapshot (finished or abandoned), dropping what it held.
    pub fn end_snapshot(&mut self) -> Option<Box<Snapshot>> {
        self.snap.take()
    }

    /// Before the entry at `i` of `slot` changes or goes: a snapshot that
    /// has not written it yet does so now.
    #[inline]
    fn before_change(&mut self, slot: usize, i: usize) {
        if let Some(snap) = self.snap.as_mut() {
            let e = self.slots[slot].at(i);
            if e.version <= snap.cut && snap.frozen.is_empty() && snap.is_pending(slot) {
                snap.write_entry(e);
            }
        }
    }

    /// Before the whole database is emptied: a snapshot keeps the tables.
    fn before_clear(&mut self) {
        if let Some(snap) = self.snap.as_mut().filter(|s| s.left > 0 && s.frozen.is_empty()) {
            snap.frozen = std::mem::take(&mut self.slots);
        }
    }

    /// This database object's identity (see SWAPDB and WATCH).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The number of keys, including expired ones not yet deleted (as DBSIZE counts).
    pub fn len(&self) -> usize {
        self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }

    /// The number of keys with an expiry.
    pub fn expires(&self) -> usize {
        self.expires
    }

    /// The mean remaining time to live in ms of the keys that expire, 0 if none.
    pub fn avg_ttl(&self, now: u64) -> u64 {
        if self.expires == 0 {
            return 0;
        }
        let now_sum = now as u128 * self.expires as u128;
        (self.expire_sum.saturating_sub(now_sum) / self.expires as u128) as u64
    }

    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    pub fn slot_of(&self, key: &[u8]) -> usize {
        (self.keyslot)(key) as usize
    }

    /// The table of `slot`, if it holds anything.
    pub fn slot(&self, slot: usize) -> Option<&SlotTable> {
        self.slots.get(slot).filter(|t| !t.is_empty())
    }

    /// The number of keys in `slot`.
    pub fn slot_len(&self, slot: usize) -> usize {
        self.slot(slot).map_or(0, |t| t.len())
    }

    fn table_mut(&mut self, slot: usize) -> &mut SlotTable {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOT_COUNT, Default::default);
        }
        &mut self.slots[slot]
    }

    /// Finds a live key: an expired one is deleted on the way and reported absent.
    fn find_live(&mut self, key: &[u8], now: u64) -> Option<(usize, usize)> {
        let slot = self.slot_of(key);
        let hash = self.hash(key);
        let table = self.slots.get(slot)?;
        let i = table.find(hash, key)?;
        if table.at(i).is_expired(now) {
            self.expire_entry(slot, i);
            return None;
        }
        Some((slot, i))
    }

    fn entry(&self, slot: usize, i: usize) -> &Entry {
        self.slots[slot].at(i)
    }

    fn entry_mut(&mut self, slot: usize, i: usize) -> &mut Entry {
        self.slots[slot].at_mut(i)
    }

    /// Where `key` lives: its slot and its hash within the slot's table.
    #[inline]
    pub fn locate(&self, key: &[u8]) -> (usize, u64) {
        (self.slot_of(key), self.hash(key))
    }

    /// Step zero of a pipelined lookup (`at` from [`Db::locate`]): starts
    /// loading the slot table's header, which the index lookup then needs.
    #[inline]
    pub fn prefetch_table(&self, (slot, _): (usize, u64)) {
        if let Some(t) = self.slots.get(slot) {
            crate::prefetch::read(t as *const SlotTable);
        }
    }

    /// First step of a pipelined lookup: starts loading the entry. Looking up the keys of a pipeline in passes lets
    /// their cache misses overlap instead of following one another.
    #[inline]
    pub fn prefetch_entry(&self, (slot, hash): (usize, u64)) {
        if let Some(t) = self.slots.get(slot) {
            if !t.is_empty() {
                t.prefetch(hash);
            }
        }
    }

    /// Second step: with the entry in cache, starts loading the value's own bytes.
    #[inline]
    pub fn prefetch_value(&self, (slot, hash): (usize, u64), key: &[u8]) {
        let Some(t) = self.slots.get(slot).filter(|t| !t.is_empty()) else {
            return;
        };
        if let Some(i) = t.find(hash, key) {
            match &t.at(i).value {
                Value::Str(crate::value::Str::Emb(crate::bytes::SmallBytes::Heap(b))) => {
                    crate::prefetch::read(b.as_ptr())
                }
                Value::Str(crate::value::Str::Raw(v)) => crate::prefetch::read(v.as_ptr()),
                _ => {}
            }
        }
    }

    /// Looks `keys` up in three passes of prefetches (slot tables, then the
    /// entries the index points at, then the values' bytes), so that the cache
    /// misses of a pipeline's lookups overlap instead of following one another
    /// and the commands that then run find their keys in cache. `places` is
    /// scratch, reused across calls.
    pub fn prefetch_keys<'k>(
        &self,
        keys: impl Iterator<Item = &'k [u8]> + Clone,
        places: &mut Vec<(usize, u64)>,
    ) {
        places.clear();
        for k in keys.clone() {
            let place = self.locate(k);
            self.prefetch_table(place);
            places.push(place);
        }
        for &place in places.iter() {
            self.prefetch_entry(place);
        }
        for (&place, k) in places.iter().zip(keys) {
            self.prefetch_value(place, k);
        }
    }

    /// A read access: counts a keyspace hit or miss and refreshes the access clock.
    pub fn read(&mut self, key: &[u8], now: u64) -> Option<&Value> {
        match self.find_live(key, now) {
            Some((slot, i)) => {
                self.stats.hits += 1;
                let e = self.entry_mut(slot, i);
                e.lru = lru_clock(now);
                Some(&e.value)
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// A look at a live key without counting it as an access (TTL, TYPE, OBJECT, EXISTS...).
    pub fn peek(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        let (slot, i) = self.find_live(key, now)?;
        Some(self.entry(slot, i))
    }

    /// A write access to a live key's value. Counts as a change for WATCH,
    /// so a handler that may leave the value as it was should `peek` first.
    pub fn write(&mut self, key: &[u8], now: u64) -> Option<&mut Value> {
        let (slot, i) = self.find_live(key, now)?;
        self.before_change(slot, i);
        let version = self.next_version();
        let e = self.entry_mut(slot, i);
        e.lru = lru_clock(now);
        e.version = version;
        Some(&mut e.value)
    }

    /// Mutable access to a live key that is not a change for WATCH: for
    /// re-encodings that leave the content as it was (SORT turning a compact
    /// sorted set into a skiplist, which Redis does not count as a write).
    pub fn write_untracked(&mut self, key: &[u8], now: u64) -> Option<&mut Value> {
        // The content stays as it was: a snapshot may write it before or after.
        let (slot, i) = self.find_live(key, now)?;
        let e = self.entry_mut(slot, i);
        e.lru = lru_clock(now);
        Some(&mut e.value)
    }

    fn next_version(&mut self) -> u32 {
        self.last_version = self.last_version.wrapping_add(1);
        self.last_version
    }

    /// The version of a live key (it changes on every write), `None` when the
    /// key does not exist. WATCH records it; EXEC compares.
    pub fn version(&mut self, key: &[u8], now: u64) -> Option<u32> {
        let (slot, i) = self.find_live(key, now)?;
        Some(self.entry(slot, i).version)
    }

    /// Refreshes a live key's access clock (TOUCH). Returns whether it exists.
    pub fn touch(&mut self, key: &[u8], now: u64) -> bool {
        match self.find_live(key, now) {
            Some((slot, i)) => {
                self.entry_mut(slot, i).lru = lru_clock(now);
                true
            }
            None => false,
        }
    }

    pub fn contains(&mut self, key: &[u8], now: u64) -> bool {
        self.find_live(key, now).is_some()
    }

    /// Stores `value` under `key`, replacing any previous value. With
    /// `keep_ttl` an existing key keeps its expiry; otherwise the expiry
    /// becomes `expire_at` (0 = none).
    pub fn set(&mut self, key: &[u8], value: Value, expire_at: u64, keep_ttl: bool, now: u64) {
        match self.find_live(key, now) {
            Some((slot, i)) => {
                self.before_change(slot, i);
                let version = self.next_version();
                let e = self.entry_mut(slot, i);
                e.value = value;
                e.lru = lru_clock(now);
                e.version = version;
                if !keep_ttl {
                    self.set_expire_at(slot, i, expire_at);
                }
            }
            None => self.insert_new(key, value, expire_at, now),
        }
    }

    /// Adds a key known to be absent (or expired).
    pub fn insert_new(&mut self, key: &[u8], value: Value, expire_at: u64, now: u64) {
        self.put(Entry::new(key, value, expire_at, lru_clock(now)));
    }

    /// Puts a whole entry back (for moving keys between cores or databases),
    /// replacing any entry with the same key.
    pub fn put(&mut self, mut entry: Entry) {
        entry.version = self.next_version();
        let slot = self.slot_of(entry.key());
        let hash = self.hash(entry.key());
        if let Some(i) = self.slot(slot).and_then(|t| t.find(hash, entry.key())) {
            self.remove_at(slot, i);
        }
        if entry.expire_at != 0 {
            self.expires += 1;
            self.expire_sum += entry.expire_at as u128;
        }
        self.keys += 1;
        let hasher = self.hasher.clone();
        self.table_mut(slot).insert_new(hash, entry, &|k| hasher.hash_one(k));
    }

    /// Deletes a live key, returning its entry.
    pub fn remove(&mut self, key: &[u8], now: u64) -> Option<Entry> {
        let (slot, i) = self.find_live(key, now)?;
        Some(self.remove_at(slot, i))
    }

    fn remove_at(&mut self, slot: usize, i: usize) -> Entry {
        self.before_change(slot, i);
        let hasher = self.hasher.clone();
        let table = &mut self.slots[slot];
        let e = table.remove_at(i, &|k| hasher.hash_one(k));
        table.shrink(&|k| hasher.hash_one(k));
        self.keys -= 1;
        if e.expire_at != 0 {
            self.expires -= 1;
            self.expire_sum -= e.expire_at as u128;
        }
        e
    }

    fn set_expire_at(&mut self, slot: usize, i: usize, at: u64) {
        let table = &mut self.slots[slot];
        let old = table.set_expire_at(i, at);
        if old != 0 {
            self.expires -= 1;
            self.expire_sum -= old as u128;
        }
        if at != 0 {
            self.expires += 1;
            self.expire_sum += at as u128;
        }
    }

    /// Sets (or with 0 clears) the expiry of a live key. Returns whether the key exists.
    pub fn set_expire(&mut self, key: &[u8], at: u64, now: u64) -> bool {
        match self.find_live(key, now) {
            Some((slot, i)) => {
                self.before_change(slot, i);
                let version = self.next_version();
                self.entry_mut(slot, i).version = version;
                self.set_expire_at(slot, i, at);
                true
            }
            None => false,
        }
    }

    /// Deletes every key.
    pub fn clear(&mut self) {
        self.before_clear();
        self.slots = Vec::new();
        self.keys = 0;
        self.expires = 0;
        self.expire_sum = 0;
        self.expire_cursor = ExpireCursor::default();
    }

    /// Deletes every key of `slot` (a cluster node that lost the slot to
    /// another master); returns how many there were.
    pub fn clear_slot(&mut self, slot: usize) -> usize {
        if let Some(snap) = self.snap.as_mut().filter(|s| s.frozen.is_empty() && s.is_pending(slot)) {
            snap.write_slot(slot, &self.slots);
        }
        let Some(table) = self.slots.get_mut(slot) else { return 0 };
        let old = std::mem::take(table);
        for e in old.entries() {
            if e.expire_at != 0 {
                self.expires -= 1;
                self.expire_sum -= e.expire_at as u128;
            }
        }
        self.keys -= old.len();
        old.len()
    }

    /// Moves every key out, leaving the database empty (FLUSHALL ASYNC, SWAPDB).
    pub fn take_all(&mut self) -> Db {
        let mut fresh = Db::new(self.keyslot, 0);
        fresh.hasher = self.hasher.clone();
        std::mem::swap(self, &mut fresh);
        self.stats = fresh.stats;
        self.expired_log = fresh.expired_log.take();
        // A snapshot stays with the database and keeps the tables it still has to write.
        self.snap = fresh.snap.take();
        if let Some(snap) = self.snap.as_mut().filter(|s| s.left > 0 && s.frozen.is_empty()) {
            snap.frozen = std::mem::take(&mut fresh.slots);
        }
        fresh
    }

    /// Visits the live entries of `slot` from position `from` (exclusive, `None`
    /// = the end) downwards, up to `budget` of them, calling `f` on each.
    /// Expired entries met on the way are deleted and skipped. Returns where
    /// the walk stopped and how many positions it visited.
    pub fn scan_slot(
        &mut self,
        slot: usize,
        from: Option<usize>,
        budget: usize,
        now: u64,
        mut f: impl FnMut(&Entry),
    ) -> (SlotScan, usize) {
        let Some(table) = self.slot(slot) else {
            return (SlotScan::Done, 0);
        };
        let mut pos = from.unwrap_or(table.len()).min(table.len());
        let mut visited = 0;
        while pos > 0 && visited < budget {
            pos -= 1;
            visited += 1;
            let table = &self.slots[slot];
            if table.at(pos).is_expired(now) {
                self.expire_entry(slot, pos);
                continue;
            }
            f(table.at(pos));
        }
        let end = if pos == 0 { SlotScan::Done } else { SlotScan::At(pos) };
        (end, visited)
    }

    /// The slots that hold keys, ascending.
    pub fn nonempty_slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().enumerate().filter(|(_, t)| !t.is_empty()).map(|(s, _)| s)
    }

    /// A uniformly random live key, or `None` when the database is empty or
    /// only expired keys were found in a bounded number of tries.
    pub fn random_key(&mut self, now: u64, rng: &mut Rng) -> Option<Box<[u8]>> {
        for _ in 0..100 {
            if self.keys == 0 {
                return None;
            }
            let mut n = rng.below(self.keys as u64) as usize;
            let (slot, i) = self
                .slots
                .iter()
                .enumerate()
                .find_map(|(s, t)| {
                    let len = t.len();
                    if n < len {
                        Some((s, n))
                    } else {
                        n -= len;
                        None
                    }
                })
                .expect("key count matches the tables");
            if self.entry(slot, i).is_expired(now) {
                self.expire_entry(slot, i);
                continue;
            }
            return Some(self.entry(slot, i).key().into());
        }
        None
    }

    /// One step of active expiry: examines up to `budget` keys that carry an
    /// expiry, continuing where the previous step stopped, and deletes the
    /// expired ones. Returns (examined, deleted).
    pub fn expire_cycle(&mut self, now: u64, budget: usize) -> (usize, usize) {
        let (mut examined, mut deleted) = (0, 0);
        if self.expires == 0 || self.slots.is_empty() {
            return (0, 0);
        }
        let mut slots_seen = 0;
        while examined < budget && slots_seen <= SLOT_COUNT {
            let ExpireCursor { slot, pos } = self.expire_cursor;
            let table = &self.slots[slot];
            let (expiring, len) = (table.expiring(), table.len());
            let mut p = pos.unwrap_or(len).min(len);
            if expiring > 0 {
                while p > 0 && examined < budget {
                    p -= 1;
                    let e = self.entry(slot, p);
                    if e.expire_at != 0 {
                        examined += 1;
                        if e.expire_at <= now {
                            self.expire_entry(slot, p);
                            deleted += 1;
                        }
                    }
                }
            } else {
                p = 0;
            }
            if p == 0 {
                self.expire_cursor = ExpireCursor { slot: (slot + 1) % SLOT_COUNT, pos: None };
                slots_seen += 1;
            } else {
                self.expire_cursor = ExpireCursor { slot, pos: Some(p) };
            }
            if self.expires == 0 {
                break;
            }
        }
        (examined, deleted)
    }
}

/// Redis's LRU clock: seconds, wrapping at 2^24 as Redis's does not matter here.
pub fn lru_clock(now_ms: u64) -> u32 {
    (now_ms / 1000) as u32
}

/// A small, fast, non-cryptographic generator (xorshift64*) for RANDOMKEY and sampling.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(k: &[u8]) -> u16 {
        (k.iter().map(|&b| b as u32).sum::<u32>() % 16384) as u16
    }

    #[test]
    fn lazy_expiry_and_counters() {
        let mut db = Db::new(slot, 1);
        db.set(b"a", Value::string(b"1"), 0, false, 1000);
        db.set(b"b", Value::string(b"2"), 2000, false, 1000);
        assert_eq!((db.len(), db.expires()), (2, 1));
        assert_eq!(db.avg_ttl(1000), 1000);
        assert!(db.read(b"b", 1999).is_some());
        assert!(db.read(b"b", 2000).is_none());
        assert_eq!((db.len(), db.expires(), db.stats.expired_keys), (1, 0, 1));
        db.set(b"a", Value::string(b"3"), 5000, false, 1000);
        db.set(b"a", Value::string(b"4"), 0, true, 1000);
        assert_eq!(db.peek(b"a", 1000).unwrap().expire_at(), Some(5000));
        assert!(db.set_expire(b"a", 0, 1000));
        assert_eq!(db.expires(), 0);
    }

    #[test]
    fn active_expiry_frees_unread_keys() {
        let mut db = Db::new(slot, 1);
        for i in 0..1000u32 {
            let at = if i % 2 == 0 { 100 } else { 0 };
            db.insert_new(i.to_string().as_bytes(), Value::string(b"v"), at, 0);
        }
        let mut deleted = 0;
        for _ in 0..100 {
            deleted += db.expire_cycle(200, 50).1;
        }
        assert_eq!(deleted, 500);
        assert_eq!((db.len(), db.expires()), (500, 0));
    }

    #[test]
    fn scan_visits_every_key_once_without_changes() {
        let mut db = Db::new(slot, 1);
        for i in 0..500u32 {
            db.insert_new(i.to_string().as_bytes(), Value::string(b"v"), 0, 0);
        }
        let mut seen = std::collections::HashSet::new();
        for s in db.nonempty_slots().collect::<Vec<_>>() {
            let mut from = None;
            loop {
                match db.scan_slot(s, from, 3, 0, |e| assert!(seen.insert(e.key().to_vec()))).0 {
                    SlotScan::Done => break,
                    SlotScan::At(p) => from = Some(p),
                }
            }
        }
        assert_eq!(seen.len(), 500);
    }
}

#[cfg(test)]
mod model_tests {
    //! The keyspace and the string/key commands against a plain HashMap model,
    //! over random command sequences on a handful of colliding keys.

    use crate::testing::{run, shard};
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Clone, Debug)]
    enum Op {
        Set(u8, Vec<u8>),
        SetNx(u8, Vec<u8>),
        Get(u8),
        Del(u8),
        Append(u8, Vec<u8>),
        Incr(u8),
        Exists(u8),
        Strlen(u8),
        GetDel(u8),
        Rename(u8, u8),
        Copy(u8, u8),
        MSet(Vec<(u8, Vec<u8>)>),
        DbSize,
    }

    fn key(k: u8) -> String {
        format!("k{}", k % 6)
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            (-5i64..1000).prop_map(|n| n.to_string().into_bytes()),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any::<u8>(), value()).prop_map(|(k, v)| Op::Set(k, v)),
            (any::<u8>(), value()).prop_map(|(k, v)| Op::SetNx(k, v)),
            any::<u8>().prop_map(Op::Get),
            any::<u8>().prop_map(Op::Del),
            (any::<u8>(), value()).prop_map(|(k, v)| Op::Append(k, v)),
            any::<u8>().prop_map(Op::Incr),
            any::<u8>().prop_map(Op::Exists),
            any::<u8>().prop_map(Op::Strlen),
            any::<u8>().prop_map(Op::GetDel),
            (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Rename(a, b)),
            (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Copy(a, b)),
            proptest::collection::vec((any::<u8>(), value()), 1..4).prop_map(Op::MSet),
            Just(Op::DbSize),
        ]
    }

    fn bulk(v: Option<&Vec<u8>>) -> Vec<u8> {
        match v {
            None => b"$-1\r\n".to_vec(),
            Some(v) => [format!("${}\r\n", v.len()).into_bytes(), v.clone(), b"\r\n".to_vec()].concat(),
        }
    }

    fn int(n: i64) -> Vec<u8> {
        format!(":{n}\r\n").into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn commands_match_a_hashmap_model(ops in proptest::collection::vec(op(), 1..60)) {
            let mut s = shard();
            let mut model: HashMap<String, Vec<u8>> = HashMap::new();
            for op in ops {
                let (argv, expect): (Vec<Vec<u8>>, Vec<u8>) = match op {
                    Op::Set(k, v) => {
                        model.insert(key(k), v.clone());
                        (vec![b"SET".to_vec(), key(k).into_bytes(), v], b"+OK\r\n".to_vec())
                    }
                    Op::SetNx(k, v) => {
                        let fresh = !model.contains_key(&key(k));
                        if fresh {
                            model.insert(key(k), v.clone());
                        }
                        (vec![b"SETNX".to_vec(), key(k).into_bytes(), v], int(fresh as i64))
                    }
                    Op::Get(k) => (vec![b"GET".to_vec(), key(k).into_bytes()], bulk(model.get(&key(k)))),
                    Op::Del(k) => {
                        let n = model.remove(&key(k)).is_some() as i64;
                        (vec![b"DEL".to_vec(), key(k).into_bytes()], int(n))
                    }
                    Op::Append(k, v) => {
                        let e = model.entry(key(k)).or_default();
                        e.extend_from_slice(&v);
                        let n = e.len() as i64;
                        (vec![b"APPEND".to_vec(), key(k).into_bytes(), v], int(n))
                    }
                    Op::Incr(k) => {
                        let cur = model.get(&key(k)).cloned();
                        let parsed = match &cur {
                            None => Some(0),
                            Some(v) => crate::num::parse_i64(v),
                        };
                        let expect = match parsed.and_then(|n| n.checked_add(1)) {
                            Some(n) => {
                                model.insert(key(k), n.to_string().into_bytes());
                                int(n)
                            }
                            None if parsed.is_some() => {
                                b"-ERR increment or decrement would overflow\r\n".to_vec()
                            }
                            None => b"-ERR value is not an integer or out of range\r\n".to_vec(),
                        };
                        (vec![b"INCR".to_vec(), key(k).into_bytes()], expect)
                    }
                    Op::Exists(k) => {
                        let n = model.contains_key(&key(k)) as i64;
                        (vec![b"EXISTS".to_vec(), key(k).into_bytes()], int(n))
                    }
                    Op::Strlen(k) => {
                        let n = model.get(&key(k)).map_or(0, |v| v.len() as i64);
                        (vec![b"STRLEN".to_vec(), key(k).into_bytes()], int(n))
                    }
                    Op::GetDel(k) => {
                        let old = model.remove(&key(k));
                        (vec![b"GETDEL".to_vec(), key(k).into_bytes()], bulk(old.as_ref()))
                    }
                    Op::Rename(a, b) => {
                        let expect = match model.remove(&key(a)) {
                            None => b"-ERR no such key\r\n".to_vec(),
                            Some(v) => {
                                model.insert(key(b), v);
                                b"+OK\r\n".to_vec()
                            }
                        };
                        (vec![b"RENAME".to_vec(), key(a).into_bytes(), key(b).into_bytes()], expect)
                    }
                    Op::Copy(a, b) => {
                        let expect = if key(a) == key(b) {
                            b"-ERR source and destination objects are the same\r\n".to_vec()
                        } else {
                            match (model.get(&key(a)).cloned(), model.contains_key(&key(b))) {
                                (Some(v), false) => {
                                    model.insert(key(b), v);
                                    int(1)
                                }
                                _ => int(0),
                            }
                        };
                        (vec![b"COPY".to_vec(), key(a).into_bytes(), key(b).into_bytes()], expect)
                    }
                    Op::MSet(pairs) => {
                        let mut argv = vec![b"MSET".to_vec()];
                        for (k, v) in pairs {
                            model.insert(key(k), v.clone());
                            argv.push(key(k).into_bytes());
                            argv.push(v);
                        }
                        (argv, b"+OK\r\n".to_vec())
                    }
                    Op::DbSize => {
                        // DBSIZE is a server command; the shard's count must match the model.
                        prop_assert_eq!(s.keys(), model.len());
                        continue;
                    }
                };
                let args: Vec<String> = argv.iter().map(|a| unsafe_str(a)).collect();
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                let got = run_bytes(&mut s, &refs);
                prop_assert_eq!(&got, &expect, "{:?}", refs);
            }
            prop_assert_eq!(s.keys(), model.len());
        }
    }

    /// Arguments travel through `&str` in the test helper; map bytes 1:1 to
    /// chars (Latin-1) and back so any byte value survives.
    fn unsafe_str(b: &[u8]) -> String {
        b.iter().map(|&c| c as char).collect()
    }

    fn run_bytes(s: &mut crate::shard::Shard, argv: &[&str]) -> Vec<u8> {
        let bytes: Vec<Vec<u8>> = argv.iter().map(|a| a.chars().map(|c| c as u8).collect()).collect();
        crate::testing::run_raw(s, &bytes)
    }

    #[test]
    fn latin1_roundtrip() {
        let v: Vec<u8> = (0..=255).collect();
        let s = unsafe_str(&v);
        let back: Vec<u8> = s.chars().map(|c| c as u8).collect();
        assert_eq!(v, back);
        let _ = run;
    }
}

#[cfg(test)]
mod scan_tests {
    //! SCAN's guarantee, against a model: a key present from the start to the
    //! end of a walk is visited at least once, whatever is inserted and
    //! deleted between the steps of the walk.

    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn slot(_k: &[u8]) -> u16 {
        7
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn a_walk_sees_every_key_that_stayed(
            initial in proptest::collection::hash_set(0u16..400, 0..200),
            steps in proptest::collection::vec((1usize..8, proptest::collection::vec((any::<bool>(), 0u16..400), 0..6)), 1..60),
        ) {
            let mut db = Db::new(slot, 3);
            let mut present: HashSet<u16> = HashSet::new();
            for k in &initial {
                db.insert_new(k.to_string().as_bytes(), Value::string(b"v"), 0, 0);
                present.insert(*k);
            }
            let mut stayed: HashSet<u16> = present.clone();
            let mut seen: HashSet<u16> = HashSet::new();
            let mut from = None;
            for (budget, changes) in steps {
                let (end, _) = db.scan_slot(7, from, budget, 0, |e| {
                    seen.insert(std::str::from_utf8(e.key()).unwrap().parse().unwrap());
                });
                for (insert, k) in changes {
                    let key = k.to_string();
                    if insert {
                        db.set(key.as_bytes(), Value::string(b"w"), 0, false, 0);
                        present.insert(k);
                    } else {
                        db.remove(key.as_bytes(), 0);
                        present.remove(&k);
                        stayed.remove(&k);
                    }
                }
                match end {
                    SlotScan::Done => {
                        for k in &stayed {
                            prop_assert!(seen.contains(k), "key {} stayed but was not visited", k);
                        }
                        return Ok(());
                    }
                    SlotScan::At(p) => from = Some(p),
                }
            }
            prop_assert_eq!(db.len(), present.len());
        }
    }
}

#[cfg(test)]
mod snapshot_tests {
    //! A snapshot written out in steps while random changes hit the database
    //! must hold exactly what the database held when it began.

    use super::*;
    use crate::rdb::file::{load, RdbWriter};
    use crate::rdb::LoadLimits;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Spreads keys over a few hundred slots, several keys per slot.
    fn slot(k: &[u8]) -> u16 {
        (k.iter().fold(7u32, |h, &b| h.wrapping_mul(31).wrapping_add(b as u32)) % 300) as u16 * 50
    }

    #[derive(Clone, Debug)]
    enum Op {
        Set(u16, u8),
        Append(u16),
        Remove(u16),
        Expire(u16),
        Clear,
        TakeAll,
        Step(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            40 => (0u16..400, any::<u8>()).prop_map(|(k, v)| Op::Set(k, v)),
            20 => (0u16..400).prop_map(Op::Append),
            20 => (0u16..400).prop_map(Op::Remove),
            10 => (0u16..400).prop_map(Op::Expire),
            1 => Just(Op::Clear),
            1 => Just(Op::TakeAll),
            40 => (1usize..400).prop_map(Op::Step),
        ]
    }

    type Contents = BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

    fn contents(db: &Db) -> Contents {
        let mut m = BTreeMap::new();
        for s in db.nonempty_slots() {
            for e in db.slot(s).unwrap().entries() {
                let v = e.value().as_str().unwrap().to_vec();
                m.insert(e.key().to_vec(), (v, e.expire_at()));
            }
        }
        m
    }

    fn read_back(records: &[u8], index: usize) -> Contents {
        let mut w = RdbWriter::new(&[]);
        w.switch_db(index);
        w.records(records);
        let file = w.finish();
        let mut m = BTreeMap::new();
        load(&file, &LoadLimits::default(), |k| {
            assert_eq!(k.db, index);
            let v = k.value.as_str().unwrap().to_vec();
            assert!(m.insert(k.key, (v, k.expire_at)).is_none(), "a key written twice");
        })
        .unwrap();
        m
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn a_snapshot_holds_the_data_as_it_began(
            initial in proptest::collection::vec((0u16..400, any::<u8>(), any::<bool>()), 0..300),
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let mut db = Db::new(slot, 3);
            for (k, v, ttl) in initial {
                let at = if ttl { 5_000_000 + k as u64 } else { 0 };
                db.set(format!("k{k}").as_bytes(), Value::string(&[v]), at, false, 1000);
            }
            let before = contents(&db);
            db.begin_snapshot(1, 3);
            let mut records = Vec::new();
            for op in ops {
                match op {
                    Op::Set(k, v) => db.set(format!("k{k}").as_bytes(), Value::string(&[v, v]), 0, false, 1000),
                    Op::Append(k) => {
                        if let Some(v) = db.write(format!("k{k}").as_bytes(), 1000) {
                            v.as_str_mut().unwrap().make_raw().push(b'+');
                        }
                    }
                    Op::Remove(k) => drop(db.remove(format!("k{k}").as_bytes(), 1000)),
                    Op::Expire(k) => drop(db.set_expire(format!("k{k}").as_bytes(), 9_000_000, 1000)),
                    Op::Clear => db.clear(),
                    Op::TakeAll => drop(db.take_all()),
                    Op::Step(budget) => records.extend(db.snapshot_step(budget, budget / 8 + 1).unwrap()),
                }
            }
            let after = contents(&db);
            while !db.snapshot().unwrap().is_written() {
                records.extend(db.snapshot_step(1 << 20, usize::MAX).unwrap());
            }
            records.extend(db.snapshot_step(1 << 20, usize::MAX).unwrap());
            prop_assert_eq!(db.end_snapshot().unwrap().keys(), before.len() as u64);
            prop_assert_eq!(read_back(&records, 3), before);
            // The snapshot changed nothing the database holds.
            prop_assert_eq!(contents(&db), after);
        }
    }
}
