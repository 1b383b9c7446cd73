//! Geo commands: points stored in sorted sets.
//!
//! A point's score is Redis's 52-bit geohash: latitude (within the Web
//! Mercator limits, ±85.05112878) and longitude (±180) each scaled to 26
//! bits, then interleaved, latitude in the even bits. So GEOADD is ZADD with
//! computed scores, every sorted set command works on a geo key, and the
//! scores are the very integers Redis stores.
//!
//! A search looks at the geohash box around the center, at the precision
//! the radius calls for, and its eight neighbours; each box is a score
//! range, and each point in it is checked against the shape by its exact
//! distance. The arithmetic is Redis's step for step (the same rounding of
//! the same double operations, glibc's `sin`, `cos` and `asin`, Redis's
//! Earth radius), so that the same points come out, in the same order, with
//! the same digits: distances with four decimals, coordinates as `%.17Lf`
//! less its trailing zeros.

use crate::cmd::zset::{parse_score, read, store_result, zadd_apply, ZaddFlags};
use crate::command::key_at;
use crate::command::{eq_ic, flags::*, Command, Group, Keys, Run};
use crate::error::{CmdError, CmdResult, NOT_FLOAT, NOT_INTEGER, SYNTAX};
use crate::num;
use crate::reply::Reply;
use crate::shard::Ctx;
use crate::types::zset::ZSet;

const UNIT: CmdError = CmdError::new("ERR unsupported unit provided. please use M, KM, FT, MI");
const NEED_RADIUS: CmdError = CmdError::new("ERR need numeric radius");
const NEGATIVE_RADIUS: CmdError = CmdError::new("ERR radius cannot be negative");
const NEED_WIDTH: CmdError = CmdError::new("ERR need numeric width");
const NEED_HEIGHT: CmdError = CmdError::new("ERR need numeric height");
const NEGATIVE_BOX: CmdError = CmdError::new("ERR height or width cannot be negative");
const NO_MEMBER: CmdError = CmdError::new("ERR could not decode requested zset member");
const COUNT_POSITIVE: CmdError = CmdError::new("ERR COUNT must be > 0");
const ANY_NEEDS_COUNT: CmdError = CmdError::new("ERR the ANY argument requires COUNT argument");

const GEO: Command = Command { group: Group::Geo, keys: Keys::ONE, ..Command::DEFAULT };

const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const BOX_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";

pub static COMMANDS: &[Command] = &[
    Command {
        name: "geoadd",
        arity: -5,
        flags: WRITE | DENYOOM,
        since: "3.2.0",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        summary: "Adds points to a geospatial index, creating the key if needed.",
        key_specs: &[key_at(1, "RW UPDATE")],
        run: Run::Shard(geoadd),
        ..GEO
    },
    Command {
        name: "geodist",
        arity: -4,
        flags: READONLY,
        since: "3.2.0",
        complexity: "O(log(N))",
        summary: "Returns the distance between two points of a geospatial index.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(geodist),
        ..GEO
    },
    Command {
        name: "geohash",
        arity: -2,
        flags: READONLY,
        since: "3.2.0",
        complexity:
            "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
        summary: "Returns standard geohash strings of points of a geospatial index.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(geohash),
        ..GEO
    },
    Command {
        name: "geopos",
        arity: -2,
        flags: READONLY,
        since: "3.2.0",
        complexity: "O(N) where N is the number of members requested.",
        summary: "Returns the longitude and latitude of points of a geospatial index.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(geopos),
        ..GEO
    },
    Command {
        name: "georadius",
        arity: -6,
        flags: WRITE | DENYOOM | MOVABLE_KEYS,
        since: "3.2.0",
        complexity: SEARCH_COMPLEXITY,
        summary: "Finds points within a radius of a position, optionally storing them.",
        key_specs: &[key_at(1, "RO ACCESS")],
        key_finder: Some(radius_keys),
        run: Run::Shard(georadius),
        ..GEO
    },
    Command {
        name: "georadiusbymember",
        arity: -5,
        flags: WRITE | DENYOOM | MOVABLE_KEYS,
        since: "3.2.0",
        complexity: SEARCH_COMPLEXITY,
        summary: "Finds points within a radius of a member, optionally storing them.",
        key_specs: &[key_at(1, "RO ACCESS")],
        key_finder: Some(radius_keys),
        run: Run::Shard(georadiusbymember),
        ..GEO
    },
    Command {
        name: "georadius_ro",
        arity: -6,
        flags: READONLY,
        since: "3.2.10",
        complexity: SEARCH_COMPLEXITY,
        summary: "Finds points within a radius of a position.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(georadius_ro),
        ..GEO
    },
    Command {
        name: "georadiusbymember_ro",
        arity: -5,
        flags: READONLY,
        since: "3.2.10",
        complexity: SEARCH_COMPLEXITY,
        summary: "Finds points within a radius of a member.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(georadiusbymember_ro),
        ..GEO
    },
    Command {
        name: "geosearch",
        arity: -7,
        flags: READONLY,
        since: "6.2.0",
        complexity: BOX_COMPLEXITY,
        summary: "Finds points within a circle or a box around a position or a member.",
        key_specs: &[key_at(1, "RO ACCESS")],
        run: Run::Shard(geosearch),
        ..GEO
    },
    Command {
        name: "geosearchstore",
        arity: -8,
        flags: WRITE | DENYOOM,
        keys: Keys::TWO,
        since: "6.2.0",
        complexity: BOX_COMPLEXITY,
        summary: "Stores the points within a circle or a box around a position or a member.",
        key_specs: &[key_at(1, "OW UPDATE"), key_at(2, "RO ACCESS")],
        run: Run::Shard(geosearchstore),
        ..GEO
    },
];

