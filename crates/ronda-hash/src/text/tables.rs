//! Character tables for [`normalize`](super::normalize()): which characters
//! vanish, which fold to another, and which script a letter belongs to.
//!
//! Every table is a `match` on code points so that the compiler turns it into
//! range checks; none allocates. The tables are part of the normalisation
//! contract: changing one changes `text_sha256` and MinHash signatures, so
//! any change needs a new [`super::NORMALIZATION_VERSION`].

/// Characters removed without leaving a separator: default-ignorable code
/// points (zero-width, joiners, bidi controls, variation selectors, BOM, soft
/// hyphen, tags), Arabic tatweel, harakat and Quranic marks, the combining
/// diacritics of Latin, Greek and Cyrillic, emoji skin-tone modifiers, and
/// apostrophes (so that `don't` and `dont`, `Jum'at` and `Jumat` agree).
pub(crate) fn is_removed(c: char) -> bool {
    // Fast answers for the common letters, before the full table.
    match c {
        '\0'..='\u{02FF}' => return matches!(c, '\'' | '`' | '\u{00AD}' | '\u{02BC}'),
        '\u{0370}'..='\u{0482}'
        | '\u{048A}'..='\u{060F}'
        | '\u{0620}'..='\u{063F}'
        | '\u{0641}'..='\u{064A}' => return false,
        _ => {}
    }
    matches!(
        c,
        // Apostrophes: ASCII, typographic, modifier letter, grave.
        '\''
        | '`'
        | '\u{2018}'
        | '\u{2019}'
        | '\u{02BC}'
        // Default_Ignorable_Code_Point (DerivedCoreProperties.txt).
        | '\u{00AD}' // soft hyphen
        | '\u{034F}' // combining grapheme joiner
        | '\u{061C}' // Arabic letter mark (ALM)
        | '\u{115F}'..='\u{1160}'
        | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' // Mongolian variation selectors, vowel separator
        | '\u{200B}'..='\u{200F}' // ZWSP, ZWNJ, ZWJ, LRM, RLM
        | '\u{202A}'..='\u{202E}' // LRE, RLE, PDF, LRO, RLO
        | '\u{2060}'..='\u{206F}' // WJ, invisible operators, LRI, RLI, FSI, PDI, ...
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}' // variation selectors
        | '\u{FEFF}' // BOM, zero-width no-break space
        | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}' // tags, variation selectors supplement
        // Arabic: Quranic signs, harakat, superscript alef, tatweel,
        // small high letters and annotation marks.
        | '\u{0610}'..='\u{061A}'
        | '\u{0640}' // tatweel
        | '\u{064B}'..='\u{065F}' // fathatan .. wavy hamza below
        | '\u{0670}' // superscript (dagger) alef
        | '\u{06D6}'..='\u{06DC}'
        | '\u{06DF}'..='\u{06E8}'
        | '\u{06EA}'..='\u{06ED}'
        | '\u{08CA}'..='\u{08FF}'
        // Combining diacritics (accents on Latin, Greek and Cyrillic letters,
        // stress marks), Cyrillic titlo and friends.
        | '\u{0300}'..='\u{0344}'
        | '\u{0346}'..='\u{036F}' // U+0345 ypogegrammeni folds to iota instead
        | '\u{0483}'..='\u{0489}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
        // Emoji skin-tone modifiers.
        | '\u{1F3FB}'..='\u{1F3FF}'
    )
}

/// Pictographs kept as one token each (emoji, dingbats, the Bismillah
/// ligature): they carry meaning in posts, but are not words.
pub(crate) fn is_pictograph(c: char) -> bool {
    matches!(
        c,
        '\u{2300}'..='\u{23FF}'
            | '\u{2600}'..='\u{27BF}'
            | '\u{2B00}'..='\u{2BFF}'
            | '\u{FDFD}'
            | '\u{1F000}'..='\u{1FAFF}'
    )
}

/// [`fold_arabic`] over the Arabic block U+0600–U+06FF as a table (the
/// identity where it changes nothing), for the hot loop.
static ARABIC_FOLD: [char; 256] = {
    let mut t = ['\0'; 256];
    let mut i = 0;
    while i < 256 {
        let c = match char::from_u32(0x0600 + i as u32) {
            Some(c) => c,
            None => '\0',
        };
        t[i] = match fold_arabic(c) {
            Some(f) => f,
            None => c,
        };
        i += 1;
    }
    t
};

/// Arabic-script letters and digits folded to one form: alef with hamza
/// above or below, madda or wasla to bare alef; waw and yeh with hamza to
/// bare waw and yeh; taa marbuta to haa; alef maqsura and the Persian and
/// Urdu yeh to Arabic yeh; keheh and swash kaf to Arabic kaf; heh variants
/// to Arabic heh; Arabic-Indic and Persian digits to ASCII digits.
pub(crate) const fn fold_arabic(c: char) -> Option<char> {
    Some(match c {
        '\u{0622}' | '\u{0623}' | '\u{0625}' | '\u{0671}' | '\u{0672}' | '\u{0673}'
        | '\u{0675}' => '\u{0627}',
        '\u{0624}' => '\u{0648}',
        '\u{0626}' | '\u{0649}' | '\u{06CC}' => '\u{064A}',
        '\u{0629}' | '\u{06C0}' | '\u{06C1}' | '\u{06BE}' | '\u{06D5}' => '\u{0647}',
        '\u{06A9}' | '\u{06AA}' => '\u{0643}',
        '\u{0660}'..='\u{0669}' => (b'0' + (c as u32 - 0x0660) as u8) as char,
        '\u{06F0}'..='\u{06F9}' => (b'0' + (c as u32 - 0x06F0) as u8) as char,
        _ => return None,
    })
}

