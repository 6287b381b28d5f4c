//! NVM commands on I/O queues: Read, Write, Compare, Flush, Write Zeroes and Dataset
//! Management (deallocate).
//!
//! Every data command checks, in this order: the namespace (Invalid Namespace or Format;
//! the broadcast NSID FFFFFFFFh, which only Flush accepts, Invalid Field in Command), the
//! LBA range (LBA Out of Range), MDTS (Invalid Field in Command), then walks and checks its
//! whole data and metadata pointer ([`datapath::gather`]), and only then moves data.

use alloc::vec::Vec;

use zerocopy::IntoBytes;

use super::datapath::{self, fail};
use super::namespace::Stream;
use super::profile::Deviation;
use super::{Engine, Outcome};
use crate::memory::DmaMemory;
use crate::spec::{
    DatasetManagement, DsmRange, Opcode, Status, StatusCodeType, SubmissionEntry, WriteZeroes,
};
use crate::Direction;
use crate::QueueKind;

/// Compare Failure (media and data integrity errors, 85h).
const COMPARE_FAILURE: Status = Status::new(StatusCodeType::MediaAndDataIntegrity, 0x85);

/// Starting LBA and block count of a Read, Write, Compare or Write Zeroes.
fn block_range(sqe: &SubmissionEntry) -> (u64, u64) {
    let range = sqe.block_range();
    (range.slba(), range.blocks())
}

impl<M: DmaMemory + ?Sized> Engine<'_, '_, M> {
    pub(crate) fn io_command(&mut self, sqe: &SubmissionEntry) -> Outcome {
        // Strictly, FFFFFFFFh on a command that does not support it is Invalid Field in
        // Command once the opcode is known to be one ([`Self::namespace_index`]); the
        // profile's controller answers so before it looks at the opcode at all.
        let broadcast = sqe.nsid() == u32::MAX && sqe.opcode() != Opcode::NVM_FLUSH;
        if broadcast
            && self
                .config
                .profile
                .has(Deviation::BroadcastNsidInvalidField)
        {
            return Outcome::Complete(fail(Status::INVALID_FIELD), 0);
        }
        let result = match sqe.opcode() {
            Opcode::NVM_READ => self.read_write(sqe, Direction::Read),
            Opcode::NVM_WRITE => self.read_write(sqe, Direction::Write),
            Opcode::NVM_COMPARE => self.compare(sqe),
            Opcode::NVM_FLUSH => match sqe.nsid() {
                u32::MAX => Ok(0),
                nsid => self.namespace_index(nsid).map(|_| 0),
            },
            Opcode::NVM_WRITE_ZEROES => self.write_zeroes(sqe),
            Opcode::NVM_DATASET_MANAGEMENT => self.dataset_management(sqe),
            _ => Err(fail(Status::INVALID_OPCODE)),
        };
        Outcome::from_result(result)
    }

    /// The index of an active namespace, or the status for a command naming another:
    /// Invalid Field in Command for FFFFFFFFh or an inactive identifier, Invalid Namespace
    /// or Format for an invalid one ([`active_namespace`](Self::active_namespace)).
    ///
    /// Every command that calls this uses the NSID and does not support the broadcast value
    /// (Flush, which does, answers FFFFFFFFh before). Base 2.2, 4.1.1, Figure 92 (Common
    /// Command Format, NSID): "If the namespace identifier is used for the command (refer to
    /// Figure 142), the value FFFFFFFFh is not supported for that command, and the host
    /// specifies a value of FFFFFFFFh, then the controller shall abort the command with a
    /// status code of Invalid Field in Command, unless otherwise specified." The NVM
    /// commands here specify nothing otherwise.
    fn namespace_index(&self, nsid: u32) -> Result<usize, Status> {
        if nsid == u32::MAX {
            return Err(fail(Status::INVALID_FIELD));
        }
        self.active_namespace(nsid)
            .map(|_| usize::try_from(nsid.saturating_sub(1)).unwrap_or(usize::MAX))
    }

