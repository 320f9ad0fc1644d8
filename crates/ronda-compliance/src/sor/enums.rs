//! The Transparency Database's enumerations, each a Rust enum whose wire
//! string is the database's value (`DECISION_VISIBILITY_CONTENT_REMOVED`,
//! `Yes`, `AT`, ...). [`WireEnum`] is what the validator checks strings
//! against, so the lists live in one place.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An enumeration with a fixed set of wire strings.
pub trait WireEnum: Sized + Copy + 'static {
    /// Every value, in the database's documentation order.
    const ALL: &'static [Self];
    /// The wire string.
    fn as_str(self) -> &'static str;
    /// The value whose wire string is exactly `s`.
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl WireEnum for $name {
            const ALL: &'static [$name] = &[$($name::$variant,)+];
            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = String::deserialize(d)?;
                <$name as WireEnum>::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        s.chars().take(80).collect::<String>()
                    ))
                })
            }
        }
    };
}

wire_enum! {
    /// `decision_visibility[]`: restrictions of the visibility of content.
    DecisionVisibility {
        ContentRemoved = "DECISION_VISIBILITY_CONTENT_REMOVED",
        ContentDisabled = "DECISION_VISIBILITY_CONTENT_DISABLED",
        ContentDemoted = "DECISION_VISIBILITY_CONTENT_DEMOTED",
        ContentAgeRestricted = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
        ContentInteractionRestricted = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
        ContentLabelled = "DECISION_VISIBILITY_CONTENT_LABELLED",
        /// Needs `decision_visibility_other`.
        Other = "DECISION_VISIBILITY_OTHER",
    }
}

wire_enum! {
    /// `decision_monetary`: restrictions of monetary payments.
    DecisionMonetary {
        Suspension = "DECISION_MONETARY_SUSPENSION",
        Termination = "DECISION_MONETARY_TERMINATION",
        /// Needs `decision_monetary_other`.
        Other = "DECISION_MONETARY_OTHER",
    }
}

wire_enum! {
    /// `decision_provision`: suspension or termination of the service.
    DecisionProvision {
        PartialSuspension = "DECISION_PROVISION_PARTIAL_SUSPENSION",
        TotalSuspension = "DECISION_PROVISION_TOTAL_SUSPENSION",
        PartialTermination = "DECISION_PROVISION_PARTIAL_TERMINATION",
        TotalTermination = "DECISION_PROVISION_TOTAL_TERMINATION",
    }
}

wire_enum! {
    /// `decision_account`: suspension or termination of the account.
    DecisionAccount {
        Suspended = "DECISION_ACCOUNT_SUSPENDED",
        Terminated = "DECISION_ACCOUNT_TERMINATED",
    }
}

wire_enum! {
    /// `account_type`.
    AccountType {
        Business = "ACCOUNT_TYPE_BUSINESS",
        Private = "ACCOUNT_TYPE_PRIVATE",
    }
}

