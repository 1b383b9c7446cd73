//! Function libraries (FUNCTION LOAD): metadata, validation and the store.

use std::collections::HashMap;

/// One function a library registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<String>,
    /// `super::flags` bits.
    pub flags: u32,
}

/// A loaded library: its whole code (shebang included) and its functions.
#[derive(Clone, Debug)]
pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: Vec<FunctionInfo>,
}

/// Every library, and which library each function belongs to.
#[derive(Default, Debug)]
pub struct Libraries {
    libs: Vec<Library>,
    functions: HashMap<String, (usize, usize)>,
}

impl Libraries {
    pub fn function(&self, name: &str) -> Option<&FunctionInfo> {
        self.functions.get(name).map(|&(l, f)| &self.libs[l].functions[f])
    }

    pub fn library(&self, name: &str) -> Option<&Library> {
        self.libs.iter().find(|l| l.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Library> {
        self.libs.iter()
    }

    pub fn codes(&self) -> impl Iterator<Item = &[u8]> {
        self.libs.iter().map(|l| l.code.as_slice())
    }

    pub fn len(&self) -> usize {
        self.libs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.libs.is_empty()
    }

    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    fn reindex(&mut self) {
        self.functions.clear();
        for (l, lib) in self.libs.iter().enumerate() {
            for (f, func) in lib.functions.iter().enumerate() {
                self.functions.insert(func.name.clone(), (l, f));
            }
        }
    }

    pub fn delete(&mut self, name: &str) -> bool {
        let before = self.libs.len();
        self.libs.retain(|l| l.name != name);
        self.reindex();
        before != self.libs.len()
    }

    pub fn clear(&mut self) {
        self.libs.clear();
        self.functions.clear();
    }

    /// Adds `lib`, replacing the library of the same name when `replace`;
    /// Redis's errors for name collisions.
    pub fn add(&mut self, lib: Library, replace: bool) -> Result<(), String> {
        let old = self.libs.iter().position(|l| l.name == lib.name);
        if old.is_some() && !replace {
            return Err(format!("Library '{}' already exists", lib.name));
        }
        for f in &lib.functions {
            if let Some(&(l, _)) = self.functions.get(&f.name) {
                if Some(l) != old {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
        }
        match old {
            Some(i) => self.libs[i] = lib,
            None => self.libs.push(lib),
        }
        self.reindex();
        Ok(())
    }
}

/// Library and function names: letters, digits and underscores, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// (engine, library name, code).
pub type Metadata<'a> = (Vec<u8>, Vec<u8>, &'a [u8]);

/// The `#!<engine> name=<lib>` line of a library: (engine, name, code after
/// the shebang starting at its newline). Redis's error texts.
pub fn metadata(payload: &[u8]) -> Result<Metadata<'_>, String> {
    if !payload.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = payload.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match super::split_args(&payload[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = parts[0][2.min(parts[0].len())..].to_vec();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("Invalid metadata value, name argument was given multiple times".into());
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!("Invalid metadata value given: {}", String::from_utf8_lossy(part)));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok((engine, name, &payload[end..]))
}

/// FUNCTION LOAD's work: parse, check, run the code on a fresh VM and add the
/// library to `libs`. Returns the library name or Redis's error text (no `ERR`).
pub fn load(libs: &mut Libraries, payload: &[u8], replace: bool) -> Result<String, String> {
    let (engine, name, code) = metadata(payload)?;
    if !valid_name(&name) {
        return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!("Engine '{}' not found", String::from_utf8_lossy(&engine)));
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    if !replace && libs.library(&name).is_some() {
        return Err(format!("Library '{name}' already exists"));
    }
    let functions = super::lua::check_library(code)?;
    if functions.is_empty() {
        return Err("No functions registered".into());
    }
    libs.add(Library { name: name.clone(), code: payload.to_vec(), functions }, replace)?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_errors() {
        assert_eq!(metadata(b"return 1").unwrap_err(), "Missing library metadata");
        assert_eq!(metadata(b"#!lua name=x").unwrap_err(), "Invalid library metadata");
        assert_eq!(metadata(b"#!lua\n").unwrap_err(), "Library name was not given");
        assert_eq!(metadata(b"#!lua foo=bar\n").unwrap_err(), "Invalid metadata value given: foo=bar");
        let (e, n, c) = metadata(b"#!lua name=lib\nreturn").unwrap();
        assert_eq!((e.as_slice(), n.as_slice(), c), (&b"lua"[..], &b"lib"[..], &b"\nreturn"[..]));
    }

    #[test]
    fn load_times_out() {
        let mut libs = Libraries::default();
        let err = load(&mut libs, b"#!lua name=slow\nwhile true do end", false).unwrap_err();
        assert_eq!(err, "Error registering functions: ERR FUNCTION LOAD timeout");
        assert!(libs.is_empty());
    }

    #[test]
    fn load_and_collide() {
        let mut libs = Libraries::default();
        let code = b"#!lua name=lib1\nredis.register_function('f1', function() return 1 end)";
        assert_eq!(load(&mut libs, code, false), Ok("lib1".into()));
        assert_eq!(load(&mut libs, code, false).unwrap_err(), "Library 'lib1' already exists");
        let other = b"#!lua name=lib2\nredis.register_function('f1', function() return 1 end)";
        assert_eq!(load(&mut libs, other, false).unwrap_err(), "Function f1 already exists");
        assert_eq!(load(&mut libs, code, true), Ok("lib1".into()));
        assert_eq!(libs.function_count(), 1);
        assert!(libs.delete("lib1"));
        assert!(libs.is_empty());
    }
}
