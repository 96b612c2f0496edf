//! descent's Python extension, `descent._descent`: the fit behind the scikit-learn
//! estimators (the CLI's `descent fit` path: checks, standardization, reference, warnings),
//! `adapters()` and `reproduce()`. The estimators themselves are pure Python
//! (python/descent/).
//!
//! Every call releases the GIL while it works. A fit runs on a helper thread while the
//! calling thread waits without the GIL and, every [`POLL`], takes it back briefly to run
//! Python's signal handlers: Ctrl-C sets the fit's [`Interrupt`], which the backends look
//! at every epoch (the GPU between command-buffer chunks), and KeyboardInterrupt is raised
//! once the fit has stopped.
//!
//! Errors become ValueError (bad input or settings, a diverged fit), RuntimeError (no
//! adapter, or the GPU failed or cannot run the request) or KeyboardInterrupt, each with the
//! CLI's one-line message, except that the settings it names are the estimators' keyword
//! arguments ([`Params`]: `mu='auto'`, `standardize=True`) where the CLI has its flags.

use descent::fitting::{fit_dataset, FitOutcome};
use descent::names::{Mention, Setting, Value, Vocabulary};
use descent::requests::{adapter_choice, FitSettings, ReproduceSettings};
use descent::{Dataset, Error, Interrupt};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

/// How often a waiting call looks for Ctrl-C (and other signals).
const POLL: Duration = Duration::from_millis(100);

/// Python's vocabulary for the settings descent's messages name: the keyword arguments of
/// the estimators (and of `reproduce()`), which are the settings' neutral names, with
/// values as Python literals: `mu='auto'`, `standardize=True`, `penalty=None`,
/// `penalty='l2', alpha=1e-4`. Settings Python has no argument for (the command line's
/// input options, `strict`, `allow_rank_deficient`, which the estimators always set) keep
/// their neutral names; their messages do not reach Python.
struct Params;

impl Vocabulary for Params {
    fn mention(&self, m: &Mention) -> String {
        let name = m.setting.name();
        if m.values.is_empty() {
            return name.into();
        }
        let values = m.values_joined(|v| match v {
            Value::On => "True".into(),
            // penalty=None is the estimators' spelling of no penalty.
            Value::Choice(c) if m.setting == Setting::Penalty && c == "none" => "None".into(),
            Value::Choice(c) => format!("'{c}'"),
            Value::Literal(l) => l.clone(),
        });
        format!("{name}={values}")
    }
    fn separator(&self) -> &str {
        ", "
    }
}

