//! `ronda bench matching`. Placeholder, filled in by the matching work.

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("ronda bench matching is not built yet")
}
