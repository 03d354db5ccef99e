//! The clock of `idflow bench srp`: this thread's CPU time (Unix, through libc), so other load on
//! a shared machine does not inflate the figures; wall time where the OS has no such clock.

/// CPU time of this thread in nanoseconds (wall time where the OS has no such clock).
pub struct Stopwatch {
    cpu: bool,
    origin: std::time::Instant,
}

impl Stopwatch {
    pub fn new() -> Stopwatch {
        Stopwatch {
            cpu: thread_cpu_ns().is_some(),
            origin: std::time::Instant::now(),
        }
    }

    pub fn now_ns(&self) -> u128 {
        if self.cpu {
            if let Some(ns) = thread_cpu_ns() {
                return ns;
            }
        }
        self.origin.elapsed().as_nanos()
    }

    pub fn describe(&self) -> &'static str {
        if self.cpu {
            "thread CPU time"
        } else {
            "wall time"
        }
    }
}

#[cfg(unix)]
// The one unsafe call of the CLI outside its allocator: std has no per-thread CPU clock, and
// libc's is one call.
#[allow(unsafe_code)]
fn thread_cpu_ns() -> Option<u128> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return None;
    }
    Some(u128::try_from(ts.tv_sec).ok()? * 1_000_000_000 + u128::try_from(ts.tv_nsec).ok()?)
}

#[cfg(not(unix))]
fn thread_cpu_ns() -> Option<u128> {
    None
}
