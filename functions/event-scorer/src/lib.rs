//! event-scorer (library part).
