//! The command line's vocabulary: the settings the library's messages name, written as the
//! flags that set them (`--mu auto`, `--standardize`, `--penalty l2, l1 or elasticnet`).

use descent::names::{Mention, Value, Vocabulary};

/// Settings as flags: `--` and the neutral name with `-` for `_`, then the suggested values
/// as written on the command line (a switch turned on is the flag alone).
pub struct Flags;

impl Vocabulary for Flags {
    fn mention(&self, m: &Mention) -> String {
        let flag = format!("--{}", m.setting.name().replace('_', "-"));
        let values = m.values_joined(|v| match v {
            Value::On => String::new(),
            Value::Choice(s) | Value::Literal(s) => s.clone(),
        });
        if values.is_empty() {
            flag
        } else {
            format!("{flag} {values}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent::names::Setting;

    /// Every setting's flag is one the command line has (the parsers' own names), so a
    /// message never suggests a flag that does not exist.
    #[test]
    fn every_setting_is_a_flag_of_the_command_line() {
        use clap::CommandFactory;
        let cli = crate::Cli::command();
        let mut flags: Vec<String> = cli
            .get_arguments()
            .filter_map(|a| a.get_long().map(str::to_string))
            .collect();
        for sub in cli.get_subcommands() {
            flags.extend(
                sub.get_arguments()
                    .filter_map(|a| a.get_long().map(str::to_string)),
            );
        }
        for s in Setting::ALL {
            let flag = Flags.mention(&s.named());
            assert!(
                flags.iter().any(|f| format!("--{f}") == flag),
                "{flag} is not a flag of descent"
            );
        }
    }

    #[test]
    fn values_follow_the_flag_as_on_the_command_line() {
        let m = |m: Mention| Flags.mention(&m);
        assert_eq!(m(Setting::Mu.is("auto")), "--mu auto");
        assert_eq!(m(Setting::Standardize.on()), "--standardize");
        assert_eq!(
            m(Setting::NIterNoChange.literal("K")),
            "--n-iter-no-change K"
        );
        assert_eq!(
            m(Setting::Penalty.one_of(&["l2", "l1", "elasticnet"])),
            "--penalty l2, l1 or elasticnet"
        );
        assert_eq!(
            m(Setting::AllowRankDeficient.on()),
            "--allow-rank-deficient"
        );
    }
}
