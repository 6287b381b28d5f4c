//! The contract every device-side walker keeps, written once: [`Walk::fill`], the
//! [`Progress`] it reports, what a walk does after an error, the iterator form ([`Pieces`]),
//! and [`WalkSummary`].
//!
//! A walker ([`PrpWalker`](crate::prp::PrpWalker), [`SglWalker`](crate::sgl::SglWalker),
//! [`DptrWalker`](crate::dptr::DptrWalker)) is a few cache lines of plain state: where it is in
//! the data pointer, and the piece it is merging. It reads descriptors from memory in batches
//! into a buffer on the stack of the call that uses them, so that making one costs a few
//! stores, moving one copies a few cache lines, and an emulator can keep one per command in
//! flight.
//!
//! # The contract
//!
//! * `fill(out)` writes the next pieces of the transfer to the front of `out`, in order,
//!   physically adjacent pieces merged ([`Piece::try_merge`]), and says how many
//!   ([`Progress::written`]) and whether the walk is over ([`Progress::done`]). The call that
//!   writes the last piece says so: a walk whose pieces all fit `out` takes one call. A call
//!   that is not the last writes at least one piece, so a loop of calls always ends.
//! * A call reads no more descriptors than `out` has room for pieces (each ends at most one),
//!   so that nothing read is carried to the next call; give `out` room for 64 pieces or more
//!   and the walkers read in their full batches.
//! * When a rule is broken, `fill` returns the error at once, with the NVMe status to complete
//!   the command with. What it wrote to `out` in that call is not counted: the command fails,
//!   and no data may move for it. Every call after an error, or after the walk is over,
//!   writes nothing and reports `done`.
//! * An empty `out` is left alone: nothing is read, and the walk does not advance.
//! * Move no data until the walk is over without an error: a controller must not move data
//!   for a command whose data pointer is invalid, and reading each descriptor once, while
//!   collecting the pieces, is what keeps a guest from changing them between a validating
//!   walk and a transferring one.

use crate::piece::Piece;

/// Pieces the iterator form ([`Pieces`]) asks a walker for at a time.
const LOOKAHEAD: usize = 16;

/// What one call to [`Walk::fill`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Pieces written to the front of `out`.
    pub written: usize,
    /// The walk is over: every piece has been written, and later calls write nothing.
    pub done: bool,
}

impl Progress {
    /// The walk is over and this call wrote nothing.
    pub const FINISHED: Progress = Progress {
        written: 0,
        done: true,
    };
}

/// What a successful walk described, from [`Walk::validate`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkSummary {
    /// Pieces after merging.
    pub pieces: u64,
    /// Bytes of the transfer the pieces account for (data and skips).
    pub bytes: u64,
}

/// A device-side walk of a data pointer into the pieces of its transfer; see the
/// [module docs](self) for the contract.
pub trait Walk {
    /// Why a walk stopped: a rule broken, with its NVMe status.
    type Error: Copy;

    /// Write the next pieces to the front of `out`; see the [module docs](self).
    fn fill(&mut self, out: &mut [Piece]) -> Result<Progress, Self::Error>;

    /// Walk to the end without keeping the pieces: `Ok` means the data pointer is valid for
    /// the transfer.
    fn validate(mut self) -> Result<WalkSummary, Self::Error>
    where
        Self: Sized,
    {
        let mut out = [Piece::Skip(0); LOOKAHEAD];
        let mut summary = WalkSummary::default();
        loop {
            let progress = self.fill(&mut out)?;
            for piece in out.get(..progress.written).unwrap_or_default() {
                summary.pieces = summary.pieces.saturating_add(1);
                summary.bytes = summary.bytes.saturating_add(piece.len());
            }
            if progress.done {
                return Ok(summary);
            }
        }
    }

