//! The data dir's secrets, generated on first start: the JWT signing key, the secret the daily
//! visitor salt is derived from, and the pepper for first-party visitor ids.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use rand::RngCore;
use serde::{Deserialize, Serialize};

const FILE_NAME: &str = "secrets.json";

#[derive(Serialize, Deserialize)]
pub struct Secrets {
    #[serde(with = "hex")]
    pub jwt_secret: Vec<u8>,
    #[serde(with = "hex")]
    pub daily_salt_secret: Vec<u8>,
    #[serde(with = "hex")]
    pub visitor_pepper: Vec<u8>,
}

impl Secrets {
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Secrets> {
        fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data dir {}", data_dir.display()))?;
        let path = data_dir.join(FILE_NAME);
        if path.exists() {
            let text =
                fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            return serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid", path.display()));
        }
        let secrets = Secrets {
            jwt_secret: random_bytes(),
            daily_salt_secret: random_bytes(),
            visitor_pepper: random_bytes(),
        };
        write_private(&path, &serde_json::to_vec_pretty(&secrets)?)?;
        Ok(secrets)
    }
}

fn random_bytes() -> Vec<u8> {
    let mut bytes = vec![0; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Writes the file readable by its owner only, atomically (a crash leaves no half file).
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
