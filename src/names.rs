//! How messages name settings. The library's messages say which setting to change
//! (`mu`, `standardize`, `n_iter_no_change`, ...) through a [`Mention`], and each front end
//! spells the mention in its own [`Vocabulary`]: the command line as its flags (`--mu auto`,
//! `--standardize`), the Python package as keyword arguments (`mu='auto'`,
//! `standardize=True`), and the library itself ([`Library`], what `Display` shows) by the
//! settings' neutral names (`mu = auto`, `standardize = true`).
//!
//! A mention is written into a message's text as a mark: the setting's name and its
//! suggested values between private-use characters (U+E000..U+E003), which no message
//! otherwise contains. So a message stays a `String` — every [`crate::Error`] variant keeps
//! its payload, and `format!` carries marks from one message into another — and only a
//! rendering ([`render`], [`Text::render`], [`crate::Error::render`], or `Display`, which is
//! the library's rendering) turns the marks into words. Text that merely looks like a mark
//! (a malformed one, an unknown setting) is left as it is.
//!
//! ```
//! use descent::names::{render, Library, Setting};
//! let marked = format!("use a smaller {}, or {}", Setting::Mu.named(), Setting::Standardize.on());
//! assert_eq!(render(&marked, &Library), "use a smaller mu, or standardize = true");
//! ```

use std::fmt;

/// Opens a mark.
const START: char = '\u{E000}';
/// Between a setting's name and each of its values.
const VALUE: char = '\u{E001}';
/// Closes a mark.
const END: char = '\u{E002}';
/// Between the mentions of one group (several settings given together).
const AND: char = '\u{E003}';

/// Every setting a message may name, under its neutral name ([`Setting::name`]): the
/// fields of `descent fit`'s settings ([`crate::requests::FitSettings`]), of its input
/// ([`crate::data::InputSpec`]), of `reproduce` and the adapter choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    Backend,
    Loss,
    Penalty,
    Alpha,
    L1Ratio,
    Optimizer,
    Momentum,
    Beta1,
    Beta2,
    Eps,
    LrSchedule,
    PowerT,
    NIterNoChange,
    LossTol,
    BatchSize,
    ShuffleSeed,
    Precision,
    Mu,
    Epochs,
    Tol,
    CheckEvery,
    Standardize,
    AllowRankDeficient,
    Strict,
    Data,
    Target,
    TargetFile,
    Features,
    Delimiter,
    Workload,
    N,
    Seed,
    Backends,
    Adapter,
}

impl Setting {
    pub const ALL: [Setting; 34] = [
        Setting::Backend,
        Setting::Loss,
        Setting::Penalty,
        Setting::Alpha,
        Setting::L1Ratio,
        Setting::Optimizer,
        Setting::Momentum,
        Setting::Beta1,
        Setting::Beta2,
        Setting::Eps,
        Setting::LrSchedule,
        Setting::PowerT,
        Setting::NIterNoChange,
        Setting::LossTol,
        Setting::BatchSize,
        Setting::ShuffleSeed,
        Setting::Precision,
        Setting::Mu,
        Setting::Epochs,
        Setting::Tol,
        Setting::CheckEvery,
        Setting::Standardize,
        Setting::AllowRankDeficient,
        Setting::Strict,
        Setting::Data,
        Setting::Target,
        Setting::TargetFile,
        Setting::Features,
        Setting::Delimiter,
        Setting::Workload,
        Setting::N,
        Setting::Seed,
        Setting::Backends,
        Setting::Adapter,
    ];

    /// The neutral name: the settings' field name (snake_case), which is also the Python
    /// keyword and, with `-` for `_`, the command line's flag.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Backend => "backend",
            Setting::Loss => "loss",
            Setting::Penalty => "penalty",
            Setting::Alpha => "alpha",
            Setting::L1Ratio => "l1_ratio",
            Setting::Optimizer => "optimizer",
            Setting::Momentum => "momentum",
            Setting::Beta1 => "beta1",
            Setting::Beta2 => "beta2",
            Setting::Eps => "eps",
            Setting::LrSchedule => "lr_schedule",
            Setting::PowerT => "power_t",
            Setting::NIterNoChange => "n_iter_no_change",
            Setting::LossTol => "loss_tol",
            Setting::BatchSize => "batch_size",
            Setting::ShuffleSeed => "shuffle_seed",
            Setting::Precision => "precision",
            Setting::Mu => "mu",
            Setting::Epochs => "epochs",
            Setting::Tol => "tol",
            Setting::CheckEvery => "check_every",
            Setting::Standardize => "standardize",
            Setting::AllowRankDeficient => "allow_rank_deficient",
            Setting::Strict => "strict",
            Setting::Data => "data",
            Setting::Target => "target",
            Setting::TargetFile => "target_file",
            Setting::Features => "features",
            Setting::Delimiter => "delimiter",
            Setting::Workload => "workload",
            Setting::N => "n",
            Setting::Seed => "seed",
            Setting::Backends => "backends",
            Setting::Adapter => "adapter",
        }
    }

    /// The setting whose neutral name is `name`.
    pub fn from_name(name: &str) -> Option<Setting> {
        Setting::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The setting itself ("a smaller `mu`").
    pub fn named(self) -> Mention {
        Mention {
            setting: self,
            values: Vec::new(),
        }
    }

    /// A switch turned on ("try `standardize`").
    pub fn on(self) -> Mention {
        self.with(Value::On)
    }

    /// Set to a named choice ("`mu` `auto`", "`penalty` `l2`").
    pub fn is(self, choice: &str) -> Mention {
        self.with(Value::Choice(choice.into()))
    }

    /// Set to one of several named choices ("`penalty` `l2`, `l1` or `elasticnet`").
    pub fn one_of(self, choices: &[&str]) -> Mention {
        Mention {
            setting: self,
            values: choices.iter().map(|c| Value::Choice((*c).into())).collect(),
        }
    }

    /// Set to a value written the same way everywhere: a number (`1e-4`), a placeholder
    /// (`K`), a file name.
    pub fn literal(self, value: impl fmt::Display) -> Mention {
        self.with(Value::Literal(value.to_string()))
    }

    fn with(self, value: Value) -> Mention {
        Mention {
            setting: self,
            values: vec![value],
        }
    }
}

