//! The work of a doorbell: fetch a queue's commands, execute them, post their completions.
//! Also the data path alone, for the fuzz kit's oracle.

use super::*;

/// Everything a doorbell's work needs, borrowed from the controller for its duration.
pub(crate) struct Engine<'e, 'a, M: DmaMemory + ?Sized> {
    pub port: &'e mut DmaPort<'a, M>,
    pub queues: &'e mut Queues,
    pub namespaces: &'e mut Vec<Namespace>,
    pub admin: &'e mut AdminState,
    pub(super) regs: &'e mut Registers,
    pub(super) events: &'e mut Vec<ControllerEvent>,
    pub scratch: &'e mut Gathered,
    pub config: &'e ControllerConfig,
    pub rules: PointerRules,
    pub(super) hung: &'e mut bool,
}

/// What a command completes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Post a completion with this status and DW0.
    Complete(Status, u32),
    /// No completion now (an Asynchronous Event Request, held until an event).
    Held,
}

impl Outcome {
    pub fn from_result(r: Result<u32, Status>) -> Outcome {
        match r {
            Ok(dw0) => Outcome::Complete(Status::SUCCESS, dw0),
            Err(status) => Outcome::Complete(status, 0),
        }
    }
}

impl<M: DmaMemory + ?Sized> Engine<'_, '_, M> {
    fn fatal(&mut self, event: ControllerEvent) {
        self.regs.csts.insert(Csts::CFS);
        self.events.push(event);
    }

    pub(super) fn page_bytes(&self) -> u64 {
        self.rules.page_size.bytes()
    }

    /// Fetch, execute and complete commands from `qid` until it is empty or its CQ is full.
    pub(super) fn process(&mut self, qid: u16) {
        loop {
            if self.regs.csts.contains(Csts::CFS) || *self.hung {
                return;
            }
            let Some(sq) = self.queues.sq(qid) else {
                return;
            };
            if sq.is_empty() {
                return;
            }
            let (head, cqid) = (sq.head, sq.cqid);
            let slot = sq.memory.slot(head, SQE_BYTES, self.page_bytes());
            match self.queues.cq_mut(cqid) {
                Some(cq) if cq.is_full() => {
                    cq.stalled = true;
                    return;
                }
                Some(_) => {}
                None => return,
            }
            let Some(addr) = slot else {
                return self.fatal(ControllerEvent::SqeFetchFailed { qid, addr: 0 });
            };
            let mut bytes = [0u8; 64];
            if self
                .port
                .read(DmaPurpose::SqeFetch, addr, &mut bytes)
                .is_err()
            {
                return self.fatal(ControllerEvent::SqeFetchFailed { qid, addr });
            }
            let sqe = SubmissionEntry::from_bytes(bytes);
            if let Some(sq) = self.queues.sq_mut(qid) {
                sq.head = queue::next_slot(head, sq.size);
            }
            let outcome = if sqe.fuse() != Fuse::Normal {
                // FUSES is 0: no fused operation is supported, so a FUSE value other than 00b
                // is an unsupported value in a defined field.
                let dnr = !self.config.profile.has(Deviation::FusedRefusedWithoutDnr);
                Outcome::Complete(Status::INVALID_FIELD.with_dnr(dnr), 0)
            } else if let Err(status) = self.check_psdt(&sqe, qid) {
                Outcome::Complete(status, 0)
            } else if qid == 0 {
                self.admin_command(&sqe)
            } else {
                self.io_command(&sqe)
            };
            if core::mem::take(&mut self.scratch.hung) {
                // The controller the profile models never completes this command, nor any
                // other: it spins on the SGL for good. The mock stops instead.
                *self.hung = true;
                self.events.push(ControllerEvent::Hung {
                    qid,
                    cid: sqe.cid(),
                });
                return;
            }
            if let Outcome::Complete(status, dw0) = outcome {
                if !status.is_success() {
                    self.admin.log_error(qid, &sqe, status);
                }
                let sqhd = self.queues.sq(qid).map_or(0, |sq| sq.head);
                self.post(cqid, qid, sqe.cid(), status, dw0, sqhd);
            }
        }
    }

