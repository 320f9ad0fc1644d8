//! What commands print: JSON lines on stdout for programs, progress bars on
//! stderr for people (only when stderr is a terminal), and the exit code.

use std::io::{self, BufWriter, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How a command ended, as an exit code: 0 found or ok, 1 nothing matched,
/// 2 error (including any failed input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Found,
    NothingMatched,
    Failed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Found => 0,
            Outcome::NothingMatched => 1,
            Outcome::Failed => 2,
        }
    }
}

/// Writes one JSON object per line to stdout, buffered.
pub struct Printer {
    out: BufWriter<io::Stdout>,
    interactive: bool,
}

impl Printer {
    pub fn stdout() -> Self {
        Printer {
            out: BufWriter::new(io::stdout()),
            interactive: io::stdout().is_terminal(),
        }
    }

    pub fn line(&mut self, value: &serde_json::Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        // A person watching sees each line as it comes.
        if self.interactive {
            self.out.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub fn progress(len: u64, what: &'static str) -> ProgressBar {
    let target = if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} [{elapsed_precise}, eta {eta}]")
    {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}
