//! A Palo Alto firewall read from its own configuration (placeholder until the importer lands).

use super::strongswan::StrongswanDevice;
use super::{DeviceError, DeviceSource};

pub fn load(_source: &DeviceSource) -> Result<StrongswanDevice, Vec<DeviceError>> {
    Err(vec![DeviceError { line: None, element: String::new(), message: "the PAN-OS importer is not built yet".into(), hint: None }])
}
