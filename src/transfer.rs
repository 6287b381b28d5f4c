//! Which way a command's data moves, and which kind of queue carries it: the two facts about
//! a command that both sides of the crate (host and device) need before anything else.

use crate::spec::DataDirection;

/// Which way the data moves, which decides what a bit bucket means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Direction {
    /// Controller to host (a Read): the data pointer is the destination; a bit bucket
    /// discards bytes and counts toward the transfer.
    Read,
    /// Host to controller (a Write): the data pointer is the source; a bit bucket counts as
    /// zero bytes.
    Write,
}

impl Direction {
    /// The direction of a command's data, from its opcode's direction bits; `None` for no
    /// data or bidirectional transfers.
    pub const fn from_data_direction(direction: DataDirection) -> Option<Direction> {
        match direction {
            DataDirection::ControllerToHost => Some(Direction::Read),
            DataDirection::HostToController => Some(Direction::Write),
            DataDirection::None | DataDirection::Bidirectional => None,
        }
    }
}

/// The kind of queue a command goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum QueueKind {
    /// The admin queue (queue 0): PRPs only.
    Admin,
    /// An I/O queue.
    Io,
}
