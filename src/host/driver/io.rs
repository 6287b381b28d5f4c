//! The data path of [`Driver`]: Read and Write (split into several commands when one cannot
//! carry the data) and the data pointer of any command, with its PRP list or SGL segment
//! pages taken from the arena and given back. Bring-up and admin commands need none of this.

use alloc::vec::Vec;

use super::{CommandReport, Driver, IoReport, Namespace, Result};
use crate::bus::RegisterAccess;
use crate::dptr::{
    self, ControllerCaps, DescriptorMemory, DptrError, Filled, Plan, PointerKind, Request,
    SglPolicy,
};
use crate::extent::Extent;
use crate::host::DriverError;
use crate::memory::DmaMemory;
use crate::prp::PrpListPage;
use crate::sgl::SegmentBuf;
use crate::spec::{BlockRange, Opcode, SubmissionEntry};
use crate::Direction;
use crate::QueueKind;

impl<B: RegisterAccess + DmaMemory> Driver<B> {
    /// Write `data` to the driver's namespace from logical block `lba`. `data` is the
    /// buffer's extents in host memory, holding the bytes already; `policy` picks PRP or SGL.
    pub fn write(&mut self, lba: u64, data: &[Extent], policy: SglPolicy) -> Result<IoReport, B> {
        self.transfer(self.namespace, Direction::Write, lba, data, policy)
    }

    /// Read from logical block `lba` of the driver's namespace into `data`, the buffer's
    /// extents in host memory; `policy` picks PRP or SGL.
    pub fn read(&mut self, lba: u64, data: &[Extent], policy: SglPolicy) -> Result<IoReport, B> {
        self.transfer(self.namespace, Direction::Read, lba, data, policy)
    }
}

impl<B: RegisterAccess + DmaMemory, N> Driver<B, N> {
    /// A Read or Write of namespace `ns` on I/O queue 1: plan the data pointer
    /// ([`dptr::plan`]), and run one command, or, when no single command can carry the data
    /// (MDTS, NLB's 65,536 blocks, or rules the buffer breaks between extents), one command
    /// per chunk of the split ([`dptr::Split`]: PRP commands, or SGL commands where only SGLs
    /// can carry the chunks), each at its own blocks. Descriptor pages come from the arena and
    /// go back after each command. [`Driver::read`] and [`Driver::write`] are this for the
    /// driver's namespace.
    pub fn transfer(
        &mut self,
        ns: Namespace,
        direction: Direction,
        lba: u64,
        data: &[Extent],
        policy: SglPolicy,
    ) -> Result<IoReport, B> {
        let len = data
            .iter()
            .try_fold(0u64, |sum, e| sum.checked_add(e.len))
            .unwrap_or(u64::MAX);
        if len == 0 || len.checked_rem(ns.block_size) != Some(0) {
            return Err(DriverError::NotWholeBlocks {
                len,
                block_size: ns.block_size,
            });
        }
        let opcode = match direction {
            Direction::Write => Opcode::NVM_WRITE,
            Direction::Read => Opcode::NVM_READ,
        };
        // Every chunk of a split is 1 to 65,536 blocks, and so is a transfer that needs none.
        let command = |first_block: u64, blocks: u64| {
            BlockRange::new(lba.wrapping_add(first_block), blocks).map(|range| {
                SubmissionEntry::new(opcode, 0)
                    .with_nsid(ns.nsid)
                    .with_block_range(range)
            })
        };
        let not_whole = || DriverError::NotWholeBlocks {
            len,
            block_size: ns.block_size,
        };
        let request = Request::new(data, direction, QueueKind::Io).with_block_size(ns.block_size);
        let plan = dptr::plan(&request, &self.controller, policy)?;
        let Plan::Split(split) = plan else {
            let mut sqe =
                command(0, len.checked_div(ns.block_size).unwrap_or(0)).map_err(|_| not_whole())?;
            let (filled, pages) = self.fill_planned(&mut sqe, &request, plan)?;
            let done = self.run_and_free(sqe, filled, &pages)?;
            return Ok(IoReport {
                commands: alloc::vec![done],
            });
        };
        let mut commands = Vec::with_capacity(split.commands());
        for chunk in split {
            let mut sqe = command(chunk.first_block, chunk.blocks).map_err(|_| not_whole())?;
            let pages_needed = chunk.pages_needed(&request, &self.controller)?;
            let is_prp = chunk.pointer == PointerKind::Prp;
            let (filled, pages) =
                self.with_descriptor_pages(pages_needed, is_prp, |memory, ctrl| {
                    dptr::fill_chunk(&mut sqe, &request, &chunk, ctrl, memory)
                })?;
            commands.push(self.run_and_free(sqe, filled, &pages)?);
        }
        Ok(IoReport { commands })
    }

