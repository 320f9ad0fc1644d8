//! `ronda bench text`. Placeholder, filled in by the text work.

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("ronda bench text is not built yet")
}
