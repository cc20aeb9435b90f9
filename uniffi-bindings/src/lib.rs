//! keyhold-uniffi (being written).
