//! keyhold-cli (being written).
