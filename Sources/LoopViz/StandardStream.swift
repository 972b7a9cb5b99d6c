#if canImport(Glibc)
import Glibc
#endif

/// stdout and stderr, written with `write(2)`. Never `FileHandle.write`: it traps on an I/O
/// error, and a terminal that went away (SIGHUP, a dropped SSH connection, `tmux kill-server`)
/// answers every write with EIO — a last message must not turn a clean exit into a crash.
public enum StandardStream {
    case output, error

    private var fd: Int32 {
        switch self {
        case .output: STDOUT_FILENO
        case .error: STDERR_FILENO
        }
    }

    /// Writes all of `text` (retrying short writes and interrupted calls). Any other error ends the
    /// write silently: EIO (the terminal is gone) and EPIPE (nobody reads) leave nobody to tell.
    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        let fd = fd
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
