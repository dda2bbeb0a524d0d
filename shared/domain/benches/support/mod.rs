//! Timing shared by the benches: the baseline and the measured workload interleaved, timed by
//! the CPU time of this thread where Linux exposes it, so other processes on a shared machine
//! (the 2-core CI box also compiles) slow the wall clock but not the figure.

use std::time::{Duration, Instant};

/// CPU time this thread has run, from `/proc/thread-self/sched` (nanosecond precision).
fn thread_cpu_time() -> Option<Duration> {
    let sched = std::fs::read_to_string("/proc/thread-self/sched").ok()?;
    let line = sched
        .lines()
        .find(|line| line.starts_with("se.sum_exec_runtime"))?;
    let millis: f64 = line.split(':').nth(1)?.trim().parse().ok()?;
    (millis > 0.0).then(|| Duration::from_secs_f64(millis / 1000.0))
}

/// What one round measures: CPU time when available, else wall time.
pub struct Clock {
    pub kind: &'static str,
    cpu: bool,
}

impl Clock {
    pub fn detect() -> Clock {
        match thread_cpu_time() {
            Some(_) => Clock {
                kind: "thread CPU time",
                cpu: true,
            },
            None => Clock {
                kind: "wall time",
                cpu: false,
            },
        }
    }

    fn time(&self, iterations: u32, work: &mut impl FnMut()) -> Duration {
        let (wall_start, cpu_start) = (Instant::now(), thread_cpu_time());
        for _ in 0..iterations {
            work();
        }
        let elapsed = match (self.cpu, cpu_start, thread_cpu_time()) {
            (true, Some(start), Some(end)) => end.saturating_sub(start),
            _ => wall_start.elapsed(),
        };
        elapsed / iterations
    }
}

/// Median time per iteration of each workload over `rounds` interleaved rounds.
pub fn median_pair(
    clock: &Clock,
    rounds: usize,
    iterations: u32,
    mut baseline: impl FnMut(),
    mut measured: impl FnMut(),
) -> (Duration, Duration) {
    let mut baseline_times = Vec::with_capacity(rounds);
    let mut measured_times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        baseline_times.push(clock.time(iterations, &mut baseline));
        measured_times.push(clock.time(iterations, &mut measured));
    }
    baseline_times.sort();
    measured_times.sort();
    (baseline_times[rounds / 2], measured_times[rounds / 2])
}

/// Median time per iteration of one workload over `rounds` rounds.
pub fn median(clock: &Clock, rounds: usize, iterations: u32, mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| clock.time(iterations, &mut work))
        .collect();
    times.sort();
    times[rounds / 2]
}
