//! Deals and pipelines: exact money, pipelines of stages, deals and their transitions, the
//! forecast and pipeline analytics. Pure functions over plain data; ids and `now` are passed in.

pub mod analytics;
pub mod currency;
pub mod date;
pub mod deal;
pub mod events;
pub mod forecast;
pub mod money;
pub mod pipeline;
pub mod probability;
pub mod rounding;
pub mod violations;

#[cfg(test)]
mod tests;

pub use analytics::{PipelineAnalytics, StageAnalytics, pipeline_analytics};
pub use currency::Currency;
pub use date::Date;
pub use deal::{Deal, DealError, DealInput, DealPatch, DealStatus};
pub use events::{DealEvent, DealEventKind};
pub use forecast::{CurrencyForecast, ForecastQuery, Period, forecast};
pub use money::Money;
pub use pipeline::{Pipeline, PipelineInput, Stage, StageInput};
pub use probability::Probability;
pub use violations::{Violation, Violations};
