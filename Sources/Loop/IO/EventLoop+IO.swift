#if canImport(Glibc)
import Glibc
#endif
import Trace

// MARK: - Watching fds (asyncio's add_reader / add_writer)

extension EventLoop {
    /// Runs `body` (on the loop thread, as a step of its own) each time `fd` is readable, until
    /// ``removeReader(_:)``. Replaces an earlier reader of the same fd, as asyncio does.
    /// - Throws: the `epoll_ctl` failure (an fd epoll cannot watch, such as a regular file; no
    ///   memory; too many watches): nothing is registered then.
    @discardableResult
    func addReader(_ fd: Int32, socket: EntityID, _ body: @escaping (IOReadiness) -> Void) throws(SocketError) -> IOHandler {
        try addHandler(fd, socket: socket, write: false, body)
    }

    /// As ``addReader(_:socket:_:)``, for writability.
    @discardableResult
    func addWriter(_ fd: Int32, socket: EntityID, _ body: @escaping (IOReadiness) -> Void) throws(SocketError) -> IOHandler {
        try addHandler(fd, socket: socket, write: true, body)
    }

    /// Stops watching `fd` for reading; a readiness already queued does nothing. Idempotent.
    func removeReader(_ fd: Int32) {
        guard let handler = ioRegistrations[fd]?.reader else { return }
        handler.cancelled = true
        ioRegistrations[fd]?.reader = nil
        try? updateInterest(fd)  // removing cannot fail but for a closed fd, which epoll forgot anyway
    }

    func removeWriter(_ fd: Int32) {
        guard let handler = ioRegistrations[fd]?.writer else { return }
        handler.cancelled = true
        ioRegistrations[fd]?.writer = nil
        try? updateInterest(fd)
    }

    private func addHandler(_ fd: Int32, socket: EntityID, write: Bool, _ body: @escaping (IOReadiness) -> Void) throws(SocketError) -> IOHandler {
        let handler = IOHandler(socket: socket, body: body)
        var registration = ioRegistrations[fd] ?? IORegistration()
        let replaced = write ? registration.writer : registration.reader
        if write { registration.writer = handler } else { registration.reader = handler }
        ioRegistrations[fd] = registration
        do {
            try updateInterest(fd)
        } catch {
            if write { ioRegistrations[fd]?.writer = replaced } else { ioRegistrations[fd]?.reader = replaced }
            if ioRegistrations[fd]?.reader == nil && ioRegistrations[fd]?.writer == nil { ioRegistrations[fd] = nil }
            throw error
        }
        replaced?.cancelled = true
        return handler
    }

    private func updateInterest(_ fd: Int32) throws(SocketError) {
        var interest: Selector.Interest = []
        if ioRegistrations[fd]?.reader != nil { interest.insert(.read) }
        if ioRegistrations[fd]?.writer != nil { interest.insert(.write) }
        if interest.isEmpty { ioRegistrations[fd] = nil }
        try selector?.setInterest(fd, interest)
    }

    // MARK: - Sockets the loop owns

    /// Takes `socket` into the table of open sockets (closed by ``close()`` if the program
    /// leaves it open) and records who opened it and what for.
    func adopt(_ socket: Socket, purpose: IOOperation) {
        openSockets[socket.fd] = socket
        emit(.ioOpened, subject: socket.entity, other: currentActor, detail: purpose.rawValue)
    }

    /// Unregisters and closes `socket`, with an `ioClosed` record. Idempotent.
    func closeSocket(_ socket: Socket, reason: IOCloseReason, by closer: EntityID) {
        guard !socket.isClosed else { return }
        removeReader(socket.fd)
        removeWriter(socket.fd)
        openSockets[socket.fd] = nil
        emit(.ioClosed, subject: socket.entity, other: closer, detail: reason.rawValue)
        socket.close()
    }

    // MARK: - Waiting on an fd

    /// Suspends the current task until `fd` is readable (or has an error or hang-up). If the task
    /// is cancelled meanwhile, the fd is unwatched and ``CancelledError`` is thrown. One task at
    /// a time may wait to read a given fd.
    nonisolated(nonsending) public func waitReadable(_ fd: Int32) async throws {
        assertInLoop()
        try await waitForFD(fd, socket: fdEntity(fd), write: false, operation: .read)
    }

    /// Suspends the current task until `fd` is writable; see ``waitReadable(_:)``.
    nonisolated(nonsending) public func waitWritable(_ fd: Int32) async throws {
        assertInLoop()
        try await waitForFD(fd, socket: fdEntity(fd), write: true, operation: .write)
    }

    /// The one-shot wait under ``waitReadable(_:)``, ``waitWritable(_:)`` and a connect.
    nonisolated(nonsending) func waitForFD(_ fd: Int32, socket: EntityID, write: Bool, operation: IOOperation) async throws {
        let registration = ioRegistrations[fd]
        if (write ? registration?.writer : registration?.reader) != nil {
            throw SocketError.alreadyWaiting(operation: write ? "write" : "read")
        }
        // Registered before the task suspends, so that a failure is thrown to it; the fd cannot
        // be handled before the suspension (this thread runs both), when `waiter` is known.
        let waiter = WaitingTask()
        let handler = try addHandler(fd, socket: socket, write: write) { [unowned self] _ in
            if write { removeWriter(fd) } else { removeReader(fd) }
            if let box = waiter.box { wakeIO(box, generation: waiter.generation, waker: .none, via: socket) }
        }
        do {
            try await suspendCurrentTask(.io, waitingOn: socket, deadline: Int64(operation.rawValue)) { box, generation in
                waiter.box = box
                waiter.generation = generation
            }
        } catch {
            // Cancelled while waiting: stop watching, unless the fd fired meanwhile and another
            // task now waits on it.
            let current = write ? ioRegistrations[fd]?.writer : ioRegistrations[fd]?.reader
            if current === handler {
                if write { removeWriter(fd) } else { removeReader(fd) }
            }
            throw error
        }
    }

