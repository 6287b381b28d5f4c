//! The rules a data pointer must follow, each with a stable name, the section of the
//! specification that states it, and a short explanation of what it says and why.
//!
//! Every refusal in this crate, on the host side ([`prp::BuildError`](crate::prp::BuildError),
//! [`sgl::BuildError`](crate::sgl::BuildError), [`dptr::DptrError`](crate::dptr::DptrError)) and
//! on the device side ([`prp::WalkError`](crate::prp::WalkError),
//! [`sgl::WalkError`](crate::sgl::WalkError), [`dptr::PsdtError`](crate::dptr::PsdtError),
//! [`memory::MoveError`](crate::memory::MoveError),
//! [`dptr::DeviceError`](crate::dptr::DeviceError)), names the [`Rule`] it enforces through its
//! `rule()` method. The error's `Display` gives the specifics (which extent, which address,
//! what would fix it); the rule gives the part that is the same every time, so tools and
//! people can look it up once.
//!
//! The same rule seen from both sides has one name: a host-side builder refusing a list entry
//! with a page offset and a device-side walker finding one both report
//! [`Rule::PrpStartOnPageBoundary`].
//!
//! ```
//! use nvme_dma::prp::PrpBuilder;
//! use nvme_dma::rule::Rule;
//! use nvme_dma::{Extent, PageSize};
//!
//! // A middle extent that ends inside a page.
//! let extents = [
//!     Extent::new(0x1000, 0x1000),
//!     Extent::new(0x8000, 0x200),
//!     Extent::new(0xa000, 0x1000),
//! ];
//! let err = PrpBuilder::new(PageSize::SIZE_4K).plan(extents).unwrap_err();
//! let rule = err.rule();
//! assert_eq!(rule, Rule::PrpEndOnPageBoundary);
//! assert_eq!(rule.id(), "prp.end_on_page_boundary");
//! assert!(rule.section().contains("4.3.1"));
//! assert_eq!(Rule::from_id("prp.end_on_page_boundary"), Some(rule));
//! ```
//!
//! # Ids are stable
//!
//! [`Rule::id`] is a name for scripts and logs (the `nvme-dma` command prints it in its JSON
//! output). An id, once published, keeps its meaning and is never reused; new rules get new ids.
//!
//! # Which specification
//!
//! Sections are those of the NVM Express Base Specification, Revision 2.1 ([`SPEC`]); the
//! data pointer sections (4.1.1, 4.2.3, 4.3) have the same numbers in Revision 2.2. The one rule
//! about logical blocks cites the NVM Command Set Specification, Revision 1.1, where the Read
//! and Write commands are defined.

use core::fmt;

/// The revision of the specification that [`Rule::section`] cites.
pub const SPEC: &str = "NVMe Base Specification 2.1";

/// A citation of [`SPEC`]; a macro because `concat!` takes only literals.
macro_rules! base {
    ($section:literal) => {
        concat!("NVMe Base Specification 2.1, ", $section)
    };
}

// Sections shared by several rules.
const PRP: &str = base!("4.3.1 Physical Region Page Entry and List");
const SGL: &str = base!("4.3.2 Scatter Gather List (SGL)");
const LAYOUTS: &str = base!("4.3 Data Pointer Layouts (PRPs and SGLs)");
const MDTS: &str =
    base!("5.1.13.2.1 Identify Controller Data Structure, MDTS (Maximum Data Transfer Size)");
