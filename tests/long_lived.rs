//! What long-lived callers (the Python package) rely on: one GPU device per process, fits
//! that another thread can interrupt, and datasets that borrow the caller's matrix.
//!
//! A test binary of its own, apart from tests/integration/, because what it checks belongs to
//! the process: the count of devices the process has opened (`GpuContext::opened`, which a
//! device opened by any other test between its two reads would change: gpu_vs_cpu opens one
//! without SHADER_F64), the one `log` logger a process may install, and a
//! `#[global_allocator]` whose per-thread measurement could also count what wgpu does on the
//! measuring thread for other tests' GPU work (its callbacks run on whichever thread polls).

#[path = "integration/common/mod.rs"]
mod common;
use descent::backend::{make_solver, Backend};
use descent::fitting::{fit_dataset, FitRequest, Step};
use descent::gpu::{AdapterChoice, GpuContext, GpuSolver};
use descent::model::{Loss, Model, Penalty, PenaltyKind};
use descent::{data, Dataset, Error, GdConfig, Interrupt, Precision};
use ndarray::Array1;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The system allocator, counting what the threads that ask for it ([`measure_peak`])
/// allocate: the test of "no copy of the matrix" measures memory instead of trusting a flag.
struct Counting;

thread_local! {
    // Const-initialised cells without destructors: safe to touch from inside the allocator
    // at any point of a thread's life.
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = MEASURING.try_with(|m| {
        if m.get() {
            let live = LIVE.get() + delta;
            LIVE.set(live);
            PEAK.set(PEAK.get().max(live));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `f`'s result and the most memory it held allocated at once on this thread, beyond what
/// was allocated before (threads it starts are not counted: descent's workers hold only
/// per-thread sums).
fn measure_peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LIVE.set(0);
    PEAK.set(0);
    MEASURING.set(true);
    let out = f();
    MEASURING.set(false);
    (out, PEAK.get().max(0) as usize)
}

fn request(backend: Backend, precision: Precision, epochs: usize) -> FitRequest {
    FitRequest {
        backend,
        adapter: AdapterChoice::Auto,
        step: Step::Auto,
        standardize: false,
        check: descent::fitting::Check::Auto,
        allow_rank_deficient: false,
        strict: false,
        config: GdConfig {
            epochs,
            precision,
            ..GdConfig::default()
        },
    }
}

/// Precision the shared adapter can run (f32 where it has no SHADER_F64).
fn gpu_precision() -> Precision {
    if common::gpu().context().has(wgpu::Features::SHADER_F64) {
        Precision::F64
    } else {
        Precision::F32
    }
}

#[test]
fn fits_on_the_gpu_share_one_opened_device() {
    let ds = data::article(2_000, 444, 0.1).unwrap();
    let req = request(Backend::Gpu, gpu_precision(), 50);
    let first = fit_dataset(&ds, &req).unwrap();
    let opened = GpuContext::opened();
    assert!(opened >= 1);
    let second = fit_dataset(&ds, &req).unwrap();
    let _third = make_solver(Backend::Gpu, &AdapterChoice::Auto).unwrap();
    assert_eq!(
        GpuContext::opened(),
        opened,
        "a second fit opened another device"
    );
    assert_eq!(first.fit.weights, second.fit.weights);
    let a = GpuSolver::new(&AdapterChoice::Auto).unwrap();
    let b = GpuSolver::new(&AdapterChoice::Auto).unwrap();
    assert!(Arc::ptr_eq(a.context(), b.context()));
}

#[test]
fn a_set_interrupt_stops_every_backend_before_any_epoch() {
    let interrupt = Interrupt::new();
    interrupt.interrupt();
    let ds = data::article(1_000, 444, 0.1).unwrap();
    for backend in Backend::ALL {
        let precision = if backend == Backend::Gpu {
            gpu_precision()
        } else {
            Precision::F64
        };
        let cfg = GdConfig {
            epochs: 1_000,
            precision,
            interrupt: interrupt.clone(),
            ..GdConfig::default()
        };
        let solver = make_solver(backend, &AdapterChoice::Auto).unwrap();
        match solver.fit(&ds, &cfg) {
            Err(Error::Interrupted) => {}
            other => panic!("{backend}: {other:?}"),
        }
    }
}

/// A long-lived caller makes an interrupt per fit and drops it afterwards: the flag is freed
/// with the last handle (the request's settings and whatever a backend kept during the
/// fit), so thousands of fits leak nothing, on the CPU and the GPU.
#[test]
fn interrupts_are_freed_with_the_fits_that_held_them() {
    let ds = data::article(200, 444, 0.1).unwrap();
    let mut freed = Vec::new();
    for i in 0..2_000 {
        let backend = if i % 500 == 0 {
            Backend::Gpu
        } else {
            Backend::Fused
        };
        let flag = Arc::new(AtomicBool::new(false));
        let weak = Arc::downgrade(&flag);
        let mut req = request(backend, gpu_precision(), 3);
        req.config.interrupt = Interrupt::on(flag);
        let stopper = req.config.interrupt.clone();
        let outcome = fit_dataset(&ds, &req).unwrap();
        assert_eq!(outcome.fit.epochs_run, 3);
        assert_eq!(
            weak.strong_count(),
            2,
            "the request's handle and the stopper's"
        );
        drop((outcome, req));
        assert_eq!(weak.strong_count(), 1, "{backend}: the fit kept a handle");
        drop(stopper);
        freed.push(weak);
    }
    assert!(freed.iter().all(|w| w.upgrade().is_none()));
}

/// A fit of many minutes stops soon after another thread sets the flag, on the CPU (and
/// with mini-batches) and on the GPU.
#[test]
fn another_thread_interrupts_a_long_fit() {
    let ds = data::article(10_000, 444, 0.1).unwrap();
    for (backend, batch_size) in [
        (Backend::Fused, None),
        (Backend::Naive, Some(10)),
        (Backend::Gpu, None),
    ] {
        // One flag per case: the fit's settings hold one handle, the stopper a clone.
        let interrupt = Interrupt::new();
        let mut req = request(backend, Precision::F64, u32::MAX as usize);
        if backend == Backend::Gpu {
            req.config.precision = gpu_precision();
        }
        req.config.batch_size = batch_size;
        req.config.interrupt = interrupt.clone();
        let start = Instant::now();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            interrupt.interrupt();
        });
        let out = fit_dataset(&ds, &req);
        let took = start.elapsed();
        stopper.join().unwrap();
        assert!(
            matches!(out, Err(Error::Interrupted)),
            "{backend}: {:?}",
            out.map(|o| o.fit.epochs_run)
        );
        assert_eq!(Error::Interrupted.to_string(), "interrupted");
        // The GPU stops between command-buffer chunks, which lavapipe runs slowly.
        let limit = if backend == Backend::Gpu { 10 } else { 3 };
        assert!(
            took < Duration::from_secs(limit),
            "{backend}: stopped after {took:?}"
        );
    }
}

/// Sets the flag armed on this thread when descent logs that a fit's epochs have ended (the
/// record `fit_dataset` writes before its checks), so a test can interrupt exactly there.
struct InterruptAfterTheEpochs;

thread_local! {
    static ARMED: RefCell<Option<Interrupt>> = const { RefCell::new(None) };
}

impl log::Log for InterruptAfterTheEpochs {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.target() == "descent::fitting"
    }

    fn log(&self, record: &log::Record) {
        // Only an armed thread formats the message: the allocation-counting tests of other
        // threads see nothing of this logger.
        ARMED.with_borrow(|armed| {
            if let Some(interrupt) = armed {
                if self.enabled(record.metadata()) && record.args().to_string().contains(" ran ") {
                    interrupt.interrupt();
                }
            }
        });
    }

    fn flush(&self) {}
}

