//! An opened adapter: device, queue, capabilities and a cache of compiled kernels; and the
//! process-wide cache of opened adapters ([`GpuContext::shared`]), so long-lived callers (a
//! Python estimator, a server) open a device once, not on every fit.

use super::adapter::{select_adapter, summary_of, AdapterChoice, AdapterSummary};
use super::kernels::{Kernels, Reduction, ShaderSpec};
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Devices opened by this process so far (every [`GpuContext::new_without`]).
static OPENED: AtomicUsize = AtomicUsize::new(0);

/// The environment variables that steer [`AdapterChoice::Auto`]: part of the cache key, so
/// changing them between fits opens the adapter they now name.
const ADAPTER_ENV: [&str; 3] = ["WGPU_ADAPTER_NAME", "WGPU_BACKEND", "WGPU_POWER_PREF"];

type ContextKey = (AdapterChoice, Vec<Option<String>>);

fn shared_contexts() -> &'static Mutex<HashMap<ContextKey, Arc<GpuContext>>> {
    static CACHE: OnceLock<Mutex<HashMap<ContextKey, Arc<GpuContext>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A device opened on one adapter with its real limits and the optional features we use.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: AdapterSummary,
    pub features: wgpu::Features,
    pub limits: wgpu::Limits,
    kernels: Mutex<HashMap<ShaderSpec, Arc<Kernels>>>,
    /// Set by wgpu's device-lost callback: a lost device is dropped from the shared cache.
    lost: Arc<AtomicBool>,
}

/// Run `f` inside validation and out-of-memory error scopes, so wgpu errors become
/// `Error::Gpu` instead of the default panic.
pub(crate) fn scoped<T>(device: &wgpu::Device, f: impl FnOnce() -> T) -> Result<T> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let out = f();
    let v = pollster::block_on(validation.pop());
    let o = pollster::block_on(oom.pop());
    match v.or(o) {
        Some(e) => Err(Error::Gpu(
            error_chain(&e)
                .lines()
                .next()
                .unwrap_or("unknown")
                .to_string(),
        )),
        None => Ok(out),
    }
}

