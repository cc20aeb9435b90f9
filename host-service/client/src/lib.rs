//! keyhold-client (being written).