/// A descent error as the Python exception that fits it, with the CLI's message in Python's
/// words ([`Params`]).
fn to_py(e: Error) -> PyErr {
    let message = e.render(&Params);
    match e {
        Error::Adapter(_) | Error::Unsupported(_) | Error::TooLarge { .. } | Error::Gpu(_) => {
            PyRuntimeError::new_err(message)
        }
        Error::Interrupted => PyKeyboardInterrupt::new_err(message),
        Error::Io { .. } => PyOSError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// A panic on a helper thread (a bug) as a RuntimeError, never a PanicException.
fn panic_to_py(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    PyRuntimeError::new_err(format!("descent: internal error: {what}"))
}

/// Wait for a helper thread's result without the GIL, running Python's signal handlers every
/// [`POLL`]. When a handler raises (Ctrl-C: KeyboardInterrupt), `on_signal` is called and,
/// if `drain`, the result is still awaited (so the helper is done with borrowed data) before
/// the handler's exception is raised.
fn wait<T: Send>(
    py: Python<'_>,
    rx: Receiver<std::thread::Result<T>>,
    on_signal: impl FnOnce(),
    drain: bool,
) -> PyResult<T> {
    let mut rx = rx;
    loop {
        let (got, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        match got {
            Ok(result) => return result.map_err(panic_to_py),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(signal) = py.check_signals() {
                    on_signal();
                    if drain {
                        let _ = py.detach(move || rx.recv());
                    }
                    return Err(signal);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "descent: internal error: the worker thread ended without a result",
                ))
            }
        }
    }
}

/// The feature matrix a caller passes: float64 or float32, each read in place when
/// C-contiguous (float32 stays float32: see `descent::data::Features`).
#[derive(FromPyObject)]
enum Matrix<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

/// `descent fit` on NumPy arrays. `x` (n×p float64 or float32) is read in place when
/// C-contiguous (else copied once into a row-major matrix of its type); `y` (n float64) is
/// copied. `settings` holds
/// the CLI's options by their long names (see `FitSettings`); `adapter` is an index, a name
/// or None. Returns the CLI's `fit --json` object as text, the K intercepts (shape (K,)) and
/// the p × K weight matrix (K = 1 for every model today), the loss history (or None),
/// whether `x` was read in place and the address read from.
#[pyfunction]
#[pyo3(signature = (x, y, feature_names, settings, adapter=None))]
fn fit<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    y: PyReadonlyArray1<'py, f64>,
    feature_names: Vec<String>,
    settings: &Bound<'py, PyDict>,
    adapter: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let settings = fit_settings(settings)?;
    let adapter = match adapter {
        None => None,
        Some(a) if a.is_none() => None,
        Some(a) => Some(a.str()?.to_string()),
    };
    let adapter = adapter_choice(adapter.as_deref()).map_err(to_py)?;
    let mut request = settings.request(adapter).map_err(to_py)?;
    let (rows, x_aligned) = match &x {
        Matrix::F64(x) => (x.shape()[0], x.is_aligned()),
        Matrix::F32(x) => (x.shape()[0], x.is_aligned()),
    };
    // Rust reads elements through references, which must be aligned: a misaligned NumPy
    // buffer (a view at an odd byte offset) would be undefined behaviour, not just slow.
    // The estimators pass aligned arrays (`np.require(..., "CA")`, a copy only then).
    if !x_aligned || !y.is_aligned() {
        return Err(PyValueError::new_err(
            "X and y must be aligned arrays (np.require(a, requirements=\"CA\") makes one)",
        ));
    }
    if rows != y.shape()[0] {
        return Err(to_py(Error::Data(format!(
            "features have {rows} rows but targets have {}",
            y.shape()[0]
        ))));
    }
    let targets = y.as_array().to_owned();
    // SAFETY: `x` (a shared borrow of the NumPy array, which keeps it alive) outlives the
    // dataset: the dataset is dropped before this function returns, and the helper thread
    // that reads it is joined first (the scope below). `fit_dataset` keeps nothing of its
    // input. Python code writing to the array from another thread during the fit would race
    // with the read, as it would with any NumPy function that releases the GIL.
    let ds = unsafe {
        match &x {
            Matrix::F64(x) => Dataset::borrowing(x.as_array(), targets, feature_names),
            Matrix::F32(x) => Dataset::borrowing(x.as_array(), targets, feature_names),
        }
    }
    .map_err(to_py)?;
    let borrowed = ds.borrows_features();
    // Where the fit read the features from (tests compare it with the array's own address).
    let address = match ds.features.precision() {
        descent::Precision::F32 => ds.features.slice::<f32>().map(|x| x.as_ptr() as usize),
        descent::Precision::F64 => ds.features.slice::<f64>().map(|x| x.as_ptr() as usize),
    };
    // This fit's own flag, freed with the request when the call returns.
    request.config.interrupt = Interrupt::new();
    let outcome: descent::Result<FitOutcome> = std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        let (ds, request) = (&ds, &request);
        s.spawn(move || {
            let out =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fit_dataset(ds, request)));
            let _ = tx.send(out);
        });
        wait(py, rx, || request.config.interrupt.interrupt(), true)
    })?;
    drop(ds);
    let outcome = outcome.map_err(to_py)?;
    let out = PyDict::new(py);
    out.set_item(
        "report",
        descent::report::fit_json_in(&outcome, &Params).to_string(),
    )?;
    let w = &outcome.fit.weights;
    out.set_item("intercepts", PyArray1::from_slice(py, w.intercepts()))?;
    let matrix = PyArray1::from_slice(py, w.matrix()).reshape([w.features(), w.outputs()])?;
    out.set_item("coef", matrix)?;
    out.set_item(
        "loss_history",
        outcome
            .fit
            .loss_history
            .as_deref()
            .map(|l| PyArray1::from_slice(py, l)),
    )?;
    out.set_item("features_borrowed", borrowed)?;
    out.set_item("features_address", address)?;
    Ok(out)
}