    /// Run one command of a transfer on I/O queue 1 and give its descriptor pages back.
    fn run_and_free(
        &mut self,
        sqe: SubmissionEntry,
        filled: Filled,
        pages: &[Extent],
    ) -> Result<CommandReport, B> {
        let done = self.submit(1, sqe);
        self.free_pages(pages)?;
        Ok(CommandReport {
            blocks: sqe.block_range(),
            filled,
            completion: done?,
        })
    }

    /// Plan `request`'s data pointer, take the descriptor pages it needs from the arena, fill
    /// `sqe`, and copy the descriptors into host memory. Returns the layout and the pages to
    /// give back once the command has completed. A request no single command can carry is
    /// [`DriverError::NeedsSplit`] ([`Driver::read`] and [`Driver::write`] split it).
    pub fn fill_data_pointer(
        &mut self,
        sqe: &mut SubmissionEntry,
        request: &Request<'_>,
        policy: SglPolicy,
    ) -> Result<(Filled, Vec<Extent>), B> {
        let plan = dptr::plan(request, &self.controller, policy)?;
        self.fill_planned(sqe, request, plan)
    }

    /// [`Driver::fill_data_pointer`] from a plan already made.
    fn fill_planned(
        &mut self,
        sqe: &mut SubmissionEntry,
        request: &Request<'_>,
        plan: Plan<'_>,
    ) -> Result<(Filled, Vec<Extent>), B> {
        let page_bytes = self.arena.page_size().bytes();
        let (count, is_prp) = match &plan {
            Plan::Prp { plan, .. } if plan.needs_list() => (plan.list_pages_needed(0), true),
            Plan::Prp { .. } => (0, true),
            Plan::Sgl { plan, .. } => (plan.segments_needed(page_bytes / 16), false),
            Plan::Split(split) => {
                return Err(DriverError::NeedsSplit {
                    commands: split.commands(),
                })
            }
        };
        self.with_descriptor_pages(count, is_prp, |memory, ctrl| {
            plan.fill(sqe, request, ctrl, memory)
        })
    }

    /// Take `count` pages from the arena as PRP list pages (`is_prp`) or SGL segments, let
    /// `fill` write descriptors into them, and copy the pages it used into host memory.
    /// Returns what `fill` returned and the pages to give back after the command.
    fn with_descriptor_pages(
        &mut self,
        count: u64,
        is_prp: bool,
        fill: impl FnOnce(
            &mut DescriptorMemory<'_, '_>,
            &ControllerCaps,
        ) -> core::result::Result<Filled, DptrError>,
    ) -> Result<(Filled, Vec<Extent>), B> {
        let page_bytes = self.arena.page_size().bytes();
        let mut pages = Vec::new();
        for _ in 0..count {
            match self.arena.alloc(1) {
                Ok(page) => pages.push(page),
                Err(e) => {
                    self.free_pages(&pages)?;
                    return Err(e.into());
                }
            }
        }
        let page_len = usize::try_from(page_bytes).unwrap_or(0);
        let mut buffers: Vec<Vec<u8>> = pages.iter().map(|_| alloc::vec![0; page_len]).collect();
        let outcome = {
            let mut lists: Vec<PrpListPage<'_>> = Vec::new();
            let mut segments: Vec<SegmentBuf<'_>> = Vec::new();
            for (page, bytes) in pages.iter().zip(buffers.iter_mut()) {
                if is_prp {
                    lists.push(PrpListPage::new(page.addr, bytes));
                } else {
                    segments.push(SegmentBuf::new(page.addr, bytes));
                }
            }
            let mut memory = DescriptorMemory {
                prp_lists: &mut lists,
                sgl_segments: &mut segments,
                metadata_segments: &mut [],
            };
            fill(&mut memory, &self.controller)
        };
        let filled = match outcome {
            Ok(filled) => filled,
            Err(e) => {
                self.free_pages(&pages)?;
                return Err(DriverError::Dptr(e));
            }
        };
        for (page, bytes) in pages.iter().zip(&buffers).take(filled.lists_used) {
            self.bus.write(page.addr, bytes)?;
        }
        Ok((filled, pages))
    }

    /// Give back pages from [`Driver::fill_data_pointer`] or the arena.
    pub fn free_pages(&mut self, pages: &[Extent]) -> Result<(), B> {
        for page in pages {
            self.arena.free(*page)?;
        }
        Ok(())
    }
}
