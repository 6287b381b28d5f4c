//! Property tests: the rings and the CID allocator, driven by random interleavings of host and
//! controller steps, against a model that counts with unbounded integers instead of wrapping
//! indices.

use std::collections::{BTreeSet, VecDeque};
use std::vec::Vec;

use proptest::prelude::*;

use super::{CidAllocator, CqRing, RingError, SqRing};
use crate::spec::{CommandId, CompletionEntry, Status};

#[derive(Clone, Copy, Debug)]
enum Step {
    /// The host submits a command.
    Submit,
    /// The controller fetches the oldest command and completes it (if its CQ has room).
    Complete,
    /// The host looks at the head of the CQ once.
    Reap,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![Just(Step::Submit), Just(Step::Complete), Just(Step::Reap)],
        0..400,
    )
}

/// The controller's side, with plain counters: how many commands were submitted, fetched,
/// completed, and what the CQ memory holds.
struct Model {
    /// CIDs of submitted commands not yet fetched, oldest first.
    waiting: VecDeque<u16>,
    fetched: u64,
    posted: u64,
    /// The host's CQ head as last written to the doorbell, as a running count.
    host_consumed: u64,
    /// For each posted, unread completion: how many commands had been fetched when it was
    /// posted (what its SQHD tells the host).
    fetched_at_post: VecDeque<u64>,
    /// Commands the host knows to be fetched, from the last completion it read.
    host_known_fetched: u64,
    cq: Vec<CompletionEntry>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every command submitted is completed exactly once, in the order the controller posted,
    /// with the CID it was given; the rings agree with the model's counts at every step.
    #[test]
    fn rings_and_cids_agree_with_a_counting_model(entries in 2u32..9, steps in steps()) {
        let mut sq = SqRing::new(entries).unwrap();
        let mut cq = CqRing::new(entries).unwrap();
        let mut cids = CidAllocator::<1>::new();
        let n = u64::from(entries);
        let mut model = Model {
            waiting: VecDeque::new(),
            fetched: 0,
            posted: 0,
            host_consumed: 0,
            fetched_at_post: VecDeque::new(),
            host_known_fetched: 0,
            cq: std::vec![CompletionEntry::default(); entries as usize],
        };
        let mut submitted = 0u64;
        let mut in_flight = BTreeSet::new();
        let mut expected_order = VecDeque::new();
        for step in steps {
            match step {
                Step::Submit => {
                    let room = submitted - model.host_known_fetched < n - 1;
                    let slot = sq.push();
                    prop_assert_eq!(slot.is_ok(), room, "push succeeds exactly when a slot is free");
                    if let Ok(slot) = slot {
                        prop_assert_eq!(u64::from(slot), submitted % n);
                        let cid = cids.allocate().unwrap();
                        prop_assert!(in_flight.insert(cid), "CID {} reused while in flight", cid);
                        model.waiting.push_back(cid);
                        submitted += 1;
                    } else {
                        prop_assert_eq!(slot, Err(RingError::Full { entries }));
                    }
                }
                Step::Complete => {
                    let cq_room = model.posted - model.host_consumed < n - 1;
                    if cq_room {
                        if let Some(cid) = model.waiting.pop_front() {
                            model.fetched += 1;
                            let sqhd = (model.fetched % n) as u16;
                            let phase = (model.posted / n) % 2 == 0;
                            let slot = (model.posted % n) as usize;
                            model.cq[slot] = CompletionEntry::new(CommandId { sqid: 1, cid }, sqhd, Status::SUCCESS, phase);
                            model.posted += 1;
                            model.fetched_at_post.push_back(model.fetched);
                            expected_order.push_back(cid);
                        }
                    }
                }
                Step::Reap => {
                    let entry = model.cq[cq.head() as usize];
                    let fresh = model.host_consumed < model.posted;
                    prop_assert_eq!(cq.consume(&entry), fresh, "an entry is new exactly when posted and unread");
                    if fresh {
                        prop_assert_eq!(Some(entry.cid()), expected_order.pop_front());
                        sq.update_head(entry.sqhd()).unwrap();
                        prop_assert!(cids.release(entry.cid()));
                        in_flight.remove(&entry.cid());
                        model.host_consumed += 1;
                        model.host_known_fetched = model.fetched_at_post.pop_front().unwrap();
                        prop_assert_eq!(u64::from(cq.head()), model.host_consumed % n);
                    }
                }
            }
            prop_assert_eq!(u64::from(sq.tail()), submitted % n);
            prop_assert_eq!(cids.in_flight() as usize, in_flight.len());
            prop_assert_eq!(u64::from(sq.len()), submitted - model.host_known_fetched);
            prop_assert_eq!(sq.is_empty(), submitted == model.host_known_fetched);
        }
    }

    /// An SQ head from a completion is taken exactly when it lies between the known head and the
    /// tail; otherwise nothing changes.
    #[test]
    fn sq_head_updates_only_within_the_window(
        entries in 2u32..17,
        pushes in 0u32..16,
        advance in 0u32..16,
        sqhd in 0u16..20,
    ) {
        let mut sq = SqRing::new(entries).unwrap();
        let pushes = pushes.min(entries - 1);
        for _ in 0..pushes {
            sq.push().unwrap();
        }
        let advance = advance.min(pushes);
        sq.update_head((advance % entries) as u16).unwrap();
        let before = sq;
        let offset = (u32::from(sqhd) + entries - before.head()) % entries;
        let valid = u32::from(sqhd) < entries && offset <= before.len();
        prop_assert_eq!(sq.update_head(sqhd).is_ok(), valid);
        if valid {
            prop_assert_eq!(sq.len(), before.len() - offset);
        } else {
            prop_assert_eq!(sq, before);
        }
    }
}