/// The checks after the epochs (objective, KKT residual, the reference's objective, MSE,
/// accuracy: passes over the rows, seconds on a large table) stop for an interrupt too, so
/// Ctrl-C is never held up by them.
#[test]
fn an_interrupt_after_the_epochs_stops_the_checks() {
    static LOGGER: InterruptAfterTheEpochs = InterruptAfterTheEpochs;
    log::set_logger(&LOGGER).expect("no other logger in this test binary");
    log::set_max_level(log::LevelFilter::Debug);
    let ds = data::article(1_000, 444, 0.1).unwrap();
    let interrupt = Interrupt::new();
    let mut req = request(Backend::Fused, Precision::F64, 10);
    req.config.interrupt = interrupt.clone();
    // Not armed: the same fit completes (the logger itself changes nothing).
    let done = fit_dataset(&ds, &req).expect("an unarmed fit completes");
    assert_eq!(done.fit.epochs_run, 10);
    ARMED.set(Some(interrupt.clone()));
    let out = fit_dataset(&ds, &req);
    ARMED.set(None);
    assert!(interrupt.is_set(), "the logger never fired");
    assert!(
        matches!(out, Err(Error::Interrupted)),
        "{:?}",
        out.map(|o| o.fit.epochs_run)
    );
}

/// Each reference (OLS and ridge by TSQR, logistic by Newton, with and without an L2 part)
/// stops within a block of rows once interrupted: timed uninterrupted first, then
/// interrupted a quarter of the way through, it returns `Interrupted`, not its weights,
/// well before it would have finished (so the test means the same on a fast machine).
#[test]
fn an_interrupt_stops_every_reference_within_a_block_of_rows() {
    let (ds, w) = data::synthetic(&data::Synthetic {
        n: 200_000,
        p: 32,
        true_weights: None,
        sigma: 1.0,
        seed: 71,
    })
    .unwrap();
    // Labels from the first rows (Newton's passes cost more than TSQR's: fewer rows keep
    // the test short), noisy enough that the classes overlap.
    const CLASS_ROWS: usize = 60_000;
    let z = &Model::predict(&ds, &w)[..CLASS_ROWS];
    let mid = {
        let mut s = z.to_vec();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let labels: Vec<f64> = z
        .iter()
        .enumerate()
        .map(|(i, v)| f64::from(u8::from((*v > mid) != (i % 5 == 0))))
        .collect();
    let rows = ds.features.rows_f64(0..CLASS_ROWS).into_owned();
    let classes = Dataset::new(rows, Array1::from(labels)).unwrap();
    let penalty = |alpha| Penalty {
        kind: PenaltyKind::L2,
        alpha,
        l1_ratio: 0.0,
    };
    let cases = [
        ("ols", Model::LEAST_SQUARES, &ds),
        (
            "ridge",
            Model {
                penalty: penalty(1e-3),
                ..Model::LEAST_SQUARES
            },
            &ds,
        ),
        (
            "newton",
            Model {
                loss: Loss::Logistic,
                ..Model::LEAST_SQUARES
            },
            &classes,
        ),
        (
            "newton, l2",
            Model {
                loss: Loss::Logistic,
                penalty: penalty(1e-3),
            },
            &classes,
        ),
    ];
    for (name, model, data) in cases {
        let start = Instant::now();
        let whole = descent::reference::reference_until(&model, data, &Interrupt::default());
        let whole_took = start.elapsed();
        assert!(whole.is_ok(), "{name}: {:?}", whole.err());
        let interrupt = Interrupt::new();
        let stop = interrupt.clone();
        let after = whole_took / 4;
        let start = Instant::now();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(after);
            stop.interrupt();
        });
        let out = descent::reference::reference_until(&model, data, &interrupt);
        let took = start.elapsed();
        stopper.join().unwrap();
        assert!(
            matches!(out, Err(Error::Interrupted)),
            "{name}: finished in {took:?} though interrupted after {after:?} ({:?})",
            out.map(|r| r.kind)
        );
        // A block is milliseconds at this width: stopped long before the whole solve would
        // end (three quarters of it remained when the flag was set).
        assert!(
            took < after + (whole_took - after) / 2,
            "{name}: stopped after {took:?}, interrupted after {after:?}, whole {whole_took:?}"
        );
    }
}

