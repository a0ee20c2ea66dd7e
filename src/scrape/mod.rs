//! Scraping. For now: the configuration file that says what to scrape, read into
//! validated [`Config`] values, and relabeling ([`relabel`] over [`RelabelConfig`]
//! rules), which rewrites target and sample labels. Target resolution, the scrape
//! manager and the scrape loop come later.

mod config;
mod relabel;

pub use config::{
    Config, ConfigError, DEFAULT_EVALUATION_INTERVAL, DEFAULT_METRICS_PATH,
    DEFAULT_SCRAPE_INTERVAL, DEFAULT_SCRAPE_TIMEOUT, GlobalConfig, RawValue, Scheme, ScrapeConfig,
    StaticConfig,
};
pub use relabel::{
    Action, DEFAULT_REGEX, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR, RelabelConfig,
    RelabelConfigError, RelabelOptions, RelabelRegex, relabel,
};
