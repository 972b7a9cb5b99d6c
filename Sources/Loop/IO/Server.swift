#if canImport(Glibc)
import Glibc
#endif
import Trace

/// A listening server (asyncio's `Server`, as CPython 3.11 has it): it accepts connections and
/// runs a handler task per connection until ``close()``. Use it on the loop thread.
///
/// `@unchecked Sendable`: it may be captured by tasks, but every method is loop-only (checked in
/// debug builds).
public final class Server: @unchecked Sendable {
    unowned let loop: EventLoop
    /// The listening sockets; nil once closed.
    private var listeners: [Socket]?
    /// Where it listens (with the port the kernel picked when asked for port 0).
    public let addresses: [SocketAddress]
    private let backlog: Int32
    /// Builds the reader, writer and handler task of each accepted connection.
    private let accepted: (Socket) -> Void
    /// Connections still open (asyncio's `_active_count`).
    private var activeCount = 0
    /// Tasks in ``waitClosed()`` (asyncio's `_waiters`; nil once woken).
    private var waiters: [(box: TaskBox, generation: UInt32)]? = []
    /// A Unix socket's path, removed when the server closes.
    private let unixPath: String?

    init(loop: EventLoop, listeners: [Socket], backlog: Int32, unixPath: String?, accepted: @escaping (Socket) -> Void) {
        self.loop = loop
        self.listeners = listeners
        self.addresses = listeners.compactMap(\.localAddress)
        self.backlog = backlog
        self.unixPath = unixPath
        self.accepted = accepted
    }

    /// The port of the first address (the one to connect to after asking for port 0).
    public var port: Int { addresses.first?.port ?? 0 }

    /// Whether it still accepts connections. Loop-only (checked in debug builds): the loop
    /// closes the listeners on its thread.
    public var isServing: Bool {
        loop.assertInLoop()
        return listeners != nil
    }

    /// Listens and watches each socket for connections (asyncio's `_start_serving`).
    func startServing() throws(SocketError) {
        for socket in listeners ?? [] {
            try socket.listen(backlog: backlog)
            try watch(socket)
        }
    }

    private func watch(_ listener: Socket) throws(SocketError) {
        // Held by the registration while it listens, as asyncio's loop holds a serving server.
        try loop.addReader(listener.fd, socket: listener.entity) { [self] _ in acceptConnections(on: listener) }
    }

    /// asyncio's `_accept_connection`: called once per pass in which the listener is readable,
    /// it accepts up to `backlog` waiting connections; each goes on in a step of its own on the
    /// next pass (`_accept_connection2`, an internal task in asyncio).
    private func acceptConnections(on listener: Socket) {
        for _ in 0..<backlog {
            let conn: Socket?
            do {
                conn = try listener.accept(names: loop.names)
            } catch {
                guard case .system(_, let code) = error, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(code) else {
                    return  // a network error of that one connection: the next pass goes on
                }
                // Out of fds or memory: Linux keeps reporting the listener ready, so stop watching
                // it for a second, then try again (asyncio's ACCEPT_RETRY_DELAY).
                loop.removeReader(listener.fd)
                loop.callLater(1, "_accept_retry") { [weak self] in
                    guard let self, self.isServing, !listener.isClosed else { return }
                    try? self.watch(listener)
                }
                return
            }
            guard let conn else { return }
            loop.openSockets[conn.fd] = conn
            loop.emit(.ioAccepted, subject: conn.entity, other: listener.entity)
            loop.callSoonPlumbing { [self] in accepted(conn) }
        }
    }

    /// Stops listening and closes the listening sockets; open connections go on (asyncio's
    /// `Server.close`).
    public func close() {
        loop.assertInLoop()
        guard let sockets = listeners else { return }
        listeners = nil
        for socket in sockets { loop.closeSocket(socket, reason: .closed, by: loop.currentActor) }
        if let unixPath { _ = unlink(unixPath) }
        if activeCount == 0 { wakeWaiters() }
    }

    /// As CPython 3.11's `wait_closed`: returns at once once the server is closed; before that,
    /// waits until it is closed and its last connection has ended.
    nonisolated(nonsending) public func waitClosed() async throws {
        loop.assertInLoop()
        guard listeners != nil, waiters != nil else { return }
        let entity = listeners?.first?.entity ?? .none
        try await loop.suspendCurrentTask(.io, waitingOn: entity, deadline: Int64(IOOperation.close.rawValue)) { box, generation in
            waiters?.append((box, generation))
        }
    }

    func attach() { activeCount += 1 }

    func detach() {
        activeCount -= 1
        if activeCount == 0 && listeners == nil { wakeWaiters() }
    }

    private func wakeWaiters() {
        guard let list = waiters else { return }
        waiters = nil
        for waiter in list { loop.wakeIO(waiter.box, generation: waiter.generation, waker: loop.currentActor, via: .none) }
    }
}
