//! watm_xor.rs - a WATM transport written in Rust with nothing but std, and
//! built by Debian's own rustc for wasm32-wasi: the kind of module the Rust
//! WATER SDK produces (a cdylib whose every export runs the C constructors;
//! no _start; std's preopen lookup, allocator and RandomState). It proves
//! that Rust builds run here unmodified, in every role, and that their wire
//! bytes match our C xor transport's (transports/xor/xor.c has the
//! keystream; it is re-derived here from that description).
//!
//! Built twice: as v1 (watm_*_v1 exports, config at /conf/watm.cfg) and,
//! with `--cfg watm_v0`, as v0 (the _water_v0 global like water-rs, config
//! through env.pull_config). The config's bytes, minus trailing CR/LF, are
//! the key; no config means xor.c's default key.
//!
//! Single-threaded by the ABI: the host makes one call at a time into an
//! instance, so the module's state lives in one static.

use std::collections::HashMap;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::mem::ManuallyDrop;
use std::os::wasi::io::FromRawFd;

const ECANCELED: i32 = 11;
const EINVAL: i32 = 28;
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
const DEFAULT_KEY: &[u8] = b"WATER-in-C xor transport default key";
const CHUNK: usize = 64 * 1024;

// ---- the WASI calls std does not expose --------------------------------------

#[repr(C)]
struct Subscription {
    userdata: u64,
    tag: u8, // 1: fd_read, 2: fd_write
    _pad: [u8; 7],
    fd: u32,
    _rest: [u8; 28],
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    _pad: [u8; 5],
    nbytes: u64,
    flags: u16,
    _rest: [u8; 6],
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn poll_oneoff(subs: *const Subscription, events: *mut Event, n: u32, nevents: *mut u32)
        -> u16;
    fn fd_fdstat_set_flags(fd: u32, flags: u16) -> u16;
    fn sock_shutdown(fd: u32, how: u8) -> u16;
}

#[cfg(not(watm_v0))]
#[link(wasm_import_module = "env")]
extern "C" {
    fn water_dial_fixed() -> i32;
    fn water_accept() -> i32;
}

#[cfg(watm_v0)]
#[link(wasm_import_module = "env")]
extern "C" {
    fn host_dial() -> i32;
    fn host_accept() -> i32;
    fn pull_config() -> i32;
}

// ---- the keystream of transports/xor/xor.c ---------------------------------------

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One direction of the stream: label 0 for the initiator's bytes.
struct Keystream {
    seed: u64,
    pos: u64,
}

impl Keystream {
    fn new(key: &[u8], label: u64) -> Keystream {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a 64
        for &b in key {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        Keystream { seed: mix(h ^ (label + 1).wrapping_mul(GOLDEN)), pos: 0 }
    }

    fn apply(&mut self, key: &[u8], buf: &mut [u8]) {
        for b in buf.iter_mut() {
            let n = self.pos / 8;
            let w = mix(self.seed.wrapping_add((n + 1).wrapping_mul(GOLDEN)));
            *b ^= (w >> (8 * (self.pos % 8))) as u8 ^ key[(self.pos % key.len() as u64) as usize];
            self.pos += 1;
        }
    }
}

// ---- state ----------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Initiator, // dialer, relay: internal -> net carries the initiator's bytes
    Responder, // listener
}

struct State {
    key: Vec<u8>,
    ctrl: i32,
    internal: i32,
    net: i32,
    role: Role,
}

static mut STATE: Option<State> = None;

fn state() -> &'static mut State {
    // SAFETY: the host makes one call at a time into an instance.
    unsafe {
        if STATE.is_none() {
            STATE = Some(State {
                key: DEFAULT_KEY.to_vec(),
                ctrl: -1,
                internal: -1,
                net: -1,
                role: Role::Initiator,
            });
        }
        STATE.as_mut().unwrap()
    }
}

