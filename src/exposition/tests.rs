//! Parser tests (being written).
