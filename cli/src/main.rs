//! `nvme-dma`: NVMe data pointers drawn, explained and checked, on top of the `nvme-dma`
//! library.
//!
//! * `demo`: one scatter list as PRPs and as an SGL, both run on the mock controller and verified;
//! * `prp` / `sgl`: a layout for your extents as a diagram, JSON or SVG, or the rule they break
//!   with the fix;
//! * `decode`: every field of a submission entry, a completion entry or an SGL descriptor;
//! * `exec`: a scenario run on the library's mock controller, with completions, the DMA trace,
//!   its PCIe cost and digests of memory and namespaces, under any behaviour profile;
//! * `profiles`: the mock controller's behaviour profiles and the switches they are made of.
//!
//! Exit codes are in [`exit`]; `--help` lists them too.

mod args;
mod decode;
mod demo;
mod digest;
mod exec;
mod exec_text;
mod explain;
mod json;
mod mock_host;
mod parse;
mod profiles;
mod prp_text;
mod prp_view;
mod scenario;
mod scenario_build;
mod sgl_text;
mod sgl_view;
mod style;
mod svg;
mod text;
mod trace_view;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use nvme_dma::sgl::SglCaps;
use nvme_dma::spec::{SglSupport, Sgls};
use nvme_dma::Direction;

use crate::args::{Cli, Command, DecodeArgs, DirectionArg, ExecArgs, PrpArgs, SglArgs};
use crate::prp_view::{Outcome, PrpInput, PrpRequest};
use crate::sgl_view::{SglInput, SglRequest};
use crate::style::Style;

/// The exit codes (documented in `--help` and the README).
pub mod exit {
    /// Done: the layout is valid, the bytes are decoded, the demo verified its data, the
    /// scenario's expectations held.
    pub const OK: u8 = 0;
    /// The layout breaks a rule (the output says which and how to fix it), or an expectation
    /// of the scenario did not hold.
    pub const REFUSED: u8 = 1;
    /// Bad arguments, or a scenario that cannot be read or set up.
    pub const USAGE: u8 = 2;
    /// An output file could not be written.
    pub const IO: u8 = 3;
    /// The tool's own checks disagree (a bug).
    pub const INTERNAL: u8 = 4;
}

/// Why a command could not do its job.
#[derive(Debug)]
pub enum Failure {
    /// An argument is wrong: its name and what is wrong with it.
    Usage {
        /// The argument, as `--help` names it.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be written.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// The tool disagrees with itself.
    Internal(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Usage { .. } => exit::USAGE,
            Failure::Io { .. } => exit::IO,
            Failure::Internal(_) => exit::INTERNAL,
        }
    }

    fn line(&self) -> String {
        match self {
            Failure::Usage { arg, message } => format!("'{arg}': {message}"),
            Failure::Io { path, error } => {
                format!("cannot write '{}': {error}", path.display())
            }
            Failure::Internal(message) => format!("internal error: {message}"),
        }
    }
}

/// What a command prints, and its exit code.
struct Report {
    stdout: String,
    code: u8,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return ExitCode::from(usage_error(&err)),
    };
    let style = if cli.json {
        Style::plain()
    } else {
        Style::detect()
    };
    match run(&cli, &style) {
        Ok(report) => {
            let mut stdout = io::stdout().lock();
            match stdout
                .write_all(report.stdout.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::from(report.code),
                // A reader that stopped early (`| head`) is not a failure of ours.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(report.code),
                Err(e) => {
                    eprintln!("error: cannot write to standard output: {e}");
                    ExitCode::from(exit::IO)
                }
            }
        }
        Err(failure) => {
            eprintln!("error: {}", failure.line());
            ExitCode::from(failure.code())
        }
    }
}

/// Print clap's verdict on the arguments: help and version as clap shows them, errors as one
/// line that names the argument. Returns the exit code.
fn usage_error(err: &clap::Error) -> u8 {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            exit::OK
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            exit::USAGE
        }
        _ => {
            eprintln!("error: {}", one_line(&err.render().to_string()));
            exit::USAGE
        }
    }
}

/// Clap's error text without its usage block, on one line; a tip goes in parentheses.
fn one_line(rendered: &str) -> String {
    let mut text = String::new();
    for line in rendered.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        if line.starts_with("tip:") {
            text.push_str(&format!(" ({line})"));
        } else {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(line.strip_prefix("error: ").unwrap_or(line));
        }
    }
    text
}

fn run(cli: &Cli, style: &Style) -> Result<Report, Failure> {
    match &cli.command {
        Command::Demo(args) => demo(cli.json, args.svg.as_deref(), style),
        Command::Prp(args) => prp(cli.json, args, style),
        Command::Sgl(args) => sgl(cli.json, args, style),
        Command::Decode(args) => decode(cli.json, args, style),
        Command::Exec(args) => exec(cli.json, args, style),
        Command::Profiles => Ok(profiles(cli.json, style)),
    }
}

