//! Command identifiers: each command in flight on a submission queue needs a CID no other
//! command in flight there has, or its completion cannot be told apart.

/// CID FFFFh should not be used (the spec reserves it for "no command" in error logs).
const RESERVED_CID: u32 = 0xffff;

/// Hands out command identifiers for one submission queue and takes them back when their
/// completions arrive; a CID is never handed out twice while in flight.
///
/// `WORDS` 64-bit words of bitmap track `64 × WORDS` identifiers (at most 65,535: CID FFFFh is
/// never used). Allocation goes round the identifier space rather than reusing the lowest free
/// one, so a late or duplicated completion for a finished command is unlikely to match a new
/// one, which makes such controller bugs visible.
///
/// ```
/// use nvme_dma::host::CidAllocator;
///
/// let mut cids = CidAllocator::<1>::new(); // 64 identifiers
/// let a = cids.allocate().unwrap();
/// let b = cids.allocate().unwrap();
/// assert_ne!(a, b);
/// assert!(cids.release(a));
/// assert!(!cids.release(a), "a CID that is not in flight cannot complete");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CidAllocator<const WORDS: usize> {
    used: [u64; WORDS],
    next: u32,
    in_flight: u32,
}

impl<const WORDS: usize> Default for CidAllocator<WORDS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const WORDS: usize> CidAllocator<WORDS> {
    /// No identifier in flight.
    pub const fn new() -> Self {
        CidAllocator {
            used: [0; WORDS],
            next: 0,
            in_flight: 0,
        }
    }

    /// How many identifiers exist: `64 × WORDS`, at most 65,535.
    pub fn capacity(&self) -> u32 {
        let bits = u32::try_from(WORDS)
            .ok()
            .and_then(|w| w.checked_mul(64))
            .unwrap_or(u32::MAX);
        bits.min(RESERVED_CID)
    }

    /// How many identifiers are in flight.
    pub const fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// True when `cid` is in flight.
    pub fn is_in_flight(&self, cid: u16) -> bool {
        let (word, bit) = position(u32::from(cid));
        self.used.get(word).is_some_and(|w| w & bit != 0)
    }

    /// A free identifier, now in flight; `None` when all are in flight.
    pub fn allocate(&mut self) -> Option<u16> {
        let capacity = self.capacity();
        let mut candidate = self.next;
        for _ in 0..capacity {
            if candidate >= capacity {
                candidate = 0;
            }
            let (word, bit) = position(candidate);
            if let Some(w) = self.used.get_mut(word) {
                if *w & bit == 0 {
                    *w |= bit;
                    self.in_flight = self.in_flight.saturating_add(1);
                    self.next = candidate.saturating_add(1);
                    return u16::try_from(candidate).ok();
                }
            }
            candidate = candidate.saturating_add(1);
        }
        None
    }

    /// Take `cid` back when its completion arrives. False (and nothing changes) when it was not
    /// in flight: a completion for a command never submitted, or a second one for the same.
    pub fn release(&mut self, cid: u16) -> bool {
        let (word, bit) = position(u32::from(cid));
        match self.used.get_mut(word) {
            Some(w) if *w & bit != 0 => {
                *w &= !bit;
                self.in_flight = self.in_flight.saturating_sub(1);
                true
            }
            _ => false,
        }
    }
}

/// The bitmap word and bit mask of identifier `cid`.
fn position(cid: u32) -> (usize, u64) {
    let word = usize::try_from(cid / 64).unwrap_or(usize::MAX);
    (word, 1u64 << (cid % 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_identifier_once_then_none() {
        let mut cids = CidAllocator::<2>::new();
        let mut seen = [false; 128];
        for _ in 0..128 {
            let cid = usize::from(cids.allocate().unwrap());
            assert!(!seen[cid], "CID {cid} handed out twice");
            seen[cid] = true;
        }
        assert_eq!(cids.allocate(), None);
        assert_eq!(cids.in_flight(), 128);
        assert!(cids.release(77));
        assert_eq!(cids.allocate(), Some(77));
    }

    #[test]
    fn allocation_goes_round_instead_of_reusing_at_once() {
        let mut cids = CidAllocator::<1>::new();
        let first = cids.allocate().unwrap();
        assert!(cids.release(first));
        assert_ne!(cids.allocate(), Some(first));
    }

    #[test]
    fn the_reserved_cid_is_never_used() {
        let mut cids = CidAllocator::<1024>::new();
        assert_eq!(cids.capacity(), 65_535);
        for _ in 0..65_535 {
            assert_ne!(cids.allocate(), Some(0xffff));
        }
        assert_eq!(cids.allocate(), None);
        assert!(!cids.release(0xffff));
    }

    #[test]
    fn unknown_identifiers_are_not_released() {
        let mut cids = CidAllocator::<1>::new();
        assert!(!cids.release(3));
        assert!(!cids.release(64), "beyond the bitmap");
        assert!(!cids.is_in_flight(64));
        assert_eq!(cids.in_flight(), 0);
    }
}