#[test]
fn a_borrowed_matrix_is_read_in_place_and_fits_as_an_owned_one() {
    let owned = data::article(5_000, 444, 0.1).unwrap();
    let matrix = owned.features.to_f64().into_owned();
    // SAFETY: `matrix` outlives `borrowed` and is not written while it lives.
    let borrowed = unsafe {
        Dataset::borrowing(
            matrix.view(),
            owned.targets.clone(),
            owned.feature_names.clone(),
        )
    }
    .unwrap();
    assert!(borrowed.borrows_features());
    assert!(!owned.borrows_features());
    assert_eq!(
        borrowed.features.slice::<f64>().unwrap().as_ptr(),
        matrix.as_ptr()
    );
    for backend in [Backend::Naive, Backend::Ndarray, Backend::Fused] {
        let req = request(backend, Precision::F64, 500);
        let a = fit_dataset(&owned, &req).unwrap();
        let b = fit_dataset(&borrowed, &req).unwrap();
        assert_eq!(a.fit.weights, b.fit.weights, "{backend}");
    }
    // A view that is not row-major is copied into a row-major matrix.
    let wide = ndarray::Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f64);
    let transposed = wide.t();
    let ds =
        unsafe { Dataset::borrowing(transposed, Array1::zeros(2), vec!["a".into(); 3]) }.unwrap();
    assert!(!ds.borrows_features());
    assert_eq!(
        ds.features.slice::<f64>(),
        Some(&[0.0, 2.0, 4.0, 1.0, 3.0, 5.0][..])
    );
    assert_eq!(ds.features.to_f64(), transposed);
}