fn profiles(json: bool, style: &Style) -> Report {
    let report = profiles::report();
    let stdout = if json {
        json::document("profiles", true, &report)
    } else {
        profiles::text(&report, style)
    };
    Report {
        stdout,
        code: exit::OK,
    }
}

fn exec(json: bool, args: &ExecArgs, style: &Style) -> Result<Report, Failure> {
    let file = args.scenario.display().to_string();
    let usage = |e: scenario::ScenarioError| Failure::Usage {
        arg: file.clone(),
        message: e.to_string(),
    };
    let loaded = scenario::load(&args.scenario).map_err(usage)?;
    let mut setup = scenario_build::build(&loaded).map_err(usage)?;
    if let Some(profile) = args.profile {
        setup.config.profile = profile;
    }
    let link = nvme_dma::controller::PcieLink::new(
        args.max_payload.unwrap_or(setup.link.max_payload),
        args.max_read_request.unwrap_or(setup.link.max_read_request),
        setup.link.read_completion_boundary,
    )
    .map(|l| nvme_dma::controller::PcieLink {
        tlp_overhead: setup.link.tlp_overhead,
        ..l
    })
    .ok_or_else(|| Failure::Usage {
        arg: "--max-payload/--max-read-request".into(),
        message: "PCIe allows powers of two from 128 to 4096".into(),
    })?;
    let info = exec::ScenarioInfo {
        file: file.clone(),
        name: loaded.name.clone(),
        description: loaded.description.clone(),
    };
    let report = exec::run(&setup, info, &link).map_err(usage)?;
    let ok = report.expectations.failed == 0;
    let stdout = if json {
        json::document("exec", ok, &report)
    } else {
        exec_text::text(&report, style)
    };
    let code = if ok { exit::OK } else { exit::REFUSED };
    Ok(Report { stdout, code })
}

fn demo(json: bool, svg_path: Option<&Path>, style: &Style) -> Result<Report, Failure> {
    let tour = demo::run()?;
    let verified = tour.verification.iter().all(|v| v.verified)
        && tour.verification.len() == 2
        && tour.prp.walk.matches_input
        && tour.sgl.walk.matches_input;
    if let Some(path) = svg_path {
        let (prp_req, sgl_req) = demo::requests();
        let mut picture = svg::Svg::new();
        picture.prp(&tour.prp, &prp_req.extents, "The scatter list as PRPs");
        picture.sgl(
            &tour.sgl,
            sgl_req.page_size,
            "The same scatter list as an SGL",
        );
        write_file(path, &picture.finish("nvme-dma demo: PRP and SGL layouts"))?;
    }
    let stdout = if json {
        json::document("demo", verified, &tour)
    } else {
        demo::text(&tour, style)
    };
    let code = if verified { exit::OK } else { exit::INTERNAL };
    Ok(Report { stdout, code })
}

fn prp(json: bool, args: &PrpArgs, style: &Style) -> Result<Report, Failure> {
    let req = PrpRequest {
        extents: args.extents.clone(),
        page_size: args.common.page_size,
        max_transfer: args.common.max_transfer,
        lists: args.lists.clone(),
        block_size: args.block_size,
        allow_overlap: args.common.allow_overlap,
    };
    let shown = Shown {
        command: "prp",
        json,
        svg: args.common.svg.as_deref(),
    };
    shown.layout(
        &PrpInput::from(&req),
        prp_view::lay_out(&req)?,
        |view| &view.walk,
        |view, picture| {
            let title = format!(
                "PRP layout: {} extent(s), {:#x} bytes, {} pages",
                req.extents.len(),
                view.length,
                req.page_size
            );
            picture.prp(view, &req.extents, &title);
            title
        },
        |view| prp_text::layout(&req, view, style),
        |refusal| prp_text::refused(&req, refusal, style),
    )
}

fn sgl_caps(args: &SglArgs) -> SglCaps {
    let mut sgls = Sgls::from_bits_retain(args.sgls);
    if args.dword {
        sgls = sgls.with_support(SglSupport::DwordAligned);
    }
    if args.no_bit_bucket {
        sgls.remove(Sgls::BIT_BUCKET);
    }
    if args.lldts {
        sgls.insert(Sgls::LLDTS);
    }
    if let Some(sdt) = args.sdt {
        sgls = sgls.with_sdt(sdt);
    }
    SglCaps::new(sgls).with_msdbd(args.msdbd)
}