fn set_key(mut cfg: Vec<u8>) -> i32 {
    while cfg.last().map_or(false, |&c| c == b'\n' || c == b'\r') {
        cfg.pop();
    }
    // A HashMap seeds its RandomState from random_get, as Rust modules'
    // maps do: one more WASI call this host must answer.
    let mut sizes = HashMap::new();
    sizes.insert("key", cfg.len());
    if sizes["key"] > 1024 {
        return -EINVAL;
    }
    state().key = if cfg.is_empty() { DEFAULT_KEY.to_vec() } else { cfg };
    0
}

/// A borrowed fd as a File that is never closed by us.
fn file(fd: i32) -> ManuallyDrop<File> {
    ManuallyDrop::new(unsafe { File::from_raw_fd(fd) })
}

fn nonblocking(fd: i32) -> i32 {
    -(unsafe { fd_fdstat_set_flags(fd as u32, 4) } as i32)
}

fn pair(internal: i32, net: i32, role: Role) -> i32 {
    if net < 0 {
        return net;
    }
    let s = state();
    s.internal = internal;
    s.net = net;
    s.role = role;
    net
}

// ---- the worker -----------------------------------------------------------------

/// One direction: bytes read from `src`, transformed, written to `dst`.
struct Pipe {
    src: i32,
    dst: i32,
    ks: Keystream,
    buf: Vec<u8>,
    off: usize,
    eof: bool, // src ended; dst shut down once buf is flushed
    done: bool,
}

impl Pipe {
    fn new(src: i32, dst: i32, key: &[u8], label: u64) -> Pipe {
        Pipe { src, dst, ks: Keystream::new(key, label), buf: Vec::new(), off: 0, eof: false,
               done: false }
    }

    /// What to wait for: Some((fd, tag)) unless finished.
    fn want(&self) -> Option<(i32, u8)> {
        if self.done {
            None
        } else if self.off < self.buf.len() {
            Some((self.dst, 2))
        } else {
            Some((self.src, 1))
        }
    }

    /// Moves what it can without blocking. Err: an I/O error ends the worker.
    fn step(&mut self, key: &[u8]) -> Result<(), i32> {
        loop {
            if self.off < self.buf.len() {
                match file(self.dst).write(&self.buf[self.off..]) {
                    Ok(n) => self.off += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                    Err(e) => return Err(-e.raw_os_error().unwrap_or(EINVAL)),
                }
                continue;
            }
            if self.eof {
                unsafe { sock_shutdown(self.dst as u32, 2) }; // SHUT_WR
                self.done = true;
                return Ok(());
            }
            self.buf.resize(CHUNK, 0);
            self.off = 0;
            match file(self.src).read(&mut self.buf) {
                Ok(0) => {
                    self.buf.clear();
                    self.eof = true;
                }
                Ok(n) => {
                    self.buf.truncate(n);
                    self.ks.apply(key, &mut self.buf);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.buf.clear();
                    return Ok(());
                }
                Err(e) => return Err(-e.raw_os_error().unwrap_or(EINVAL)),
            }
        }
    }
}

fn worker() -> i32 {
    let s = state();
    if s.internal < 0 || s.net < 0 || s.ctrl < 0 {
        return -EINVAL;
    }
    for fd in [s.internal, s.net] {
        let r = nonblocking(fd);
        if r < 0 {
            return r;
        }
    }
    let key = s.key.clone();
    // label 0: the initiator's bytes; the responder unwraps them from net.
    let (out_label, in_label) = if s.role == Role::Initiator { (0, 1) } else { (1, 0) };
    let mut pipes = [Pipe::new(s.internal, s.net, &key, out_label),
                     Pipe::new(s.net, s.internal, &key, in_label)];
    let mut events = [Event { userdata: 0, error: 0, kind: 0, _pad: [0; 5], nbytes: 0,
                              flags: 0, _rest: [0; 6] }; 3];
    loop {
        for p in pipes.iter_mut() {
            if let Err(e) = p.step(&key) {
                return e;
            }
        }
        if pipes.iter().all(|p| p.done) {
            return 0;
        }
        let mut subs = Vec::with_capacity(3);
        subs.push((s.ctrl, 1u8));
        subs.extend(pipes.iter().filter_map(|p| p.want()));
        let subs: Vec<Subscription> = subs
            .iter()
            .enumerate()
            .map(|(i, &(fd, tag))| Subscription { userdata: i as u64, tag, _pad: [0; 7],
                                                  fd: fd as u32, _rest: [0; 28] })
            .collect();
        let mut n = 0u32;
        let r = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len() as u32,
                                     &mut n) };
        if r != 0 {
            return -(r as i32);
        }
        if events[..n as usize].iter().any(|e| e.userdata == 0) {
            return -ECANCELED; // the host asks us to stop
        }
    }
}

