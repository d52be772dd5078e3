//! A process image to exec: the program's path, its arguments and its environment, as the
//! NUL-terminated strings `execve` takes, packed in one buffer.
//!
//! One buffer, not a `CString` each: a run's dozen strings were two allocations apiece (the
//! text, then its C copy), a twentieth of what starting a run cost the daemon (BENCHMARKS.md).

use std::ffi::{OsStr, c_char};
use std::io;
use std::os::unix::ffi::OsStrExt;

/// The program (first), each argument, each `NAME=value`, in one buffer.
#[derive(Debug)]
pub struct Image {
    bytes: Vec<u8>,
    args: Vec<usize>,
    vars: Vec<usize>,
}

/// The image's strings as `execve` takes them; valid while the image is.
pub struct Pointers {
    pub program: *const c_char,
    /// The arguments, a null, the variables, a null.
    all: Vec<*const c_char>,
    args: usize,
}

impl Pointers {
    pub fn argv(&self) -> *const *const c_char {
        self.all.as_ptr()
    }

    pub fn envp(&self) -> *const *const c_char {
        self.all[self.args + 1..].as_ptr()
    }
}

impl Image {
    /// An image of `program`, which `execve` takes as given (a path, searched nowhere); room
    /// for about `expected` bytes of arguments and environment.
    pub fn new(program: &OsStr, expected: usize) -> io::Result<Image> {
        let mut image = Image {
            bytes: Vec::with_capacity(program.len() + 1 + expected),
            args: Vec::new(),
            vars: Vec::new(),
        };
        image.push(&[program.as_bytes()])?;
        Ok(image)
    }

    /// Adds an argument, made of `pieces` one after the other (`argv[0]` first).
    pub fn arg(&mut self, pieces: &[&[u8]]) -> io::Result<&mut Image> {
        let start = self.push(pieces)?;
        self.args.push(start);
        Ok(self)
    }

    /// Adds `NAME=value` to the environment.
    pub fn var(&mut self, name: &str, value: &str) -> io::Result<&mut Image> {
        let start = self.push(&[name.as_bytes(), b"=", value.as_bytes()])?;
        self.vars.push(start);
        Ok(self)
    }

    pub fn pointers(&self) -> Pointers {
        let at = |start: &usize| self.bytes[*start..].as_ptr().cast::<c_char>();
        let all = (self.args.iter().map(at))
            .chain([std::ptr::null()])
            .chain(self.vars.iter().map(at))
            .chain([std::ptr::null()])
            .collect();
        Pointers {
            program: self.bytes.as_ptr().cast(),
            all,
            args: self.args.len(),
        }
    }

    fn push(&mut self, pieces: &[&[u8]]) -> io::Result<usize> {
        if let Some(piece) = pieces.iter().find(|piece| piece.contains(&0)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{:?} holds a NUL byte, which no command line or environment can",
                    String::from_utf8_lossy(piece)
                ),
            ));
        }
        let start = self.bytes.len();
        for piece in pieces {
            self.bytes.extend_from_slice(piece);
        }
        self.bytes.push(0);
        Ok(start)
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    #[test]
    #[allow(unsafe_code, reason = "reading the pointer lists as execve would")]
    fn the_pointers_list_the_arguments_then_the_variables_each_list_null_ended() {
        let mut image = Image::new(OsStr::new("/bin/sh"), 0).expect("no NUL");
        image
            .arg(&[b"sh"])
            .expect("arg")
            .arg(&[b"-c", b"", b"true"])
            .expect("arg");
        image.var("PATH", "/bin").expect("var");
        let pointers = image.pointers();
        let text = |pointer: *const c_char| {
            // SAFETY: each pointer is into the image's buffer, at a NUL-terminated string.
            unsafe { CStr::from_ptr(pointer) }.to_str().expect("UTF-8")
        };
        // SAFETY: two arguments and a null, one variable and a null.
        let (argv, envp) = unsafe {
            let argv = std::slice::from_raw_parts(pointers.argv(), 3);
            let envp = std::slice::from_raw_parts(pointers.envp(), 2);
            (argv.to_vec(), envp.to_vec())
        };
        assert_eq!(text(pointers.program), "/bin/sh");
        assert_eq!((text(argv[0]), text(argv[1])), ("sh", "-ctrue"));
        assert!(argv[2].is_null());
        assert_eq!(text(envp[0]), "PATH=/bin");
        assert!(envp[1].is_null());
    }

    #[test]
    fn a_nul_byte_is_refused_with_the_text_that_holds_it() {
        let mut image = Image::new(OsStr::new("/bin/sh"), 0).expect("no NUL");
        let error = image.var("A", "x\0y").expect_err("a NUL");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            error.to_string(),
            "\"x\\0y\" holds a NUL byte, which no command line or environment can"
        );
        assert!(Image::new(OsStr::new("/bin/\0sh"), 0).is_err());
    }
}