fn sgl(json: bool, args: &SglArgs, style: &Style) -> Result<Report, Failure> {
    let req = SglRequest {
        pieces: args.pieces.clone(),
        direction: match args.direction {
            DirectionArg::Read => Direction::Read,
            DirectionArg::Write => Direction::Write,
        },
        caps: sgl_caps(args),
        max_transfer: args.common.max_transfer,
        transfer_len: args.transfer_len,
        segments: args.segments.clone(),
        page_size: args.common.page_size,
        allow_overlap: args.common.allow_overlap,
    };
    let shown = Shown {
        command: "sgl",
        json,
        svg: args.common.svg.as_deref(),
    };
    shown.layout(
        &SglInput::from(&req),
        sgl_view::lay_out(&req)?,
        |view| &view.walk,
        |view, picture| {
            let title = format!(
                "SGL layout: a {}, {} piece(s), {:#x} bytes",
                sgl_view::direction_name(req.direction),
                req.pieces.len(),
                view.length
            );
            picture.sgl(view, req.page_size, &title);
            title
        },
        |view| sgl_text::layout(&req, view, style),
        |refusal| sgl_text::refused(&req, refusal, style),
    )
}

/// How a layout command shows its result.
struct Shown<'a> {
    command: &'static str,
    json: bool,
    svg: Option<&'a Path>,
}

impl Shown<'_> {
    /// The report for a built or refused layout: the picture (when asked for and built), then
    /// JSON or text. A layout the library built but its own walker reads back differently
    /// (descriptor memory given on the command line that overlaps itself) exits as refused.
    fn layout<V: serde::Serialize>(
        &self,
        input: &impl serde::Serialize,
        outcome: Outcome<V>,
        walk: impl Fn(&V) -> &prp_view::WalkCheck,
        draw: impl FnOnce(&V, &mut svg::Svg) -> String,
        text: impl FnOnce(&V) -> String,
        refused: impl FnOnce(&explain::Refusal) -> String,
    ) -> Result<Report, Failure> {
        let (ok, stdout) = match outcome {
            Outcome::Built(view) => {
                if let Some(path) = self.svg {
                    let mut picture = svg::Svg::new();
                    let title = draw(&view, &mut picture);
                    write_file(path, &picture.finish(&title))?;
                }
                let ok = walk(&view).matches_input;
                let stdout = if self.json {
                    let body = serde_json::json!({ "input": input, "layout": view });
                    json::document(self.command, ok, &body)
                } else {
                    text(&view)
                };
                (ok, stdout)
            }
            Outcome::Refused(refusal) => {
                let stdout = if self.json {
                    let body = serde_json::json!({ "input": input, "refusal": refusal });
                    json::document(self.command, false, &body)
                } else {
                    refused(&refusal)
                };
                (false, stdout)
            }
        };
        let code = if ok { exit::OK } else { exit::REFUSED };
        Ok(Report { stdout, code })
    }
}

fn decode(json: bool, args: &DecodeArgs, style: &Style) -> Result<Report, Failure> {
    let usage = |message: String| Failure::Usage {
        arg: "<HEX>...".into(),
        message,
    };
    let bytes = parse::hex_bytes(&args.hex).map_err(usage)?;
    let kind = match (bytes.len(), args.kind) {
        (64, None | Some(decode::Kind::Sqe)) => decode::Kind::Sqe,
        (16, Some(kind @ (decode::Kind::Cqe | decode::Kind::Sgl))) => kind,
        (16, None) => {
            return Err(Failure::Usage {
                arg: "--as".into(),
                message: "16 bytes are a completion entry or an SGL descriptor: say which with \
                          --as cqe or --as sgl"
                    .into(),
            })
        }
        (n, Some(kind)) => {
            let want = if kind == decode::Kind::Sqe { 64 } else { 16 };
            return Err(usage(format!(
                "{n} bytes given, but {} is {want} bytes",
                match kind {
                    decode::Kind::Sqe => "a submission entry",
                    decode::Kind::Cqe => "a completion entry",
                    decode::Kind::Sgl => "an SGL descriptor",
                }
            )));
        }
        (n, None) => {
            return Err(usage(format!(
                "{n} bytes given: a submission entry is 64 bytes, a completion entry or an SGL \
                 descriptor 16"
            )))
        }
    };
    let decoded = decode::decode(kind, &bytes)
        .ok_or_else(|| Failure::Internal("the byte count was checked but did not fit".into()))?;
    let stdout = if json {
        json::document("decode", true, &decoded)
    } else {
        decode::text(&decoded, style, text::output_width())
    };
    Ok(Report {
        stdout,
        code: exit::OK,
    })
}

fn write_file(path: &Path, contents: &str) -> Result<(), Failure> {
    std::fs::write(path, contents).map_err(|error| Failure::Io {
        path: path.to_path_buf(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn clap_errors_fold_to_one_line() {
        let rendered = "error: the following required arguments were not provided:\n  \
                        <ADDR+LEN>...\n\nUsage: nvme-dma prp <ADDR+LEN>...\n\nFor more \
                        information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "the following required arguments were not provided: <ADDR+LEN>..."
        );
        let rendered = "error: unexpected argument '--x' found\n\n  tip: to pass '--x' as a \
                        value, use '-- --x'\n\nUsage: nvme-dma prp\n";
        assert_eq!(
            one_line(rendered),
            "unexpected argument '--x' found (tip: to pass '--x' as a value, use '-- --x')"
        );
    }
}
