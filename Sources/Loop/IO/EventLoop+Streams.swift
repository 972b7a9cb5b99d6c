#if canImport(Glibc)
import Glibc
#endif
import Trace

/// What a server runs for each connection: asyncio's `client_connected_cb`.
public typealias ConnectionHandler = @Sendable (StreamReader, StreamWriter) async throws -> Void

// MARK: - asyncio streams: open_connection, start_server and their Unix variants

extension EventLoop {
    /// Connects to `host:port` over TCP (IPv4 or IPv6; a name is resolved first, and each of its
    /// addresses tried in turn) and returns the connection's two ends (asyncio's
    /// `open_connection`). Call it from a task on this loop.
    /// - Throws: ``SocketError`` naming the cause (refused, bad address, …), ``CancelledError``.
    nonisolated(nonsending) public func openConnection(
        host: String, port: Int, limit: Int = StreamReader.defaultLimit
    ) async throws -> (StreamReader, StreamWriter) {
        assertInLoop()
        var lastError: any Error = SocketError.badAddress(host)
        for address in try await resolve(host: host, port: port) {
            do {
                return try await connect(to: address, limit: limit)
            } catch let error as SocketError {
                lastError = error
            }
        }
        throw lastError
    }

    /// Connects to the Unix domain socket at `path` (asyncio's `open_unix_connection`).
    nonisolated(nonsending) public func openUnixConnection(
        path: String, limit: Int = StreamReader.defaultLimit
    ) async throws -> (StreamReader, StreamWriter) {
        assertInLoop()
        return try await connect(to: .unix(path: path), limit: limit)
    }

    /// Listens on `host:port` (port 0: the kernel picks a free one; read it from
    /// ``Server/port``) and runs `handler` in a new task, named `name#N`, for each connection
    /// (asyncio's `start_server`). Call it from a task on this loop.
    /// - Throws: ``SocketError`` (address in use, bad address, …), ``CancelledError``.
    nonisolated(nonsending) public func startServer(
        host: String, port: Int, name: String = "handle", backlog: Int = 100,
        limit: Int = StreamReader.defaultLimit, handler: @escaping ConnectionHandler
    ) async throws -> Server {
        assertInLoop()
        let addresses: [SocketAddress]
        guard !host.isEmpty else {
            throw SocketError.badAddress("an empty host (give the address to listen on, such as 127.0.0.1)")
        }
        if let numeric = SocketAddress.numeric(host: host, port: port) {
            guard (0...65535).contains(port) else { throw SocketError.badAddress("port \(port) (0...65535)") }
            // CPython gathers one getaddrinfo task per host even for a numeric one: the caller
            // resumes three passes later. Taking as many keeps the schedules equal.
            try await suspendForPlumbing(passes: 2, operation: .resolve)
            addresses = [numeric]
        } else {
            addresses = try await resolve(host: host, port: port, passive: true)
            // asyncio gathers the lookups: the caller resumes three passes after the answer.
            try await suspendForPlumbing(passes: 2, operation: .resolve)
        }
        var listeners: [Socket] = []
        do {
            for address in addresses {
                let socket = try Socket.open(family: address.family, names: names)
                listeners.append(socket)
                socket.setReuseAddress()
                socket.setIPv6Only()
                try socket.bind(address)
            }
        } catch {
            for socket in listeners { socket.close() }
            throw error
        }
        return try await serve(on: listeners, backlog: backlog, unixPath: nil, name: name, limit: limit, handler: handler)
    }

    /// As ``startServer(host:port:name:backlog:limit:handler:)`` on a Unix domain socket at
    /// `path` (asyncio's `start_unix_server`); a stale socket file there is replaced, and the
    /// file is removed when the server closes.
    nonisolated(nonsending) public func startUnixServer(
        path: String, name: String = "handle", backlog: Int = 100,
        limit: Int = StreamReader.defaultLimit, handler: @escaping ConnectionHandler
    ) async throws -> Server {
        assertInLoop()
        var status = stat()
        if stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFSOCK { _ = unlink(path) }
        let socket = try Socket.open(family: AF_UNIX, names: names)
        do {
            try socket.bind(.unix(path: path))
        } catch {
            socket.close()
            throw error
        }
        return try await serve(on: [socket], backlog: backlog, unixPath: path, name: name, limit: limit, handler: handler)
    }

