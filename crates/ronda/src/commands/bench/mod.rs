//! `ronda bench ...`: whole-system benchmarks printing the JSON lines of
//! `../shared/bench/README.md`, so that `compare.py` can pair them with the
//! reference tools' lines.

pub mod http;
pub mod matching;
pub mod pdq;
pub mod text;
pub mod vpdq;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Decode + PDQ per image, like baseline_pdq.py.
    Pdq(pdq::Args),
    /// MinHash signatures and LSH on a `gen_text.py` corpus.
    Text(text::Args),
    /// Hamming search on a `gen_hashes.py` dataset.
    Match(matching::Args),
    /// HTTP lookups against an in-process server over loopback.
    Http(http::Args),
    /// vPDQ hashing of video files, like baseline_vpdq.py.
    Vpdq(vpdq::Args),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Pdq(args) => pdq::run(args),
        BenchCommand::Text(args) => text::run(args),
        BenchCommand::Match(args) => matching::run(args),
        BenchCommand::Http(args) => http::run(args),
        BenchCommand::Vpdq(args) => vpdq::run(args),
    }
}
