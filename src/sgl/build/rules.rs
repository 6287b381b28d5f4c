//! The rules one piece, one merged run and the whole transfer must keep, each check returning
//! the error that names the rule broken. Planning applies them: the piece and run rules in its
//! general pass, the totals at the end of every pass.

use super::SglBuilder;
use crate::extent::Extent;
use crate::piece::{Flat, Kind};
use crate::sgl::caps::Capability;
use crate::sgl::error::BuildError;
use crate::Direction;

impl SglBuilder {
    /// The rules one piece must satisfy on its own.
    #[inline(always)]
    pub(super) fn check_piece(&self, index: usize, piece: &Flat) -> Result<(), BuildError> {
        let needs = |capability| {
            if self.caps.has(capability) {
                Ok(())
            } else {
                Err(BuildError::PieceNotSupported {
                    index,
                    piece: piece.segment(),
                    capability,
                })
            }
        };
        match piece.kind {
            Kind::Data | Kind::Keyed => {
                if piece.kind == Kind::Keyed {
                    needs(Capability::Keyed)?;
                }
                if !Extent::new(piece.start, piece.len).fits_address_space() {
                    return Err(BuildError::AddressOverflow {
                        index,
                        piece: piece.segment(),
                    });
                }
            }
            Kind::Skip => {
                if self.direction == Direction::Write {
                    return Err(BuildError::SkipInWrite {
                        index,
                        len: piece.len,
                    });
                }
                needs(Capability::BitBucket)?;
            }
            Kind::Capsule => {
                needs(Capability::AddressAsOffset)?;
                let capsule = self.caps.capsule_data();
                if piece
                    .start
                    .checked_add(piece.len)
                    .map_or(true, |end| end > capsule)
                {
                    return Err(BuildError::OutsideCapsule {
                        index,
                        offset: piece.start,
                        len: piece.len,
                        capsule,
                    });
                }
            }
            Kind::Transport => needs(Capability::TransportDataBlock)?,
        }
        Ok(())
    }

    /// In dword-granular mode a data run starts and ends on a dword boundary.
    #[inline(always)]
    pub(super) fn check_run(&self, first: usize, run: &Flat) -> Result<(), BuildError> {
        if self.caps.dword_granular()
            && matches!(run.kind, Kind::Data | Kind::Capsule)
            && (run.start | run.len) & 3 != 0
        {
            return Err(BuildError::Granularity {
                index: first,
                run: Extent::new(run.start, run.len),
            });
        }
        Ok(())
    }

    /// The rules on the whole: something to move, within the maximum transfer, covering the
    /// transfer (longer only with LLDTS), data blocks within MSDBD. Returns the transfer length.
    #[inline]
    pub(super) fn check_totals(&self, len: u64, data_blocks: u64) -> Result<u64, BuildError> {
        if len == 0 {
            return Err(BuildError::EmptyTransfer);
        }
        let transfer = self.transfer_len.unwrap_or(len);
        if let Some(max) = self.max_transfer {
            if transfer > max {
                return Err(BuildError::TransferTooLong { len: transfer, max });
            }
        }
        if len < transfer {
            return Err(BuildError::ShorterThanTransfer {
                described: len,
                transfer,
            });
        }
        if len > transfer && !self.caps.has(Capability::Lldts) {
            return Err(BuildError::LongerThanTransfer {
                described: len,
                transfer,
            });
        }
        if let Some(msdbd) = self.caps.msdbd() {
            if data_blocks > u64::from(msdbd) {
                return Err(BuildError::TooManyDataBlocks {
                    count: data_blocks,
                    msdbd,
                });
            }
        }
        Ok(transfer)
    }
}
