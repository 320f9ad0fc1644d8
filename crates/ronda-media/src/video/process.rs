//! A child process under a deadline: started with piped output, killed when
//! the deadline passes, always reaped, its stderr kept (the tail only) for
//! error messages.

use std::io::Read;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::MediaError;

/// How much of the child's stderr is kept.
const STDERR_TAIL: usize = 4096;

/// A running child. Dropping it kills and reaps the child.
#[derive(Debug)]
pub(crate) struct Running {
    program: &'static str,
    child: Arc<Mutex<Child>>,
    stdout: Option<ChildStdout>,
    /// Dropped (or sent to) when the caller is done; the watchdog then
    /// stops waiting.
    done: Option<Sender<()>>,
    watchdog: Option<JoinHandle<bool>>,
    stderr: Option<JoinHandle<String>>,
    reaped: bool,
}

/// How a child ended.
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: ExitStatus,
    /// The watchdog killed it at the deadline.
    pub timed_out: bool,
    /// The last part of its stderr, lossily decoded.
    pub stderr: String,
}

impl Finished {
    /// The last non-empty stderr line, for error messages.
    pub fn last_error_line(&self) -> String {
        self.stderr
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no message")
            .chars()
            .take(300)
            .collect()
    }
}

impl Running {
    /// Starts `command` with stdin closed and stdout and stderr piped; a
    /// watchdog thread kills it at `deadline`.
    pub fn spawn(
        program: &'static str,
        mut command: Command,
        deadline: Instant,
    ) -> Result<Running, MediaError> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| MediaError::FfmpegUnavailable {
            program,
            reason: e.to_string(),
        })?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut tail: Vec<u8> = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    tail.extend_from_slice(&buf[..n]);
                    if tail.len() > 2 * STDERR_TAIL {
                        tail.drain(..tail.len() - STDERR_TAIL);
                    }
                }
                if tail.len() > STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
                String::from_utf8_lossy(&tail).into_owned()
            })
        });
        let child = Arc::new(Mutex::new(child));
        let (done, wait) = mpsc::channel::<()>();
        let watched = Arc::clone(&child);
        let watchdog = std::thread::spawn(move || {
            let left = deadline.saturating_duration_since(Instant::now());
            match wait.recv_timeout(left) {
                Err(RecvTimeoutError::Timeout) => {
                    let mut c = watched.lock().unwrap_or_else(PoisonError::into_inner);
                    // Fails only when the child has already exited.
                    let _ = c.kill();
                    true
                }
                Ok(()) | Err(RecvTimeoutError::Disconnected) => false,
            }
        });
        Ok(Running {
            program,
            child,
            stdout,
            done: Some(done),
            watchdog: Some(watchdog),
            stderr,
            reaped: false,
        })
    }

    /// The child's stdout, once.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.stdout.take()
    }

    /// Kills the child now (when the caller has seen enough).
    pub fn kill(&self) {
        let mut c = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = c.kill();
    }

    /// Waits for the child to exit (its stdout should be drained or dropped
    /// first), stops the watchdog and collects stderr.
    pub fn finish(mut self) -> Result<Finished, MediaError> {
        self.stdout = None;
        // Poll rather than `wait()`: the watchdog needs the lock to kill a
        // child that does not exit by itself.
        let status = loop {
            let polled = {
                let mut c = self.child.lock().unwrap_or_else(PoisonError::into_inner);
                c.try_wait()
            };
            match polled {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => break Err(e),
            }
        };
        self.reaped = true;
        drop(self.done.take());
        let timed_out = self
            .watchdog
            .take()
            .is_some_and(|w| w.join().unwrap_or(false));
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let status = status.map_err(|e| MediaError::FfmpegUnavailable {
            program: self.program,
            reason: format!("cannot wait for the process: {e}"),
        })?;
        Ok(Finished {
            status,
            timed_out,
            stderr,
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        self.stdout = None;
        {
            let mut c = self.child.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = c.kill();
            let _ = c.wait();
        }
        drop(self.done.take());
        if let Some(w) = self.watchdog.take() {
            let _ = w.join();
        }
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
    }
}