/// GEORADIUS's keys: the source, and the last `STORE`/`STOREDIST` key after
/// the fixed arguments (Redis's `georadiusGetKeys`).
fn radius_keys(argv: &[&[u8]]) -> Vec<usize> {
    let mut stored = None;
    let mut i = 5;
    while i < argv.len() {
        if (eq_ic(argv[i], "store") || eq_ic(argv[i], "storedist")) && i + 1 < argv.len() {
            stored = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    let mut keys = vec![1];
    keys.extend(stored);
    keys
}

// ---------------------------------------------------------------------------
// Geohash arithmetic.

const LONG_MIN: f64 = -180.0;
const LONG_MAX: f64 = 180.0;
const LAT_MIN: f64 = -85.05112878;
const LAT_MAX: f64 = 85.05112878;
const STEP_MAX: u8 = 26;
/// Redis's Earth radius in meters (the quadratic mean of WGS-84's).
const EARTH_RADIUS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Span {
    min: f64,
    max: f64,
}

const LONG_SPAN: Span = Span { min: LONG_MIN, max: LONG_MAX };
const LAT_SPAN: Span = Span { min: LAT_MIN, max: LAT_MAX };

/// A geohash: `step` bits of each coordinate, interleaved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Hash {
    bits: u64,
    step: u8,
}

impl Hash {
    const ZERO: Hash = Hash { bits: 0, step: 0 };

    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash as a 52-bit score.
    fn align52(&self) -> u64 {
        self.bits << (52 - self.step as u32 * 2)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Area {
    lon: Span,
    lat: Span,
}

/// Spreads the bits of `x` to the even positions and those of `y` to the odd.
fn interleave(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = v as u64;
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// The inverse: the even bits in the low half, the odd in the high half.
fn deinterleave(v: u64) -> u64 {
    fn gather(v: u64) -> u64 {
        let mut v = v & 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF
    }
    gather(v) | (gather(v >> 1) << 32)
}

fn encode(lon_span: Span, lat_span: Span, lon: f64, lat: f64, step: u8) -> Option<Hash> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_span.min || lat > lat_span.max || lon < lon_span.min || lon > lon_span.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_span.min) / (lat_span.max - lat_span.min) * scale;
    let lon_offset = (lon - lon_span.min) / (lon_span.max - lon_span.min) * scale;
    Some(Hash { bits: interleave(lat_offset as u32, lon_offset as u32), step })
}

fn decode(lon_span: Span, lat_span: Span, hash: Hash) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave(hash.bits);
    let (ilat, ilon) = (sep as u32, (sep >> 32) as u32);
    let div = (1u64 << hash.step) as f64;
    let lat_scale = lat_span.max - lat_span.min;
    let lon_scale = lon_span.max - lon_span.min;
    Some(Area {
        lat: Span {
            min: lat_span.min + (ilat as f64 / div) * lat_scale,
            // `+ 1` in 32 bits, as in Redis: the last cell's upper edge wraps to 0.
            max: lat_span.min + (ilat.wrapping_add(1) as f64 / div) * lat_scale,
        },
        lon: Span {
            min: lon_span.min + (ilon as f64 / div) * lon_scale,
            max: lon_span.min + (ilon.wrapping_add(1) as f64 / div) * lon_scale,
        },
    })
}

/// A score as C's `(uint64_t)` cast of a double gives it on x86-64: below
/// 2^63 through a signed conversion (so -1 is all ones, and anything out of
/// range is 2^63), above it offset by 2^63. Only a score that no GEOADD
/// stored (ZADD on a geo key) tells the difference.
fn score_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if score.is_nan() {
        1 << 63
    } else if score < TWO_63 {
        score as i64 as u64
    } else if score - TWO_63 < TWO_63 {
        ((score - TWO_63) as i64 as u64) ^ (1 << 63)
    } else {
        0
    }
}

