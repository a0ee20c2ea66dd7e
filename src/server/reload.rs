//! Loading the configuration file ([`load_config`]) and applying it again to the
//! running parts ([`reload`]): a bad file keeps the running configuration, and
//! the reason is logged and returned.

use std::path::Path;

use tracing::{error, info, warn};

use super::error::{ReloadError, error_chain};
use crate::api::{ApiState, ShownConfig};
use crate::config::{Config, ConfigError};
use crate::scrape::ScrapeManager;

/// Loads the configuration file at `path`, logging what it does and a warning
/// for each key that has no effect yet.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    info!(file = %path.display(), "Loading configuration file");
    let config = Config::load(path)?;
    for key in &config.unsupported_keys {
        warn!(
            file = %path.display(),
            key = key.as_str(),
            "Configuration key is accepted but not supported yet; it has no effect"
        );
    }
    info!(
        file = %path.display(),
        jobs = config.scrape_configs.len(),
        "Completed loading of configuration file"
    );
    Ok(config)
}

/// What the API shows of `config`, loaded from `path`.
pub(super) fn shown(path: &Path, config: &Config) -> ShownConfig {
    ShownConfig {
        // Empty if the file cannot be read any more.
        text: std::fs::read_to_string(path).unwrap_or_default(),
        external_labels: config.global.external_labels.clone(),
    }
}

/// Loads the configuration file again and applies it to the running parts.
pub(super) fn reload(
    path: &Path,
    manager: &ScrapeManager,
    state: &ApiState,
) -> Result<(), ReloadError> {
    let result = load_config(path)
        .map_err(ReloadError::Load)
        .and_then(|config| {
            manager.apply(&config).map_err(ReloadError::Apply)?;
            Ok(config)
        });
    state.record_config_load(result.is_ok());
    match result {
        Ok(config) => {
            state.show_config(shown(path, &config));
            info!(file = %path.display(), "Reloaded configuration file");
            Ok(())
        }
        Err(err) => {
            error!(
                file = %path.display(),
                error = %error_chain(&err),
                "Error reloading config; the running configuration stays"
            );
            Err(err)
        }
    }
}
