//! Which core serves which slot.
//!
//! A node serves some subset of the 16384 slots (all of them when standalone).
//! Each served slot belongs to exactly one core, and the served slots are dealt
//! to the cores in turn, so that whatever contiguous ranges the node owns (a
//! cluster node typically owns one range such as 0-5460), every core gets an
//! equal share of them and keys spread over all cores.

use crate::slot::{Slot, SLOT_COUNT};

/// The index of a core (an executor) within this process, `0..threads`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CoreId(pub u16);

impl CoreId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

const UNSERVED: u16 = u16::MAX;

/// The slot-to-core map of one node. Immutable once built; a change of
/// ownership builds a new map.
#[derive(Clone)]
pub struct SlotMap {
    cores: u16,
    owner: Box<[u16; SLOT_COUNT]>,
}

impl SlotMap {
    /// A map for a node that serves every slot (standalone mode).
    pub fn all(cores: usize) -> SlotMap {
        SlotMap::balanced(cores, (0..SLOT_COUNT as u16).map(Slot))
    }

    /// Deals `served` (in the order given) to `cores` cores in turn.
    pub fn balanced(cores: usize, served: impl IntoIterator<Item = Slot>) -> SlotMap {
        assert!(cores > 0 && cores < UNSERVED as usize, "core count out of range");
        let mut owner = Box::new([UNSERVED; SLOT_COUNT]);
        for (i, slot) in served.into_iter().enumerate() {
            owner[slot.index()] = (i % cores) as u16;
        }
        SlotMap { cores: cores as u16, owner }
    }

    pub fn cores(&self) -> usize {
        self.cores as usize
    }

    /// The core serving `slot`, or `None` when this node does not serve it.
    #[inline]
    pub fn core_of(&self, slot: Slot) -> Option<CoreId> {
        match self.owner[slot.index()] {
            UNSERVED => None,
            c => Some(CoreId(c)),
        }
    }

    /// The slots `core` serves, ascending.
    pub fn slots_of(&self, core: CoreId) -> impl Iterator<Item = Slot> + '_ {
        self.owner.iter().enumerate().filter(move |(_, &c)| c == core.0).map(|(s, _)| Slot(s as u16))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_has_one_core() {
        let map = SlotMap::all(3);
        let mut counts = [0usize; 3];
        for s in 0..SLOT_COUNT as u16 {
            counts[map.core_of(Slot(s)).unwrap().index()] += 1;
        }
        assert_eq!(counts.iter().sum::<usize>(), SLOT_COUNT);
        assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1);
    }

    #[test]
    fn a_partial_range_still_spreads_over_all_cores() {
        let map = SlotMap::balanced(4, (0..=5460).map(Slot));
        let per_core: Vec<usize> = (0..4).map(|c| map.slots_of(CoreId(c)).count()).collect();
        assert_eq!(per_core.iter().sum::<usize>(), 5461);
        assert!(per_core.iter().all(|&n| n == 1365 || n == 1366), "{per_core:?}");
        assert_eq!(map.core_of(Slot(5461)), None);
        assert_eq!(map.core_of(Slot(16383)), None);
    }

    #[test]
    fn single_core_owns_everything() {
        let map = SlotMap::all(1);
        assert!((0..SLOT_COUNT as u16).all(|s| map.core_of(Slot(s)) == Some(CoreId(0))));
    }
}
