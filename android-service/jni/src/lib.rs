//! keyhold-jni (being written).
