//! The server. (Being written.)
