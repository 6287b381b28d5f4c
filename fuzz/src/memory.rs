//! Host memory as a fuzz input: a few mapped regions whose bytes the fuzzer chooses, outside
//! them unmapped holes that fault. A region is explicit bytes followed by a run of 16-byte
//! units whose two quadwords step by a fixed amount each, so a long, valid PRP list or SGL
//! segment costs a few dozen input bytes instead of thousands.

use arbitrary::{Arbitrary, Result, Unstructured};
use nvme_dma::SimMemory;

use crate::encode::{self, Encode};

/// At most this many regions.
pub const MAX_REGIONS: usize = 16;
/// At most this many explicit bytes per region.
pub const MAX_EXPLICIT: usize = 8192;
/// At most this many 16-byte run units per region (64 KiB).
pub const MAX_RUN: u16 = 4096;

/// `count` 16-byte units; unit `i` holds `first[q] + i * step[q]` (wrapping) in quadword `q`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// The first unit's two quadwords.
    pub first: [u64; 2],
    /// What each quadword adds per unit.
    pub step: [u64; 2],
    /// How many units.
    pub count: u16,
}

/// One mapped region: `bytes`, then `run`, from `addr` on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Region {
    /// Bus address of the first byte.
    pub addr: u64,
    /// Explicit contents.
    pub bytes: Vec<u8>,
    /// Generated contents after them.
    pub run: Run,
}

/// The memory a command's pointers are walked over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemorySpec {
    /// Regions, mapped in order (a later one overwrites an earlier one where they overlap).
    pub regions: Vec<Region>,
}

impl Region {
    /// A region holding exactly `bytes`.
    pub fn with_bytes(addr: u64, bytes: Vec<u8>) -> Self {
        Region {
            addr,
            bytes,
            run: Run::default(),
        }
    }

    /// The region's contents.
    pub fn contents(&self) -> Vec<u8> {
        let mut out = self.bytes.clone();
        for i in 0..u64::from(self.run.count) {
            for q in 0..2 {
                let word = self.run.first[q].wrapping_add(i.wrapping_mul(self.run.step[q]));
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        out
    }
}

/// Memory as the device found it, to prove afterwards that nothing changed.
pub struct Snapshot(Vec<(u64, Vec<u8>)>);

impl MemorySpec {
    /// Map and fill the regions (skipping any that would pass 2^64); the access log and
    /// counters start empty. Returns the memory and a snapshot of every mapped region.
    pub fn build(&self) -> (SimMemory, Snapshot) {
        let mut mem = SimMemory::new();
        let mut placed = Vec::new();
        for region in &self.regions {
            let contents = region.contents();
            let len = contents.len() as u64;
            if mem.map(region.addr, len).is_ok() {
                mem.poke(region.addr, &contents).expect("just mapped");
                placed.push((region.addr, contents.len()));
            }
        }
        let snapshot = placed
            .into_iter()
            .map(|(addr, len)| (addr, mem.peek_vec(addr, len).expect("mapped")))
            .collect();
        mem.clear_log();
        (mem, Snapshot(snapshot))
    }
}

impl Snapshot {
    /// Panic unless the device wrote nothing to `mem` and every region still holds what it did.
    pub fn assert_unchanged(&self, mem: &SimMemory) {
        assert_eq!(mem.write_count(), 0, "a walker wrote host memory");
        for (addr, bytes) in &self.0 {
            let now = mem.peek_vec(*addr, bytes.len()).expect("still mapped");
            assert!(now == *bytes, "memory at {addr:#x} changed");
        }
    }
}

impl<'a> Arbitrary<'a> for Run {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Run {
            first: u.arbitrary()?,
            step: u.arbitrary()?,
            count: u.arbitrary::<u16>()? % (MAX_RUN + 1),
        })
    }
}

impl Encode for Run {
    fn encode(&self, out: &mut Vec<u8>) {
        assert!(self.count <= MAX_RUN);
        for q in self.first.iter().chain(&self.step) {
            q.encode(out);
        }
        self.count.encode(out);
    }
}

impl<'a> Arbitrary<'a> for Region {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let addr = u.arbitrary()?;
        let run = u.arbitrary()?;
        let len = usize::from(u.arbitrary::<u16>()?) % (MAX_EXPLICIT + 1);
        let bytes = u.bytes(len.min(u.len()))?.to_vec();
        Ok(Region { addr, bytes, run })
    }
}

impl Encode for Region {
    fn encode(&self, out: &mut Vec<u8>) {
        assert!(self.bytes.len() <= MAX_EXPLICIT);
        self.addr.encode(out);
        self.run.encode(out);
        u16::try_from(self.bytes.len()).expect("small").encode(out);
        out.extend_from_slice(&self.bytes);
    }
}

impl<'a> Arbitrary<'a> for MemorySpec {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = encode::count(u, MAX_REGIONS)?;
        let regions = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
        Ok(MemorySpec { regions })
    }
}

impl Encode for MemorySpec {
    fn encode(&self, out: &mut Vec<u8>) {
        encode::collection(&self.regions, MAX_REGIONS, out);
    }
}
