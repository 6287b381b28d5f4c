//! `exec`'s report as text: the set-up, each command with its completion, trace and cost, the
//! checks, the digests and the verdict.

use crate::exec::{
    CheckReport, CommandReport, CompletionJson, CstsReport, ExecReport, StepReport, TargetJson,
};
use crate::style::Style;
use crate::text::{self, Out, Row};
use crate::trace_view::{self, AccessJson, CostJson};

/// Trace rows shown before a long trace is elided, and after.
const TRACE_HEAD: u64 = 16;
const TRACE_TAIL: u64 = 4;

/// The report as text.
pub fn text(r: &ExecReport, style: &Style) -> String {
    let mut out = Out::default();
    let title = r.scenario.name.as_deref().unwrap_or("a scenario");
    out.line(style.heading(format!("nvme-dma exec: {title} ({})", r.scenario.file)));
    if let Some(d) = &r.scenario.description {
        out.line(format!("  {}", text::wrap(d, 92, "  ")));
    }
    setup(&mut out, r);
    for c in &r.commands {
        out.blank();
        command(&mut out, c, r.commands.len(), style);
    }
    if let Some(steps) = &r.steps {
        let count = steps.len() + r.not_run;
        for s in steps {
            out.blank();
            step(&mut out, s, count, style);
        }
        if r.not_run > 0 {
            out.blank();
            out.line(style.bad(format!(
                "{} steps were not run: the controller did not come back up",
                r.not_run
            )));
        }
    }
    if !r.checks.is_empty() {
        out.blank();
        out.line(style.heading("Checks"));
        for c in &r.checks {
            out.line(check(c, style));
        }
    }
    out.blank();
    out.line(style.heading("Digests (FNV-1a 64)"));
    for d in &r.digests {
        let value = match (&d.fnv1a64, &d.note) {
            (Some(v), _) => format!("{:#018x}", v.0),
            (None, Some(note)) => note.clone(),
            (None, None) => String::new(),
        };
        let expected = match &d.expected {
            Some(e) if d.ok => format!("  {} as expected", style.good("✓")),
            Some(e) => format!("  {} expected {:#018x}", style.bad("✗"), e.0),
            None => String::new(),
        };
        out.line(format!("  {:<36} {value}{expected}", target(&d.target)));
    }
    out.blank();
    out.line(format!(
        "{} {}",
        style.heading(if r.steps.is_some() {
            "All steps:"
        } else {
            "All commands:"
        }),
        trace_view::cost_text(&r.total)
    ));
    let t = r.expectations;
    let verdict = match (t.total, t.failed) {
        (0, _) => style.dim("Result: no expectations stated"),
        (n, 0) => style.good(format!("Result: all {n} expectations hold")),
        (n, f) => style.bad(format!("Result: {f} of {n} expectations failed")),
    };
    out.line(verdict);
    out.0
}

fn setup(out: &mut Out, r: &ExecReport) {
    let c = &r.controller;
    let mdts = c
        .max_transfer
        .map_or("no MDTS limit".to_string(), |n| format!("MDTS {n} bytes"));
    let cmb = c.cmb.as_ref().map_or(String::new(), |e| {
        format!(", CMB {:#x}+{:#x}", e.addr.0, e.len)
    });
    out.line(format!(
        "  Controller: {}-byte pages, {mdts}, SGLS {:#010x}, registers at {:#x}+{:#x}{cmb}",
        c.page_size, c.sgls.0, c.bar0.addr.0, c.bar0.len
    ));
    out.line(format!("  Profile: {}", c.profile));
    for ns in &c.namespaces {
        let metadata = match (ns.metadata_size, ns.extended) {
            (0, _) => String::new(),
            (m, true) => format!(", {m} metadata bytes inside each block (extended)"),
            (m, false) => format!(", {m} metadata bytes per block in a separate buffer"),
        };
        out.line(format!(
            "  Namespace {}: {} blocks of {} bytes{metadata}",
            ns.nsid, ns.blocks, ns.lba_size
        ));
    }
    out.line(format!("  Link: {}", trace_view::link_text(&r.link)));
}

