//! `GET /api/devices`, `POST /api/devices/pairing`, `DELETE /api/devices/{id}`.

use rollcoach_engine::Time;
use serde::{Deserialize, Serialize};

/// A device that may use this server (revoked ones too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Device {
    /// Its public id (random, short): `DELETE /api/devices/{id}`,
    /// `rollcoach devices revoke ID`.
    pub id: String,
    /// A name for people: the kind of browser it paired with.
    pub name: String,
    /// How it was let in.
    pub via: String,
    /// When it was paired (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub created_at: Time,
    /// When it was last let in (kept to within a few minutes), if ever.
    #[cfg_attr(feature = "schema", schemars(with = "Option<u64>"))]
    pub last_seen_at: Option<Time>,
    /// When it was revoked: from then on it is refused.
    #[cfg_attr(feature = "schema", schemars(with = "Option<u64>"))]
    pub revoked_at: Option<Time>,
    /// It is the device that asked.
    pub this_device: bool,
}

impl Device {
    /// The stored device's answer; `this_device`: it made the request.
    pub fn of(d: rollcoach_store::Device, this_device: bool) -> Device {
        Device {
            id: d.id,
            name: d.name,
            via: d.via,
            created_at: d.created_at,
            last_seen_at: d.last_seen_at,
            revoked_at: d.revoked_at,
            this_device,
        }
    }
}

/// `GET /api/devices`: oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeviceList {
    /// The devices.
    pub devices: Vec<Device>,
}

/// `POST /api/devices/pairing`: a one-time link that pairs one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PairingLink {
    /// The link's path (`/pair?token=...`).
    pub path: String,
    /// The link on the address the request came to.
    pub url: String,
    /// When it stops working, used or not (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub expires_at: Time,
    /// The link as a QR code, an SVG image (null if the link is too long
    /// for one).
    pub qr_svg: Option<String>,
}
