//! Scraping. For now: the configuration file that says what to scrape, read into
//! validated [`Config`] values. Target resolution, the scrape manager and the scrape
//! loop come later.

mod config;

pub use config::{
    Config, ConfigError, DEFAULT_EVALUATION_INTERVAL, DEFAULT_METRICS_PATH,
    DEFAULT_SCRAPE_INTERVAL, DEFAULT_SCRAPE_TIMEOUT, GlobalConfig, RawValue, Scheme, ScrapeConfig,
    StaticConfig,
};