/// The center of a stored point's cell, as `[longitude, latitude]`.
fn decode_score(score: f64) -> [f64; 2] {
    let hash = Hash { bits: score_bits(score), step: STEP_MAX };
    let a = decode(LONG_SPAN, LAT_SPAN, hash).unwrap_or_default();
    let lon = ((a.lon.min + a.lon.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.lat.min + a.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// The score GEOADD stores for a point (already checked to be in range).
fn score_of(lon: f64, lat: f64) -> f64 {
    encode(LONG_SPAN, LAT_SPAN, lon, lat, STEP_MAX).map_or(0, |h| h.align52()) as f64
}

/// Steps the longitude (odd) bits by `d`, wrapping within `step` bits.
fn move_x(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - h.step as u32 * 2;
    let mut x = h.bits & 0xAAAA_AAAA_AAAA_AAAA;
    let y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xAAAA_AAAA_AAAA_AAAAu64 >> shift;
    h.bits = x | y;
}

/// Steps the latitude (even) bits by `d`.
fn move_y(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - h.step as u32 * 2;
    let x = h.bits & 0xAAAA_AAAA_AAAA_AAAA;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0xAAAA_AAAA_AAAA_AAAAu64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    h.bits = x | y;
}

fn moved(h: Hash, dx: i8, dy: i8) -> Hash {
    let mut n = h;
    move_x(&mut n, dx);
    move_y(&mut n, dy);
    n
}

/// The boxes searched, in Redis's order: the center, N, S, E, W, NE, NW,
/// SE, SW. Boxes found useless are zero.
type Boxes = [Hash; 9];

fn estimate_steps(range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return 26;
    }
    let mut range = range_m;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Circle { radius: f64 },
    Rect { width: f64, height: f64 },
}

/// What a search looks for: a circle or a box (in the unit's own numbers)
/// around `center`, and the unit's size in meters.
#[derive(Clone, Copy, Debug)]
struct Shape {
    center: [f64; 2],
    conversion: f64,
    kind: Kind,
}

impl Shape {
    /// `[min lon, min lat, max lon, max lat]` of the shape.
    fn bounding_box(&self) -> [f64; 4] {
        let [lon, lat] = self.center;
        let (h, w) = match self.kind {
            Kind::Circle { radius } => (self.conversion * radius, self.conversion * radius),
            Kind::Rect { width, height } => {
                (self.conversion * (height / 2.0), self.conversion * (width / 2.0))
            }
        };
        let lat_delta = rad_deg(h / EARTH_RADIUS);
        let long_delta_top = rad_deg(w / EARTH_RADIUS / deg_rad(lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(w / EARTH_RADIUS / deg_rad(lat - lat_delta).cos());
        let delta = if lat < 0.0 { long_delta_bottom } else { long_delta_top };
        [lon - delta, lat - lat_delta, lon + delta, lat + lat_delta]
    }

    /// The geohash boxes that cover the shape (Redis's
    /// `geohashCalculateAreasByShapeWGS84`).
    fn boxes(&self) -> Boxes {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let [lon, lat] = self.center;
        let radius_m = match self.kind {
            Kind::Circle { radius } => radius,
            Kind::Rect { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps(radius_m, lat);
        let cover = |steps: u8| -> (Hash, Area) {
            let hash = encode(LONG_SPAN, LAT_SPAN, lon, lat, steps).unwrap_or(Hash::ZERO);
            (hash, decode(LONG_SPAN, LAT_SPAN, hash).unwrap_or_default())
        };
        let (mut hash, mut area) = cover(steps);
        let dec = |h: Hash| decode(LONG_SPAN, LAT_SPAN, h).unwrap_or_default();
        let (north, south) = (dec(moved(hash, 0, 1)), dec(moved(hash, 0, -1)));
        let (east, west) = (dec(moved(hash, 1, 0)), dec(moved(hash, -1, 0)));
        let decrease = north.lat.max < max_lat
            || south.lat.min > min_lat
            || east.lon.max < max_lon
            || west.lon.min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            (hash, area) = cover(steps);
        }
        let mut b: Boxes = [
            hash,
            moved(hash, 0, 1),
            moved(hash, 0, -1),
            moved(hash, 1, 0),
            moved(hash, -1, 0),
            moved(hash, 1, 1),
            moved(hash, -1, 1),
            moved(hash, 1, -1),
            moved(hash, -1, -1),
        ];
        const N: usize = 1;
        const S: usize = 2;
        const E: usize = 3;
        const W: usize = 4;
        const NE: usize = 5;
        const NW: usize = 6;
        const SE: usize = 7;
        const SW: usize = 8;
        if steps >= 2 {
            if area.lat.min < min_lat {
                for i in [S, SW, SE] {
                    b[i] = Hash::ZERO;
                }
            }
            if area.lat.max > max_lat {
                for i in [N, NE, NW] {
                    b[i] = Hash::ZERO;
                }
            }
            if area.lon.min < min_lon {
                for i in [W, SW, NW] {
                    b[i] = Hash::ZERO;
                }
            }
            if area.lon.max > max_lon {
                for i in [E, SE, NE] {
                    b[i] = Hash::ZERO;
                }
            }
        }
        b
    }

    /// The distance in meters from the center to `xy`, if `xy` is inside.
    fn distance_if_within(&self, xy: [f64; 2]) -> Option<f64> {
        let [x1, y1] = self.center;
        let [x2, y2] = xy;
        match self.kind {
            Kind::Circle { radius } => {
                let d = distance(x1, y1, x2, y2);
                (d <= radius * self.conversion).then_some(d)
            }
            Kind::Rect { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                if lat_distance(y2, y1) > h / 2.0 {
                    return None;
                }
                if distance(x2, y2, x1, y2) > w / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, x2, y2))
            }
        }
    }
}

fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The haversine distance in meters, as Redis computes it.
fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

// ---------------------------------------------------------------------------
// Arguments and replies.

/// A longitude and latitude pair, with Redis's limits and error text.
fn parse_lonlat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let lon = parse_score(lon).ok_or(NOT_FLOAT)?;
    let lat = parse_score(lat).ok_or(NOT_FLOAT)?;
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return Err(CmdError::owned(format!("ERR invalid longitude,latitude pair {lon:.6},{lat:.6}")));
    }
    Ok([lon, lat])
}

/// A unit's size in meters.
fn parse_unit(u: &[u8]) -> Result<f64, CmdError> {
    if eq_ic(u, "m") {
        Ok(1.0)
    } else if eq_ic(u, "km") {
        Ok(1000.0)
    } else if eq_ic(u, "ft") {
        Ok(0.3048)
    } else if eq_ic(u, "mi") {
        Ok(1609.34)
    } else {
        Err(UNIT)
    }
}

/// `radius unit`: the radius and the unit's size in meters.
fn parse_distance(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = parse_score(radius).ok_or(NEED_RADIUS)?;
    if r < 0.0 {
        return Err(NEGATIVE_RADIUS);
    }
    Ok((r, parse_unit(unit)?))
}

/// Redis's `fixedpoint_d2string(d, 4)`: the value times 10^4 rounded to an
/// integer (ties to even), printed with four decimals.
pub(crate) fn fixed4(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_string();
    }
    let v = (d * 10000.0).round_ties_even();
    // Out of i64 range converts, as llrint does on x86, to the most negative.
    let v = if (-9.223372036854776e18..9.223372036854776e18).contains(&v) { v as i64 } else { i64::MIN };
    let (neg, mag) = (v < 0, v.unsigned_abs());
    let digits = format!("{:05}", mag);
    let (int, frac) = digits.split_at(digits.len() - 4);
    format!("{}{int}.{frac}", if neg { "-" } else { "" })
}

