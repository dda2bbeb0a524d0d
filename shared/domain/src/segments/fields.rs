//! The contact fields a segment rule may test, and what kind of value each holds. Custom fields
//! are named `custom.<key>` and take the kind of the value the rule compares them with.

/// What a field holds, which decides the operators a rule may apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Bool,
    /// A list of texts (tags).
    TextList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StandardField {
    Email,
    FirstName,
    LastName,
    Phone,
    Company,
    JobTitle,
    Website,
    Source,
    OwnerId,
    LifecycleStage,
    LeadScore,
    HealthScore,
    MarketingConsent,
    Tags,
}

impl StandardField {
    pub const ALL: [StandardField; 14] = [
        StandardField::Email,
        StandardField::FirstName,
        StandardField::LastName,
        StandardField::Phone,
        StandardField::Company,
        StandardField::JobTitle,
        StandardField::Website,
        StandardField::Source,
        StandardField::OwnerId,
        StandardField::LifecycleStage,
        StandardField::LeadScore,
        StandardField::HealthScore,
        StandardField::MarketingConsent,
        StandardField::Tags,
    ];

    /// The field's name in rules, which is also the contact's JSON field name.
    pub fn name(self) -> &'static str {
        match self {
            StandardField::Email => "email",
            StandardField::FirstName => "first_name",
            StandardField::LastName => "last_name",
            StandardField::Phone => "phone",
            StandardField::Company => "company",
            StandardField::JobTitle => "job_title",
            StandardField::Website => "website",
            StandardField::Source => "source",
            StandardField::OwnerId => "owner_id",
            StandardField::LifecycleStage => "lifecycle_stage",
            StandardField::LeadScore => "lead_score",
            StandardField::HealthScore => "health_score",
            StandardField::MarketingConsent => "marketing_consent",
            StandardField::Tags => "tags",
        }
    }

    pub fn kind(self) -> FieldKind {
        match self {
            StandardField::LeadScore | StandardField::HealthScore => FieldKind::Number,
            StandardField::MarketingConsent => FieldKind::Bool,
            StandardField::Tags => FieldKind::TextList,
            _ => FieldKind::Text,
        }
    }

    pub fn parse(name: &str) -> Option<StandardField> {
        StandardField::ALL
            .into_iter()
            .find(|field| field.name() == name)
    }
}

pub const CUSTOM_PREFIX: &str = "custom.";
pub const MAX_CUSTOM_KEY_CHARS: usize = 64;

/// A field named by a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Standard(StandardField),
    /// `custom.<key>`: a key of the contact's custom fields.
    Custom(String),
}

impl Field {
    pub fn parse(name: &str) -> Option<Field> {
        if let Some(key) = name.strip_prefix(CUSTOM_PREFIX) {
            let valid = !key.is_empty()
                && key.len() <= MAX_CUSTOM_KEY_CHARS
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            return valid.then(|| Field::Custom(key.to_owned()));
        }
        StandardField::parse(name).map(Field::Standard)
    }

    pub fn name(&self) -> String {
        match self {
            Field::Standard(field) => field.name().to_owned(),
            Field::Custom(key) => format!("{CUSTOM_PREFIX}{key}"),
        }
    }
}
