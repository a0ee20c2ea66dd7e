//! [`Discoverer`]: what every provider of target groups is.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::watch;

use super::target_group::TargetGroup;

/// What [`Discoverer::run`] returns: a future that runs the provider.
pub type Run = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A provider of target groups.
pub trait Discoverer: Send + 'static {
    /// Sends the provider's target groups on `tx`: all of them, once when it has
    /// first looked (even if it found none, and even if they equal the channel's
    /// value, so that a receiver awaiting `changed()` learns that it looked),
    /// then again each time they change. Returns when every receiver is gone;
    /// dropping the future stops it sooner.
    fn run(self: Box<Self>, tx: watch::Sender<Vec<TargetGroup>>) -> Run;
}