    /// Namespace, range and MDTS checks shared by the data commands; returns the namespace
    /// index and the data and metadata stream lengths.
    fn check_blocks(&self, sqe: &SubmissionEntry) -> Result<(usize, u64, u64), Status> {
        let index = self.namespace_index(sqe.nsid())?;
        let ns = self
            .namespaces
            .get(index)
            .ok_or_else(|| fail(Status::INVALID_NAMESPACE_OR_FORMAT))?;
        let (slba, nlb) = block_range(sqe);
        let data_len = ns.stream_len(Stream::Data, nlb);
        let in_range = slba.checked_add(nlb).is_some_and(|end| end <= ns.blocks());
        let within_mdts = self.rules.max_transfer.allows(data_len);
        if !within_mdts && self.config.profile.has(Deviation::MdtsCheckedBeforeRange) {
            return Err(fail(Status::INVALID_FIELD));
        }
        if !in_range {
            return Err(fail(Status::LBA_OUT_OF_RANGE));
        }
        if !within_mdts {
            return Err(fail(Status::INVALID_FIELD));
        }
        Ok((index, data_len, ns.stream_len(Stream::Metadata, nlb)))
    }

    fn read_write(&mut self, sqe: &SubmissionEntry, direction: Direction) -> Result<u32, Status> {
        let (index, data_len, meta_len) = self.check_blocks(sqe)?;
        self.gather(sqe, QueueKind::Io, direction, (data_len, meta_len))?;
        let (slba, nlb) = block_range(sqe);
        let to_host = direction == Direction::Read;
        let ns = self
            .namespaces
            .get_mut(index)
            .ok_or_else(|| fail(Status::INVALID_NAMESPACE_OR_FORMAT))?;
        datapath::transfer(
            self.port,
            ns,
            (Stream::Data, slba, nlb),
            &self.scratch.data,
            to_host,
        )?;
        if meta_len > 0 {
            let meta = (Stream::Metadata, slba, nlb);
            datapath::transfer(self.port, ns, meta, &self.scratch.metadata, to_host)?;
        }
        if !to_host {
            ns.mark_written(slba, nlb);
        }
        self.admin.count_io(!to_host, data_len);
        Ok(0)
    }

    fn compare(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let (index, data_len, meta_len) = self.check_blocks(sqe)?;
        self.gather(sqe, QueueKind::Io, Direction::Write, (data_len, meta_len))?;
        let (slba, nlb) = block_range(sqe);
        let ns = self
            .namespaces
            .get(index)
            .ok_or_else(|| fail(Status::INVALID_NAMESPACE_OR_FORMAT))?;
        for (stream, host) in [
            (Stream::Data, &self.scratch.data),
            (Stream::Metadata, &self.scratch.metadata),
        ] {
            if !datapath::matches(self.port, ns, (stream, slba, nlb), host)? {
                return Err(fail(COMPARE_FAILURE));
            }
        }
        Ok(0)
    }

    fn write_zeroes(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let index = self.namespace_index(sqe.nsid())?;
        let zeroes = WriteZeroes::from_sqe(sqe);
        let (slba, nlb) = (zeroes.range.slba(), zeroes.range.blocks());
        let ns = self
            .namespaces
            .get_mut(index)
            .ok_or_else(|| fail(Status::INVALID_NAMESPACE_OR_FORMAT))?;
        if slba.checked_add(nlb).map_or(true, |end| end > ns.blocks()) {
            return Err(fail(Status::LBA_OUT_OF_RANGE));
        }
        ns.zero(slba, nlb, zeroes.deallocate);
        Ok(0)
    }

    fn dataset_management(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let index = self.namespace_index(sqe.nsid())?;
        let dsm = DatasetManagement::from_sqe(sqe);
        let ranges = usize::try_from(dsm.ranges.get()).unwrap_or(usize::MAX);
        let mut list = alloc::vec![DsmRange::default(); ranges];
        self.gather(sqe, QueueKind::Io, Direction::Write, (dsm.data_len(), 0))?;
        datapath::receive(self.port, list.as_mut_bytes(), &self.scratch.data)?;
        if !dsm.deallocate {
            // Only deallocation has an effect here; other attributes are hints.
            return Ok(0);
        }
        let ns = self
            .namespaces
            .get_mut(index)
            .ok_or_else(|| fail(Status::INVALID_NAMESPACE_OR_FORMAT))?;
        let parsed: Vec<(u64, u64)> = list
            .iter()
            .map(|r| (r.slba.get(), u64::from(r.blocks.get())))
            .collect();
        // Check every range before deallocating any, so a bad range changes nothing.
        if parsed
            .iter()
            .any(|&(slba, nlb)| slba.checked_add(nlb).map_or(true, |end| end > ns.blocks()))
        {
            return Err(fail(Status::LBA_OUT_OF_RANGE));
        }
        for (slba, nlb) in parsed {
            ns.zero(slba, nlb, true);
        }
        Ok(0)
    }
}