/// The settings dict of [`fit`] as [`FitSettings`]; unknown keys are refused, missing ones
/// take the CLI's defaults.
fn fit_settings(d: &Bound<'_, PyDict>) -> PyResult<FitSettings> {
    let mut s = FitSettings::default();
    for (key, value) in d.iter() {
        let key: String = key.extract()?;
        let text = || -> PyResult<String> { Ok(value.str()?.to_string()) };
        // A number of the wrong kind (a negative count, a string) is bad input: ValueError.
        macro_rules! num {
            () => {
                value
                    .extract()
                    .map_err(|e| PyValueError::new_err(format!("invalid {key}: {e}")))?
            };
        }
        match key.as_str() {
            "backend" => s.backend = text()?,
            "loss" => s.loss = text()?,
            "penalty" => s.penalty = text()?,
            "alpha" => s.alpha = num!(),
            "l1_ratio" => s.l1_ratio = num!(),
            "optimizer" => s.optimizer = text()?,
            "momentum" => s.momentum = num!(),
            "beta1" => s.beta1 = num!(),
            "beta2" => s.beta2 = num!(),
            "eps" => s.eps = num!(),
            "lr_schedule" => s.lr_schedule = text()?,
            "power_t" => s.power_t = num!(),
            "n_iter_no_change" => s.n_iter_no_change = num!(),
            "loss_tol" => s.loss_tol = num!(),
            "batch_size" => s.batch_size = num!(),
            "shuffle_seed" => s.shuffle_seed = num!(),
            "precision" => s.precision = text()?,
            "mu" => s.mu = text()?,
            "epochs" => s.epochs = num!(),
            "tol" => s.tol = num!(),
            "check_every" => s.check_every = num!(),
            "standardize" => s.standardize = num!(),
            "check" => s.check = text()?,
            "allow_rank_deficient" => s.allow_rank_deficient = num!(),
            "strict" => s.strict = num!(),
            "record_loss" => s.record_loss = num!(),
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown fit setting '{other}'"
                )))
            }
        }
    }
    Ok(s)
}

/// `descent adapters --json` as text: every adapter with the capabilities and limits that
/// matter.
#[pyfunction]
fn adapters(py: Python<'_>) -> PyResult<String> {
    py.detach(|| serde_json::to_string(&descent::gpu::list_adapters()))
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// `descent reproduce --json` as text. Ctrl-C returns at once (KeyboardInterrupt); the run
/// then finishes on its own thread and its result is dropped.
#[pyfunction]
#[pyo3(signature = (workload="seed", backends=None, precision="f64", n=None, features=None, epochs=None, mu=None, seed=None, batch_size=None, shuffle_seed=None, adapter=None))]
#[allow(clippy::too_many_arguments)]
fn reproduce(
    py: Python<'_>,
    workload: &str,
    backends: Option<String>,
    precision: &str,
    n: Option<usize>,
    features: Option<usize>,
    epochs: Option<usize>,
    mu: Option<f64>,
    seed: Option<u64>,
    batch_size: Option<usize>,
    shuffle_seed: Option<u64>,
    adapter: Option<String>,
) -> PyResult<String> {
    let opts = ReproduceSettings {
        workload: workload.into(),
        n,
        features,
        epochs,
        mu,
        seed,
        batch_size,
        shuffle_seed,
        backends,
        precision: precision.into(),
    }
    .options(adapter_choice(adapter.as_deref()).map_err(to_py)?)
    .map_err(to_py)?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            descent::reproduce::reproduce(&opts, |_| {})
                .map(|r| descent::report::reproduce_json(&r).to_string())
        }));
        let _ = tx.send(out);
    });
    wait(py, rx, || {}, false)?.map_err(to_py)
}

/// GPU devices this process has opened so far (tests check that fits share one).
#[pyfunction]
fn _devices_opened() -> usize {
    descent::gpu::GpuContext::opened()
}

/// Forward descent's own `log` records to Python's `logging`, under the logger "descent"
/// and its children ("descent.fitting", "descent.gpu.context", ...). Other crates' records
/// (wgpu, naga: chatty, and emitted from threads descent does not control) are not
/// forwarded. Loggers are cached, levels are not: descent logs a few records per fit, and
/// a level set in Python after import (`logging.getLogger("descent").setLevel(...)`) then
/// takes effect at once. A logger installed already (another extension linking this one
/// statically) is left in place. A record takes the GIL on the thread that logs it; every
/// call here waits for its helper thread without the GIL, so that never deadlocks. (A
/// `reproduce` left running after Ctrl-C could still log a GPU error while the interpreter
/// shuts down: an edge case not handled specially.)
fn forward_logs(py: Python<'_>) -> PyResult<()> {
    let logger = pyo3_log::Logger::new(py, pyo3_log::Caching::Loggers)?
        .filter(log::LevelFilter::Off)
        // Debug, not Trace: the logger's ceiling becomes `log`'s global maximum, and trace
        // records (wgpu's most frequent) then stop at the macro, before any lookup.
        .filter_target("descent".to_owned(), log::LevelFilter::Debug);
    let _ = logger.install();
    Ok(())
}

#[pymodule]
fn _descent(m: &Bound<'_, PyModule>) -> PyResult<()> {
    forward_logs(m.py())?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(adapters, m)?)?;
    m.add_function(wrap_pyfunction!(reproduce, m)?)?;
    m.add_function(wrap_pyfunction!(_devices_opened, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