fn command(out: &mut Out, c: &CommandReport, count: usize, style: &Style) {
    let name = c
        .name
        .as_deref()
        .map_or(String::new(), |n| format!(" · {n}"));
    let layout = c.layout.map_or(String::new(), |l| {
        format!(", data pointer laid out as {}", l.to_uppercase())
    });
    out.line(style.heading(format!(
        "Command {} of {count}{name}: {} on queue {}, CID {}{layout}",
        c.index + 1,
        opcode_words(c),
        c.queue,
        c.cid
    )));
    sqe_lines(out, &c.sqe, style);
    let expected = c.expect.as_ref().map(|e| e.status.clone());
    let mark = match (&c.expect, c.ok) {
        (None, _) => "•".to_string(),
        (Some(_), true) => style.good("✓"),
        (Some(_), false) => style.bad("✗"),
    };
    match &c.completion {
        Some(done) => {
            let against = expected.map_or(String::new(), |e| format!("  (expected {e})"));
            out.line(format!(
                "  {mark} {}  SQ head {}, DW0 {:#x}{against}",
                done.status.text, done.sq_head, done.dw0
            ));
        }
        None => out.line(format!("  {mark} no completion was posted")),
    }
    for f in &c.failures {
        out.line(format!("    {}", style.bad(f)));
    }
    for other in &c.other_completions {
        out.line(format!(
            "    also posted: CID {} on SQ {}: {}",
            other.cid, other.sqid, other.status.text
        ));
    }
    for e in &c.events {
        out.line(format!("    controller event: {e}"));
    }
    out.line("  DMA trace:");
    for row in text::elide(c.trace.len() as u64, TRACE_HEAD, TRACE_TAIL) {
        match row {
            Row::Item(i) => {
                if let Some(a) = c.trace.get(i as usize) {
                    out.line(format!("    {}", access(a)));
                }
            }
            Row::Gap(n) => out.line(style.dim(format!("    ... {n} more accesses ..."))),
        }
    }
    out.line(format!("  Cost: {}", cost(&c.cost)));
}

/// The 64 bytes of a submission entry, 16 to a line.
fn sqe_lines(out: &mut Out, sqe: &str, style: &Style) {
    for (i, row) in sqe.as_bytes().chunks(32).enumerate() {
        let pairs: Vec<&str> = row
            .chunks(2)
            .map(|p| std::str::from_utf8(p).unwrap_or("??"))
            .collect();
        let label = if i == 0 { "SQE" } else { "" };
        out.line(format!("  {label:<4} {}", style.dim(pairs.join(" "))));
    }
}

/// The opcode by name, or in hex when it has none.
fn opcode_words(c: &CommandReport) -> String {
    match c.opcode_name {
        Some(name) => name.to_string(),
        None => format!("opcode {:#04x}", c.opcode),
    }
}

fn access(a: &AccessJson) -> String {
    let target = match a.target {
        "cmb" => "  in the CMB (no link traffic)",
        "refused" => "  refused: moved nothing",
        _ => "",
    };
    format!(
        "{:<20} {:>#14x} {:>7} B{target}",
        a.purpose_name, a.addr.0, a.len
    )
}

fn cost(c: &CostJson) -> String {
    format!(
        "{}; {} data bytes; {}",
        trace_view::descriptors_text(c),
        c.data_bytes,
        trace_view::cost_text(c)
    )
}

fn target(t: &TargetJson) -> String {
    match *t {
        TargetJson::Memory { addr, len } => format!("memory {:#x}+{len:#x}", addr.0),
        TargetJson::Namespace { nsid, slba, nlb } => {
            format!("namespace {nsid}, blocks {slba}+{nlb}")
        }
    }
}

fn check(c: &CheckReport, style: &Style) -> String {
    let mark = if c.ok {
        style.good("✓")
    } else {
        style.bad("✗")
    };
    let detail = c
        .detail
        .as_ref()
        .map_or(String::new(), |d| format!(": {}", style.bad(d)));
    format!("  {mark} {} holds {}{detail}", target(&c.target), c.wanted)
}

fn mark(expected: bool, ok: bool, style: &Style) -> String {
    match (expected, ok) {
        (false, _) => "•".to_string(),
        (true, true) => style.good("✓"),
        (true, false) => style.bad("✗"),
    }
}

fn completion_line(c: &CompletionJson) -> String {
    format!(
        "CID {} on SQ {}: {}  SQ head {}, DW0 {:#x}, phase {}",
        c.cid,
        c.sqid,
        c.status.text,
        c.sq_head,
        c.dw0,
        u8::from(c.phase)
    )
}

fn csts_words(c: &CstsReport) -> String {
    format!(
        "CSTS {:#x}: RDY {}, CFS {}, SHST {}",
        c.raw.0,
        u8::from(c.rdy),
        u8::from(c.cfs),
        c.shst
    )
}

