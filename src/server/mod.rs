//! The whole server, assembled from a resolved configuration and one
//! [`Settings`] value, started and stopped without signals: what the `tidemark`
//! binary runs, and what tests and embedders start in-process.
//!
//! [`Server::start`] binds the listen address and serves HTTP at once
//! (`/-/ready` answers 503 while storage opens), then in the background opens
//! storage ([`tsdb::Db`](crate::tsdb::Db)) and starts the
//! [`ScrapeManager`](crate::scrape::ScrapeManager) with the configuration;
//! [`Server::ready`] waits for that. [`Server::reload`] (and `POST /-/reload`
//! with the lifecycle API on) loads the configuration file again and applies it
//! to the running parts; a bad file keeps the running configuration, and the
//! reason is logged and returned. [`Server::stop`] stops in order: scraping,
//! the web server (in-flight requests finishing within 30 seconds, or at once
//! after [`Server::stop_now`]), then storage (head flushed, WAL closed);
//! [`Server::wait`] returns how the server ended.
//!
//! The handlers' view of it all is one [`ApiSettings`](crate::api::ApiSettings)
//! value built here from the settings, and an [`ApiState`](crate::api::ApiState)
//! told when storage opens and closes, when scraping starts and stops, and how
//! each configuration load went.
//!
//! ```no_run
//! use tidemark::server::{Server, Settings, load_config};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = Settings {
//!     config_file: "prometheus.yml".into(),
//!     storage_path: "data/".into(),
//!     listen_address: "127.0.0.1:0".into(),
//!     ..Settings::default()
//! };
//! let config = load_config(&settings.config_file)?;
//! let mut server = Server::start(settings, config).await?;
//! assert!(server.ready().await);
//! println!("serving on http://{}", server.local_addr());
//! server.reload().await?;
//! server.stop();
//! server.wait().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Files: `settings.rs` (the settings), `handle.rs` ([`Server`]), `run.rs` (the
//! server's task: start-up, reloads, stop order), `listener.rs` (the listen
//! address, connection limit and read timeout), `reload.rs` (loading and
//! applying the configuration file), `error.rs`.

mod error;
mod handle;
mod listener;
mod reload;
mod run;
mod settings;

pub use error::{ReloadError, ServerError};
pub use handle::Server;
pub use reload::load_config;
pub use settings::Settings;
