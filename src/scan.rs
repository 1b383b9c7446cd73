//! The whole-keyspace reads: KEYS, SCAN and RANDOMKEY across every core.
//!
//! A SCAN cursor names a slot and a position inside that slot's table:
//! `cursor = position << 14 | slot`, position 0 meaning "from the top". The
//! walk visits each core's slots in ascending order, core after core, and
//! inside a slot goes from the last entry down to the first, which is what
//! guarantees (see engine/src/table.rs) that a key present for the whole scan
//! is returned at least once, whatever inserts and deletes happen meanwhile.

use crate::admin::fan_out_read_with;
use crate::core::{now_ms, Core};
use crate::session::State;
use shoal_engine::command::eq_ic;
use shoal_engine::error::{CmdError, NOT_INTEGER, SYNTAX};
use shoal_engine::keyspace::SlotScan;
use shoal_engine::{glob, num, Reply};
use std::rc::Rc;

const SLOT_BITS: u32 = 14;

/// The keys of database `db` on this core that match `pattern`.
pub fn keys(core: &Rc<Core>, db: usize, pattern: &[u8]) -> Vec<Box<[u8]>> {
    let all = pattern == b"*";
    let now = now_ms();
    let mut shard = core.shard.borrow_mut();
    let db = shard.db(db);
    let mut out = Vec::new();
    for slot in db.nonempty_slots().collect::<Vec<_>>() {
        let _ = db.scan_slot(slot, None, usize::MAX, now, |e| {
            if all || glob::matches(pattern, e.key(), false) {
                out.push(e.key().into());
            }
        });
    }
    out
}

/// Where a cursor points: the core, its index in that core's slot list, and the position.
fn decode(core: &Core, cursor: u64) -> Option<(usize, usize, Option<usize>)> {
    let shared = &core.shared;
    if cursor == 0 {
        let c = (0..shared.cores).find(|&c| !shared.core_slots[c].is_empty())?;
        return Some((c, 0, None));
    }
    let slot = (cursor & ((1 << SLOT_BITS) - 1)) as u16;
    let pos = cursor >> SLOT_BITS;
    let c = shared.slot_map.core_of(shoal_cluster::Slot(slot))?.index();
    let i = shared.core_slots[c].binary_search(&slot).ok()?;
    Some((c, i, (pos > 0).then_some(pos as usize)))
}

fn encode(slot: u16, pos: Option<usize>) -> u64 {
    ((pos.unwrap_or(0) as u64) << SLOT_BITS) | slot as u64
}

struct ScanStep {
    keys: Vec<Box<[u8]>>,
    /// The next cursor, or `None` when this core's slots are done.
    next: Option<u64>,
    visited: usize,
}

/// Walks this core's slots from (`index`, `pos`), visiting about `count` keys.
fn scan_core(
    core: &Rc<Core>,
    db: usize,
    mut index: usize,
    mut pos: Option<usize>,
    count: usize,
    pattern: Option<&[u8]>,
    kind: Option<&[u8]>,
) -> ScanStep {
    let now = now_ms();
    let slots = &core.shared.core_slots[core.index()];
    let mut shard = core.shard.borrow_mut();
    let db = shard.db(db);
    let mut keys = Vec::new();
    let mut visited = 0;
    while index < slots.len() {
        let slot = slots[index];
        let budget = count.saturating_sub(visited).max(1);
        let (r, seen) = db.scan_slot(slot as usize, pos, budget, now, |e| {
            let name_ok = pattern.is_none_or(|p| glob::matches(p, e.key(), false));
            let type_ok = kind.is_none_or(|t| t.eq_ignore_ascii_case(e.value().type_name().as_bytes()));
            if name_ok && type_ok {
                keys.push(e.key().into());
            }
        });
        visited += seen;
        match r {
            SlotScan::At(p) => {
                return ScanStep { keys, next: Some(encode(slot, Some(p))), visited };
            }
            SlotScan::Done => {
                index += 1;
                pos = None;
            }
        }
        if visited >= count {
            break;
        }
    }
    let next = slots.get(index).map(|&s| encode(s, None));
    ScanStep { keys, next, visited }
}

