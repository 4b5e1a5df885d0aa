//! Running the CLI with a time limit and a memory measurement, and the checks every hostile
//! case must pass (exit 1 or 2, one `webgan: ` line, within the time and memory bounds).

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_webgan");
/// A case still running after this long is killed and fails.
pub(crate) const KILL_AFTER: Duration = Duration::from_secs(20);
/// "Within seconds": the limit for every case (a debug build, on a shared 2-core machine).
pub(crate) const QUICK_S: f64 = 10.0;
/// The issue's memory bound, in KiB.
pub(crate) const UNDER_2_GB: u64 = 2 * 1024 * 1024;
/// The bound for cases that must fail without reading or allocating what the input claims
/// (a 2 GiB weights file, /dev/zero, a 150 MB manifest), in KiB.
pub(crate) const LOW_MEMORY: u64 = 256 * 1024;

/// GNU time, when installed: it forks the CLI from a small process and reports the child's
/// own peak RSS (`%M`). The test's own `wait` cannot: a child spawned from this (large,
/// multi-threaded) process inherits its high-water mark in `ru_maxrss`.
pub(crate) const GNU_TIME: &str = "/usr/bin/time";

/// Peak resident memory so far (`VmHWM`, KiB) of a running process.
pub(crate) fn vm_hwm(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The first child of `pid` (the CLI, when `pid` is GNU time), if it has one yet.
pub(crate) fn first_child(pid: u32) -> Option<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?.split_whitespace().next()?.parse().ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// Under `ulimit -v 2097152` (the CPU backend).
    AddressSpace,
    /// No address-space limit (the GPU backend: Vulkan reserves much more than it uses).
    None,
}

pub(crate) struct Run {
    pub(crate) label: String,
    pub(crate) code: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) stderr: String,
    pub(crate) stdout: String,
    pub(crate) peak_kb: u64,
    /// How `peak_kb` was measured.
    pub(crate) measured_by: &'static str,
    pub(crate) seconds: f64,
}

pub(crate) fn spawn_reader(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs the CLI with `args` in its own process group, killing the group after [`KILL_AFTER`]
/// (which fails the test).
pub(crate) fn run(label: &str, limit: Limit, args: &[&str]) -> Run {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let scratch = tempfile::tempdir().expect("tempdir");
    let time_file = scratch.path().join("time.txt");
    let gnu_time = Path::new(GNU_TIME).exists();
    let mut argv: Vec<String> = Vec::new();
    if limit == Limit::AddressSpace {
        argv.extend(["bash", "-c", r#"ulimit -v 2097152 && exec "$0" "$@""#].map(String::from));
    }
    if gnu_time {
        argv.extend([GNU_TIME, "-f", "%M", "-o", path_str(&time_file)].map(String::from));
    }
    argv.push(BIN.to_string());
    argv.extend(args.iter().map(|a| a.to_string()));
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .env_remove("RUST_BACKTRACE")
        .env_remove("WEBGAN_SHADER_DIR")
        // The Vulkan loader prints its own complaint to stderr without a runtime folder.
        .env("XDG_RUNTIME_DIR", scratch.path())
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().unwrap_or_else(|e| panic!("{label}: cannot start {}: {e}", argv[0]));
    let pid = child.id();
    let stdout = spawn_reader(child.stdout.take());
    let stderr = spawn_reader(child.stderr.take());
    let mut polled = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        let cli = if gnu_time { first_child(pid) } else { Some(pid) };
        if let Some(cli) = cli {
            polled = polled.max(vm_hwm(cli));
        }
        if started.elapsed() > KILL_AFTER {
            // The whole group: GNU time and the CLI under it.
            let _ = Command::new("kill").arg("-KILL").arg("--").arg(format!("-{pid}")).status();
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "{label}: still running after {} s (peak RSS {:.1} MB so far): killed. stderr: {}",
                KILL_AFTER.as_secs(),
                polled as f64 / 1024.0,
                err.trim()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let seconds = started.elapsed().as_secs_f64();
    let (mut code, mut signal) = (status.code(), status.signal());
    let mut peak_kb = polled;
    let mut measured_by = "VmHWM polled every 5 ms";
    if gnu_time {
        let report = fs::read_to_string(&time_file).unwrap_or_default();
        for line in report.lines() {
            if let Some(n) = line.strip_prefix("Command terminated by signal ") {
                signal = n.trim().parse().ok();
                code = None;
            } else if let Some(n) = line.strip_prefix("Command exited with non-zero status ") {
                code = n.trim().parse().ok();
            } else if let Ok(kb) = line.trim().parse::<u64>() {
                peak_kb = peak_kb.max(kb);
                measured_by = "GNU time %M and VmHWM polled every 5 ms";
            }
        }
    }
    Run {
        label: label.to_string(),
        code,
        signal,
        stderr: stderr.join().unwrap_or_default(),
        stdout: stdout.join().unwrap_or_default(),
        peak_kb,
        measured_by,
        seconds,
    }
}

/// Checks what every hostile case must do and returns the one-line message.
pub(crate) fn check(run: &Run, max_kb: u64) -> String {
    let Run { label, code, signal, stderr, stdout, peak_kb, measured_by, seconds } = run;
    let first = stderr.lines().next().unwrap_or("");
    println!(
        "{label}: exit {code:?} signal {signal:?}, {seconds:.2} s, peak RSS {:.1} MB ({measured_by}); stderr: {first}",
        *peak_kb as f64 / 1024.0
    );
    let context = || format!("stderr:\n{stderr}\nstdout (tail): {}", tail(stdout));
    assert!(signal.is_none(), "{label}: killed by signal {signal:?} (an abort, or the 2 GiB ulimit); {}", context());
    assert!(
        matches!(code, Some(1 | 2)),
        "{label}: exit status {code:?}, expected 1 or 2 (an error); {}",
        context()
    );
    assert!(!stderr.contains("panicked"), "{label}: the CLI panicked; {}", context());
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("webgan: "),
        "{label}: stderr must be one line starting with `webgan: `; {}",
        context()
    );
    // An allocation failure under the ulimit is not a clear error: the CLI tried to allocate
    // what the input claimed.
    let lower = lines[0].to_lowercase();
    assert!(
        !lower.contains("out of memory") && !lower.contains("memory allocation"),
        "{label}: the error is an allocation failure, not a check; {}",
        context()
    );
    assert!(*seconds <= QUICK_S, "{label}: took {seconds:.1} s; a hostile input must fail within {QUICK_S} s");
    assert!(
        peak_kb < &max_kb,
        "{label}: peak RSS {:.1} MB, the bound is {:.0} MB",
        *peak_kb as f64 / 1024.0,
        max_kb as f64 / 1024.0
    );
    lines[0].to_string()
}

pub(crate) fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(500);
    let start = (start..=s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(s.len());
    &s[start..]
}

/// Asserts the message names one of `words` (case-insensitively).
pub(crate) fn assert_mentions_any(label: &str, message: &str, words: &[&str]) {
    let lower = message.to_lowercase();
    assert!(
        words.iter().any(|w| lower.contains(&w.to_lowercase())),
        "{label}: the error should mention one of {words:?}: {message}"
    );
}

/// Asserts the message names every one of `words` (case-insensitively).
pub(crate) fn assert_mentions(label: &str, message: &str, words: &[&str]) {
    for word in words {
        assert!(
            message.to_lowercase().contains(&word.to_lowercase()),
            "{label}: the error should mention `{word}`: {message}"
        );
    }
}

pub(crate) fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

pub(crate) fn limit_for(backend: &str) -> Limit {
    if backend == "gpu" { Limit::None } else { Limit::AddressSpace }
}
