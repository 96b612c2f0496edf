//! Adapter discovery and selection: `--adapter INDEX|NAME`, else wgpu's environment
//! conventions (WGPU_ADAPTER_NAME, WGPU_BACKEND, WGPU_POWER_PREF), else high performance.

use crate::error::{Error, Result};
use crate::names::Setting;
use serde::Serialize;

/// How the user asked for an adapter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum AdapterChoice {
    /// WGPU_ADAPTER_NAME if set, else wgpu's choice for WGPU_POWER_PREF (default: high).
    #[default]
    Auto,
    /// Position in `descent adapters`.
    Index(usize),
    /// Case-insensitive substring of the adapter name.
    Name(String),
}

impl std::str::FromStr for AdapterChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::Config(format!(
                "{} needs an index or a name",
                Setting::Adapter.named()
            )));
        }
        Ok(match s.parse::<usize>() {
            Ok(i) => AdapterChoice::Index(i),
            Err(_) => AdapterChoice::Name(s.to_string()),
        })
    }
}

/// What `descent adapters` shows for one adapter.
#[derive(Debug, Clone, Serialize)]
pub struct AdapterSummary {
    pub index: usize,
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub shader_f64: bool,
    pub subgroups: bool,
    pub timestamp_query: bool,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroup_storage_size: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroups_per_dimension: u32,
    pub min_subgroup_size: u32,
    pub max_subgroup_size: u32,
}

/// The hint printed whenever no adapter can be used.
pub const SOFTWARE_ADAPTER_HINT: &str = "for a software adapter on Linux install Mesa's Vulkan \
     drivers (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`, which provides lavapipe)";

fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    // Primary backends unless WGPU_BACKEND says otherwise; GL adds noise and no compute value.
    desc.backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
    wgpu::Instance::new(desc)
}

fn enumerate(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
    pollster::block_on(instance.enumerate_adapters(backends))
}

fn summarize(index: usize, a: &wgpu::Adapter) -> AdapterSummary {
    let info = a.get_info();
    let (min_sg, max_sg) = (info.subgroup_min_size, info.subgroup_max_size);
    let f = a.features();
    let l = a.limits();
    AdapterSummary {
        index,
        name: info.name,
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: info.driver,
        driver_info: info.driver_info,
        shader_f64: f.contains(wgpu::Features::SHADER_F64),
        subgroups: f.contains(wgpu::Features::SUBGROUP),
        timestamp_query: f.contains(wgpu::Features::TIMESTAMP_QUERY),
        max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
        max_buffer_size: l.max_buffer_size,
        max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
        max_compute_invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
        max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
        min_subgroup_size: min_sg,
        max_subgroup_size: max_sg,
    }
}

/// Every adapter wgpu can see, in a stable order.
pub fn list_adapters() -> Vec<AdapterSummary> {
    enumerate(&instance())
        .iter()
        .enumerate()
        .map(|(i, a)| summarize(i, a))
        .collect()
}

fn describe(list: &[AdapterSummary]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|a| {
            format!(
                "[{}] {} ({}, {})",
                a.index, a.name, a.backend, a.device_type
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Pick an adapter; every failure is one line naming what exists and how to get one.
pub fn select_adapter(choice: &AdapterChoice) -> Result<wgpu::Adapter> {
    let instance = instance();
    let adapters = enumerate(&instance);
    let summaries: Vec<_> = adapters
        .iter()
        .enumerate()
        .map(|(i, a)| summarize(i, a))
        .collect();
    if adapters.is_empty() {
        return Err(Error::Adapter(format!(
            "no GPU adapter found; {SOFTWARE_ADAPTER_HINT}"
        )));
    }
    let by_name = |name: &str, source: &str| {
        let needle = name.to_lowercase();
        summaries
            .iter()
            .position(|s| s.name.to_lowercase().contains(&needle))
            .map(|i| adapters[i].clone())
            .ok_or_else(|| {
                Error::Adapter(format!(
                    "no adapter matches {source} '{name}'; available: {}; {SOFTWARE_ADAPTER_HINT}",
                    describe(&summaries)
                ))
            })
    };
    match choice {
        AdapterChoice::Index(i) => adapters.get(*i).cloned().ok_or_else(|| {
            Error::Adapter(format!(
                "no adapter with index {i}; available: {}",
                describe(&summaries)
            ))
        }),
        AdapterChoice::Name(name) => by_name(name, &Setting::Adapter.named().to_string()),
        AdapterChoice::Auto => {
            if let Ok(name) = std::env::var("WGPU_ADAPTER_NAME") {
                return by_name(&name, "WGPU_ADAPTER_NAME");
            }
            let pref =
                wgpu::PowerPreference::from_env().unwrap_or(wgpu::PowerPreference::HighPerformance);
            let options = wgpu::RequestAdapterOptions {
                power_preference: pref,
                ..Default::default()
            };
            // wgpu may decline (e.g. only a CPU adapter exists): fall back to the first one.
            Ok(pollster::block_on(instance.request_adapter(&options))
                .unwrap_or_else(|_| adapters[0].clone()))
        }
    }
}

/// Summary of an adapter already selected (index unknown: reported as 0).
pub fn summary_of(adapter: &wgpu::Adapter) -> AdapterSummary {
    summarize(0, adapter)
}