/// A wgpu error with its description and sources (its Display says only "Validation Error").
fn error_chain(e: &wgpu::Error) -> String {
    let mut text = match e {
        wgpu::Error::Validation { description, .. } => description.clone(),
        other => other.to_string(),
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl GpuContext {
    /// Open the adapter `choice` names, with every optional feature it has.
    pub fn new(choice: &AdapterChoice) -> Result<GpuContext> {
        GpuContext::new_without(choice, wgpu::Features::empty())
    }

    /// Open the adapter `choice` names without the optional features in `without`, as if
    /// it lacked them (e.g. SHADER_F64, to check what an f32-only adapter refuses).
    pub fn new_without(choice: &AdapterChoice, without: wgpu::Features) -> Result<GpuContext> {
        let adapter = select_adapter(choice)?;
        let mut info = summary_of(&adapter);
        let wanted =
            wgpu::Features::SHADER_F64 | wgpu::Features::SUBGROUP | wgpu::Features::TIMESTAMP_QUERY;
        let features = adapter.features() & (wanted - without);
        info.shader_f64 = features.contains(wgpu::Features::SHADER_F64);
        info.subgroups = features.contains(wgpu::Features::SUBGROUP);
        info.timestamp_query = features.contains(wgpu::Features::TIMESTAMP_QUERY);
        // The adapter's real limits: wgpu's defaults would cap bindings at 128 MiB.
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("descent"),
            required_features: features,
            required_limits: limits.clone(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        }))
        .map_err(|e| Error::Adapter(format!("cannot open adapter '{}': {e}", info.name)))?;
        // Errors outside our scopes must not abort the process; they are reported by the
        // scope of the operation that follows.
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| {
            log::error!("GPU error: {e}");
        }));
        let lost = Arc::new(AtomicBool::new(false));
        let flag = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            // Dropping a device reports `Destroyed`: not a loss anyone needs to hear about.
            if reason != wgpu::DeviceLostReason::Destroyed {
                log::error!("GPU device lost: {message}");
            }
            flag.store(true, Ordering::Relaxed);
        });
        OPENED.fetch_add(1, Ordering::Relaxed);
        Ok(GpuContext {
            device,
            queue,
            info,
            features,
            limits,
            kernels: Mutex::new(HashMap::new()),
            lost,
        })
    }

    /// The device `choice` names, opened once per process and shared by every caller
    /// ([`crate::make_solver`], and so every fit) until it is lost; then it is opened again.
    /// [`AdapterChoice::Auto`] is keyed together with the WGPU_* variables that steer it.
    pub fn shared(choice: &AdapterChoice) -> Result<Arc<GpuContext>> {
        let env = ADAPTER_ENV
            .iter()
            .map(|v| std::env::var(v).ok())
            .collect::<Vec<_>>();
        let key = (choice.clone(), env);
        // Held while opening, so two threads asking at once open one device.
        let mut cache = shared_contexts()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(ctx) = cache.get(&key).filter(|c| !c.is_lost()) {
            return Ok(ctx.clone());
        }
        let ctx = Arc::new(GpuContext::new(choice)?);
        cache.insert(key, ctx.clone());
        Ok(ctx)
    }

    /// Devices this process has opened so far (shared or not).
    pub fn opened() -> usize {
        OPENED.load(Ordering::Relaxed)
    }

    /// True once wgpu has reported the device lost.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Whether the device was opened with every feature in `f`.
    pub fn has(&self, f: wgpu::Features) -> bool {
        self.features.contains(f)
    }

    /// Shader builds compiled so far (cached, one per [`ShaderSpec`]).
    pub fn kernels_built(&self) -> usize {
        self.kernels.lock().expect("kernel cache").len()
    }

    /// Compiled kernels for `p` features and `loss`, full-batch or mini-batch (every penalty
    /// and optimizer: they are picked at run time); subgroups when present and compilable,
    /// else tree.
    pub fn kernels(
        &self,
        p: u32,
        f64: bool,
        loss: crate::model::Loss,
        minibatch: bool,
        reduction: Option<Reduction>,
    ) -> Result<(Arc<Kernels>, Reduction)> {
        let mut last_err = None;
        for r in self.reductions(reduction)? {
            let spec = ShaderSpec {
                p,
                f64,
                reduction: r,
                loss,
                minibatch,
            };
            match self.build(spec) {
                Ok(k) => return Ok((k, r)),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.expect("at least one candidate was tried"))
    }

    /// The reductions to try, in order: `forced` alone (refused where the adapter lacks it),
    /// else subgroups where the adapter has them with the tree as the fallback, else the
    /// tree.
    pub(crate) fn reductions(&self, forced: Option<Reduction>) -> Result<Vec<Reduction>> {
        let subgroups = self.has(wgpu::Features::SUBGROUP);
        Ok(match forced {
            Some(Reduction::Subgroup) if !subgroups => {
                return Err(Error::Unsupported(format!(
                    "adapter '{}' has no subgroup operations",
                    self.info.name
                )))
            }
            Some(r) => vec![r],
            None if subgroups => vec![Reduction::Subgroup, Reduction::Tree],
            None => vec![Reduction::Tree],
        })
    }

    /// The compiled build of `spec`, from the cache or compiled now (inside error scopes).
    pub(crate) fn build(&self, spec: ShaderSpec) -> Result<Arc<Kernels>> {
        if let Some(k) = self.kernels.lock().expect("kernel cache").get(&spec) {
            return Ok(k.clone());
        }
        let k = Arc::new(scoped(&self.device, || Kernels::new(&self.device, spec))?);
        self.kernels
            .lock()
            .expect("kernel cache")
            .insert(spec, k.clone());
        Ok(k)
    }
}