/// One step of a scenario with `steps`.
fn step(out: &mut Out, s: &StepReport, count: usize, style: &Style) {
    let name = s
        .name
        .as_deref()
        .map_or(String::new(), |n| format!(" · {n}"));
    let queue = s.queue.unwrap_or_default();
    let opcode = || match (s.opcode_name, s.opcode) {
        (Some(n), _) => n.to_string(),
        (None, Some(op)) => format!("opcode {op:#04x}"),
        (None, None) => String::new(),
    };
    let doorbell = s.doorbell.map_or(String::new(), |d| {
        format!("{} doorbell {:#x} <- {}", d.register, d.offset.0, d.value)
    });
    let what = match s.kind {
        "command" => format!(
            "command {} on queue {queue}, CID {}",
            opcode(),
            s.cid.unwrap_or_default()
        ),
        "submit" => format!(
            "submit {} on queue {queue}, CID {}, into slot {:#x} (not rung)",
            opcode(),
            s.cid.unwrap_or_default(),
            s.slot.map_or(0, |h| h.0)
        ),
        "ring" => format!("ring queue {queue}: {doorbell}"),
        "doorbell" => format!("doorbell of queue {queue}: {doorbell}"),
        "reap" => format!(
            "reap queue {queue}: {} taken{}",
            s.completions.as_ref().map_or(0, Vec::len),
            if doorbell.is_empty() {
                ", CQ head doorbell not rung".to_string()
            } else {
                format!("; {doorbell}")
            }
        ),
        "write" | "read" => {
            let r = s.register.as_ref();
            let name = r
                .and_then(|r| r.name)
                .map_or(String::new(), |n| format!("{n} "));
            let (offset, value, bits) = r.map_or((0, 0, 32), |r| (r.offset.0, r.value.0, r.bits));
            let verb = if s.kind == "read" { "->" } else { "<-" };
            format!(
                "{} {name}at {offset:#x} ({bits} bits) {verb} {value:#x}",
                s.kind
            )
        }
        "reset" if s.enable == Some(true) => {
            "reset: CC.EN = 0, then back up with the queues created again".to_string()
        }
        "reset" => "reset: CC.EN = 0".to_string(),
        "shutdown" if s.shutdown == Some("abrupt") => "shutdown: CC.SHN = 10b (abrupt)".to_string(),
        "shutdown" => "shutdown: CC.SHN = 01b (normal)".to_string(),
        other => other.to_string(),
    };
    out.line(style.heading(format!("Step {} of {count}{name}: {what}", s.index + 1)));
    if let Some(sqe) = &s.sqe {
        sqe_lines(out, sqe, style);
    }
    let expected = s.expect.is_some();
    match s.kind {
        "command" => match s.completion.as_ref().and_then(Option::as_ref) {
            Some(c) => out.line(format!(
                "  {} {}  SQ head {}, DW0 {:#x}",
                mark(expected, s.ok, style),
                c.status.text,
                c.sq_head,
                c.dw0
            )),
            None => out.line(format!(
                "  {} no completion was posted",
                mark(expected, s.ok, style)
            )),
        },
        "reap" => {
            let taken = s.completions.as_deref().unwrap_or_default();
            if taken.is_empty() {
                out.line(format!(
                    "  {} no completion waiting",
                    mark(expected, s.ok, style)
                ));
            }
            for c in taken {
                out.line(format!(
                    "  {} {}",
                    mark(expected, s.ok, style),
                    completion_line(c)
                ));
            }
        }
        "read" if expected => out.line(format!("  {} as expected", mark(true, s.ok, style))),
        "reset" | "shutdown" => {
            let when = if s.kind == "reset" {
                "right after CC.EN = 0"
            } else {
                "right after"
            };
            if let Some(c) = &s.csts {
                out.line(format!(
                    "  {} {} {when}",
                    mark(expected, s.ok, style),
                    csts_words(c)
                ));
            }
        }
        _ => {}
    }
    for f in &s.failures {
        out.line(format!("    {}", style.bad(f)));
    }
    for other in &s.other_completions {
        out.line(format!("    also taken: {}", completion_line(other)));
    }
    for e in &s.events {
        out.line(format!("    controller event: {e}"));
    }
    if !s.trace.is_empty() {
        out.line("  DMA trace:");
        for row in text::elide(s.trace.len() as u64, TRACE_HEAD, TRACE_TAIL) {
            match row {
                Row::Item(i) => {
                    if let Some(a) = s.trace.get(i as usize) {
                        out.line(format!("    {}", access(a)));
                    }
                }
                Row::Gap(n) => out.line(style.dim(format!("    ... {n} more accesses ..."))),
            }
        }
        out.line(format!("  Cost: {}", cost(&s.cost)));
    }
}