/// A suggested value of a mentioned setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A switch turned on: a flag on the command line, `True` in Python.
    On,
    /// One of the setting's named choices (`auto`, `l2`, `f64`): a word on the command
    /// line, a string in Python.
    Choice(String),
    /// Written as it is in every vocabulary: a number, a placeholder, a path.
    Literal(String),
}

/// A setting named in a message, with the values it suggests (if any). Its `Display` is the
/// mark (see the module's documentation), meant for building messages with `format!`;
/// [`Mention::render`] writes it in a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub setting: Setting,
    /// None: the setting itself; one or more: "set to one of these".
    pub values: Vec<Value>,
}

impl Mention {
    /// This mention and `other`, given together (`--penalty l2 --alpha 1e-4`).
    pub fn and(self, other: Mention) -> Mentions {
        Mentions(vec![self, other])
    }

    /// The values, each written by `value`, as "a", "a or b", "a, b or c".
    pub fn values_joined(&self, value: impl Fn(&Value) -> String) -> String {
        let words: Vec<String> = self.values.iter().map(value).collect();
        match words.split_last() {
            None => String::new(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }

    /// This mention in `vocabulary`.
    pub fn render(&self, vocabulary: &dyn Vocabulary) -> String {
        vocabulary.mention(self)
    }

    fn write_mark(&self, out: &mut impl fmt::Write) -> fmt::Result {
        out.write_str(self.setting.name())?;
        for v in &self.values {
            out.write_char(VALUE)?;
            match v {
                Value::On => out.write_char('+')?,
                Value::Choice(c) => write!(out, "c{}", unmarked(c))?,
                Value::Literal(l) => write!(out, "l{}", unmarked(l))?,
            }
        }
        Ok(())
    }

    fn parse(text: &str) -> Option<Mention> {
        let mut parts = text.split(VALUE);
        let setting = Setting::from_name(parts.next()?)?;
        let values = parts
            .map(|p| {
                let mut chars = p.chars();
                match chars.next()? {
                    '+' if chars.as_str().is_empty() => Some(Value::On),
                    'c' => Some(Value::Choice(chars.as_str().into())),
                    'l' => Some(Value::Literal(chars.as_str().into())),
                    _ => None,
                }
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Mention { setting, values })
    }
}

/// Mark characters cannot appear inside a mark: a value that holds one (it never should)
/// loses it rather than breaking the message.
fn unmarked(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(*c, START | VALUE | END | AND))
        .collect()
}

impl fmt::Display for Mention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char(START)?;
        self.write_mark(f)?;
        f.write_char(END)
    }
}

/// Several settings given together; its `Display` is one mark, as [`Mention`]'s is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mentions(pub Vec<Mention>);

impl fmt::Display for Mentions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char(START)?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char(AND)?;
            }
            m.write_mark(f)?;
        }
        f.write_char(END)
    }
}

/// How a front end writes the settings that messages mention.
pub trait Vocabulary {
    /// `m` in this front end's words.
    fn mention(&self, m: &Mention) -> String;
    /// Between settings given together: a space (`--penalty l2 --alpha 1e-4`) unless the
    /// front end says otherwise (Python: `penalty='l2', alpha=1e-4`).
    fn separator(&self) -> &str {
        " "
    }
}

/// The library's own vocabulary, what `Display` shows: the neutral names, values after
/// ` = ` (`mu = auto`, `standardize = true`, `penalty = l2, l1 or elasticnet`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Library;

impl Vocabulary for Library {
    fn mention(&self, m: &Mention) -> String {
        let name = m.setting.name();
        if m.values.is_empty() {
            return name.into();
        }
        let values = m.values_joined(|v| match v {
            Value::On => "true".into(),
            Value::Choice(s) | Value::Literal(s) => s.clone(),
        });
        format!("{name} = {values}")
    }
    fn separator(&self) -> &str {
        ", "
    }
}

