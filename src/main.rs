//! The `descent` command line: parses, calls the library, prints. Every failure is one
//! line on stderr and a non-zero exit.

mod cli;

use clap::{Parser, Subcommand};
use cli::flags::Flags;
use cli::output::{check_output, stage_output, OutputTarget};
use cli::tables;
use descent::fitting::{fit_dataset_with, FitRequest};
use descent::gpu::{list_adapters, AdapterChoice};
use descent::model::{Model, Optimizer};
use descent::reproduce::reproduce;
use descent::requests::{adapter_choice, FitSettings, ReproduceSettings};
use descent::{report, Error};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "descent",
    version,
    about = "Gradient descent for linear and logistic models on any GPU, every fit checked against an f64 reference"
)]
struct Cli {
    /// GPU adapter: index or case-insensitive name substring (see `descent adapters`).
    /// Without it: WGPU_ADAPTER_NAME, then WGPU_BACKEND / WGPU_POWER_PREF, then high-performance.
    #[arg(long, global = true, value_name = "INDEX|NAME")]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Re-run the article's experiment (or a benchmark workload) on every backend.
    #[command(allow_negative_numbers = true)]
    Reproduce {
        #[command(flatten)]
        settings: ReproduceSettings,
        /// Print one JSON object on stdout instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Fit your own data (CSV with a header, `-` for stdin, or .npy) and check it against its
    /// reference (OLS, ridge, Newton or the KKT conditions).
    #[command(allow_negative_numbers = true)]
    Fit(Box<FitArgs>),
    /// Fit the same data with several optimizers and compare them: a table, and their loss
    /// curves on one --plot and in one --loss-csv.
    #[command(allow_negative_numbers = true)]
    Compare(Box<CompareArgs>),
    /// List GPU adapters with the capabilities and limits that matter.
    Adapters {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct FitArgs {
    /// CSV file with a header row, `-` for stdin, or X.npy (recognised by its magic bytes
    /// or extension).
    #[arg(long)]
    data: String,
    /// Target column: a name or its 1-based position `#N` (an exact name wins). With
    /// X.npy the columns are x1..xp; the target column is then left out of the features.
    #[arg(long, required_unless_present = "target_file")]
    target: Option<String>,
    /// Target vector y.npy, shape (n,) or (n, 1), for --data X.npy (instead of --target).
    #[arg(long)]
    target_file: Option<String>,
    /// Feature columns as one CSV record: names or `#N`, e.g. `sqft,#3,"a,b"` (default:
    /// every column but the target).
    #[arg(long)]
    features: Option<String>,
    /// CSV delimiter: `,` `;` `tab` `|` or any ASCII character (default: detected from
    /// the header).
    #[arg(long)]
    delimiter: Option<String>,
    #[command(flatten)]
    settings: FitSettings,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    json: bool,
    /// Also write the JSON object to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    out: Option<String>,
    /// Write the loss history as CSV (epoch,mse; epoch,objective for other models).
    #[arg(long, value_name = "FILE")]
    loss_csv: Option<String>,
    /// Plot the loss history as SVG.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<String>,
}

#[derive(clap::Args)]
struct CompareArgs {
    /// Optimizers to compare, e.g. gd,nesterov,adam (each with its default settings).
    #[arg(long, default_value = "gd,momentum,nesterov,adam")]
    optimizers: String,
    #[command(flatten)]
    fit: FitArgs,
}

/// A spinner on stderr for fits that take longer than a second, only on a terminal. It
/// lives on its own thread and never touches the fit, so the GPU loop is not slowed.
fn spinner(label: String) -> impl FnOnce() {
    use std::io::IsTerminal;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let handle = std::io::stderr().is_terminal().then(|| {
        std::thread::spawn(move || {
            if rx.recv_timeout(std::time::Duration::from_secs(1)).is_ok() {
                return;
            }
            let bar = indicatif::ProgressBar::new_spinner().with_message(label);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let _ = rx.recv();
            bar.finish_and_clear();
        })
    });
    move || {
        let _ = tx.send(());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

/// Every output path, checked before any work so a bad path never costs a fit.
fn output_targets(args: &FitArgs) -> Result<Vec<(&'static str, OutputTarget)>, Error> {
    let mut targets: Vec<(&str, OutputTarget)> = Vec::new();
    for (what, path) in [
        ("--out", &args.out),
        ("--loss-csv", &args.loss_csv),
        ("--plot", &args.plot),
    ] {
        if let Some(path) = path {
            let t = check_output(path, what)?;
            if let Some((other, _)) = targets.iter().find(|(_, o)| o.same_file(&t)) {
                return Err(Error::Config(format!(
                    "{other} and {what} both write to {}",
                    if path == "-" { "stdout" } else { path }
                )));
            }
            targets.push((what, t));
        }
    }
    Ok(targets)
}

fn load(args: &FitArgs) -> Result<descent::data::Loaded, Error> {
    descent::data::load(&descent::data::InputSpec {
        data: args.data.clone(),
        target: args.target.clone(),
        target_file: args.target_file.clone(),
        features: args.features.clone(),
        delimiter: args.delimiter.clone(),
    })
}

fn fit_request(args: &FitArgs, adapter: AdapterChoice) -> Result<FitRequest, Error> {
    FitSettings {
        record_loss: args.loss_csv.is_some() || args.plot.is_some(),
        ..args.settings.clone()
    }
    .request(adapter)
}

/// Results go to stdout, or to stderr when an output file is `-`.
fn show(text: &str, targets: &[(&str, OutputTarget)]) {
    if targets
        .iter()
        .any(|(_, t)| matches!(t, OutputTarget::Stdout))
    {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}

/// Render every output, stage each beside its target (a temporary file), then rename them
/// all into place: a failure part-way leaves the old files as they were, and the error says
/// which outputs were already written.
fn write_outputs(
    targets: &[(&str, OutputTarget)],
    render: impl Fn(&str) -> Result<Vec<u8>, Error>,
) -> Result<(), Error> {
    let mut staged = Vec::new();
    for (what, target) in targets {
        let bytes = render(what)?;
        staged.push((
            format!("{what} {}", target.path()),
            stage_output(target, &bytes)?,
        ));
    }
    let mut written: Vec<String> = Vec::new();
    for (label, s) in staged {
        if let Err(e) = s.commit() {
            let done = if written.is_empty() {
                "none of the other outputs were written".to_string()
            } else {
                format!("already written: {}", written.join(", "))
            };
            // The error already names the output; only what else was written is added.
            return Err(match e {
                Error::Io { path, message } => Error::Io {
                    path,
                    message: format!("{message} ({done})"),
                },
                other => other,
            });
        }
        written.push(label);
    }
    Ok(())
}

fn fit_command(args: FitArgs, adapter: AdapterChoice) -> Result<(), Error> {
    let targets = output_targets(&args)?;
    let loaded = load(&args)?;
    let ds = loaded.dataset;
    let request = fit_request(&args, adapter)?;
    let done = spinner(format!("fitting {} rows on {}", ds.n(), request.backend));
    let outcome = fit_dataset_with(&ds, &request, &mut |w| {
        eprintln!("descent: warning: {}", w.message.render(&Flags))
    });
    done();
    let outcome = outcome?;
    let mut json = report::fit_json_in(&outcome, &Flags);
    json["source"] = serde_json::to_value(&loaded.source).expect("source serializes");
    // The results are shown first: a file that fails to write later loses nothing.
    show(
        &if args.json {
            format!("{json}\n")
        } else {
            format!(
                "{}{}",
                tables::source_line(&loaded.source),
                tables::fit_summary(&outcome)
            )
        },
        &targets,
    );
    if args.settings.strict && !outcome.warnings.is_empty() {
        return Err(Error::Strict(format!(
            "{} warning(s) above; no output files written",
            outcome.warnings.len()
        )));
    }
    let loss = outcome.fit.loss_history.as_deref().unwrap_or_default();
    let (column, quantity) = if outcome.model == Model::LEAST_SQUARES {
        ("mse", "MSE")
    } else {
        ("objective", "objective J")
    };
    let title = format!(
        "descent fit: {} ({}), {quantity} per epoch",
        outcome.fit.backend, outcome.fit.precision
    );
    write_outputs(&targets, |what| {
        Ok(match what {
            "--out" => format!("{json:#}\n").into_bytes(),
            "--loss-csv" => cli::output::loss_csv_column(loss, column).into_bytes(),
            _ => cli::output::loss_svg(loss, &title)?.into_bytes(),
        })
    })
}

/// The same fit with several optimizers, side by side: a table (or JSON), their loss
/// curves on one plot and in one CSV.
fn compare_command(args: CompareArgs, adapter: AdapterChoice) -> Result<(), Error> {
    let kinds = args
        .optimizers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<descent::model::OptimizerKind>, _>>()?;
    if kinds.is_empty() {
        return Err(Error::Config("--optimizers lists no optimizer".into()));
    }
    let fit = args.fit;
    // Each optimizer runs with its own defaults; settings of one optimizer would be silently
    // dropped for the others, so they are refused here.
    let s = &fit.settings;
    if s.optimizer != "gd"
        || s.momentum.is_some()
        || s.beta1.is_some()
        || s.beta2.is_some()
        || s.eps.is_some()
    {
        return Err(Error::Config(
            "compare runs every optimizer of --optimizers with its defaults; --optimizer, \
             --momentum, --beta1, --beta2 and --eps apply to fit"
                .into(),
        ));
    }
    let targets = output_targets(&fit)?;
    let loaded = load(&fit)?;
    let ds = loaded.dataset;
    let base = fit_request(&fit, adapter)?;
    let mut outcomes = Vec::new();
    for kind in kinds {
        let mut request = base.clone();
        // Each optimizer with its own defaults; the curves are the point, so always kept.
        request.config.optimizer = Optimizer::new(kind, None, None, None, None)?;
        request.config.record_loss = true;
        let done = spinner(format!("fitting {} rows with {kind}", ds.n()));
        let outcome = fit_dataset_with(&ds, &request, &mut |w| {
            eprintln!("descent: warning: {kind}: {}", w.message.render(&Flags))
        });
        done();
        outcomes.push((kind.as_str(), outcome?));
    }
    let json = serde_json::json!({
        "source": loaded.source,
        "runs": outcomes.iter().map(|(_, o)| report::fit_json_in(o, &Flags)).collect::<Vec<_>>(),
    });
    show(
        &if fit.json {
            format!("{json}\n")
        } else {
            format!(
                "{}{}",
                tables::source_line(&loaded.source),
                tables::compare_table(&outcomes)
            )
        },
        &targets,
    );
    let warned = outcomes
        .iter()
        .map(|(_, o)| o.warnings.len())
        .sum::<usize>();
    if fit.settings.strict && warned > 0 {
        return Err(Error::Strict(format!(
            "{warned} warning(s) above; no output files written"
        )));
    }
    let series: Vec<(&str, &[f64])> = outcomes
        .iter()
        .map(|(name, o)| (*name, o.fit.loss_history.as_deref().unwrap_or_default()))
        .collect();
    let title = format!("descent compare: objective J per epoch ({})", base.backend);
    write_outputs(&targets, |what| {
        Ok(match what {
            "--out" => format!("{json:#}\n").into_bytes(),
            "--loss-csv" => cli::output::loss_csv_series(&series).into_bytes(),
            _ => cli::output::loss_svg_series(&series, &title)?.into_bytes(),
        })
    })
}

fn run(cli: Cli) -> Result<(), Error> {
    let adapter = adapter_choice(cli.adapter.as_deref())?;
    match cli.command {
        Command::Fit(args) => fit_command(*args, adapter)?,
        Command::Compare(args) => compare_command(*args, adapter)?,
        Command::Adapters { json } => {
            let list = list_adapters();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).expect("adapters serialize")
                );
            } else {
                print!("{}", tables::adapters_table(&list));
            }
        }
        Command::Reproduce { settings, json } => {
            let opts = settings.options(adapter)?;
            let report = reproduce(&opts, |fit| {
                if !json {
                    eprintln!(
                        "  {} done in {}",
                        fit.backend,
                        tables::human_time(fit.timings.total().as_secs_f64())
                    );
                }
            })?;
            if json {
                println!("{}", report::reproduce_json(&report));
            } else {
                print!("{}", tables::reproduce_table(&report));
            }
        }
    }
    Ok(())
}

/// The library reports through `log`; the CLI shows descent's own warnings and errors on
/// stderr, one line each (other crates' records, e.g. wgpu's, stay quiet as before).
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Warn && m.target().starts_with("descent")
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            match r.level() {
                log::Level::Error => eprintln!("descent: {}", r.args()),
                _ => eprintln!("descent: warning: {}", r.args()),
            }
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLog = StderrLog;

fn main() -> ExitCode {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
    // Mesa's Vulkan WSI prints "XDG_RUNTIME_DIR is invalid" on headless machines even for
    // compute-only use; any existing directory quiets it. Done first, while single-threaded.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The library names settings neutrally; here they are the flags that set them.
            eprintln!("descent: error: {}", e.render(&Flags));
            // 2: the fit ran but --strict rejected it (or refused to start it).
            if matches!(e, Error::Strict(_)) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
