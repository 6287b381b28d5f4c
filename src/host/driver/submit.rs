//! Running commands on a queue pair: fill submission slots with fresh command identifiers,
//! ring the doorbell, poll the completion queue. Admin commands and the data path both come
//! through here.

use alloc::vec::Vec;

use super::{Driver, Result};
use crate::bus::RegisterAccess;
use crate::extent::Extent;
use crate::host::{DriverError, RingError};
use crate::memory::DmaMemory;
use crate::spec::{CompletionEntry, SubmissionEntry};

impl<B: RegisterAccess + DmaMemory, N> Driver<B, N> {
    /// Submit `sqe` on queue `qid` with a fresh command identifier (the one in `sqe` is
    /// replaced), ring the doorbell, and poll for its completion. A completion with an error
    /// status is [`DriverError::Command`].
    pub fn submit(&mut self, qid: u16, sqe: SubmissionEntry) -> Result<CompletionEntry, B> {
        let opcode = sqe.opcode();
        let done = self.run(qid, core::slice::from_ref(&sqe))?;
        let completion = done.into_iter().next().unwrap_or_default();
        let status = completion.status();
        if status.is_success() {
            Ok(completion)
        } else {
            Err(DriverError::Command {
                opcode,
                qid,
                cid: completion.cid(),
                status,
            })
        }
    }

    /// Submit all of `sqes` on queue `qid` (fresh command identifiers), ring the doorbell once,
    /// and reap every completion. Returns the completions in submission order, whatever their
    /// status; at most the queue's capacity (slots − 1) may be submitted at once.
    pub fn submit_batch(
        &mut self,
        qid: u16,
        sqes: &[SubmissionEntry],
    ) -> Result<Vec<CompletionEntry>, B> {
        self.run(qid, sqes)
    }

    /// Put `sqes` in queue `qid`, ring once, reap a completion for each.
    fn run(&mut self, qid: u16, sqes: &[SubmissionEntry]) -> Result<Vec<CompletionEntry>, B> {
        let index = usize::from(qid);
        let pair = self
            .queues
            .get_mut(index)
            .ok_or(DriverError::NoSuchQueue { qid })?;
        let free = pair.sq.capacity().saturating_sub(pair.sq.len());
        if u32::try_from(sqes.len()).map_or(true, |n| n > free) {
            return Err(DriverError::Ring {
                qid,
                error: RingError::Full {
                    entries: pair.sq.entries(),
                },
            });
        }
        let mut cids = Vec::with_capacity(sqes.len());
        let mut writes = Vec::with_capacity(sqes.len());
        for sqe in sqes {
            // Capacity was checked: neither a CID nor a slot can run out here.
            let cid = pair.cids.allocate().ok_or(DriverError::Ring {
                qid,
                error: RingError::Full {
                    entries: pair.sq.entries(),
                },
            })?;
            let slot = pair
                .sq
                .push()
                .map_err(|error| DriverError::Ring { qid, error })?;
            let addr = slot_addr(pair.sq_mem, slot, SubmissionEntry::SIZE);
            cids.push(cid);
            writes.push((addr, sqe.with_cid(cid).to_bytes()));
        }
        let (tail, doorbell) = (pair.sq.tail(), pair.sq_doorbell);
        for (addr, bytes) in &writes {
            self.bus.write(*addr, bytes)?;
        }
        self.write32(doorbell, tail)?;
        let mut done: Vec<Option<CompletionEntry>> = alloc::vec![None; sqes.len()];
        let mut remaining = sqes.len();
        let mut polls = 0u32;
        while remaining > 0 {
            let Some(entry) = self.reap_one(qid)? else {
                polls = polls.saturating_add(1);
                if polls >= self.config.completion_polls {
                    let waiting = cids
                        .iter()
                        .zip(&done)
                        .find(|(_, d)| d.is_none())
                        .map_or(0, |(cid, _)| *cid);
                    return Err(DriverError::CompletionTimeout {
                        qid,
                        cid: waiting,
                        polls,
                    });
                }
                continue;
            };
            let position = cids
                .iter()
                .zip(&done)
                .position(|(cid, d)| *cid == entry.cid() && d.is_none());
            let Some(slot) = position.and_then(|i| done.get_mut(i)) else {
                return Err(DriverError::UnexpectedCompletion {
                    qid,
                    cid: entry.cid(),
                });
            };
            *slot = Some(entry);
            remaining = remaining.saturating_sub(1);
        }
        Ok(done.into_iter().flatten().collect())
    }

    /// Look at the head of queue `qid`'s completion queue once: if a new entry is there,
    /// consume it (SQ head, CID, head doorbell) and return it.
    fn reap_one(&mut self, qid: u16) -> Result<Option<CompletionEntry>, B> {
        let pair = self
            .queues
            .get(usize::from(qid))
            .ok_or(DriverError::NoSuchQueue { qid })?;
        let addr = slot_addr(pair.cq_mem, pair.cq.head(), CompletionEntry::SIZE);
        let mut bytes = [0u8; CompletionEntry::SIZE];
        self.bus.read(addr, &mut bytes)?;
        let entry = CompletionEntry::from_bytes(bytes);
        let pair = self
            .queues
            .get_mut(usize::from(qid))
            .ok_or(DriverError::NoSuchQueue { qid })?;
        if !pair.cq.is_new(&entry) {
            return Ok(None);
        }
        if !pair.cids.is_in_flight(entry.cid()) {
            return Err(DriverError::UnexpectedCompletion {
                qid,
                cid: entry.cid(),
            });
        }
        pair.sq
            .update_head(entry.sqhd())
            .map_err(|error| DriverError::Ring { qid, error })?;
        pair.cids.release(entry.cid());
        pair.cq.consume(&entry);
        let (head, doorbell) = (pair.cq.head(), pair.cq_doorbell);
        self.write32(doorbell, head)?;
        Ok(Some(entry))
    }
}

/// Bus address of slot `slot` in queue memory `mem` of `entry_size`-byte entries. The slot is
/// below the queue's entries, all inside `mem`, so this cannot overflow.
fn slot_addr(mem: Extent, slot: u32, entry_size: usize) -> u64 {
    mem.addr
        .saturating_add(u64::from(slot).saturating_mul(entry_size as u64))
}