const SGLS: &str = base!("5.1.13.2.1 Identify Controller Data Structure, SGLS (SGL Support)");
const MSDBD: &str = base!(
    "5.1.13.2.1 Identify Controller Data Structure, MSDBD (Maximum SGL Data Block Descriptors)"
);
const MPTR: &str = base!("4.1.1 Admin Command and I/O Command Common SQE, MPTR (Metadata Pointer)");
const PSDT: &str = base!(
    "4.1.1 Admin Command and I/O Command Common SQE, CDW0.PSDT (PRP or SGL for Data Transfer)"
);
const PRP2: &str = base!("4.1.1 Admin Command and I/O Command Common SQE, DPTR (PRP Entry 2)");
const DPTR: &str = base!("4.1.1 Admin Command and I/O Command Common SQE, DPTR (Data Pointer)");
const SGL1: &str = base!("4.1.1 Admin Command and I/O Command Common SQE, DPTR (SGL Entry 1)");
const TRANSFER_ERROR: &str = base!("4.2.3 Status Field Definition, Data Transfer Error");
const NLB: &str =
    "NVM Command Set Specification 1.1, 3.3.4 Read command and 3.3.6 Write command (NLB)";

// The maximum transfer is one rule checked in three places (PRP builder, SGL builder,
// device); the three ids stay apart because the command's output already names two of them,
// but they share one statement and one explanation.
const MAX_TRANSFER_SUMMARY: &str =
    "a command moves at most the controller's maximum transfer size (MDTS)";
const MAX_TRANSFER_TEXT: &str = "The controller reports in Identify Controller the largest \
    transfer one command may move: MDTS, a power of two in units of the minimum memory page \
    size (CAP.MPSMIN), with 0 meaning no limit. It is the most the controller commits to one \
    command, and a command that asks for more is aborted with Invalid Field in Command. A host \
    splits a larger request into several commands of at most MDTS bytes each.";

/// Defines [`Rule`], its accessors and the table of all rules from one list, so that a rule
/// cannot exist without an id, a section and a text, nor be left out of the table.
macro_rules! rules {
    ($(
        $(#[$doc:meta])*
        $variant:ident {
            id: $id:literal,
            section: $section:expr,
            summary: $summary:expr,
            text: $text:expr $(,)?
        }
    )*) => {
        /// A rule of the NVMe data pointer formats: what [`Rule::id`] names, [`Rule::section`]
        /// cites and [`Rule::text`] explains. The module documentation lists where each comes
        /// from.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $variant, )*
        }

        /// Every rule, in the order of [`Rule`]'s variants.
        const ALL: &[Rule] = &[$( Rule::$variant, )*];

        impl Rule {
            /// The stable name, e.g. `prp.end_on_page_boundary`: lower case, a family
            /// (`prp`, `sgl`, `dptr`, `memory`), a dot, words joined by underscores.
            pub const fn id(self) -> &'static str {
                match self {
                    $( Rule::$variant => $id, )*
                }
            }

            /// Where the specification states the rule: the document, its revision and the
            /// section, e.g. `NVMe Base Specification 2.1, 4.3.1 Physical Region Page Entry and
            /// List`.
            pub const fn section(self) -> &'static str {
                match self {
                    $( Rule::$variant => $section, )*
                }
            }

            /// The rule in one sentence, without a capital or a full stop, to follow a label.
            pub const fn summary(self) -> &'static str {
                match self {
                    $( Rule::$variant => $summary, )*
                }
            }

            /// What the rule says and why it exists, in a few sentences for someone learning
            /// NVMe. An error's `Display` gives the specifics of one refusal; this is the part
            /// that is the same every time.
            pub const fn text(self) -> &'static str {
                match self {
                    $( Rule::$variant => $text, )*
                }
            }
        }
    };
}