/// Parses a cursor as Redis's `strtoul` does: an optional sign, digits, and
/// a negative value wrapping around (so `-1` is the largest cursor).
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let (neg, digits) = match arg.first()? {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

pub async fn scan(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let cursor = parse_cursor(argv[1]).ok_or(CmdError::new("ERR invalid cursor"))?;
    let (mut count, mut pattern, mut kind) = (10usize, None, None);
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - i >= 2;
        if eq_ic(argv[i], "count") && more {
            let n = num::parse_i64(argv[i + 1]).ok_or(NOT_INTEGER)?;
            if n < 1 {
                return Err(SYNTAX);
            }
            count = n as usize;
        } else if eq_ic(argv[i], "match") && more {
            pattern = (argv[i + 1] != b"*").then(|| argv[i + 1].to_vec());
        } else if eq_ic(argv[i], "type") && more {
            kind = Some(argv[i + 1].to_vec());
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    let core = st.core.clone();
    let db = st.db;
    let mut keys = Vec::new();
    let mut next = 0;
    let mut place = decode(&core, cursor);
    // Walk core after core until about COUNT keys were visited, so that a
    // small keyspace comes back whole in one call, as it does from Redis.
    let mut budget = count;
    while let Some((c, index, pos)) = place.take() {
        let (pattern, kind) = (pattern.clone(), kind.clone());
        let step = fan_out_read_one(&core, st.tx_mode, c, move |core| {
            scan_core(core, db, index, pos, budget, pattern.as_deref(), kind.as_deref())
        })
        .await;
        keys.extend(step.keys);
        budget = budget.saturating_sub(step.visited);
        match step.next {
            Some(n) => next = n,
            None => {
                next = 0;
                if let Some(c) = (c + 1..core.shared.cores).find(|&c| !core.shared.core_slots[c].is_empty()) {
                    next = encode(core.shared.core_slots[c][0], None);
                    if budget > 0 {
                        place = Some((c, 0, None));
                    }
                }
            }
        }
        if budget == 0 {
            break;
        }
    }
    let mut r = Reply::new(buf, st.resp3);
    r.array(2);
    r.bulk(next.to_string().as_bytes());
    r.array(keys.len());
    for k in keys {
        r.bulk(&k);
    }
    Ok(())
}

/// Runs `f` on one core under a shared lock of that core.
async fn fan_out_read_one<R: Send + 'static>(
    core: &Rc<Core>,
    mode: crate::txn::TxMode,
    target: usize,
    f: impl Fn(&Rc<Core>) -> R + Clone + Send + 'static,
) -> R {
    use crate::multi::{conclude_all, transact};
    use crate::txn::Locks;
    let (txid, mut r) = transact(
        core,
        mode,
        &[(target, Locks::Shard { exclusive: false })],
        |_| {
            let f = f.clone();
            Box::new(move |core: &Rc<Core>| f(core))
        },
        |_| None,
    )
    .await;
    conclude_all(core, txid, vec![(target, None)]);
    r.pop().expect("one part")
}

/// A random key of database `db`, any core, weighted by how many keys each core holds.
pub async fn random_key(core: &Rc<Core>, mode: crate::txn::TxMode, db: usize) -> Option<Box<[u8]>> {
    for _ in 0..8 {
        let counts = fan_out_read_with(core, mode, move |core| core.shard.borrow().dbs()[db].len()).await;
        let total: usize = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let mut n = core.shard.borrow_mut().rng.below(total as u64) as usize;
        let target = counts
            .iter()
            .position(|&c| {
                if n < c {
                    true
                } else {
                    n -= c;
                    false
                }
            })
            .expect("a core holds key n");
        let key = fan_out_read_one(core, mode, target, move |core| {
            let mut shard = core.shard.borrow_mut();
            let mut rng = shard.rng.clone();
            let k = shard.db(db).random_key(now_ms(), &mut rng);
            shard.rng = rng;
            k
        })
        .await;
        if key.is_some() {
            return key;
        }
    }
    None
}
