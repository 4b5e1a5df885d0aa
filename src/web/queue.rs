//! Calls from JavaScript run one at a time, in the order they were made: a second `generate`
//! while one is in flight waits its turn instead of failing. A tiny FIFO async lock for the
//! single-threaded wasm event loop.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use futures_channel::oneshot;

/// A first-come, first-served lock.
#[derive(Default)]
pub struct Queue {
    held: Cell<bool>,
    waiting: RefCell<VecDeque<oneshot::Sender<()>>>,
}

/// Holding this is holding the lock; dropping it lets the next caller in.
pub struct Turn<'a>(&'a Queue);

impl Queue {
    /// Waits until every earlier caller is done.
    pub async fn turn(&self) -> Turn<'_> {
        if self.held.replace(true) {
            let (sender, receiver) = oneshot::channel();
            self.waiting.borrow_mut().push_back(sender);
            // The lock is handed over, still held, by the dropping Turn.
            let _ = receiver.await;
        }
        Turn(self)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // A waiter whose call was dropped meanwhile cannot take the lock: try the next.
        while let Some(sender) = self.0.waiting.borrow_mut().pop_front() {
            if sender.send(()).is_ok() {
                return;
            }
        }
        self.0.held.set(false);
    }
}