    /// A name for a bare fd (`fd 7`), one per fd number.
    private func fdEntity(_ fd: Int32) -> EntityID {
        if let id = fdEntities[fd] { return id }
        let id = names.intern("fd \(fd)", kind: .socket)
        fdEntities[fd] = id
        return id
    }

    /// Makes a task waiting on I/O ready, unless it has moved on (cancelled, woken otherwise).
    func wakeIO(_ box: TaskBox, generation: UInt32, waker: EntityID, via: EntityID) {
        guard box.isWaiting(generation: generation) else { return }
        makeReady(box, generation: generation, cause: .io, waker: waker, via: via)
    }

    // MARK: - Plumbing

    /// Queues loop plumbing for the next pass (asyncio's `call_soon` of its own callbacks).
    func callSoonPlumbing(_ body: @escaping () -> Void) {
        ready.append(.plumbing(body))
    }

    /// Suspends the current task for `passes` plumbing hops: asyncio reaches some results
    /// through internal tasks and future callbacks (`create_server` gathers a getaddrinfo task:
    /// the caller resumes three passes later), and matching its schedule means taking as many.
    nonisolated(nonsending) func suspendForPlumbing(passes: Int, operation: IOOperation) async throws {
        try await suspendCurrentTask(.io, deadline: Int64(operation.rawValue)) { box, generation in
            func hop(_ left: Int) {
                callSoonPlumbing { [unowned self] in
                    if left > 1 {
                        hop(left - 1)
                    } else {
                        wakeIO(box, generation: generation, waker: .none, via: .none)
                    }
                }
            }
            hop(passes)
        }
    }

    /// Runs `body` with `actor` as the one the trace says acts (a handler task spawned from
    /// plumbing is the server owner's child).
    func acting<Result>(as actor: EntityID, _ body: () -> Result) -> Result {
        let saved = currentActor
        currentActor = actor
        defer { currentActor = saved }
        return body()
    }

    // MARK: - Name resolution

    /// The addresses of `host`: at once for a numeric address (asyncio's `_ipaddr_info`: no
    /// suspension); otherwise `getaddrinfo` runs on a thread of its own (asyncio's executor)
    /// while the task waits.
    nonisolated(nonsending) func resolve(host: String, port: Int, passive: Bool = false) async throws -> [SocketAddress] {
        guard (0...65535).contains(port) else { throw SocketError.badAddress("port \(port) (0...65535)") }
        if let address = SocketAddress.numeric(host: host, port: port) { return [address] }
        let outcome = ResolutionBox()
        pendingResolutions += 1
        defer { pendingResolutions -= 1 }
        try await suspendCurrentTask(.io, deadline: Int64(IOOperation.resolve.rawValue)) { box, generation in
            let thread = ResolverThread(host: host, port: port, passive: passive) { [self] result in
                self.post(.plumbing { [unowned self] in
                    outcome.result = result
                    wakeIO(box, generation: generation, waker: .none, via: .none)
                })
            }
            thread.start()
        }
        return try outcome.result!.get()
    }
}

/// The task a one-shot fd wait will wake, filled in when it suspends. Loop thread only.
final class WaitingTask {
    var box: TaskBox?
    var generation: UInt32 = 0
}

/// Where a resolver thread's answer waits for the task. `@unchecked Sendable`: only the loop
/// thread touches it (the answer itself travels through the inbox).
private final class ResolutionBox: @unchecked Sendable {
    var result: Result<[SocketAddress], SocketError>?
}

/// `getaddrinfo` off the loop thread: it may read files and ask a DNS server.
private struct ResolverThread {
    let host: String
    let port: Int
    let passive: Bool
    let done: @Sendable (Result<[SocketAddress], SocketError>) -> Void

    func start() {
        let host = host, port = port, passive = passive, done = done
        var thread = pthread_t()
        let box = Unmanaged.passRetained(ThreadBody { done(Self.lookup(host: host, port: port, passive: passive)) })
        let code = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box.toOpaque())
        if code == 0 {
            pthread_detach(thread)
        } else {
            box.release()
            done(.failure(.system(call: "pthread_create", errno: code)))  // it returns its error
        }
    }

    static func lookup(host: String, port: Int, passive: Bool) -> Result<[SocketAddress], SocketError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0, let list else {
            return .failure(.badAddress("\(host) does not resolve (\(String(cString: gai_strerror(code))))"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: current.pointee.ai_addr, count: Int(current.pointee.ai_addrlen)))
            }
            if let address = SocketAddress(storage: storage), !addresses.contains(address) { addresses.append(address) }
            entry = current.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(.badAddress("\(host) has no address")) : .success(addresses)
    }
}

/// A closure a new pthread runs. `@unchecked Sendable`: handed to exactly one thread, once.
private final class ThreadBody: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
