//! The `descent` command line: parses, calls the library, prints. Every failure is one
//! line on stderr and a non-zero exit.

use clap::{Parser, Subcommand};
use descent::fitting::{fit_dataset_with, FitRequest};
use descent::gpu::{list_adapters, AdapterChoice};
use descent::reproduce::{reproduce, ReproduceOptions, Workload, WorkloadKind};
use descent::{report, Backend, Error, GdConfig, Precision};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "descent",
    version,
    about = "Gradient descent for least squares on any GPU, checked against OLS"
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
        /// Named workload: seed (the article), big (N=1e8, 100 epochs), wide (N=1e6, p=64).
        #[arg(long, default_value = "seed")]
        workload: String,
        /// Number of samples (overrides the workload's).
        #[arg(long)]
        n: Option<usize>,
        /// Number of features (overrides the workload's).
        #[arg(long)]
        features: Option<usize>,
        /// Epochs (overrides the workload's).
        #[arg(long)]
        epochs: Option<usize>,
        /// Step size (overrides the workload's).
        #[arg(long)]
        mu: Option<f64>,
        /// Random seed (numpy's legacy seed for one feature).
        #[arg(long)]
        seed: Option<u64>,
        /// Comma-separated backends: naive,ndarray,fused,gpu (default: all; gpu skipped
        /// with a reason when no adapter can run it).
        #[arg(long)]
        backends: Option<String>,
        /// f32 or f64.
        #[arg(long, default_value = "f64")]
        precision: String,
        /// Print one JSON object on stdout instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Fit your own data (CSV with a header, `-` for stdin, or .npy) and check it against OLS.
    #[command(allow_negative_numbers = true)]
    Fit(FitArgs),
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
    /// gpu, fused, ndarray or naive.
    #[arg(long, default_value = "gpu")]
    backend: String,
    /// f32 or f64.
    #[arg(long, default_value = "f64")]
    precision: String,
    /// Step size, or `auto` (1/L from the data).
    #[arg(long, default_value = "auto")]
    mu: String,
    /// Maximum epochs.
    #[arg(long, default_value_t = 10_000)]
    epochs: usize,
    /// Stop once the gradient norm is below this (checked every --check-every epochs).
    #[arg(long)]
    tol: Option<f64>,
    /// Epochs between tolerance checks (on the GPU, on the device).
    #[arg(long, default_value_t = 64)]
    check_every: usize,
    /// Fit on standardized features; weights are reported in original units.
    #[arg(long)]
    standardize: bool,
    /// Fit even when the OLS reference is rank-deficient (no reference check then).
    #[arg(long)]
    allow_rank_deficient: bool,
    /// Treat warnings (an unreachable --tol, a fit far from its reference) as errors: exit
    /// code 2, and no output files are written.
    #[arg(long)]
    strict: bool,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    json: bool,
    /// Also write the JSON object to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    out: Option<String>,
    /// Write the loss history as CSV (epoch,mse).
    #[arg(long, value_name = "FILE")]
    loss_csv: Option<String>,
    /// Plot the loss history as SVG.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<String>,
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

fn fit_command(args: FitArgs, adapter: AdapterChoice) -> Result<(), Error> {
    let ds = descent::data::load(&descent::data::InputSpec {
        data: args.data,
        target: args.target,
        target_file: args.target_file,
        features: args.features,
        delimiter: args.delimiter,
    })?
    .dataset;
    let want_loss = args.loss_csv.is_some() || args.plot.is_some();
    let request = FitRequest {
        backend: args.backend.parse()?,
        adapter,
        step: args.mu.parse()?,
        standardize: args.standardize,
        allow_rank_deficient: args.allow_rank_deficient,
        strict: args.strict,
        config: GdConfig {
            epochs: args.epochs,
            precision: args.precision.parse()?,
            record_loss: want_loss,
            tol: args.tol,
            check_every: args.check_every,
            ..GdConfig::default()
        },
    };
    request.config.validate()?;
    let done = spinner(format!("fitting {} rows on {}", ds.n(), request.backend));
    let outcome = fit_dataset_with(&ds, &request, &mut |w| {
        eprintln!("descent: warning: {}", w.message)
    });
    done();
    let outcome = outcome?;
    let json = report::fit_json(&outcome);
    // Every file is rendered before any is written, and each is written atomically.
    let loss = outcome.fit.loss_history.as_deref().unwrap_or_default();
    let svg = match &args.plot {
        Some(_) => Some(descent::output::loss_svg(
            loss,
            &format!(
                "descent fit: {} ({}), MSE per epoch",
                outcome.fit.backend, outcome.fit.precision
            ),
        )?),
        None => None,
    };
    if let Some(path) = &args.out {
        descent::output::write_atomic(path, format!("{json:#}\n").as_bytes())?;
    }
    if let Some(path) = &args.loss_csv {
        descent::output::write_atomic(path, descent::output::loss_csv(loss).as_bytes())?;
    }
    if let (Some(path), Some(svg)) = (&args.plot, svg) {
        descent::output::write_atomic(path, svg.as_bytes())?;
    }
    if args.json {
        println!("{json}");
    } else {
        print!("{}", report::fit_summary(&outcome));
    }
    Ok(())
}

fn run(cli: Cli) -> Result<(), Error> {
    let adapter: AdapterChoice = match &cli.adapter {
        Some(a) => a.parse()?,
        None => AdapterChoice::Auto,
    };
    match cli.command {
        Command::Fit(args) => fit_command(args, adapter)?,
        Command::Adapters { json } => {
            let list = list_adapters();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).expect("adapters serialize")
                );
            } else {
                print!("{}", report::adapters_table(&list));
            }
        }
        Command::Reproduce {
            workload,
            n,
            features,
            epochs,
            mu,
            seed,
            backends,
            precision,
            json,
        } => {
            let kind: WorkloadKind = workload.parse()?;
            let mut w = Workload::named(kind);
            w.n = n.unwrap_or(w.n);
            w.features = features.unwrap_or(w.features);
            w.epochs = epochs.unwrap_or(w.epochs);
            w.mu = mu.unwrap_or(w.mu);
            w.seed = seed.unwrap_or(w.seed);
            if n.is_some()
                || features.is_some()
                || epochs.is_some()
                || mu.is_some()
                || seed.is_some()
            {
                w.name =
                    if kind == WorkloadKind::Seed && features.is_none_or(|f| f == 1) && n.is_none()
                    {
                        w.name
                    } else {
                        "custom".into()
                    };
            }
            if w.n == 0 {
                return Err(Error::Config("--n must be at least 1".into()));
            }
            if w.features == 0 {
                return Err(Error::Config("--features must be at least 1".into()));
            }
            let opts = ReproduceOptions {
                workload: w,
                backends: backends.as_deref().map(Backend::parse_list).transpose()?,
                precision: precision.parse::<Precision>()?,
                adapter,
            };
            let report = reproduce(&opts, |fit| {
                if !json {
                    eprintln!(
                        "  {} done in {}",
                        fit.backend,
                        report::human_time(fit.timings.total().as_secs_f64())
                    );
                }
            })?;
            if json {
                println!("{}", report::reproduce_json(&report));
            } else {
                print!("{}", report::reproduce_table(&report));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    // Mesa's Vulkan WSI prints "XDG_RUNTIME_DIR is invalid" on headless machines even for
    // compute-only use; any existing directory quiets it. Done first, while single-threaded.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("descent: error: {e}");
            ExitCode::FAILURE
        }
    }
}
