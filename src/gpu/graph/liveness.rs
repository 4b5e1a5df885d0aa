//! Activation buffers by liveness: a value takes a buffer when it is written and gives it back
//! after the last node that reads it has run, so values whose lifetimes do not overlap share
//! memory. A chain needs two buffers, as the format-1 plan's ping-pong; a U-Net keeps its skip
//! connections alive and no more.

/// What happens to a value, in execution order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `value` is written: it needs `bytes`, or shares `alias_of`'s buffer (a reshape that
    /// moves nothing).
    Birth { value: usize, bytes: u64, alias_of: Option<usize> },
    /// The last reader of `value` has been recorded.
    Death { value: usize },
}

/// Which buffer holds each value and how large each buffer is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    /// Per value id: its buffer, `None` for values that never take one (class ids, constants,
    /// values fused away).
    pub slot: Vec<Option<usize>>,
    /// Bytes of each buffer: the largest value it ever holds.
    pub sizes: Vec<u64>,
    /// Bytes with one buffer per value (what the sharing saves is measured against this).
    pub unshared: u64,
}

impl Assignment {
    /// Bytes of all buffers.
    pub fn total(&self) -> u64 {
        self.sizes.iter().sum()
    }
}

/// Assigns buffers for `values` value ids. A value is born before it is read and an output
/// never shares the buffer of an input of the same node, because a node's births come before
/// its deaths in `events`. A birth takes the smallest free buffer that fits, else grows the
/// largest free one (sizes are only fixed once every event is seen), else opens a new one.
pub fn assign(values: usize, events: &[Event]) -> Assignment {
    let mut out = Assignment { slot: vec![None; values], ..Default::default() };
    let mut holders: Vec<usize> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    for event in events {
        match *event {
            Event::Birth { value, alias_of: Some(source), .. } => {
                let slot = out.slot[source];
                out.slot[value] = slot;
                if let Some(s) = slot {
                    holders[s] += 1;
                }
            }
            Event::Birth { value, bytes, alias_of: None } => {
                out.unshared += bytes;
                let fitting = free.iter().enumerate().filter(|(_, s)| out.sizes[**s] >= bytes).min_by_key(|(_, s)| out.sizes[**s]);
                let largest = free.iter().enumerate().max_by_key(|(_, s)| out.sizes[**s]);
                let slot = match fitting.or(largest).map(|(i, _)| i) {
                    Some(i) => free.swap_remove(i),
                    None => {
                        out.sizes.push(0);
                        holders.push(0);
                        out.sizes.len() - 1
                    }
                };
                out.sizes[slot] = out.sizes[slot].max(bytes);
                holders[slot] += 1;
                out.slot[value] = Some(slot);
            }
            Event::Death { value } => {
                if let Some(s) = out.slot[value] {
                    holders[s] -= 1;
                    if holders[s] == 0 {
                        free.push(s);
                    }
                }
            }
        }
    }
    out
}