/// A float32 matrix is read in place and stays f32, and every backend fits it exactly as
/// it fits the same values widened to f64: widening is exact, so any difference in weights,
/// reference or objective would be a wrong read of the f32 data, not rounding.
#[test]
fn a_borrowed_f32_matrix_is_read_in_place_and_fits_as_its_widening() {
    let seed = common::fresh_seed("borrowed_f32");
    let (src, _) = data::synthetic(&data::Synthetic {
        n: 700,
        p: 4,
        true_weights: None,
        sigma: 0.3,
        seed,
    })
    .unwrap();
    let x32 = src.features.to_f64().mapv(|v| (3.0 * v - 1.0) as f32);
    let widened = Dataset::new(x32.mapv(f64::from), src.targets.clone()).unwrap();
    // SAFETY: `x32` outlives `borrowed` and is not written while it lives.
    let borrowed =
        unsafe { Dataset::borrowing(x32.view(), src.targets.clone(), src.feature_names.clone()) }
            .unwrap();
    assert!(borrowed.borrows_features());
    assert_eq!(borrowed.features.precision(), Precision::F32);
    assert_eq!(
        borrowed.features.slice::<f32>().unwrap().as_ptr(),
        x32.as_ptr()
    );
    let mut runs = vec![];
    for backend in [Backend::Naive, Backend::Ndarray, Backend::Fused] {
        for precision in [Precision::F32, Precision::F64] {
            runs.push((backend, precision, false));
        }
    }
    runs.push((Backend::Fused, Precision::F64, true));
    runs.push((Backend::Gpu, Precision::F32, false));
    if gpu_precision() == Precision::F64 {
        runs.push((Backend::Gpu, Precision::F64, false));
    }
    for (backend, precision, standardize) in runs {
        let req = FitRequest {
            standardize,
            ..request(backend, precision, 300)
        };
        let a = fit_dataset(&widened, &req).unwrap();
        let b = fit_dataset(&borrowed, &req).unwrap();
        let what = format!("{backend} {precision} standardize={standardize}");
        assert_eq!(a.fit.weights, b.fit.weights, "{what}");
        assert_eq!(a.reference, b.reference, "{what}");
        assert_eq!(
            descent::report::fit_json(&a)["objective"],
            descent::report::fit_json(&b)["objective"],
            "{what}"
        );
        assert!(a.reference.is_some(), "{what}: no reference");
    }
    // The logistic loss (Newton's reference reads the rows block by block) with an L1 part.
    let labels = src
        .targets
        .mapv(|t| f64::from(t > src.targets.mean().unwrap()));
    let logistic = |ds: &Dataset| Dataset::new(ds.features.clone(), labels.clone()).unwrap();
    let (widened, borrowed) = (logistic(&widened), logistic(&borrowed));
    assert!(borrowed.borrows_features());
    for (kind, newton) in [(PenaltyKind::L2, true), (PenaltyKind::ElasticNet, false)] {
        let mut req = request(Backend::Fused, Precision::F64, 300);
        req.config.model = Model {
            loss: Loss::Logistic,
            penalty: Penalty::new(kind, Some(0.01), None).unwrap(),
        };
        let (a, b) = (
            fit_dataset(&widened, &req).unwrap(),
            fit_dataset(&borrowed, &req).unwrap(),
        );
        assert_eq!(a.fit.weights, b.fit.weights, "{kind}");
        assert_eq!(a.reference, b.reference, "{kind}");
        assert_eq!(a.reference.is_some(), newton, "{kind}");
        assert_eq!(a.kkt_residual, b.kkt_residual, "{kind}");
    }
}

