//! `rollcoach web export DIR`: the phone app as static files, for any https
//! host (no server: sessions run in the page; only sync needs `serve`).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rollcoach_store::Speed;

use crate::{Global, UsageError};

/// `rollcoach web` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write the app (page, service worker, icons, wasm, the protocols as JSON) into a new or
    /// empty folder, to put on any https host.
    #[command(after_help = "\
Examples:
  rollcoach web export site            # then copy site/ to any https host, or:
  caddy file-server --root site --domain rollcoach.example.org

The protocols are the built-in ones and those in the protocols folder. The page runs sessions and
keeps its data on the phone; sync needs `rollcoach serve`, so it is unavailable on a static host.")]
    Export(ExportArgs),
}

/// `rollcoach web export` arguments.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Folder to write the app into; created if missing, and it must be empty.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Session clock speed written for the page (`api/config`): 1 is real time.
    #[arg(long, default_value = "1", value_name = "FACTOR")]
    speed: Speed,
}

/// Runs a `web` subcommand.
pub fn run(cmd: Command, global: &Global) -> anyhow::Result<u8> {
    match cmd {
        Command::Export(args) => export(args, global),
    }
}

fn export(args: ExportArgs, global: &Global) -> anyhow::Result<u8> {
    let dir = &args.dir;
    check_empty(dir)?;
    let catalog = crate::protocols::catalog(global);
    for problem in catalog.problems() {
        eprintln!("warning: skipping an invalid protocol file:\n{problem}");
    }
    let files = rollcoach_server::web::static_app(catalog.all(), args.speed)?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let mut bytes = 0;
    for file in &files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        }
        std::fs::write(&path, &file.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        bytes += file.bytes.len();
    }
    outln!(
        "wrote the rollcoach app to {} ({} files, {} KB, {} protocols)",
        dir.display(),
        files.len(),
        bytes.div_ceil(1024),
        catalog.all().len()
    );
    outln!(
        "Put the folder on any https host (offline and install need https); sessions run on the phone, sync needs `rollcoach serve`."
    );
    Ok(crate::exit::OK)
}

/// The folder must be new or empty: the export never overwrites a file.
fn check_empty(dir: &Path) -> anyhow::Result<()> {
    if dir.is_file() {
        return Err(UsageError(format!(
            "{} is a file, not a folder; give a new or empty folder",
            dir.display()
        ))
        .into());
    }
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(UsageError(format!(
                    "{} is not empty; give a new or empty folder (web export never overwrites files)",
                    dir.display()
                ))
                .into());
            }
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::Error::new(e)).with_context(|| {
            format!(
                "cannot use {} as the app's folder; give a new or empty folder you can write to",
                dir.display()
            )
        }),
    }
}