/// A coordinate as Redis's `addReplyHumanLongDouble` writes it: `%.17Lf`
/// less its trailing zeros, as a bulk string in RESP2 and a double in RESP3.
fn reply_coord(out: &mut Reply<'_>, d: f64) {
    use rustc_apfloat::ieee::{Double, X87DoubleExtended};
    use rustc_apfloat::{Float, FloatConvert};
    let mut loses = false;
    let wide: X87DoubleExtended = Double::from_bits(d.to_bits() as u128).convert(&mut loses).value;
    let text = num::long_double::format(wide);
    if out.resp3() {
        let mut line = Vec::with_capacity(text.len() + 3);
        line.push(b',');
        line.extend_from_slice(&text);
        line.extend_from_slice(b"\r\n");
        out.raw(&line);
    } else {
        out.bulk(&text);
    }
}

/// The 11-character standard geohash of a stored point.
fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score);
    let std_lon = Span { min: -180.0, max: 180.0 };
    let std_lat = Span { min: -90.0, max: 90.0 };
    let bits = encode(std_lon, std_lat, lon, lat, 26).map_or(0, |h| h.bits);
    let mut buf = [b'0'; 11];
    for (i, c) in buf.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    buf
}

// ---------------------------------------------------------------------------
// Commands.

/// GEOADD key [NX|XX] [CH] longitude latitude member ...: ZADD with the
/// points' geohashes as scores.
fn geoadd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut f = ZaddFlags::default();
    let mut i = 2;
    while i < argv.len() {
        if eq_ic(argv[i], "nx") {
            f.nx = true;
        } else if eq_ic(argv[i], "xx") {
            f.xx = true;
        } else if eq_ic(argv[i], "ch") {
            f.ch = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &argv[i..];
    if rest.len() % 3 != 0 || (f.xx && f.nx) || rest.is_empty() {
        return Err(SYNTAX);
    }
    let mut pairs = Vec::with_capacity(rest.len() / 3);
    for p in rest.chunks_exact(3) {
        let [lon, lat] = parse_lonlat(p[0], p[1])?;
        pairs.push((score_of(lon, lat), p[2]));
    }
    zadd_apply(ctx, argv[1], f, &pairs)
}

/// GEODIST key member1 member2 [unit]: null unless both members exist.
fn geodist(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let to_meter = match argv.len() {
        5 => parse_unit(argv[4])?,
        n if n > 5 => return Err(SYNTAX),
        _ => 1.0,
    };
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let Some(z) = read(db, argv[1], now)? else {
        out.null();
        return Ok(());
    };
    match (z.score(argv[2]), z.score(argv[3])) {
        (Some(a), Some(b)) => {
            let [x1, y1] = decode_score(a);
            let [x2, y2] = decode_score(b);
            out.bulk(fixed4(distance(x1, y1, x2, y2) / to_meter).as_bytes());
        }
        _ => out.null(),
    }
    Ok(())
}

fn geohash(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let z = read(db, argv[1], now)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.bulk(&geohash_string(s)),
            None => out.null(),
        }
    }
    Ok(())
}

