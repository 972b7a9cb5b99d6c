#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem

/// Who may see a program's trace: the attach socket is private to the user who runs it.
enum SocketPolicy {
    /// Why a socket path cannot be served, in one line.
    struct Refusal: Error, CustomStringConvertible, Equatable {
        var description: String
    }

    /// The socket's folder must be the user's own and writable by nobody else (another user
    /// could otherwise replace the socket); a file already at `path` is replaced only if it is
    /// a stale socket of the user's.
    static func checkPath(_ path: String, uid: uid_t = getuid()) throws(Refusal) {
        guard !path.isEmpty, path.utf8.count < 100 else { throw Refusal(description: "socket path must be 1 to 99 bytes: \(path)") }
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var status = stat()
        guard stat(folder.isEmpty ? "/" : folder, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
            throw Refusal(description: "no folder \(folder) for the socket \(path)")
        }
        guard status.st_uid == uid, status.st_mode & 0o022 == 0 else {
            throw Refusal(description: "the socket's folder \(folder) must be yours and writable by nobody else (mkdir -m 700)")
        }
        if lstat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFSOCK, status.st_uid == uid else {
                throw Refusal(description: "\(path) exists and is not a stale socket of yours")
            }
            // A live socket belongs to a program that still serves on it (an inherited
            // LOOPVIZ_SOCKET, say): taking it over would cut that program's viewers off.
            guard !isLive(path) else { throw Refusal(description: "\(path) is served by a running program already") }
            _ = unlink(path)
        }
    }

    /// Whether a program accepts connections on the socket at `path`.
    static func isLive(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1)))
            raw[min(path.utf8.count, raw.count - 1)] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }

    /// Only the user who runs the program may attach (`SO_PEERCRED`).
    static func allows(peerUID: uid_t?, ownUID: uid_t = getuid()) -> Bool {
        peerUID == ownUID
    }

    /// The uid of the process at the other end of a Unix socket.
    static func peerUID(_ fd: Int32) -> uid_t? {
        var credentials = loopviz_ucred()
        var length = socklen_t(MemoryLayout<loopviz_ucred>.size)
        guard getsockopt(fd, SOL_SOCKET, loopviz_so_peercred(), &credentials, &length) == 0 else { return nil }
        return credentials.uid
    }
}

/// The few socket calls the attach server makes (its own thread, not the program's loop).
enum UnixSocket {
    /// A listening socket at `path`, mode 0600. Throws the failing call in words.
    ///
    /// It binds and listens under a temporary name in the same folder, then links that to `path`:
    /// a viewer that sees the file can connect at once (between a bind and a listen at `path` it
    /// would be refused, and a loaded machine can stall a thread right there), and a link, unlike
    /// a rename, fails rather than replace a socket that appeared at `path` meanwhile.
    static func listen(at path: String) throws(SocketPolicy.Refusal) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SocketPolicy.Refusal(description: "socket: \(String(cString: strerror(errno)))") }
        // At most 99 + 7 bytes (checkPath): within sun_path's 108 with its terminating zero.
        let temporary = path + "~" + String(getpid(), radix: 16)
        _ = unlink(temporary)  // a crashed run's, with the same pid: the folder is the user's alone
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(temporary.utf8))
            raw[temporary.utf8.count] = 0
        }
        // Born private: no moment in which another user could connect.
        let previous = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previous)
        guard bound == 0, chmod(temporary, 0o600) == 0, Glibc.listen(fd, 8) == 0, publish(temporary, as: path) else {
            let reason = String(cString: strerror(errno))
            close(fd)
            if bound == 0 { _ = unlink(temporary) }
            throw SocketPolicy.Refusal(description: "cannot serve on \(path): \(reason)")
        }
        _ = unlink(temporary)
        return fd
    }

    /// Gives the socket at `temporary` the name `path`: a hard link, which fails if `path` exists;
    /// where the file system links no sockets, a rename.
    private static func publish(_ temporary: String, as path: String) -> Bool {
        if link(temporary, path) == 0 { return true }
        guard errno != EEXIST else { return false }
        return rename(temporary, path) == 0
    }
}
