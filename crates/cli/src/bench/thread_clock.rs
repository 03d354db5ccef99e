//! The CPU clocks of the benchmarks (Unix, through libc): this thread's for `idflow bench srp`, so
//! other load on a shared machine does not inflate the figures (wall time where the OS has no such
//! clock), and the whole process's for `idflow bench store`.

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

/// CPU time of every thread of this process, in nanoseconds (`None` where the OS has no such
/// clock).
pub fn process_cpu_ns() -> Option<u128> {
    cpu_clock_ns(Clock::Process)
}

fn thread_cpu_ns() -> Option<u128> {
    cpu_clock_ns(Clock::Thread)
}

enum Clock {
    Thread,
    Process,
}

#[cfg(unix)]
// The one unsafe call of the CLI outside its allocator: std has no CPU clock, and libc's is one
// call.
#[allow(unsafe_code)]
fn cpu_clock_ns(clock: Clock) -> Option<u128> {
    let id = match clock {
        Clock::Thread => libc::CLOCK_THREAD_CPUTIME_ID,
        Clock::Process => libc::CLOCK_PROCESS_CPUTIME_ID,
    };
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    if rc != 0 {
        return None;
    }
    Some(u128::try_from(ts.tv_sec).ok()? * 1_000_000_000 + u128::try_from(ts.tv_nsec).ok()?)
}

#[cfg(not(unix))]
fn cpu_clock_ns(_clock: Clock) -> Option<u128> {
    None
}