/// The references and the auto step walk f32 features a block of 16 384 rows at a time:
/// with three blocks (the last one short), OLS, ridge, Newton and L give exactly what they
/// give on the f64 widening.
#[test]
fn f32_features_are_widened_exactly_across_row_blocks() {
    let seed = common::fresh_seed("f32_row_blocks");
    let (src, _) = data::synthetic(&data::Synthetic {
        n: 2 * 16_384 + 7,
        p: 3,
        true_weights: None,
        sigma: 0.2,
        seed,
    })
    .unwrap();
    let x32 = src.features.to_f64().mapv(|v| (2.0 * v - 0.5) as f32);
    let widened = Dataset::new(x32.mapv(f64::from), src.targets.clone()).unwrap();
    // SAFETY: `x32` outlives `borrowed` and is not written while it lives.
    let borrowed =
        unsafe { Dataset::borrowing(x32.view(), src.targets.clone(), src.feature_names.clone()) }
            .unwrap();
    assert_eq!(borrowed.features.precision(), Precision::F32);
    use descent::reference::{newton_logistic, ridge};
    assert_eq!(
        descent::ols::ols(&borrowed).unwrap().weights,
        descent::ols::ols(&widened).unwrap().weights
    );
    assert_eq!(
        ridge(&borrowed, 0.1).unwrap(),
        ridge(&widened, 0.1).unwrap()
    );
    let squared = Model::LEAST_SQUARES;
    assert_eq!(
        squared.smoothness(&borrowed).unwrap(),
        squared.smoothness(&widened).unwrap()
    );
    let labels = src
        .targets
        .mapv(|t| f64::from(t > src.targets.mean().unwrap()));
    let (widened, borrowed) = (
        Dataset::new(widened.features.clone(), labels.clone()).unwrap(),
        Dataset::new(borrowed.features.clone(), labels).unwrap(),
    );
    assert_eq!(
        newton_logistic(&borrowed, 0.01).unwrap(),
        newton_logistic(&widened, 0.01).unwrap()
    );
    let logistic = Model {
        loss: Loss::Logistic,
        penalty: Penalty::new(PenaltyKind::L2, Some(0.01), None).unwrap(),
    };
    assert_eq!(
        logistic.smoothness(&borrowed).unwrap(),
        logistic.smoothness(&widened).unwrap()
    );
}