    /// The whole transfer as one piece, when the command alone says so and the walk has not
    /// begun: a valid SGL1 that is a Data Block of exactly the transfer, or PRP1 alone. The
    /// walk is then over, as after a `fill` that wrote that piece. `None` (the default, and
    /// the answer for anything that needs a rule checked beyond that) leaves the walk as it
    /// was. It is what lets [`Pieces`] hand out the commonest command's one piece without
    /// making its look-ahead.
    fn sole_piece(&mut self) -> Option<Piece> {
        None
    }

    /// The walk as an iterator over `Result<Piece, Error>`: it yields the pieces, then, if a
    /// rule is broken, the error in place of the pieces not yet handed out, and then nothing.
    fn pieces(self) -> Pieces<Self>
    where
        Self: Sized,
    {
        Pieces {
            walk: self,
            ahead: None,
            pos: 0,
            len: 0,
            done: false,
        }
    }
}

impl<W: Walk + ?Sized> Walk for &mut W {
    type Error = W::Error;

    #[inline]
    fn fill(&mut self, out: &mut [Piece]) -> Result<Progress, Self::Error> {
        (**self).fill(out)
    }

    #[inline]
    fn sole_piece(&mut self) -> Option<Piece> {
        (**self).sole_piece()
    }
}

/// The iterator form of any walk ([`Walk::pieces`]): it asks the walk for up to 16 pieces at
/// a time and hands them out one by one, or, for a transfer the command alone describes as one
/// piece ([`Walk::sole_piece`]), hands that out with no look-ahead at all. Consuming adapters
/// (`sum`, `for_each`, `fold`) take each look-ahead in one loop, a little faster than `next`
/// per piece; [`Walk::fill`] with a buffer of its own is the fastest form, for a caller that
/// builds an I/O vector.
#[derive(Debug)]
pub struct Pieces<W> {
    walk: W,
    /// Made at the first refill: a walk of one piece (one buffer, the commonest command)
    /// never pays for writing 16 pieces' worth of look-ahead.
    ahead: Option<[Piece; LOOKAHEAD]>,
    /// The next piece to hand out, and the end of those in `ahead`.
    pos: usize,
    len: usize,
    /// The walk has reported `done`, or an error was handed out.
    done: bool,
}

impl<W: Walk> Iterator for Pieces<W> {
    type Item = Result<Piece, W::Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.len {
            if self.done {
                return None;
            }
            if self.ahead.is_none() {
                if let Some(piece) = self.walk.sole_piece() {
                    self.done = true;
                    return Some(Ok(piece));
                }
            }
            match self.refill() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
        let piece = self.ahead.as_ref().and_then(|ahead| ahead.get(self.pos));
        self.pos = self.pos.wrapping_add(1);
        piece.copied().map(Ok)
    }

    // `sum`, `count`, `for_each` and the other adapters that consume the whole walk come here:
    // each refill's pieces go to `f` in a plain loop over the look-ahead, without `next`'s
    // checks per piece.
    #[inline]
    fn fold<B, F>(mut self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        let mut acc = init;
        loop {
            if let Some(ahead) = &self.ahead {
                let ready = ahead.get(self.pos..self.len).unwrap_or_default();
                for piece in ready {
                    acc = f(acc, Ok(*piece));
                }
                self.pos = self.len;
            }
            match self.next() {
                Some(item) => acc = f(acc, item),
                None => return acc,
            }
        }
    }
}

impl<W: Walk> Pieces<W> {
    /// The look-ahead is used up: ask the walk for more; whether it holds pieces again.
    #[inline(never)]
    fn refill(&mut self) -> Result<bool, W::Error> {
        // Lazily: an eager argument would build a fresh look-ahead on every refill.
        #[allow(clippy::unnecessary_lazy_evaluations)]
        let ahead = self
            .ahead
            .get_or_insert_with(|| [Piece::Skip(0); LOOKAHEAD]);
        match self.walk.fill(ahead) {
            Ok(progress) => {
                (self.pos, self.len, self.done) = (0, progress.written, progress.done);
                Ok(progress.written != 0)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }
}
