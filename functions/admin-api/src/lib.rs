//! admin-api (library part).