fn geopos(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let z = read(db, argv[1], now)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => {
                let [lon, lat] = decode_score(s);
                out.array(2);
                reply_coord(out, lon);
                reply_coord(out, lat);
            }
            None => out.null_array(),
        }
    }
    Ok(())
}

/// Which form of the search command runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// GEORADIUS[_RO]: center and radius as fixed arguments.
    RadiusCoords { store: bool },
    /// GEORADIUSBYMEMBER[_RO].
    RadiusMember { store: bool },
    /// GEOSEARCH, or GEOSEARCHSTORE with `store`.
    Search { store: bool },
}

fn georadius(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Form::RadiusCoords { store: true })
}

fn georadiusbymember(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Form::RadiusMember { store: true })
}

fn georadius_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Form::RadiusCoords { store: false })
}

fn georadiusbymember_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Form::RadiusMember { store: false })
}

fn geosearch(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Form::Search { store: false })
}

fn geosearchstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 2, Form::Search { store: true })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A point found by a search.
struct Found<'a> {
    member: &'a [u8],
    score: f64,
    xy: [f64; 2],
    /// Meters until the reply, then the request's unit.
    dist: f64,
}

/// The center of a search at `member`'s position.
fn member_center(z: &ZSet, member: &[u8]) -> Result<[f64; 2], CmdError> {
    z.score(member).map(decode_score).ok_or(NO_MEMBER)
}

