//! NVMe wire formats: the bytes and bits that host and controller exchange, and nothing else.
//!
//! Everything here is `no_std`, allocation-free and covered by the crate's `forbid(unsafe_code)`: fixed-size structs are
//! little-endian zerocopy types with compile-time size checks, registers and bit fields are
//! newtypes, and open enums keep unknown values so that decoding any bytes and encoding them
//! again gives the same bytes. No function in this module panics on any input. This module
//! imports nothing else from the crate; the builders and walkers are built on it.
//!
//! | file           | what lives there                                                        |
//! |----------------|-------------------------------------------------------------------------|
//! | [`sqe`]        | [`SubmissionEntry`] (64 B), [`Opcode`], [`Fuse`], [`Psdt`], [`DataDirection`] |
//! | [`cqe`]        | [`CompletionEntry`] (16 B): SQ head, SQ id, CID, phase tag, status      |
//! | [`status`]     | [`Status`] (SCT, SC, CRD, M, DNR) and the named status codes            |
//! | [`sgl`]        | [`SglDescriptor`] (16 B raw), [`SglDescriptorType`], [`SglSubtype`]     |
//! | [`registers`]  | BAR0 offsets, [`Cap`], [`Cc`], [`Csts`], [`Aqa`], [`Vs`], CMB registers, doorbells |
//! | [`log`]        | Get Log Page fields, [`ErrorInformationEntry`](log::ErrorInformationEntry), [`SmartLog`](log::SmartLog) |
//! | `queue`        | [`CreateIoCq`], [`CreateIoSq`] ([`QueuePriority`]), [`DeleteIoQueue`]     |
//! | [`features`]   | [`GetFeatures`], [`SetFeatures`], [`NumberOfQueues`] (FID 07h)            |
//! | `admin`        | [`Identify`], [`Abort`]                                                   |
//! | `io`           | [`BlockRange`] (Read, Write, Compare, Write Zeroes), [`WriteZeroes`]      |
//! | `dsm`          | [`DatasetManagement`], [`DsmRange`] (16 B)                                |
//! | `count`        | zero-based counts: [`QueueSize`], [`QueueCount`], [`DsmRangeCount`]       |
//! | [`identify`]   | [`IdentifyController`], [`IdentifyNamespace`] (4096 B), [`Sgls`], MDTS  |
//!
//! Each command's fields have a typed view (`CreateIoCq`, `LogPageRequest`, ...): a plain
//! struct with `from_sqe`, which decodes any entry, and `write_to`, which writes its fields
//! and keeps every other bit (`LogPageRequest::write_to` alone writes CDW10 to CDW13 whole),
//! so a command is built and read without shifts and masks of its own.
//!
//! Figure and section names in the docs refer to the NVM Express Base Specification (2.x)
//! and, for Identify Namespace, Write Zeroes and Dataset Management, the NVM Command Set
//! Specification.
//!
//! The accessors of the per-command formats ([`sqe`], [`cqe`], [`sgl`] and the bit-field
//! helpers) are `#[inline]`: each is a load or a store and a shift, called for every command
//! from other crates, where without the attribute it stays a call that costs several times
//! the access itself.

mod admin;
mod bits;
mod count;
mod dsm;
mod queue;

pub mod cqe;
pub mod features;
pub mod identify;
mod io;
pub mod log;
pub mod registers;
pub mod sgl;
pub mod sqe;
pub mod status;

pub use admin::{Abort, Identify};
pub use count::{CountOutOfRange, DsmRangeCount, QueueCount, QueueSize};
pub use cqe::{CommandId, CompletionEntry};
pub use dsm::{DatasetManagement, DsmRange};
pub use features::{GetFeatures, NumberOfQueues, SetFeatures};
pub use identify::{
    mdts_bytes, IdentifyController, IdentifyNamespace, LbaFormat, MaxTransfer, SglSupport, Sgls,
};
pub use io::{BlockCountOutOfRange, BlockRange, WriteZeroes};
pub use queue::{CreateIoCq, CreateIoSq, DeleteIoQueue, QueuePriority};
pub use registers::{Aqa, Cap, Cc, CmbLoc, CmbSz, Csts, ShutdownNotification, ShutdownStatus, Vs};
pub use sgl::{SglDescriptor, SglDescriptorType, SglSubtype};
pub use sqe::{CdwOutOfRange, DataDirection, Fuse, Opcode, Psdt, SubmissionEntry};
pub use status::{Status, StatusCodeType};
