//! keyhold-sample-wallet (being written).