/// The GEORADIUS family and GEOSEARCH[STORE], with Redis's checks in its
/// order: the source's type, the fixed arguments, each option as it comes,
/// then the combinations.
fn search_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], src: usize, form: Form) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    let z = read(db, argv[src], now)?;
    let mut center: Option<[f64; 2]> = None;
    let mut kind: Option<(Kind, f64)> = None;
    let mut store_key: Option<&[u8]> = None;
    let mut storedist = false;
    let base = match form {
        Form::RadiusCoords { .. } => {
            center = Some(parse_lonlat(argv[2], argv[3])?);
            let (r, conv) = parse_distance(argv[4], argv[5])?;
            kind = Some((Kind::Circle { radius: r }, conv));
            6
        }
        Form::RadiusMember { .. } => {
            if let Some(z) = z {
                center = Some(member_center(z, argv[2])?);
                let (r, conv) = parse_distance(argv[3], argv[4])?;
                kind = Some((Kind::Circle { radius: r }, conv));
            }
            5
        }
        Form::Search { store } => {
            if store {
                store_key = Some(argv[1]);
                3
            } else {
                2
            }
        }
    };
    let search = matches!(form, Form::Search { .. });
    let can_store = matches!(form, Form::RadiusCoords { store: true } | Form::RadiusMember { store: true });
    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let rest = &argv[base.min(argv.len())..];
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i];
        let left = rest.len() - i - 1;
        if eq_ic(a, "withdist") {
            withdist = true;
        } else if eq_ic(a, "withhash") {
            withhash = true;
        } else if eq_ic(a, "withcoord") {
            withcoord = true;
        } else if eq_ic(a, "any") {
            any = true;
        } else if eq_ic(a, "asc") {
            sort = Sort::Asc;
        } else if eq_ic(a, "desc") {
            sort = Sort::Desc;
        } else if eq_ic(a, "count") && left >= 1 {
            count = num::parse_i64(rest[i + 1]).ok_or(NOT_INTEGER)?;
            if count <= 0 {
                return Err(COUNT_POSITIVE);
            }
            i += 1;
        } else if (eq_ic(a, "store") || eq_ic(a, "storedist")) && left >= 1 && can_store {
            store_key = Some(rest[i + 1]);
            storedist = eq_ic(a, "storedist");
            i += 1;
        } else if eq_ic(a, "storedist") && matches!(form, Form::Search { store: true }) {
            storedist = true;
        } else if eq_ic(a, "frommember") && left >= 1 && search && !fromloc {
            if let Some(z) = z {
                center = Some(member_center(z, rest[i + 1])?);
            }
            frommember = true;
            i += 1;
        } else if eq_ic(a, "fromlonlat") && left >= 2 && search && !frommember {
            center = Some(parse_lonlat(rest[i + 1], rest[i + 2])?);
            fromloc = true;
            i += 2;
        } else if eq_ic(a, "byradius") && left >= 2 && search && !bybox {
            let (r, conv) = parse_distance(rest[i + 1], rest[i + 2])?;
            kind = Some((Kind::Circle { radius: r }, conv));
            byradius = true;
            i += 2;
        } else if eq_ic(a, "bybox") && left >= 3 && search && !byradius {
            let w = parse_score(rest[i + 1]).ok_or(NEED_WIDTH)?;
            let h = parse_score(rest[i + 2]).ok_or(NEED_HEIGHT)?;
            if h < 0.0 || w < 0.0 {
                return Err(NEGATIVE_BOX);
            }
            let conv = parse_unit(rest[i + 3])?;
            kind = Some((Kind::Rect { width: w, height: h }, conv));
            bybox = true;
            i += 3;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    if store_key.is_some() && (withdist || withhash || withcoord) {
        let what = if matches!(form, Form::Search { store: true }) {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(CmdError::owned(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(argv[0]);
    if search && !(frommember || fromloc) {
        return Err(CmdError::owned(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if search && !(byradius || bybox) {
        return Err(CmdError::owned(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if any && count == 0 {
        return Err(ANY_NEEDS_COUNT);
    }
    let (Some(z), Some(center), Some((kind, conversion))) = (z, center, kind) else {
        match store_key {
            Some(dst) => store_result(ctx, dst, Vec::new(), 0),
            None => out.array(0),
        }
        return Ok(());
    };
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape { center, conversion, kind };
    let limit = if any { count as usize } else { 0 };
    let mut found = collect(z, &shape, limit);
    if found.is_empty() && store_key.is_none() {
        out.array(0);
        return Ok(());
    }
    let returned = if count == 0 { found.len() } else { found.len().min(count as usize) };
    match sort {
        Sort::Asc => found.sort_by(|a, b| a.dist.partial_cmp(&b.dist).unwrap_or(std::cmp::Ordering::Equal)),
        Sort::Desc => found.sort_by(|a, b| b.dist.partial_cmp(&a.dist).unwrap_or(std::cmp::Ordering::Equal)),
        Sort::None => {}
    }
    found.truncate(returned);
    for p in found.iter_mut() {
        p.dist /= conversion;
    }
    let Some(dst) = store_key else {
        let options = withdist as usize + withhash as usize + withcoord as usize;
        out.array(found.len());
        for p in &found {
            if options > 0 {
                out.array(options + 1);
            }
            out.bulk(p.member);
            if withdist {
                out.bulk(fixed4(p.dist).as_bytes());
            }
            if withhash {
                out.int(p.score as i64);
            }
            if withcoord {
                out.array(2);
                reply_coord(out, p.xy[0]);
                reply_coord(out, p.xy[1]);
            }
        }
        return Ok(());
    };
    let entries: Vec<(Vec<u8>, f64)> =
        found.iter().map(|p| (p.member.to_vec(), if storedist { p.dist } else { p.score })).collect();
    let n = entries.len() as u64;
    store_result(ctx, dst, entries, n);
    Ok(())
}

/// The points of `z` inside the shape, box by box in Redis's order, each
/// box in score order; with `limit`, stops once that many are found.
fn collect<'a>(z: &'a ZSet, shape: &Shape, limit: usize) -> Vec<Found<'a>> {
    let boxes = shape.boxes();
    let mut found = Vec::new();
    let mut last: usize = 0;
    for (i, b) in boxes.iter().enumerate() {
        if b.is_zero() {
            continue;
        }
        // Huge radii can make neighbours coincide: skip a box equal to the
        // last one searched (not counting the center, as Redis does not).
        if last != 0 && *b == boxes[last] {
            continue;
        }
        if limit > 0 && found.len() >= limit {
            break;
        }
        let min = b.align52() as f64;
        let max = Hash { bits: b.bits + 1, step: b.step }.align52() as f64;
        let start = z.count_while(|s, _| s < min);
        for (m, s) in z.iter_from(start, false) {
            if s >= max {
                break;
            }
            let xy = decode_score(s);
            if let Some(dist) = shape.distance_if_within(xy) {
                found.push(Found { member: m, score: s, xy, dist });
            }
            if limit > 0 && found.len() >= limit {
                break;
            }
        }
        last = i;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{run, run_proto, shard};

    #[test]
    fn bit_interleaving_round_trips() {
        for (x, y) in [(0u32, 0u32), (1, 0), (0, 1), (0x3FF_FFFF, 0x155_5555), (12345, 67890)] {
            let v = interleave(x, y);
            assert_eq!(deinterleave(v), x as u64 | ((y as u64) << 32));
        }
        assert_eq!(interleave(1, 0), 1);
        assert_eq!(interleave(0, 1), 2);
    }

    #[test]
    fn scores_match_redis() {
        // Values read back from redis-server 7.0.15 (GEOADD then ZSCORE).
        assert_eq!(score_of(13.361389, 38.115556), 3479099956230698.0);
        assert_eq!(score_of(15.087269, 37.502669), 3479447370796909.0);
        assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(fixed4(166274.15156960033), "166274.1516");
        assert_eq!(fixed4(0.0), "0.0000");
        assert_eq!(fixed4(0.00005), "0.0000");
        // 0.00015 * 10^4 is 1.4999999999999998 in doubles.
        assert_eq!(fixed4(0.00015), "0.0001");
        assert_eq!(fixed4(-0.00012), "-0.0001");
    }

    #[test]
    fn geo_commands() {
        let mut s = shard();
        assert_eq!(
            run(
                &mut s,
                &["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]
            ),
            ":2\r\n"
        );
        assert_eq!(run(&mut s, &["GEODIST", "g", "Palermo", "Catania"]), "$11\r\n166274.1516\r\n");
        assert_eq!(run(&mut s, &["GEODIST", "g", "Palermo", "Catania", "km"]), "$8\r\n166.2742\r\n");
        assert_eq!(run(&mut s, &["GEODIST", "g", "Palermo", "nope"]), "$-1\r\n");
        assert_eq!(
            run(&mut s, &["GEODIST", "g", "Palermo", "Catania", "parsec"]),
            "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
        );
        assert_eq!(
            run(&mut s, &["GEOPOS", "g", "Palermo", "nope"]),
            "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n"
        );
        assert_eq!(
            run_proto(&mut s, 0, true, &["GEOPOS", "g", "Palermo"]),
            "*1\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n"
        );
        assert_eq!(run(&mut s, &["GEOHASH", "g", "Palermo", "nope"]), "*2\r\n$11\r\nsqc8b49rny0\r\n$-1\r\n");
        assert_eq!(
            run(&mut s, &["GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "ASC"]),
            "*2\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n"
        );
        assert_eq!(
            run(&mut s, &["GEOADD", "g", "200", "100", "x"]),
            "-ERR invalid longitude,latitude pair 200.000000,100.000000\r\n"
        );
        assert_eq!(run(&mut s, &["GEOADD", "g", "NX", "XX", "1", "2", "x"]), "-ERR syntax error\r\n");
        assert_eq!(
            run(&mut s, &["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC"]),
            "*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n"
        );
        assert_eq!(
            run(&mut s, &["GEOSEARCH", "g", "BYRADIUS", "1", "km", "ASC", "WITHDIST"]),
            "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH\r\n"
        );
        assert_eq!(
            run(
                &mut s,
                &["GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "STOREDIST"]
            ),
            ":2\r\n"
        );
        assert_eq!(run(&mut s, &["ZSCORE", "d", "Palermo"]), "$1\r\n0\r\n");
        assert_eq!(run(&mut s, &["GEORADIUSBYMEMBER", "nosuch", "x", "abc", "zz"]), "*0\r\n");
        assert_eq!(
            run(&mut s, &["GEORADIUSBYMEMBER", "g", "x", "1", "km"]),
            "-ERR could not decode requested zset member\r\n"
        );
    }
}