wire_enum! {
    /// `decision_ground`: illegal content, or content incompatible with the
    /// terms and conditions; each has its own required fields.
    DecisionGround {
        IllegalContent = "DECISION_GROUND_ILLEGAL_CONTENT",
        IncompatibleContent = "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    }
}

wire_enum! {
    /// `content_type[]`.
    ContentType {
        App = "CONTENT_TYPE_APP",
        Audio = "CONTENT_TYPE_AUDIO",
        Image = "CONTENT_TYPE_IMAGE",
        Product = "CONTENT_TYPE_PRODUCT",
        SyntheticMedia = "CONTENT_TYPE_SYNTHETIC_MEDIA",
        Text = "CONTENT_TYPE_TEXT",
        Video = "CONTENT_TYPE_VIDEO",
        /// Needs `content_type_other`.
        Other = "CONTENT_TYPE_OTHER",
    }
}

wire_enum! {
    /// `category` and `category_addition[]`.
    Category {
        AnimalWelfare = "STATEMENT_CATEGORY_ANIMAL_WELFARE",
        ConsumerInformation = "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
        CyberViolence = "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        CyberViolenceAgainstWomen = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
        DataProtectionAndPrivacyViolations = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        IllegalOrHarmfulSpeech = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        IntellectualPropertyInfringements = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        NegativeEffectsOnCivicDiscourseOrElections = "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        NotSpecifiedNotice = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
        OtherViolationTc = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        ProtectionOfMinors = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        /// Where terrorist content belongs.
        RiskForPublicSecurity = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        ScamsAndFraud = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        SelfHarm = "STATEMENT_CATEGORY_SELF_HARM",
        UnsafeAndProhibitedProducts = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
        Violence = "STATEMENT_CATEGORY_VIOLENCE",
    }
}

wire_enum! {
    /// `category_specification[]`: the keywords.
    Keyword {
        AdultSexualMaterial = "KEYWORD_ADULT_SEXUAL_MATERIAL",
        AgeSpecificRestrictions = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
        AgeSpecificRestrictionsMinors = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
        AnimalHarm = "KEYWORD_ANIMAL_HARM",
        BiometricDataBreach = "KEYWORD_BIOMETRIC_DATA_BREACH",
        BullyingAgainstGirls = "KEYWORD_BULLYING_AGAINST_GIRLS",
        ChildSexualAbuseMaterial = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        ChildSexualAbuseMaterialDeepfake = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        ContentPromotingEatingDisorders = "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
        CoordinatedHarm = "KEYWORD_COORDINATED_HARM",
        CopyrightInfringement = "KEYWORD_COPYRIGHT_INFRINGEMENT",
        CyberBullyingIntimidation = "KEYWORD_CYBER_BULLYING_INTIMIDATION",
        CyberHarassment = "KEYWORD_CYBER_HARASSMENT",
        CyberHarassmentAgainstWomen = "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
        CyberIncitement = "KEYWORD_CYBER_INCITEMENT",
        CyberStalking = "KEYWORD_CYBER_STALKING",
        CyberStalkingAgainstWomen = "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
        DataFalsification = "KEYWORD_DATA_FALSIFICATION",
        Defamation = "KEYWORD_DEFAMATION",
        DesignInfringement = "KEYWORD_DESIGN_INFRINGEMENT",
        Discrimination = "KEYWORD_DISCRIMINATION",
        FemaleGenderedDisinformation = "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
        GeographicIndicationsInfringement = "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
        GeographicalRequirements = "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
        GoodsServicesNotPermitted = "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
        GroomingSexualEnticementMinors = "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        HateSpeech = "KEYWORD_HATE_SPEECH",
        HiddenAdvertisement = "KEYWORD_HIDDEN_ADVERTISEMENT",
        HumanExploitation = "KEYWORD_HUMAN_EXPLOITATION",
        HumanTrafficking = "KEYWORD_HUMAN_TRAFFICKING",
        IllegalOrganizations = "KEYWORD_ILLEGAL_ORGANIZATIONS",
        ImpersonationAccountHijacking = "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
        InauthenticAccounts = "KEYWORD_INAUTHENTIC_ACCOUNTS",
        InauthenticListings = "KEYWORD_INAUTHENTIC_LISTINGS",
        InauthenticUserReviews = "KEYWORD_INAUTHENTIC_USER_REVIEWS",
        IncitementAgainstWomen = "KEYWORD_INCITEMENT_AGAINST_WOMEN",
        IncitementViolenceHatred = "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
        InsufficientInformationOnTraders = "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
        LanguageRequirements = "KEYWORD_LANGUAGE_REQUIREMENTS",
        MisinformationDisinformation = "KEYWORD_MISINFORMATION_DISINFORMATION",
        MisleadingInfoConsumerRights = "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
        MisleadingInfoGoodsServices = "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
        MissingProcessingGround = "KEYWORD_MISSING_PROCESSING_GROUND",
        NonConsensualImageSharing = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        NonConsensualImageSharingAgainstWomen = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        NonConsensualMaterialDeepfake = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        NonConsensualMaterialDeepfakeAgainstWomen = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
        NoncompliancePricing = "KEYWORD_NONCOMPLIANCE_PRICING",
        Nudity = "KEYWORD_NUDITY",
        PatentInfringement = "KEYWORD_PATENT_INFRINGEMENT",
        Phishing = "KEYWORD_PHISHING",
        ProhibitedProducts = "KEYWORD_PROHIBITED_PRODUCTS",
        PyramidSchemes = "KEYWORD_PYRAMID_SCHEMES",
        RightToBeForgotten = "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
        RiskEnvironmentalDamage = "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
        RiskPublicHealth = "KEYWORD_RISK_PUBLIC_HEALTH",
        SelfMutilation = "KEYWORD_SELF_MUTILATION",
        Stalking = "KEYWORD_STALKING",
        Suicide = "KEYWORD_SUICIDE",
        TerroristContent = "KEYWORD_TERRORIST_CONTENT",
        TradeSecretInfringement = "KEYWORD_TRADE_SECRET_INFRINGEMENT",
        TrademarkInfringement = "KEYWORD_TRADEMARK_INFRINGEMENT",
        TraffickingWomenGirls = "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
        UnlawfulSaleAnimals = "KEYWORD_UNLAWFUL_SALE_ANIMALS",
        UnsafeChallenges = "KEYWORD_UNSAFE_CHALLENGES",
        UnsafeProducts = "KEYWORD_UNSAFE_PRODUCTS",
        ViolationEuLaw = "KEYWORD_VIOLATION_EU_LAW",
        ViolationNationalLaw = "KEYWORD_VIOLATION_NATIONAL_LAW",
        /// `category_specification_other` may say which.
        Other = "KEYWORD_OTHER",
    }
}

wire_enum! {
    /// `source_type`: what led to the decision (see [`crate::sor::build`]
    /// for which one each of Ronda's sources is).
    SourceType {
        /// A notice under Article 16 DSA (anyone's notice of illegal content).
        Article16 = "SOURCE_ARTICLE_16",
        /// A notice by a trusted flagger (Article 22 DSA).
        TrustedFlagger = "SOURCE_TRUSTED_FLAGGER",
        /// Any other notification, including orders of authorities that do
        /// not fall under Article 9 DSA.
        OtherNotification = "SOURCE_TYPE_OTHER_NOTIFICATION",
        /// The provider's own initiative; `source_identity` is ignored.
        Voluntary = "SOURCE_VOLUNTARY",
    }
}

wire_enum! {
    /// `automated_detection` and `incompatible_content_illegal`.
    YesNo {
        Yes = "Yes",
        No = "No",
    }
}

impl From<bool> for YesNo {
    fn from(b: bool) -> YesNo {
        if b { YesNo::Yes } else { YesNo::No }
    }
}

wire_enum! {
    /// `automated_decision`.
    AutomatedDecision {
        Fully = "AUTOMATED_DECISION_FULLY",
        Partially = "AUTOMATED_DECISION_PARTIALLY",
        NotAutomated = "AUTOMATED_DECISION_NOT_AUTOMATED",
    }
}

wire_enum! {
    /// `territorial_scope[]`: the 27 EU Member States and the three other
    /// EEA states, by ISO 3166-1 alpha-2 code (Greece is `GR`).
    Country {
        At = "AT", Be = "BE", Bg = "BG", Cy = "CY", Cz = "CZ", De = "DE", Dk = "DK",
        Ee = "EE", Es = "ES", Fi = "FI", Fr = "FR", Gr = "GR", Hr = "HR", Hu = "HU",
        Ie = "IE", Is = "IS", It = "IT", Li = "LI", Lt = "LT", Lu = "LU", Lv = "LV",
        Mt = "MT", Nl = "NL", No = "NO", Pl = "PL", Pt = "PT", Ro = "RO", Se = "SE",
        Si = "SI", Sk = "SK",
    }
}

impl Country {
    /// Whether this is an EU Member State (not Iceland, Liechtenstein or Norway).
    pub fn is_eu(self) -> bool {
        !matches!(self, Country::Is | Country::Li | Country::No)
    }

    /// The 27 EU Member States: a removal order's scope (TCO Art. 3(3):
    /// "in all Member States").
    pub fn eu() -> Vec<Country> {
        Country::ALL.iter().copied().filter(|c| c.is_eu()).collect()
    }

    /// All 30 EEA states.
    pub fn eea() -> Vec<Country> {
        Country::ALL.to_vec()
    }
}

/// `content_language`: the upper-case ISO 639-1 codes the database accepts.
pub const LANGUAGES: &[&str] = &[
    "AA", "AB", "AE", "AF", "AK", "AM", "AN", "AR", "AS", "AV", "AY", "AZ", "BA", "BE", "BG", "BH",
    "BI", "BM", "BN", "BO", "BR", "BS", "CA", "CE", "CH", "CO", "CR", "CS", "CU", "CV", "CY", "DA",
    "DE", "DV", "DZ", "EE", "EL", "EN", "EO", "ES", "ET", "EU", "FA", "FF", "FI", "FJ", "FO", "FR",
    "FY", "GA", "GD", "GL", "GN", "GU", "GV", "HA", "HE", "HI", "HO", "HR", "HT", "HU", "HY", "HZ",
    "IA", "ID", "IE", "IG", "II", "IK", "IO", "IS", "IT", "IU", "JA", "JV", "KA", "KG", "KI", "KJ",
    "KK", "KL", "KM", "KN", "KO", "KR", "KS", "KU", "KV", "KW", "KY", "LA", "LB", "LG", "LI", "LN",
    "LO", "LT", "LU", "LV", "MG", "MH", "MI", "MK", "ML", "MN", "MR", "MS", "MT", "MY", "NA", "NB",
    "ND", "NE", "NG", "NL", "NN", "NO", "NR", "NV", "NY", "OC", "OJ", "OM", "OR", "OS", "PA", "PI",
    "PL", "PS", "PT", "QU", "RM", "RN", "RO", "RU", "RW", "SA", "SC", "SD", "SE", "SG", "SI", "SK",
    "SL", "SM", "SN", "SO", "SQ", "SR", "SS", "ST", "SU", "SV", "SW", "TA", "TE", "TG", "TH", "TI",
    "TK", "TL", "TN", "TO", "TR", "TS", "TT", "TW", "TY", "UG", "UK", "UR", "UZ", "VE", "VI", "VO",
    "WA", "WO", "XH", "YI", "YO", "ZA", "ZH", "ZU",
];

/// A `content_language` code: one of [`LANGUAGES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Language(&'static str);

impl Language {
    /// The language for an ISO 639-1 code in either case (`en`, `EN`).
    pub fn parse(code: &str) -> Option<Language> {
        LANGUAGES
            .iter()
            .find(|l| l.eq_ignore_ascii_case(code))
            .map(|l| Language(l))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Language, D::Error> {
        let s = String::deserialize(d)?;
        // The database takes upper case only.
        LANGUAGES
            .iter()
            .find(|l| **l == s)
            .map(|l| Language(l))
            .ok_or_else(|| serde::de::Error::custom("unknown content language"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct<T: WireEnum>() {
        let mut seen = std::collections::BTreeSet::new();
        for v in T::ALL {
            assert!(seen.insert(v.as_str()), "{} twice", v.as_str());
            assert_eq!(T::parse(v.as_str()).map(T::as_str), Some(v.as_str()));
        }
    }

    #[test]
    fn wire_strings_are_distinct_and_round_trip() {
        distinct::<DecisionVisibility>();
        distinct::<DecisionMonetary>();
        distinct::<DecisionProvision>();
        distinct::<DecisionAccount>();
        distinct::<AccountType>();
        distinct::<DecisionGround>();
        distinct::<ContentType>();
        distinct::<Category>();
        distinct::<Keyword>();
        distinct::<SourceType>();
        distinct::<YesNo>();
        distinct::<AutomatedDecision>();
        distinct::<Country>();
        assert_eq!(Keyword::ALL.len(), 69);
        assert_eq!(Category::ALL.len(), 16);
        assert_eq!(Country::eu().len(), 27);
        assert_eq!(Country::eea().len(), 30);
        assert_eq!(LANGUAGES.len(), 184);
        assert!(LANGUAGES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn serde_uses_the_wire_strings() {
        let v = serde_json::to_value(DecisionVisibility::ContentRemoved).unwrap();
        assert_eq!(v, "DECISION_VISIBILITY_CONTENT_REMOVED");
        let c: Country = serde_json::from_value("GR".into()).unwrap();
        assert_eq!(c, Country::Gr);
        assert!(serde_json::from_value::<Country>("EL".into()).is_err());
        assert_eq!(Language::parse("en").map(Language::as_str), Some("EN"));
        assert!(serde_json::from_value::<Language>("en".into()).is_err());
    }
}
