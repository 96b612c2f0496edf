//! The `descent` command line: parses, calls the library, prints. Every failure is one
//! line on stderr and a non-zero exit.

use clap::{Parser, Subcommand};
use descent::gpu::{list_adapters, AdapterChoice};
use descent::reproduce::{reproduce, ReproduceOptions, Workload, WorkloadKind};
use descent::{report, Backend, Error, Precision};
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
    /// List GPU adapters with the capabilities and limits that matter.
    Adapters {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn run(cli: Cli) -> Result<(), Error> {
    let adapter: AdapterChoice = match &cli.adapter {
        Some(a) => a.parse()?,
        None => AdapterChoice::Auto,
    };
    match cli.command {
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
