//! `crm-local`: the thin binary. Parses the command line and hands over to the library.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = crm_local::cli::Cli::parse();
    crm_local::init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(crm_local::run(cli))
}
