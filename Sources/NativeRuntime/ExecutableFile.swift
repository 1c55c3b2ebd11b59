#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writing a workload's executable where only we can touch it.
public enum ExecutableFile {
    /// Writes `contents` to a new file at `path` with mode 0700 (read, write and execute for the
    /// current user only, whatever the umask). Refuses to replace or follow anything already at
    /// `path`, so another local user cannot plant a symlink or a file for us to execute.
    ///
    /// The descriptor is close-on-exec and closed before returning: a copy held open for writing
    /// would make `execve` fail with `ETXTBSY`.
    public static func write(_ contents: [UInt8], to path: String) throws(NativeRuntimeError) {
        func failure(_ what: String, _ code: Int32) -> NativeRuntimeError {
            NativeRuntimeError(code: .writeFailed, message: "\(what) \(path): \(SystemSupport.errorText(code))")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o700)
        guard fd >= 0 else { throw failure("cannot create", errno) }
        var written = 0
        while written < contents.count {
            let result = contents.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(path)
                throw failure("cannot write", code)
            }
            written += result
        }
        guard fchmod(fd, 0o700) == 0 else {
            let code = errno
            close(fd)
            unlink(path)
            throw failure("cannot set the mode of", code)
        }
        guard close(fd) == 0 else {
            let code = errno
            unlink(path)
            throw failure("cannot close", code)
        }
    }
}
