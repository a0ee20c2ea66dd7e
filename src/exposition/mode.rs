//! [`Mode`]: how much the parser checks beyond syntax.

/// How much the parser checks beyond syntax (see the [module docs](super)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Lenient,
    Strict,
}
