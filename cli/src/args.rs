//! The command line: subcommands, their arguments and the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use nvme_dma::controller::Profile;
use nvme_dma::{Extent, PageSize, Piece};

use crate::decode;
use crate::parse::{self, Memory};

const AFTER_HELP: &str = "\
Numbers are decimal (4096, 4K, 2M) or hex (0x1000). Extents are ADDR+LEN.

Exit codes:
  0  done: the layout is valid, the bytes are decoded, the demo verified its data, every
     expectation of the scenario held
  1  the layout breaks a rule (the output says which rule, for which extent, why, and fixes),
     or an expectation of the scenario did not hold
  2  bad arguments, or a scenario that cannot be read or set up (a one-line error names the
     argument, or the scenario's field)
  3  an output file (--svg) could not be written
  4  internal error: the tool's checks disagree with each other (a bug; please report it)

Colour is used only when standard output is a terminal and NO_COLOR is not set. decode fits
its table to the terminal's width; into a pipe, to COLUMNS, or 100 columns without it.
--json output follows the versioned schema in docs/cli-json.md; scenarios for exec follow
docs/scenario.md.";

/// Draw, explain and check NVMe data pointers (PRPs and SGLs); decode NVMe entries.
#[derive(Debug, Parser)]
#[command(name = "nvme-dma", version, after_help = AFTER_HELP, arg_required_else_help = true)]
pub struct Cli {
    /// Print machine-readable JSON instead of text (schema: docs/cli-json.md).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// A guided tour: one scatter list as PRPs and as an SGL, both run on the mock controller and verified.
    Demo(DemoArgs),
    /// Lay extents out as PRP1, PRP2 and PRP list pages, or say which rule they break.
    Prp(PrpArgs),
    /// Lay pieces out as SGL1 and SGL segments, or say which rule they break.
    Sgl(SglArgs),
    /// Name every field of a submission entry (64 bytes), a completion entry or an SGL descriptor (16 bytes).
    Decode(DecodeArgs),
    /// Run a scenario file on the mock controller: completions, DMA trace, PCIe cost, digests.
    Exec(ExecArgs),
    /// List the mock controller's behaviour profiles and every switch: its kind, the rule it bends, the profiles that have it.
    Profiles,
}

/// `exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The scenario: a JSON file in the schema of docs/scenario.md (nvme-dma-scenario/1).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// PCIe Max Payload Size for the cost (overrides the scenario's link.max_payload).
    #[arg(long, value_name = "BYTES", value_parser = parse::number)]
    pub max_payload: Option<u64>,
    /// PCIe Max Read Request Size for the cost (overrides link.max_read_request).
    #[arg(long, value_name = "BYTES", value_parser = parse::number)]
    pub max_read_request: Option<u64>,
    /// The controller's behaviour profile (overrides controller.profile): strict, qemu, or
    /// either with +SWITCH / -SWITCH after it; `nvme-dma profiles` lists them.
    #[arg(long, value_name = "TEXT", value_parser = parse::profile)]
    pub profile: Option<Profile>,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Also draw both layouts as an SVG picture in FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

/// `prp`.
#[derive(Debug, Args)]
pub struct PrpArgs {
    /// The scatter list in transfer order, each extent ADDR+LEN (e.g. 0x10200+0xe00).
    #[arg(value_name = "ADDR+LEN", required = true, value_parser = parse::extent)]
    pub extents: Vec<Extent>,
    /// The controller and the picture.
    #[command(flatten)]
    pub common: LayoutArgs,
    /// PRP list memory in chain order, ADDR or ADDR+BYTES (repeat, or separate with commas):
    /// ADDR alone is the rest of its memory page, and a range reaching into further memory
    /// pages is one list page per memory page. The tool places it above the data if absent.
    #[arg(
        long = "list",
        value_name = "ADDR[+BYTES]",
        value_parser = parse::memory,
        value_delimiter = ','
    )]
    pub lists: Vec<Memory>,
    /// The logical block size, for the split a refused layout is offered.
    #[arg(long, value_name = "BYTES", default_value = "512", value_parser = parse::number)]
    pub block_size: u64,
}