/// A fit of borrowed f32 features in f64 — the references, the auto step, the checks and the
/// fit itself on `fused` (the Python default) and the GPU — never holds a widened copy of
/// the matrix: at no point does it have as many bytes allocated as that copy would take
/// (n·p·8; here 25.6 MB, against about 10 MB for the references' row blocks of 16 384 rows,
/// which do not grow with n, and the n-vectors). Before the fused kernel read f32 in place, its f64 fits failed this.
/// Standardized fits too: the features are read through the column transform, and before
/// that a standardized fit held a z-scored f64 copy and failed this.
#[test]
fn fits_of_borrowed_f32_features_hold_no_widened_copy() {
    let seed = common::fresh_seed("f32_no_copy");
    let (n, p) = (100_000, 32);
    let (src, _) = data::synthetic(&data::Synthetic {
        n,
        p,
        true_weights: None,
        sigma: 0.5,
        seed,
    })
    .unwrap();
    let x32 = src.features.to_f64().mapv(|v| v as f32);
    let labels = src
        .targets
        .mapv(|t| f64::from(t > src.targets.mean().unwrap()));
    let copy = n * p * std::mem::size_of::<f64>();
    // Each reference once: OLS (no penalty), ridge and Newton (L2), KKT (elastic net).
    use PenaltyKind::{ElasticNet, None as Unpenalized, L2};
    let mut runs = vec![
        (
            Backend::Fused,
            Precision::F64,
            Loss::Squared,
            Unpenalized,
            false,
        ),
        (Backend::Fused, Precision::F64, Loss::Squared, L2, false),
        (
            Backend::Fused,
            Precision::F64,
            Loss::Squared,
            ElasticNet,
            false,
        ),
        (Backend::Fused, Precision::F64, Loss::Logistic, L2, false),
        (Backend::Fused, Precision::F32, Loss::Squared, L2, false),
        (Backend::Gpu, Precision::F32, Loss::Squared, L2, false),
        (
            Backend::Fused,
            Precision::F64,
            Loss::Squared,
            Unpenalized,
            true,
        ),
        (Backend::Fused, Precision::F32, Loss::Logistic, L2, true),
        (Backend::Gpu, Precision::F32, Loss::Squared, L2, true),
    ];
    if gpu_precision() == Precision::F64 {
        runs.push((Backend::Gpu, Precision::F64, Loss::Squared, L2, false));
        runs.push((Backend::Gpu, Precision::F64, Loss::Logistic, L2, true));
    }
    let request_for = |backend, precision, loss, penalty| {
        // Memory does not grow with epochs: a few keep the GPU runs short on lavapipe.
        let mut req = request(backend, precision, 3);
        let alpha = (penalty != Unpenalized).then_some(1e-3);
        req.config.model = Model {
            loss,
            penalty: Penalty::new(penalty, alpha, None).unwrap(),
        };
        req
    };
    let targets = |loss| match loss {
        Loss::Squared => src.targets.clone(),
        Loss::Logistic => labels.clone(),
    };
    for (backend, precision, loss, penalty, standardize) in runs {
        let mut req = request_for(backend, precision, loss, penalty);
        req.standardize = standardize;
        // The same fit on 64 rows first: opening the device and compiling this model's
        // pipelines are the process's, not the fit's.
        let small = Dataset::new(
            x32.slice(ndarray::s![..64, ..]).mapv(f64::from),
            targets(loss).slice(ndarray::s![..64]).to_owned(),
        )
        .unwrap();
        fit_dataset(&small, &req).unwrap();
        // SAFETY: `x32` outlives `ds` and is not written while it lives.
        let ds =
            unsafe { Dataset::borrowing(x32.view(), targets(loss), src.feature_names.clone()) }
                .unwrap();
        let (fit, peak) = measure_peak(|| fit_dataset(&ds, &req).unwrap());
        let what = format!("{backend} {precision} {loss:?} {penalty} standardize {standardize}");
        // Elastic net has no closed-form reference: its check is the KKT residual.
        assert_eq!(fit.reference.is_some(), penalty != ElasticNet, "{what}");
        assert!(fit.kkt_residual.is_finite(), "{what}");
        assert!(
            peak < copy,
            "{what}: {peak} bytes allocated at once, a widened copy is {copy}"
        );
        eprintln!("{what}: peak {peak} bytes (a widened copy: {copy})");
    }
}

/// Bad data through the borrowing constructor is the same one-line error.
#[test]
fn a_borrowed_matrix_is_checked_like_an_owned_one() {
    let x = ndarray::Array2::from_elem((2, 1), f64::NAN);
    let err =
        unsafe { Dataset::borrowing(x.view(), Array1::zeros(2), vec!["x1".into()]) }.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid data: feature 'x1' has a non-finite value (NaN) in row 1"
    );
}
