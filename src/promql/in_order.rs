//! Work split into numbered parts, computed on worker threads and handed on in
//! part order on the calling thread while later parts are being computed.
//!
//! A range function's series are computed on all cores, but what consumes them
//! (an aggregation adding them up) must see them in series order, so that sums
//! add in the same order as step by step. Computing a batch on all cores and
//! then consuming it leaves the cores idle while the caller consumes; here the
//! caller consumes part `i` while the workers compute the parts after it. The
//! workers stay at most a fixed number of parts ahead, so that the results
//! waiting to be consumed stay few.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, mpsc};

use super::error::{PromqlError, Result};

/// How far the workers' claims have got, shared by them and the caller.
struct Progress {
    /// The next part to claim.
    next: usize,
    /// The parts handed to the caller's consumer so far.
    taken: usize,
    /// The caller stopped (done or failed): claim nothing more.
    stop: bool,
}

fn lock(m: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Computes parts `0..parts` with `work` on `workers` threads and passes each
/// result to `take` on the calling thread, in part order, while at most
/// `ahead` parts past the one being taken are computed. The first error (from
/// `work` or `take`) ends the whole and is returned; parts not claimed yet are
/// then not computed.
pub(crate) fn in_order<T: Send>(
    parts: usize,
    workers: usize,
    ahead: usize,
    work: impl Fn(usize) -> Result<T> + Sync,
    mut take: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    if workers <= 1 || parts <= 1 {
        for i in 0..parts {
            take(work(i)?)?;
        }
        return Ok(());
    }
    let ahead = ahead.max(1);
    let progress = Mutex::new(Progress {
        next: 0,
        taken: 0,
        stop: false,
    });
    let moved = Condvar::new();
    let (tx, rx) = mpsc::channel::<(usize, Result<T>)>();
    std::thread::scope(|scope| {
        for _ in 0..workers.min(parts) {
            let tx = tx.clone();
            let (progress, moved, work) = (&progress, &moved, &work);
            scope.spawn(move || {
                loop {
                    let i = {
                        let mut p = lock(progress);
                        while !p.stop && p.next < parts && p.next >= p.taken + ahead {
                            p = moved.wait(p).unwrap_or_else(PoisonError::into_inner);
                        }
                        if p.stop || p.next >= parts {
                            return;
                        }
                        p.next += 1;
                        p.next - 1
                    };
                    // A panic becomes the part's error, so that the caller
                    // is not left waiting for the part.
                    let r = catch_unwind(AssertUnwindSafe(|| work(i))).unwrap_or_else(|_| {
                        Err(PromqlError::execution("a query worker thread panicked"))
                    });
                    if tx.send((i, r)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut consume = || -> Result<()> {
            let mut pending: BTreeMap<usize, Result<T>> = BTreeMap::new();
            let mut want = 0;
            while want < parts {
                let Ok((i, r)) = rx.recv() else {
                    return Err(PromqlError::execution("query workers stopped early"));
                };
                pending.insert(i, r);
                while let Some(r) = pending.remove(&want) {
                    take(r?)?;
                    want += 1;
                    lock(&progress).taken = want;
                    moved.notify_all();
                }
            }
            Ok(())
        };
        let result = consume();
        lock(&progress).stop = true;
        moved.notify_all();
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_taken_in_part_order() {
        for workers in [1, 2, 3, 8] {
            for ahead in [1, 2, 5] {
                let mut got = Vec::new();
                in_order(
                    50,
                    workers,
                    ahead,
                    |i| {
                        // Uneven work, so that parts finish out of order.
                        std::thread::sleep(std::time::Duration::from_micros(
                            ((i * 37) % 7) as u64 * 50,
                        ));
                        Ok(i * 10)
                    },
                    |v| {
                        got.push(v);
                        Ok(())
                    },
                )
                .expect("in order");
                assert_eq!(got, (0..50).map(|i| i * 10).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn the_first_error_stops_the_rest() {
        let mut taken = 0;
        let r = in_order(
            1000,
            2,
            3,
            |i| {
                if i == 5 {
                    Err(PromqlError::execution("part 5 failed"))
                } else {
                    Ok(i)
                }
            },
            |_| {
                taken += 1;
                Ok(())
            },
        );
        assert_eq!(r.map_err(|e| e.to_string().contains("part 5")), Err(true));
        assert_eq!(taken, 5);
        let r = in_order(1000, 2, 3, Ok, |i| {
            if i == 7 {
                Err(PromqlError::execution("taking 7 failed"))
            } else {
                Ok(())
            }
        });
        assert!(r.is_err());
    }

    #[test]
    fn a_panicking_worker_is_an_error() {
        let r = in_order(
            20,
            2,
            2,
            |i| {
                assert!(i != 3, "part 3 panics");
                Ok(i)
            },
            |_| Ok(()),
        );
        assert!(r.is_err());
    }
}