rules! {
    /// A PRP data pointer describes at least one byte.
    PrpNonempty {
        id: "prp.nonempty",
        section: PRP,
        summary: "a PRP data pointer describes at least one byte",
        text: "PRP1 names the first byte of a transfer, so a PRP data pointer only means \
            something when there is a transfer. A command that moves no data leaves PRP1 and \
            PRP2 cleared and the controller never reads them; a PRP layout of zero bytes is a \
            mistake in the caller, not a command.",
    }
    /// The first byte of a PRP transfer (PRP1) is dword aligned.
    PrpStartDwordAligned {
        id: "prp.start_dword_aligned",
        section: PRP,
        summary: "PRP1 (the first byte of the transfer) is dword aligned: bits 1:0 clear",
        text: "A PRP entry is a memory page address plus an offset into the page, and the \
            offset must be dword aligned: bits 1:0 clear. Of the entries that name data, only \
            PRP1 may have a non-zero offset at all, so this rule is about where the whole \
            transfer starts. A controller may refuse an unaligned PRP1 with PRP Offset Invalid, \
            or act as if bits 1:0 were clear and move the wrong bytes; a driver aligns the \
            buffer or copies it through an aligned bounce buffer. An SGL on a controller with \
            byte-aligned SGL support (SGLS bits 1:0 = 01b) has no such rule.",
    }
    /// Every PRP entry after the first has page offset 0.
    PrpStartOnPageBoundary {
        id: "prp.start_on_page_boundary",
        section: PRP,
        summary: "every extent after the first starts on a memory page boundary (list entries \
            and PRP2 as a data pointer have offset 0)",
        text: "A PRP entry names one memory page of the size set in CC.MPS, and every entry \
            after the first must have offset 0: PRP2 when it is the second data page, and every \
            data entry of a PRP list. PRPs carry no lengths; the controller knows how much of \
            each page to use only because every page after the first is used from its start. \
            A buffer that starts inside a page can therefore only be the first piece of a PRP \
            command: split the command there, or use an SGL, whose descriptors carry their own \
            lengths. A controller answers such an entry with PRP Offset Invalid.",
    }
    /// Every piece of a PRP transfer but the last ends on a page boundary.
    PrpEndOnPageBoundary {
        id: "prp.end_on_page_boundary",
        section: PRP,
        summary: "every extent before the last ends on a memory page boundary (the next entry \
            starts where a page ends)",
        text: "PRP entries carry no lengths: the controller uses each page to its end before \
            it moves to the next entry, and only the transfer length says where the last page \
            stops. So every piece of the transfer except the last must run to the end of its \
            memory page, or the controller would move bytes past the piece's end, into memory \
            the host never meant. A scatter list with a short piece in the middle needs a new \
            command after that piece, or an SGL.",
    }
    /// No PRP extent runs past the end of the 64-bit address space.
    PrpAddressSpace {
        id: "prp.address_space",
        section: PRP,
        summary: "no extent runs past the end of the 64-bit address space",
        text: "Bus addresses are 64 bits wide, so a piece whose address plus length passes \
            2^64 would wrap around to address 0 in a controller's arithmetic. Such a piece is \
            always a mistake in its address or its length: no controller can reach those bytes.",
    }
    /// A PRP command moves at most MDTS bytes.
    PrpMaxTransfer {
        id: "prp.max_transfer",
        section: MDTS,
        summary: MAX_TRANSFER_SUMMARY,
        text: MAX_TRANSFER_TEXT,
    }
    /// PRP1 and PRP2 alone describe at most two memory pages.
    PrpInlineTwoPages {
        id: "prp.inline_two_pages",
        section: PRP2,
        summary: "PRP1 and PRP2 alone describe at most two memory pages; more needs a PRP list",
        text: "The command has room for two PRP entries. When the transfer stays in one memory \
            page PRP2 is unused; when it crosses exactly one page boundary PRP2 names the second \
            page; beyond that PRP2 is a pointer to a PRP list in host memory, which holds an \
            entry for every page after the first. A fast path that fills only PRP1 and PRP2 \
            covers transfers within two pages; anything longer needs list memory.",
    }
    /// The PRP list memory holds the whole chain of list pages.
    PrpListMemory {
        id: "prp.list_memory",
        section: PRP,
        summary: "the PRP list holds every page after the first; list pages chain through their \
            last slot",
        text: "A PRP list is a packed array of 8-byte entries in one memory page, one entry for \
            every data page after PRP1's. When the entries do not fit in the rest of that page, \
            its last slot holds the address of the next list page instead of data, and the list \
            continues there. The controller follows that chain wherever it points, so the host \
            must supply every list page it needs; how many depends on the pages the transfer \
            touches and on where the first list page starts inside its page.",
    }
    /// A PRP list page that chains runs to the end of its memory page.
    PrpListPageSize {
        id: "prp.list_page_size",
        section: PRP,
        summary: "a list page that chains runs to the end of its memory page: its last slot \
            points to the next list page",
        text: "The controller finds the pointer to the next list page in a fixed place: the \
            last 8-byte slot before the end of the memory page, not after however many entries \
            the host meant to write. A list page that continues to another must therefore be \
            usable up to the end of its page, or the controller would take the chain pointer \
            from memory that is not part of the list.",
    }
    /// The PRP list pointer is qword aligned; chained list pages are page aligned.
    PrpListPageAlignment {
        id: "prp.list_page_alignment",
        section: PRP,
        summary: "the list pointer in PRP2 is qword aligned; a pointer to a following list page \
            is page aligned",
        text: "The first PRP list pointer, in PRP2, must be qword aligned (bits 2:0 clear), \
            because the list is an array of 8-byte entries; it may start anywhere inside its \
            page. Each following list page is reached through a chain pointer, and like every \
            PRP entry after the first it must have offset 0: chained list pages start on a \
            memory page boundary. A controller answers a misaligned list or chain pointer with \
            PRP Offset Invalid.",
    }
    /// A split into PRP commands cuts at blocks of a usable size.
    PrpSplitBlockSize {
        id: "prp.split_block_size",
        section: PRP,
        summary: "a split cuts at whole blocks: the block size is a non-zero multiple of 4, at \
            most the maximum transfer",
        text: "Splitting a transfer into several commands cuts it between logical blocks, \
            because each command reads or writes whole blocks. Every cut is where the next \
            command's PRP1 starts, and PRP1 must be dword aligned, so the block size must be a \
            non-zero multiple of 4 bytes; and every command carries at least one block, so the \
            block size cannot exceed the maximum transfer size.",
    }
    /// A command moves whole logical blocks.
    PrpWholeBlocks {
        id: "prp.whole_blocks",
        section: NLB,
        summary: "a command moves whole logical blocks",
        text: "A Read or Write command counts its transfer in logical blocks (the NLB field, a \
            0's based count), so the data one command moves is always a whole number of blocks \
            of the namespace's format. A request whose length is not a multiple of the block \
            size cannot become such commands: pad it to the next block, or move the whole \
            block and keep the part that is wanted.",
    }
    /// A command boundary forced by a PRP rule falls between blocks.
    PrpSplitOnBlockBoundary {
        id: "prp.split_on_block_boundary",
        section: PRP,
        summary: "where a PRP rule forces a new command, the cut falls between logical blocks",
        text: "Where a scatter list breaks a PRP rule (a middle piece that ends inside a page, \
            or a later piece that starts inside one), one command cannot carry the pieces on \
            both sides, so a split must start a new command exactly there. Commands move whole \
            logical blocks, so that place must also be a block boundary. When it is not, no \
            sequence of PRP commands carries the buffers as they are: copy through a bounce \
            buffer, or use an SGL, which has no page rules.",
    }
    /// An SGL data pointer describes at least one byte.
    SglNonempty {
        id: "sgl.nonempty",
        section: SGL,
        summary: "an SGL data pointer describes at least one byte",
        text: "An SGL describes the buffers of a data transfer; with no transfer there is \
            nothing to describe, and a command that moves no data leaves its data pointer \
            unused. An SGL of zero bytes is a mistake in the caller, not a command.",
    }
    /// SGLs only with a controller that supports them.
    SglSupported {
        id: "sgl.supported",
        section: SGLS,
        summary: "SGLs are used only with a controller that reports SGL support",
        text: "SGLs are optional for an NVMe over PCIe controller. The SGL Support field (SGLS) \
            of Identify Controller says whether it accepts SGLs at all (bits 1:0), and \
            separately whether it accepts an SGL for the metadata behind MPTR (PSDT 10b). A \
            command whose PSDT asks for an SGL the controller does not support is aborted with \
            Invalid Field in Command; a host reads SGLS first and uses PRPs otherwise.",
    }
    /// Every SGL descriptor type used is one the controller supports.
    SglCapability {
        id: "sgl.capability",
        section: SGLS,
        summary: "every descriptor type used is one the controller reports in SGLS",
        text: "Beyond plain Data Block descriptors, SGL features are optional: Bit Bucket \
            descriptors, Keyed SGL Data Blocks, addresses given as offsets, Transport SGL Data \
            Blocks. SGLS in Identify Controller lists the ones a controller supports, and it \
            refuses a descriptor of a type it does not support with SGL Descriptor Type Invalid. \
            A PCIe controller moves data only to and from host memory, so the descriptors that \
            only NVMe over Fabrics transports carry are refused there too.",
    }
    /// A bit bucket only in a read.
    SglBitBucketInReadOnly {
        id: "sgl.bit_bucket_in_read_only",
        section: SGL,
        summary: "a bit bucket has an effect only in a read; in a write it counts as 0 bytes, and \
            the builder refuses it",
        text: "A Bit Bucket descriptor tells the controller to drop part of the source data \
            instead of storing it at the destination: in a read, bytes from the media that the \
            host does not want in memory. In a write the source is host memory, and there the \
            specification treats a bit bucket as if its length were 0, so the host's count of \
            the transfer and the controller's would disagree. The builder refuses it instead of \
            letting the lengths differ silently.",
    }
    /// No SGL data block runs past the end of the 64-bit address space.
    SglAddressSpace {
        id: "sgl.address_space",
        section: SGL,
        summary: "no data block runs past the end of the 64-bit address space",
        text: "A Data Block's address plus its length must not pass 2^64; a controller treats \
            such a descriptor as a Data SGL Length Invalid (or Metadata SGL Length Invalid) \
            error. A piece like that is always a mistake in its address or its length.",
    }
    /// Dword-granular SGL support means dword-aligned data blocks.
    SglDwordGranularity {
        id: "sgl.dword_granularity",
        section: SGL,
        summary: "with dword-granular SGL support (SGLS bits 1:0 = 10b) data block addresses and \
            lengths are multiples of 4",
        text: "SGLS bits 1:0 say whether a controller accepts Data Blocks at any byte address \
            and length (01b) or only dword aligned and dword granular ones (10b). In the second \
            case the address and the length of every Data Block must have bits 1:0 clear, and \
            the controller may refuse the command with SGL Data Block Granularity Invalid. \
            Physically adjacent pieces become one Data Block, so only where each run of memory \
            starts and ends matters.",
    }
    /// An offset-addressed data block lies inside the in-capsule data.
    SglCapsule {
        id: "sgl.capsule",
        section: SGL,
        summary: "an offset-addressed data block lies inside the command capsule's data",
        text: "Over NVMe over Fabrics a command capsule can carry data right behind the \
            command, and a Data Block with the Offset sub type addresses that in-capsule data \
            by its offset instead of a memory address. Its offset plus its length must stay \
            within the data the capsule carries, or the controller answers SGL Offset Invalid. \
            NVMe over PCIe has no capsules, and the Offset sub type is reserved there.",
    }
    /// An SGL command moves at most MDTS bytes.
    SglMaxTransfer {
        id: "sgl.max_transfer",
        section: MDTS,
        summary: MAX_TRANSFER_SUMMARY,
        text: MAX_TRANSFER_TEXT,
    }
    /// The SGL describes at least the whole transfer.
    SglCoversTransfer {
        id: "sgl.covers_transfer",
        section: SGL,
        summary: "the SGL describes at least the whole transfer",
        text: "The SGL length (the sum of the lengths of its Data Block and Bit Bucket \
            descriptors) must be at least the number of bytes the command transfers, which the \
            command states elsewhere (the NLB field of a Read or Write, for instance). If the \
            SGL is shorter, the controller transfers nothing outside what it describes and \
            aborts the command with Data SGL Length Invalid (Metadata SGL Length Invalid for a \
            metadata SGL).",
    }
    /// An SGL longer than the transfer needs LLDTS.
    SglLongerThanTransfer {
        id: "sgl.longer_than_transfer",
        section: SGL,
        summary: "an SGL longer than the transfer needs LLDTS (SGLS bit 18)",
        text: "An SGL may describe more bytes than the command transfers only on a controller \
            that says it accepts that, with the LLDTS bit (bit 18) of SGLS. Without it a \
            controller may abort such a command with Data SGL Length Invalid (Metadata SGL \
            Length Invalid for metadata), so a host that wants its commands to work everywhere \
            trims the SGL to the transfer length.",
    }
    /// At most MSDBD data block descriptors per command.
    SglMsdbd {
        id: "sgl.msdbd",
        section: MSDBD,
        summary: "a command carries at most MSDBD data block descriptors",
        text: "MSDBD in Identify Controller is the most SGL Data Block descriptors one command \
            may use, 0 meaning no limit. It matters most over NVMe over Fabrics, where the \
            descriptors travel inside the command capsule. A command that uses more is refused \
            with Invalid Number of SGL Descriptors: split the request, or gather scattered \
            pieces into fewer buffers.",
    }
    /// SGL1 in the command holds exactly one descriptor.
    SglInlineOneDescriptor {
        id: "sgl.inline_one_descriptor",
        section: SGL1,
        summary: "SGL1 in the command holds exactly one descriptor",
        text: "The command's data pointer holds one 16-byte descriptor, SGL1. When one Data \
            Block describes the whole transfer, SGL1 is that Data Block and no segment memory \
            is needed; otherwise SGL1 is a Segment or Last Segment descriptor that points to \
            segments in host memory. A Data Block's length field is 32 bits (24 for a Keyed \
            SGL Data Block), so a piece of 4 GiB or more needs several descriptors, and so \
            segment memory.",
    }
    /// The segment memory holds every descriptor of the chain.
    SglSegmentMemory {
        id: "sgl.segment_memory",
        section: SGL,
        summary: "the segments hold every descriptor; a segment that continues gives its last \
            slot to the pointer onward",
        text: "Descriptors that do not fit in SGL1 live in SGL segments: arrays of 16-byte \
            descriptors in host memory. A segment that continues spends its last slot on the \
            Segment or Last Segment descriptor that points to the next one, so a chain needs \
            more slots than it has data descriptors. The host supplies the segment memory for \
            the whole chain before it submits the command.",
    }
    /// A segment that continues holds data and the pointer onward.
    SglSegmentSize {
        id: "sgl.segment_size",
        section: SGL,
        summary: "a segment that continues holds a data descriptor and the pointer onward",
        text: "Only the last descriptor of a segment may point to another segment. A segment \
            that continues must therefore have room for at least two descriptors: one that \
            describes data, and the pointer onward. A segment with one slot could only point \
            onward again, and the chain would describe nothing.",
    }
    /// SGL segments are qword aligned.
    SglSegmentAlignment {
        id: "sgl.segment_alignment",
        section: SGL,
        summary: "an SGL segment address is qword aligned",
        text: "An SGL segment is a qword aligned array of descriptors: the address in a Segment \
            or Last Segment descriptor must have bits 2:0 clear. A controller refuses a \
            misaligned segment with Invalid SGL Segment Descriptor. Aligning segments to 16 \
            bytes, the size of one descriptor, is the natural choice.",
    }
    /// No SGL segment runs past the end of the 64-bit address space.
    SglSegmentAddressSpace {
        id: "sgl.segment_address_space",
        section: SGL,
        summary: "a segment lies below the end of the 64-bit address space",
        text: "A segment's address plus its length must not pass 2^64; a controller treats \
            such a Segment or Last Segment descriptor as a Data SGL Length Invalid error. A \
            segment buffer there is a mistake in its bus address.",
    }
    /// MPTR is aligned as PSDT requires.
    SglMetadataAlignment {
        id: "sgl.metadata_alignment",
        section: MPTR,
        summary: "MPTR is dword aligned (qword for an SGL segment)",
        text: "When metadata is kept apart from the data, MPTR in the command points at it. \
            With PRPs (PSDT 00b) MPTR is the address of one contiguous buffer and must be dword \
            aligned; with PSDT 01b the alignment follows the controller's SGLS (bit 17 allows \
            byte alignment); with PSDT 10b MPTR points at an SGL segment holding exactly one \
            descriptor, and that segment must be qword aligned. A controller may refuse a \
            misaligned MPTR with Invalid Field in Command.",
    }
    /// Every SGL descriptor has a defined type and sub type.
    SglDescriptorType {
        id: "sgl.descriptor_type",
        section: SGL,
        summary: "every descriptor has a defined type and sub type",
        text: "Byte 15 of each descriptor names its type (bits 7:4) and sub type (bits 3:0). \
            Reserved types, reserved sub types and pairs the specification does not define (a \
            Bit Bucket with the Offset sub type, for example) are SGL Descriptor Type errors: \
            the controller aborts the command with SGL Descriptor Type Invalid rather than guess \
            what the host meant.",
    }
    /// Only a segment's last descriptor points onward; a last segment points nowhere.
    SglSegmentChain {
        id: "sgl.segment_chain",
        section: SGL,
        summary: "only a segment's last descriptor points onward, and the last segment points \
            nowhere",
        text: "Segments form a chain. Only the last descriptor of a segment may be a Segment \
            or Last Segment descriptor (elsewhere the controller answers Invalid Number of SGL \
            Descriptors). The segment a Last Segment descriptor points to is the last one and \
            holds no pointer at all (Invalid SGL Segment Descriptor otherwise), and the segment \
            a Segment descriptor points to is by definition not the last, so it ends with a \
            pointer onward. At every descriptor the controller knows whether more segments \
            follow.",
    }
    /// A segment pointer's length is a non-zero multiple of 16.
    SglSegmentLength {
        id: "sgl.segment_length",
        section: SGL,
        summary: "a segment pointer's length is a non-zero multiple of 16",
        text: "A Segment or Last Segment descriptor gives the length in bytes of the segment it \
            points to. A segment is an array of 16-byte descriptors, so that length must be a \
            non-zero multiple of 16; a controller refuses any other with Invalid SGL Segment \
            Descriptor.",
    }
    /// A controller bounds the SGL it walks for one command.
    SglWalkLimit {
        id: "sgl.walk_limit",
        section: SGL,
        summary: "a controller bounds the descriptors and segments it walks for one command",
        text: "An SGL is read from host memory, which the host controls: a chain of segments \
            could be made as long as memory, or circular. A controller therefore stops at a \
            limit of its own on descriptors and segments and aborts the command with Invalid \
            Number of SGL Descriptors rather than walk on. A layout that reaches the limit \
            needs fewer, larger pieces or several commands.",
    }
    /// PSDT 11b is reserved.
    DptrPsdtReserved {
        id: "dptr.psdt_reserved",
        section: PSDT,
        summary: "PSDT 11b is reserved",
        text: "Bits 15:14 of Command Dword 0, PSDT, say how to read the data pointer: 00b \
            PRPs; 01b an SGL, with MPTR the address of a contiguous metadata buffer; 10b an \
            SGL, with MPTR the address of an SGL segment. The value 11b is reserved, and a \
            controller aborts a command that uses it with Invalid Field in Command.",
    }
    /// Admin commands use PRPs.
    DptrAdminPrpsOnly {
        id: "dptr.admin_prps_only",
        section: PSDT,
        summary: "admin commands use PRPs (PSDT 00b)",
        text: "On NVMe over PCIe, SGLs are not used for admin commands: every admin command \
            describes its data with PRPs, PSDT 00b, which keeps the admin path (the one a host \
            uses before it has read Identify Controller) the same on every controller. A \
            controller aborts an admin command that asks for an SGL with Invalid Field in \
            Command. (NVMe over Fabrics is the opposite: every command there uses SGLs.)",
    }
    /// A command moves at most MDTS bytes, whatever its data pointer.
    DptrMaxTransfer {
        id: "dptr.max_transfer",
        section: MDTS,
        summary: MAX_TRANSFER_SUMMARY,
        text: MAX_TRANSFER_TEXT,
    }
    /// A split is several commands, each with its own data pointer.
    DptrSplitCommands {
        id: "dptr.split_commands",
        section: DPTR,
        summary: "a command has one data pointer: a split is filled one command at a time",
        text: "When no single data pointer can describe a request (PRPs would break a page rule \
            or MDTS, and no single SGL can carry it), the request becomes a split: several \
            commands, each moving part of the transfer. A command has exactly one DPTR, so a \
            split cannot be written into one command; each of its chunks is filled as a command \
            of its own, with its own data pointer: PRP1, PRP2 and a list, or SGL1 and segments.",
    }
    /// The caller's buffer holds every piece of a walk.
    DptrPieceRoom {
        id: "dptr.piece_room",
        section: TRANSFER_ERROR,
        summary: "the device's piece buffer holds every piece of the walk",
        text: "A controller turns a command's data pointer into pieces (runs of host memory, \
            or bytes to skip) before it moves any data, so that a command that cannot complete \
            moves nothing. The pieces go into a buffer the device model provides; when the walk \
            yields more pieces than that buffer holds, the command cannot be carried out as \
            planned and completes with Data Transfer Error. This is a limit of the device \
            model, not a fault in the host's command: give the walk a larger buffer.",
    }
    /// Every address a command names is reachable host memory.
    MemoryReachable {
        id: "memory.reachable",
        section: TRANSFER_ERROR,
        summary: "every address a command names is host memory the controller can reach",
        text: "PRP lists, SGL segments, data buffers and metadata buffers are all read or \
            written by DMA at addresses the host put in the command. If any of them is not \
            memory the controller can reach, the transfer cannot happen and the controller \
            completes the command with Data Transfer Error. The device side of this crate \
            checks every buffer before it moves the first byte, so a failed command leaves \
            memory as it was.",
    }
    /// A controller moves exactly the bytes the pieces describe.
    MemoryWithinPieces {
        id: "memory.within_pieces",
        section: LAYOUTS,
        summary: "a controller moves no more bytes than the data pointer describes",
        text: "The data pointer fixes where every byte of the transfer goes, and data is never \
            transferred to or from memory it does not describe. Moving more bytes than its \
            pieces account for would write past the host's buffers, so the mover refuses and \
            the command completes with Data Transfer Error. It means the device model's lengths \
            disagree with the command's, not that the host made a mistake.",
    }
}

impl Rule {
    /// Every rule, each once: for listing them (the command's documentation, a test that every
    /// id is unique).
    pub const fn all() -> &'static [Rule] {
        ALL
    }

    /// The rule with this [`id`](Rule::id), if there is one.
    pub fn from_id(id: &str) -> Option<Rule> {
        ALL.iter().copied().find(|rule| rule.id() == id)
    }
}

/// The id: what a log line or a script wants. [`Rule::text`] is the explanation.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests;
