//! The engine: [`Engine`] runs instant and range queries ([`query`]) with
//! its [`EngineOptions`] and each query's [`QueryOptions`] ([`options`]). A
//! query's evaluator is set up with its series selected ([`load`]); a range
//! query's nodes that can be are evaluated by columns first ([`columnar`]);
//! then every node is evaluated by its kind ([`dispatch`]), and the value
//! put in its output form ([`output`]).

pub(crate) mod columnar;
pub(crate) mod dispatch;
pub(crate) mod load;
pub(crate) mod options;
pub(crate) mod output;
pub(crate) mod query;

pub use options::{EngineOptions, QueryOptions};
pub use query::Engine;