// ---- v1 exports ---------------------------------------------------------------

#[cfg(not(watm_v0))]
mod abi {
    use super::*;

    #[no_mangle]
    pub extern "C" fn watm_init_v1() -> i32 {
        match std::fs::read("/conf/watm.cfg") {
            Ok(cfg) => set_key(cfg),
            // No config: the host gives no /conf preopen, and std reports
            // that it found none with an error that carries no errno.
            Err(e) if e.kind() == ErrorKind::NotFound || e.raw_os_error().is_none() => {
                set_key(Vec::new())
            }
            Err(e) => -e.raw_os_error().unwrap_or(EINVAL),
        }
    }

    #[no_mangle]
    pub extern "C" fn watm_ctrlpipe_v1(fd: i32) -> i32 {
        state().ctrl = fd;
        0
    }

    #[no_mangle]
    pub extern "C" fn watm_dial_v1(internal: i32) -> i32 {
        pair(internal, unsafe { water_dial_fixed() }, Role::Initiator)
    }

    #[no_mangle]
    pub extern "C" fn watm_accept_v1(internal: i32) -> i32 {
        pair(internal, unsafe { water_accept() }, Role::Responder)
    }

    #[no_mangle]
    pub extern "C" fn watm_associate_v1() -> i32 {
        let client = unsafe { water_accept() };
        if client < 0 {
            return client;
        }
        let r = pair(client, unsafe { water_dial_fixed() }, Role::Initiator);
        if r < 0 { r } else { 0 }
    }

    #[no_mangle]
    pub extern "C" fn watm_start_v1() -> i32 {
        worker()
    }
}

// ---- v0 exports ---------------------------------------------------------------

#[cfg(watm_v0)]
mod abi {
    use super::*;

    /// The version marker: an exported i32 global, as water-rs has it.
    #[no_mangle]
    pub static _water_v0: i32 = 0;

    #[no_mangle]
    pub extern "C" fn _water_init() -> i32 {
        let fd = unsafe { pull_config() };
        if fd < 0 {
            return set_key(Vec::new()); // no config
        }
        let mut cfg = Vec::new();
        let mut f = unsafe { File::from_raw_fd(fd) }; // ours: closed on drop
        match f.read_to_end(&mut cfg) {
            Ok(_) => set_key(cfg),
            Err(e) => -e.raw_os_error().unwrap_or(EINVAL),
        }
    }

    #[no_mangle]
    pub extern "C" fn _water_cancel_with(fd: i32) -> i32 {
        state().ctrl = fd;
        0
    }

    #[no_mangle]
    pub extern "C" fn _water_dial(caller: i32) -> i32 {
        pair(caller, unsafe { host_dial() }, Role::Initiator)
    }

    #[no_mangle]
    pub extern "C" fn _water_accept(caller: i32) -> i32 {
        pair(caller, unsafe { host_accept() }, Role::Responder)
    }

    #[no_mangle]
    pub extern "C" fn _water_associate() -> i32 {
        let client = unsafe { host_accept() };
        if client < 0 {
            return client;
        }
        let r = pair(client, unsafe { host_dial() }, Role::Initiator);
        if r < 0 { r } else { 0 }
    }

    #[no_mangle]
    pub extern "C" fn _water_worker() -> i32 {
        worker()
    }
}
