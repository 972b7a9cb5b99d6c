#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem
import Trace

/// A non-blocking socket and the system calls the loop makes on it. Owns its fd: ``close()``
/// releases it once; the loop closes whatever is still open when it closes.
/// Loop thread only (the ``EventLoop`` that opened it keeps it in its table of open sockets).
final class Socket {
    private(set) var fd: Int32
    let family: Int32
    /// The socket's id in the trace (`fd 9`).
    let entity: EntityID

    /// Wraps `fd` (already open) and makes it non-blocking and close-on-exec.
    init(fd: Int32, family: Int32, entity: EntityID) {
        self.fd = fd
        self.family = family
        self.entity = entity
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    /// Opens a new stream socket of `family`.
    static func open(family: Int32, names: NameTable) throws(SocketError) -> Socket {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        return Socket(fd: fd, family: family, entity: names.intern("fd \(fd)", kind: .socket))
    }

    var isClosed: Bool { fd < 0 }
    /// It listens for connections (and so cannot send or receive).
    private(set) var isListening = false

    // MARK: - Options

    /// Small writes go out at once, without waiting for the peer's ACK (asyncio sets it on every
    /// TCP transport).
    func setNoDelay() {
        guard family != AF_UNIX else { return }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    func setReuseAddress() {
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// An IPv6 listener takes IPv6 only, as asyncio's `create_server` sets it.
    func setIPv6Only() {
        guard family == AF_INET6 else { return }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The pending error of a non-blocking connect (`SO_ERROR`), 0 when it succeeded.
    func pendingError() -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0 else { return errno }
        return code
    }

    /// The uid of the process at the other end of a Unix domain socket (`SO_PEERCRED`).
    func peerUID() -> uid_t? {
        var credentials = loopviz_ucred()
        var length = socklen_t(MemoryLayout<loopviz_ucred>.size)
        guard getsockopt(fd, SOL_SOCKET, loopviz_so_peercred(), &credentials, &length) == 0 else { return nil }
        return credentials.uid
    }

    // MARK: - Addresses

    var localAddress: SocketAddress? { address(getsockname) }
    var peerAddress: SocketAddress? { address(getpeername) }

    private func address(_ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) }
        }
        return result == 0 ? SocketAddress(storage: storage) : nil
    }

    // MARK: - Connections

    func bind(_ address: SocketAddress) throws(SocketError) {
        let result = try address.withSockAddr { Glibc.bind(fd, $0, $1) }
        guard result == 0 else { throw SocketError.from(errno: errno, call: "bind", address: address) }
    }

    func listen(backlog: Int32) throws(SocketError) {
        guard Glibc.listen(fd, backlog) == 0 else { throw .system(call: "listen", errno: errno) }
        isListening = true
    }

    /// Starts connecting. Returns true when the connection is up at once (a Unix socket),
    /// false when it is in progress (wait until writable, then read ``pendingError()``).
    func connect(_ address: SocketAddress) throws(SocketError) -> Bool {
        while true {
            let result = try address.withSockAddr { Glibc.connect(fd, $0, $1) }
            if result == 0 { return true }
            switch errno {
            case EINTR: continue
            case EINPROGRESS, EAGAIN: return false
            case let code: throw SocketError.from(errno: code, call: "connect", address: address)
            }
        }
    }

    /// Accepts one pending connection, or returns nil when none is waiting.
    func accept(names: NameTable) throws(SocketError) -> Socket? {
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let conn = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    // accept4 needs _GNU_SOURCE; the init sets O_NONBLOCK and FD_CLOEXEC instead.
                    Glibc.accept(fd, $0, &length)
                }
            }
            if conn >= 0 { return Socket(fd: conn, family: family, entity: names.intern("fd \(conn)", kind: .socket)) }
            switch errno {
            case EINTR: continue
            case EAGAIN, ECONNABORTED: return nil
            case let code: throw .system(call: "accept", errno: code)
            }
        }
    }

    // MARK: - Data

    /// Reads up to `buffer.count` bytes into `buffer` and returns a copy of what came: nil when
    /// nothing is there yet (EAGAIN), an empty array at the end of the stream. (A fresh
    /// 256 KiB array per read, as before, cost an allocation and a zero fill each time.)
    func receive(into buffer: inout [UInt8]) throws(SocketError) -> [UInt8]? {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 {
                return Array(buffer[..<count])
            }
            switch errno {
            case EINTR: continue
            case EAGAIN: return nil
            case let code: throw SocketError.from(errno: code, call: "recv")
            }
        }
    }

    /// Sends what the kernel takes of `bytes` now: the count (0 when its buffer is full).
    /// `MSG_NOSIGNAL`: a vanished peer is an error (EPIPE), not a SIGPIPE that kills the process.
    func send(_ bytes: UnsafeRawBufferPointer) throws(SocketError) -> Int {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN: return 0
            case let code: throw SocketError.from(errno: code, call: "send")
            }
        }
    }

    /// Half-closes the sending side: the peer reads the end of the stream.
    func shutdownWrite() {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes the fd. Idempotent.
    func close() {
        guard fd >= 0 else { return }
        _ = Glibc.close(fd)
        fd = -1
    }

    deinit { close() }
}
