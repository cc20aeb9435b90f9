//! keyholdd (being written).