/// What `prp` and `sgl` share: the controller's page size and MDTS, and the picture.
#[derive(Debug, Args)]
pub struct LayoutArgs {
    /// The memory page size, CC.MPS: a power of two from 4K to 128M.
    #[arg(long, value_name = "SIZE", default_value = "4K", value_parser = parse::page_size)]
    pub page_size: PageSize,
    /// The controller's maximum transfer size in bytes (MDTS); no limit if absent.
    #[arg(long, value_name = "BYTES", value_parser = parse::number)]
    pub max_transfer: Option<u64>,
    /// Also draw the layout as an SVG picture in FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Lay out list or segment memory that shares bytes with the data, with a warning, instead
    /// of refusing it (a read would overwrite the descriptors while the controller walks them).
    #[arg(long)]
    pub allow_overlap: bool,
}

/// Which way the data moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    /// Controller to host: the SGL is the destination, bit buckets discard bytes.
    Read,
    /// Host to controller: the SGL is the source.
    Write,
}

/// `sgl`.
#[derive(Debug, Args)]
pub struct SglArgs {
    /// The pieces in transfer order: ADDR+LEN for data, skip:LEN for bytes a read discards.
    #[arg(value_name = "PIECE", required = true, value_parser = parse::piece)]
    pub pieces: Vec<Piece>,
    /// Which way the data moves.
    #[arg(long, value_enum, default_value_t = DirectionArg::Read)]
    pub direction: DirectionArg,
    /// The controller's SGLS (Identify Controller bytes 539:536). The default, 0x10001, is
    /// byte-aligned SGLs with bit buckets.
    #[arg(long, value_name = "SGLS", default_value = "0x10001", value_parser = parse::dword)]
    pub sgls: u32,
    /// Dword-aligned, dword-granular SGL support: set SGLS bits 1:0 to 10b.
    #[arg(long)]
    pub dword: bool,
    /// No bit bucket support: clear SGLS bit 16.
    #[arg(long)]
    pub no_bit_bucket: bool,
    /// SGLs longer than the transfer are accepted: set SGLS bit 18 (LLDTS).
    #[arg(long)]
    pub lldts: bool,
    /// SDT, the controller's recommended most descriptors per command (SGLS bits 15:8).
    #[arg(long, value_name = "N", value_parser = parse::byte)]
    pub sdt: Option<u8>,
    /// MSDBD, the most data block descriptors per command (0 = no limit).
    #[arg(long, value_name = "N", default_value = "0", value_parser = parse::byte)]
    pub msdbd: u8,
    /// The bytes the command transfers, when not what the pieces describe.
    #[arg(long, value_name = "BYTES", value_parser = parse::number)]
    pub transfer_len: Option<u64>,
    /// Segment memory in chain order, ADDR or ADDR+BYTES (one memory page if +BYTES is
    /// absent; repeat, or separate with commas); the tool places it above the data if absent.
    #[arg(
        long = "segment",
        value_name = "ADDR[+BYTES]",
        value_parser = parse::memory,
        value_delimiter = ','
    )]
    pub segments: Vec<Memory>,
    /// The controller and the picture.
    #[command(flatten)]
    pub common: LayoutArgs,
}

/// `decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The bytes as they sit in memory, byte 0 first, in hex: 64 for a submission entry, 16
    /// for a completion entry or an SGL descriptor. Spaces, colons and dashes are ignored.
    #[arg(value_name = "HEX", required = true)]
    pub hex: Vec<String>,
    /// What the bytes are (needed for 16 bytes).
    #[arg(long = "as", value_enum, value_name = "KIND")]
    pub kind: Option<decode::Kind>,
}