/// Folds a character of the Arabic-script blocks U+0600–U+08FF (which have
/// no case): [`fold_arabic`] by table, the rest unchanged.
pub(crate) fn fold_arabic_block(c: char) -> char {
    match (c as usize).checked_sub(0x0600) {
        Some(i) if i < 256 => ARABIC_FOLD[i],
        _ => c,
    }
}

/// What full Unicode case folding (CaseFolding.txt, status C+F) does beyond
/// NFKC followed by `char::to_lowercase`. The list was derived by comparing
/// the two over every code point; a test pins each entry.
pub(crate) fn fold_case_extra(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss", // U+1E9E lowercases to ß first
        'ς' => "σ",
        '\u{0345}' => "ι", // combining ypogegrammeni, as in ᾳ -> αι
        '\u{1C80}' => "в",
        '\u{1C81}' => "д",
        '\u{1C82}' => "о",
        '\u{1C83}' => "с",
        '\u{1C84}' | '\u{1C85}' => "т",
        '\u{1C86}' => "ъ",
        '\u{1C87}' => "ѣ",
        '\u{1C88}' => "ꙋ",
        // Not case folding: Russian writes ё and е interchangeably.
        'ё' => "е",
        _ => return None,
    })
}

/// Latin and Greek letters whose canonical decomposition is a base letter
/// plus accents; Cyrillic precomposed letters (й, ї, ў) are distinct letters
/// and keep their marks.
pub(crate) fn strips_accents(c: char) -> bool {
    matches!(
        c,
        '\u{00C0}'..='\u{024F}' | '\u{0370}'..='\u{03FF}' | '\u{1E00}'..='\u{1FFF}'
    )
}

/// A letter of the Latin script.
pub(crate) fn is_latin_letter(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' => true,
        '\u{00D7}' | '\u{00F7}' => false,
        '\u{00C0}'..='\u{024F}'
        | '\u{1E00}'..='\u{1EFF}'
        | '\u{2C60}'..='\u{2C7F}'
        | '\u{A720}'..='\u{A7FF}'
        | '\u{AB30}'..='\u{AB6F}' => c.is_alphabetic(),
        _ => false,
    }
}

/// Which non-Latin script a letter belongs to, for homoglyph decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Script {
    Cyrillic,
    Greek,
}

pub(crate) fn cyrillic_or_greek(c: char) -> Option<Script> {
    let script = match c {
        '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{A640}'..='\u{A69F}' => {
            Script::Cyrillic
        }
        '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Script::Greek,
        _ => return None,
    };
    c.is_alphabetic().then_some(script)
}

/// Lowercase Cyrillic and Greek letters that look like a Latin letter, or
/// whose capital does (UTS #39 confusables, restricted to shapes that pass
/// in running text), mapped to that Latin letter. Homoglyph decisions are
/// made on case-folded letters, so every capital look-alike (`В`, `Н`, `Η`)
/// has its lowercase here too (`в`, `н`, `η`).
pub(crate) fn lookalike(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic.
        'а' => 'a',
        'в' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' => 'e',
        'һ' | 'н' => 'h',
        'і' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' => 't',
        'ѵ' => 'v',
        'ԝ' => 'w',
        'х' => 'x',
        'у' | 'ү' => 'y',
        // Greek.
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'ϳ' => 'j',
        'κ' => 'k',
        'μ' => 'u',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'γ' => 'y',
        _ => return None,
    })
}

/// Greek capitals whose Latin twin differs from their lowercase's (`Η` is
/// an H, `η` an n).
pub(crate) fn capital_lookalike(c: char) -> Option<char> {
    Some(match c {
        'Β' => 'b',
        'Ε' => 'e',
        'Η' => 'h',
        'Μ' => 'm',
        'Ν' => 'n',
        'Υ' => 'y',
        _ => return None,
    })
}

/// The reverse fold, for a Cyrillic word spoofed with Latin look-alikes:
/// lowercase Latin letters to the Cyrillic letter they imitate.
pub(crate) fn latin_to_cyrillic(c: char) -> Option<char> {
    Some(match c {
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'i' => 'і',
        'k' => 'к',
        'o' => 'о',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        _ => return None,
    })
}

/// Latin capitals whose Cyrillic twin is a capital only (`B` is `В`, but
/// `b` is no Cyrillic letter).
pub(crate) fn capital_latin_to_cyrillic(c: char) -> Option<char> {
    Some(match c {
        'B' => 'в',
        'H' => 'н',
        'M' => 'м',
        'T' => 'т',
        _ => return None,
    })
}
