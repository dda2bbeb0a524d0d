//! Known bots by user agent.

pub fn is_bot(user_agent: &str) -> bool {
    todo!()
}
