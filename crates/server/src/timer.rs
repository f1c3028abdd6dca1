//! A precise timer for the sessions' deadlines.
//!
//! tokio's timer wheel has 1 ms ticks, rounds every deadline up to the next
//! tick, and its driver parks in epoll with a timeout in whole milliseconds:
//! a phase change fired 0-2 ms after its deadline (median 1.3 ms at 1,000
//! live sessions, see BENCHMARKS.md, "Server at scale"). Here one thread keeps
//! the deadlines of every live session in a heap, sleeps until the earliest
//! (a futex wait with nanosecond resolution), and wakes that session's task.
//! If the thread cannot be started, [`sleep_until`] falls back to tokio's timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::Instant;

struct Entry {
    at: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Entry) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Entry) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Heap {
    entries: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Timer {
    heap: Mutex<Heap>,
    thread: Thread,
}

fn timer() -> Option<&'static Arc<Timer>> {
    static TIMER: OnceLock<Option<Arc<Timer>>> = OnceLock::new();
    TIMER
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel::<Arc<Timer>>();
            let handle = std::thread::Builder::new()
                .name("rollcoach-timer".into())
                .spawn(move || {
                    if let Ok(timer) = rx.recv() {
                        run(&timer);
                    }
                })
                .ok()?;
            let timer = Arc::new(Timer {
                heap: Mutex::new(Heap::default()),
                thread: handle.thread().clone(),
            });
            tx.send(timer.clone()).ok()?;
            Some(timer)
        })
        .as_ref()
}

/// The timer thread: wake every task whose deadline has come, sleep until the next.
fn run(timer: &Timer) {
    let mut due = Vec::new();
    loop {
        let next = {
            let Ok(mut heap) = timer.heap.lock() else {
                return;
            };
            let now = Instant::now();
            while heap.entries.peek().is_some_and(|e| e.0.at <= now) {
                if let Some(Reverse(e)) = heap.entries.pop() {
                    due.push(e.waker);
                }
            }
            heap.entries.peek().map(|e| e.0.at)
        };
        for waker in due.drain(..) {
            waker.wake();
        }
        match next {
            Some(at) => std::thread::park_timeout(at.saturating_duration_since(Instant::now())),
            None => std::thread::park(),
        }
    }
}

/// Completes at `at` (within tens of microseconds when the machine is not overloaded).
pub(crate) fn sleep_until(at: tokio::time::Instant) -> Sleep {
    Sleep {
        at: at.into_std(),
        registered: false,
        fallback: None,
    }
}

/// The future of [`sleep_until`].
pub(crate) struct Sleep {
    at: Instant,
    registered: bool,
    fallback: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        if let Some(sleep) = &mut self.fallback {
            return sleep.as_mut().poll(cx);
        }
        if self.registered {
            // Woken early (another branch of a select!): the entry still stands.
            return Poll::Pending;
        }
        let Some(timer) = timer() else {
            let at = tokio::time::Instant::from_std(self.at);
            let mut sleep = Box::pin(tokio::time::sleep_until(at));
            let poll = sleep.as_mut().poll(cx);
            self.fallback = Some(sleep);
            return poll;
        };
        let Ok(mut heap) = timer.heap.lock() else {
            // A panicked timer thread: fall back to tokio's timer from now on.
            self.fallback = Some(Box::pin(tokio::time::sleep_until(
                tokio::time::Instant::from_std(self.at),
            )));
            return self.poll(cx);
        };
        heap.seq += 1;
        let seq = heap.seq;
        let earliest = heap.entries.peek().is_none_or(|e| self.at < e.0.at);
        heap.entries.push(Reverse(Entry {
            at: self.at,
            seq,
            waker: cx.waker().clone(),
        }));
        drop(heap);
        if earliest {
            timer.thread.unpark();
        }
        self.registered = true;
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sleeps_end_in_deadline_order_and_not_before_their_deadline() {
        let start = tokio::time::Instant::now();
        let mut tasks = Vec::new();
        // Registered out of order: the thread must re-arm for an earlier deadline.
        for ms in [30u64, 10, 20, 5, 25] {
            tasks.push(tokio::spawn(async move {
                let at = start + Duration::from_millis(ms);
                sleep_until(at).await;
                (ms, tokio::time::Instant::now() >= at)
            }));
        }
        for t in tasks {
            let (ms, on_time) = t.await.unwrap();
            assert!(on_time, "the {ms} ms sleep ended before its deadline");
        }
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_is_ready_at_once() {
        sleep_until(tokio::time::Instant::now() - Duration::from_millis(1)).await;
    }
}