    /// PSDT, checked here for every command, not when a data pointer is walked: a command
    /// that moves no data would otherwise never look at it. The profile may leave it to the
    /// data path on the I/O queues ([`Deviation::PsdtUncheckedWithoutData`]).
    fn check_psdt(&self, sqe: &SubmissionEntry, qid: u16) -> Result<(), Status> {
        let unchecked = qid != 0 && self.config.profile.has(Deviation::PsdtUncheckedWithoutData);
        if unchecked {
            return Ok(());
        }
        datapath::check_psdt(sqe, queue_kind(qid), &self.rules)
    }

    /// Post one completion to `cqid` (the caller checked it has room).
    fn post(&mut self, cqid: u16, sqid: u16, cid: u16, status: Status, dw0: u32, sqhd: u16) {
        let page = self.page_bytes();
        let Some(cq) = self.queues.cq_mut(cqid) else {
            return;
        };
        let entry =
            CompletionEntry::new(CommandId { sqid, cid }, sqhd, status, cq.phase).with_dw0(dw0);
        let Some(addr) = cq.memory.slot(cq.tail, CQE_BYTES, page) else {
            return;
        };
        cq.advance_tail();
        if self
            .port
            .write(DmaPurpose::CqePost, addr, &entry.to_bytes())
            .is_err()
        {
            self.fatal(ControllerEvent::CqePostFailed { cqid, addr });
        }
    }

    /// Complete held Asynchronous Event Requests for queued events while the admin CQ has room.
    pub(super) fn post_async_events(&mut self) {
        while self.queues.cq(0).is_some_and(|cq| !cq.is_full()) {
            let Some((cid, dw0)) = self.admin.next_async_completion() else {
                return;
            };
            let sqhd = self.queues.sq(0).map_or(0, |sq| sq.head);
            self.post(0, 0, cid, Status::SUCCESS, dw0, sqhd);
        }
    }

    /// Walk and check a command's data pointer into the scratch lists.
    pub fn gather(
        &mut self,
        sqe: &SubmissionEntry,
        queue: QueueKind,
        direction: crate::Direction,
        lens: (u64, u64),
    ) -> Result<(), Status> {
        datapath::gather(
            self.port,
            sqe,
            queue,
            direction,
            lens,
            &self.rules,
            self.scratch,
        )
    }
}

/// What a controller built from `config`, enabled with `page_size`, makes of an I/O
/// command's data and metadata pointers for `lens` (data, metadata) bytes: the pieces it
/// would move, or why it would not (the status it completes with, or that it hangs). The same data path [`MockController`] runs, for the fuzz kit's oracle; the
/// controller memory buffer's bytes are read from `mem` at the buffer's address.
#[cfg(feature = "fuzzkit")]
pub(crate) fn data_path<M: DmaMemory + ?Sized>(
    config: &ControllerConfig,
    page_size: PageSize,
    sqe: &SubmissionEntry,
    direction: crate::Direction,
    lens: (u64, u64),
    mem: &mut M,
) -> Result<(Vec<crate::Piece>, Vec<crate::Piece>), lenient::Stop> {
    let rules = PointerRules::new(config, page_size);
    let ignore = config.profile.has(Deviation::DataOutsideMemoryIgnored);
    let registers = Extent::new(config.bar0, config.bar0_size());
    let mut cmb_bytes = match config.cmb {
        Some(c) => {
            let mut bytes = alloc::vec![0u8; usize::try_from(c.size).unwrap_or(0)];
            // A buffer the memory does not hold reads as zeros.
            let _ = mem.read(c.addr, &mut bytes);
            bytes
        }
        None => Vec::new(),
    };
    let cmb = config.cmb.map(|c| CmbWindow {
        base: c.addr,
        bytes: cmb_bytes.as_mut_slice(),
        caps: cmb_size(&c),
    });
    let port = DmaPort::new(mem, cmb, registers, None).with_data_faults_ignored(ignore);
    let mut out = Gathered::default();
    match datapath::gather(&port, sqe, QueueKind::Io, direction, lens, &rules, &mut out) {
        Ok(()) => Ok((out.data, out.metadata)),
        Err(_) if out.hung => Err(lenient::Stop::Hang),
        Err(status) => Err(lenient::Stop::Status(status)),
    }
}