    // MARK: - Internals

    /// Listens on bound sockets; then, as `create_server` does, skips one pass "so that all
    /// add_reader calls go through".
    nonisolated(nonsending) private func serve(
        on listeners: [Socket], backlog: Int, unixPath: String?, name: String, limit: Int, handler: @escaping ConnectionHandler
    ) async throws -> Server {
        let owner = currentActor
        weak var serverRef: Server?
        let server = Server(loop: self, listeners: listeners, backlog: Int32(clamping: backlog), unixPath: unixPath) { [unowned self] conn in
            // `_accept_connection2`: the transport, then (next pass) connection_made spawns the handler.
            let reader = StreamReader(loop: self, socket: conn.entity, limit: limit)
            let transport = Transport(loop: self, socket: conn, reader: reader, server: serverRef)
            link(transport)
            transport.start(connectionMade: { [unowned self] in
                let writer = StreamWriter(transport: transport, reader: reader)
                let task = acting(as: owner) { spawn(name) { try await handler(reader, writer) } }
                // asyncio's done-callback on the handler task: a handler that raised gets its
                // connection closed, one pass after it ended (the peer reads the end of stream).
                observe(task.box, ClosureObserver { [unowned self] box in
                    guard box.outcome == .error else { return }
                    callSoonPlumbing { transport.close() }
                })
            }, ready: {})
        }
        serverRef = server
        for socket in listeners { adopt(socket, purpose: .accept) }
        do {
            try server.startServing()
        } catch {
            server.close()
            throw error
        }
        try await sleep(0)
        return server
    }

    /// asyncio's `sock_connect` then `_create_connection_transport`: connect (waiting until the
    /// socket is writable when the connection is in progress), build the transport, and resume
    /// the caller once `connection_made` has run.
    nonisolated(nonsending) private func connect(to address: SocketAddress, limit: Int) async throws -> (StreamReader, StreamWriter) {
        let socket = try Socket.open(family: address.family, names: names)
        adopt(socket, purpose: .connect)
        do {
            if try !connectSettled(socket, to: address) {
                try await waitForFD(socket.fd, socket: socket.entity, write: true, operation: .connect)
                let code = socket.pendingError()
                if code != 0 { throw SocketError.from(errno: code, call: "connect", address: address) }
            }
        } catch {
            closeSocket(socket, reason: .error, by: currentActor)
            throw error
        }
        let reader = StreamReader(loop: self, socket: socket.entity, limit: limit)
        let transport = Transport(loop: self, socket: socket, reader: reader, server: nil)
        link(transport)
        do {
            try await suspendCurrentTask(.io, waitingOn: socket.entity, deadline: Int64(IOOperation.connect.rawValue)) { box, generation in
                transport.start(connectionMade: {}, ready: { [unowned self] in
                    wakeIO(box, generation: generation, waker: .none, via: socket.entity)
                })
            }
        } catch {
            transport.close()
            throw error
        }
        return (reader, StreamWriter(transport: transport, reader: reader))
    }

    /// Pairs `transport` with the other end of its connection when that end is on this loop too
    /// (loopback): reads then name the task whose write caused them.
    private func link(_ transport: Transport) {
        guard let local = transport.socket.localAddress, let peer = transport.socket.peerAddress else { return }
        if case .unix = local { return }  // Unix peers are unnamed: no reliable pairing
        let key = "\(local)>\(peer)"
        if let other = unpairedTransports.removeValue(forKey: "\(peer)>\(local)")?.value {
            transport.peer = other
            other.peer = transport
        } else {
            unpairedTransports[key] = WeakTransport(value: transport)
            transport.pairingKey = key
        }
    }
}

/// A transport waiting for its loopback partner. Loop thread only.
struct WeakTransport {
    weak var value: Transport?
}