/// `marked` with every mark written in `vocabulary`.
pub fn render(marked: &str, vocabulary: &dyn Vocabulary) -> String {
    let mut out = String::with_capacity(marked.len());
    let mut rest = marked;
    while let Some(start) = rest.find(START) {
        out.push_str(&rest[..start]);
        let after = &rest[start + START.len_utf8()..];
        let parsed = after.find(END).and_then(|end| {
            let mentions = after[..end]
                .split(AND)
                .map(Mention::parse)
                .collect::<Option<Vec<_>>>()?;
            Some((mentions, end))
        });
        match parsed {
            Some((mentions, end)) => {
                let words: Vec<String> = mentions.iter().map(|m| vocabulary.mention(m)).collect();
                out.push_str(&words.join(vocabulary.separator()));
                rest = &after[end + END.len_utf8()..];
            }
            None => {
                out.push(START);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A message that may mention settings, kept marked until someone reads it: `Display`,
/// `Debug` and `Serialize` give the library's rendering, [`Text::render`] any front end's.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    /// A message with marks in it (built with `format!` from [`Mention`]s).
    pub fn new(marked: impl Into<String>) -> Self {
        Text(marked.into())
    }

    /// The message in `vocabulary`'s words.
    pub fn render(&self, vocabulary: &dyn Vocabulary) -> String {
        render(&self.0, vocabulary)
    }

    /// The message with its marks, for building another message around it.
    pub fn marked(&self) -> &str {
        &self.0
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(s)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(s.into())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&Library))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.render(&Library), f)
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.render(&Library))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vocabulary of the command line's shape, to test the machinery (the real one is the
    /// CLI's, in `src/cli/`).
    struct Flags;
    impl Vocabulary for Flags {
        fn mention(&self, m: &Mention) -> String {
            let flag = format!("--{}", m.setting.name().replace('_', "-"));
            match m.values.as_slice() {
                [] | [Value::On] => flag,
                _ => format!(
                    "{flag} {}",
                    m.values_joined(|v| match v {
                        Value::On => String::new(),
                        Value::Choice(s) | Value::Literal(s) => s.clone(),
                    })
                ),
            }
        }
    }

    #[test]
    fn every_setting_has_a_distinct_snake_case_name_that_reads_back() {
        let mut seen = std::collections::HashSet::new();
        for s in Setting::ALL {
            let name = s.name();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
            assert_eq!(Setting::from_name(name), Some(s));
        }
        assert_eq!(Setting::from_name("--mu"), None);
    }

    #[test]
    fn marks_render_in_each_vocabulary_and_plain_text_is_untouched() {
        let marked = format!(
            "use a smaller {}, `{}`, or `{}`; add {}; e.g. {}",
            Setting::Mu.named(),
            Setting::Mu.is("auto"),
            Setting::Standardize.on(),
            Setting::Penalty.one_of(&["l2", "l1", "elasticnet"]),
            Setting::Penalty
                .is("l2")
                .and(Setting::Alpha.literal("1e-4")),
        );
        assert_eq!(
            render(&marked, &Flags),
            "use a smaller --mu, `--mu auto`, or `--standardize`; add --penalty l2, l1 or \
             elasticnet; e.g. --penalty l2 --alpha 1e-4"
        );
        assert_eq!(
            render(&marked, &Library),
            "use a smaller mu, `mu = auto`, or `standardize = true`; add penalty = l2, l1 or \
             elasticnet; e.g. penalty = l2, alpha = 1e-4"
        );
        assert_eq!(
            Text::new(marked.clone()).to_string(),
            render(&marked, &Library)
        );
        for plain in ["", "no marks --at all", "α ≥ 0, ρ ∈ [0, 1]"] {
            assert_eq!(render(plain, &Flags), plain);
        }
    }

    #[test]
    fn text_that_only_looks_like_a_mark_is_kept() {
        let unknown = format!("{START}not_a_setting{END} and {}", Setting::Tol.named());
        assert_eq!(
            render(&unknown, &Flags),
            format!("{START}not_a_setting{END} and --tol")
        );
        let open = format!("{} then {START}mu", Setting::Epochs.named());
        assert_eq!(render(&open, &Flags), format!("--epochs then {START}mu"));
        // A value never carries a mark character into the mark.
        let odd = Setting::TargetFile.literal(format!("y{END}.npy"));
        assert_eq!(render(&odd.to_string(), &Flags), "--target-file y.npy");
    }

    #[test]
    fn text_serializes_and_debugs_as_the_librarys_rendering() {
        let t = Text::new(format!("try {}", Setting::Standardize.on()));
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"try standardize = true\""
        );
        assert_eq!(format!("{t:?}"), "\"try standardize = true\"");
        assert_eq!(t.render(&Flags), "try --standardize");
    }
}
