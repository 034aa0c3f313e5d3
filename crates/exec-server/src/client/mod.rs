//! The client library: [`ExecServerClient`] and friends. (Being written.)
