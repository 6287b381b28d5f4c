//! The walk contract's two forms held against each other, for any walker: what the iterator
//! hands out is what `fill` writes, and [`Walk::sole_piece`] promises only what `fill` would
//! give.

use core::fmt::Debug;

use nvme_dma::walk::{Progress, Walk};
use nvme_dma::Piece;

/// A walk collected through `fill` with room for `room` pieces a call: its pieces, or its
/// error.
pub fn fill_all<W: Walk>(mut walker: W, room: usize) -> Result<Vec<Piece>, W::Error> {
    let mut out = vec![Piece::Skip(0); room];
    let mut pieces = Vec::new();
    loop {
        let progress = walker.fill(&mut out)?;
        pieces.extend_from_slice(&out[..progress.written]);
        if progress.done {
            return Ok(pieces);
        }
    }
}

/// Check, on walkers made alike by `make`, that the iterator form yields exactly what `fill`
/// writes (the same pieces, or the same error, and nothing after), and that
/// [`Walk::sole_piece`] answers only for a walk that `fill` ends with that one piece, leaves
/// the walk over when it answers, and leaves it untouched when it does not. The walk's
/// outcome.
pub fn check_iterator_form<W, F>(make: F) -> Result<Vec<Piece>, W::Error>
where
    W: Walk,
    W::Error: PartialEq + Debug,
    F: Fn() -> W,
{
    let by_fill = fill_all(make(), 64);

    let mut pieces = make().pieces();
    let by_iter: Result<Vec<Piece>, W::Error> = pieces.by_ref().collect();
    assert_eq!(by_iter, by_fill, "the iterator and fill disagree");
    assert!(
        pieces.next().is_none(),
        "the iterator went on after its end"
    );

    // `fold` (behind `sum`, `for_each` and the like) hands out what `next` does, from the
    // start or from anywhere in the walk, the error included.
    let mut by_next = Vec::new();
    // A `for` loop calls `next`.
    for item in make().pieces() {
        by_next.push(item);
    }
    let push = |mut items: Vec<_>, item| {
        items.push(item);
        items
    };
    for skip in [0, 1, by_next.len().saturating_sub(1)] {
        let mut pieces = make().pieces();
        let mut items: Vec<_> = pieces.by_ref().take(skip).collect();
        items = pieces.fold(items, push);
        assert_eq!(
            items, by_next,
            "fold after {skip} items disagrees with next"
        );
    }

    let mut walker = make();
    match walker.sole_piece() {
        Some(piece) => {
            assert_eq!(by_fill.as_ref().ok(), Some(&vec![piece]), "sole_piece");
            assert_eq!(
                walker.fill(&mut [Piece::Skip(0); 4]),
                Ok(Progress::FINISHED),
                "a walk went on after sole_piece"
            );
        }
        None => assert_eq!(fill_all(walker, 64), by_fill, "sole_piece changed the walk"),
    }
    by_fill
}
