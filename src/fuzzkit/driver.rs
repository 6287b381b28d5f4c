//! Cases for a driver under test: a request to build a data pointer for, and the checker
//! that judges what the driver wrote, with the crate's walker as the oracle.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use arbitrary::{Arbitrary, Result, Unstructured};

use super::{generate, Target, MAX_PIECES};
use crate::dptr::{DeviceCommand, DeviceError, Transfer};
use crate::extent::Extent;
use crate::memory::DmaMemory;
use crate::rule::Rule;
use crate::spec::{Status, SubmissionEntry};
use crate::{Direction, Piece, QueueKind};

/// A request for a driver under test, and the checker for what it builds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverCase {
    /// The controller the driver builds for.
    pub target: Target,
    /// Which way the data moves.
    pub direction: Direction,
    /// The data buffer's physical extents, in transfer order; their total is a whole number
    /// of blocks.
    pub extents: Vec<Extent>,
    /// Page-sized pages the driver may put PRP lists or SGL segments in.
    pub descriptor_pages: Vec<u64>,
}

/// What the checker found wrong with a driver's data pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriverFinding {
    /// A controller would refuse it: the status, the rule, and the walker's words.
    Invalid {
        /// The completion status a strict controller answers with.
        status: Status,
        /// The rule broken.
        rule: Rule,
        /// What is wrong, where, in the crate's wording.
        text: String,
    },
    /// The command's NLB does not cover the request.
    WrongLength {
        /// Bytes the request holds.
        expected: u64,
        /// Bytes the command's NLB says.
        found: u64,
    },
    /// It is valid but carries other memory than the request: the first byte of the
    /// transfer where the two part.
    WrongExtents {
        /// Offset in the transfer of the first byte that differs.
        at: u64,
        /// The request's extents, merged where adjacent.
        expected: Vec<Extent>,
        /// What the data pointer carries, merged where adjacent.
        found: Vec<Extent>,
    },
}

impl fmt::Display for DriverFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverFinding::Invalid { status, rule, text } => {
                write!(f, "invalid data pointer ({}, {status}): {text}", rule.id())
            }
            DriverFinding::WrongLength { expected, found } => write!(
                f,
                "the command moves {found} bytes (NLB), the request holds {expected}"
            ),
            DriverFinding::WrongExtents {
                at,
                expected,
                found,
            } => write!(
                f,
                "the data pointer carries other memory than the request from byte {at} of \
                 the transfer: expected {expected:x?}, found {found:x?}"
            ),
        }
    }
}

/// Adjacent extents merged; empty ones dropped.
fn merged(extents: impl IntoIterator<Item = Extent>) -> Vec<Extent> {
    let mut out: Vec<Extent> = Vec::new();
    for e in extents.into_iter().filter(|e| e.len > 0) {
        match out.last_mut() {
            Some(last) if last.end() == Some(e.addr) => last.len = last.len.saturating_add(e.len),
            _ => out.push(e),
        }
    }
    out
}

/// The offset of the first byte at which two extent lists, read as byte addresses in
/// transfer order, differ.
fn first_difference(a: &[Extent], b: &[Extent]) -> Option<u64> {
    let (mut i, mut j, mut da, mut db, mut at) = (0usize, 0usize, 0u64, 0u64, 0u64);
    loop {
        match (a.get(i), b.get(j)) {
            (None, None) => return None,
            (Some(x), Some(y)) => {
                if x.addr.wrapping_add(da) != y.addr.wrapping_add(db) {
                    return Some(at);
                }
                let step = (x.len.saturating_sub(da)).min(y.len.saturating_sub(db));
                (da, db, at) = (
                    da.saturating_add(step),
                    db.saturating_add(step),
                    at.saturating_add(step),
                );
                if da >= x.len {
                    (i, da) = (i.saturating_add(1), 0);
                }
                if db >= y.len {
                    (j, db) = (j.saturating_add(1), 0);
                }
            }
            _ => return Some(at),
        }
    }
}

impl DriverCase {
    /// A request for `target` from the fuzzer's bytes: page-aligned runs a PRP list carries,
    /// runs at dword offsets that only an SGL (or a split) can, or byte-granular pieces.
    pub fn generate(u: &mut Unstructured<'_>, target: &Target) -> Result<Self> {
        let (direction, blocks) = generate::draw_command(u, target)?;
        let total = u64::from(blocks).saturating_mul(target.block_size);
        let page = target.page_size.bytes();
        let pieces = u.int_in_range(1..=MAX_PIECES)?;
        let grain: u64 = *u.choose(&[page, 4, 1])?;
        let mut extents = Vec::new();
        for (i, len) in generate::cut(u, total, pieces, grain)?
            .into_iter()
            .enumerate()
        {
            let base = generate::slot(target, i).addr;
            // PRP-friendly runs start on a page, except the first, which may start anywhere
            // dword aligned.
            let offset = match grain {
                g if g == page && i > 0 => 0,
                g if g == page => u
                    .int_in_range(0..=(page / 4).saturating_sub(1))?
                    .saturating_mul(4),
                g => generate::round_down(u.int_in_range(0..=page.saturating_sub(1))?, g),
            };
            extents.push(Extent::new(base.saturating_add(offset), len));
        }
        let descriptor_pages = (0..8)
            .map(|i| generate::descriptor_page(target, i))
            .collect();
        Ok(DriverCase {
            target: *target,
            direction,
            extents,
            descriptor_pages,
        })
    }

    /// Bytes the request moves.
    pub fn len(&self) -> u64 {
        self.extents.iter().map(|e| e.len).sum()
    }

    /// Whether the request is empty (never, for a generated case).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Judge the data pointer a driver wrote: `sqe` is its submission entry, `memory` the
    /// host memory holding its lists or segments. `Ok` when a strict controller accepts it
    /// and it carries exactly the request's extents, in order.
    pub fn check<M: DmaMemory + ?Sized>(
        &self,
        sqe: &SubmissionEntry,
        memory: &M,
    ) -> core::result::Result<(), DriverFinding> {
        let expected_len = self.len();
        let found_len = sqe
            .block_range()
            .blocks()
            .saturating_mul(self.target.block_size);
        if found_len != expected_len {
            return Err(DriverFinding::WrongLength {
                expected: expected_len,
                found: found_len,
            });
        }
        let transfer = match self.direction {
            Direction::Read => Transfer::read(expected_len),
            Direction::Write => Transfer::write(expected_len),
        };
        let caps = self.target.caps();
        let invalid = |e: DeviceError| DriverFinding::Invalid {
            status: e.status(),
            rule: e.rule(),
            text: format!("{e}"),
        };
        let command =
            DeviceCommand::decode(sqe, QueueKind::Io, &caps, transfer).map_err(invalid)?;
        let room = caps
            .max_data_pieces()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(4096)
            .min(1 << 16);
        let mut pieces = vec![Piece::Skip(0); room];
        let n = command.data_pieces(memory, &mut pieces).map_err(invalid)?;
        // A driver's request has no bit buckets: a Skip is memory the request does not name.
        let found = merged(pieces.iter().take(n).map(|p| match p {
            Piece::Data(e) => *e,
            other => Extent::new(u64::MAX, other.len()),
        }));
        let expected = merged(self.extents.iter().copied());
        match first_difference(&expected, &found) {
            None => Ok(()),
            Some(at) => Err(DriverFinding::WrongExtents {
                at,
                expected,
                found,
            }),
        }
    }
}

impl<'a> Arbitrary<'a> for DriverCase {
    /// A case for a target drawn from the same bytes.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let target = Target::arbitrary(u)?;
        DriverCase::generate(u, &target)
    }
}
