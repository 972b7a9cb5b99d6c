#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem

/// The echo bench's client: one thread, one epoll instance, a closed loop on each connection —
/// send a message, wait until all of its echo is back, send the next. Written against the
/// system calls directly (not on our loop) so that the client costs the same whichever server
/// it measures, and so little that the server stays the bottleneck.
struct EchoClient {
    struct Configuration: Sendable {
        var port: Int
        var connections: Int
        var messageSize: Int
        /// Requests before the measured window (connections warm, buffers grown).
        var warmup: Double
        /// The measured window, in seconds.
        var duration: Double
        /// Windows measured one after another on the same connections; the round reports the
        /// fastest. The VM the bench was tuned on has spells of half speed that only ever slow
        /// a window down: the fastest of a few short ones is the closest to what the server
        /// costs, and keeps a ratio of two servers measured seconds apart from swinging with them.
        var windows = 1
        /// Check every echoed byte; otherwise only each connection's first echo (a sanity check
        /// that costs nothing measurable).
        var verifyAll = false
        /// No byte moving for this long means the server stopped answering: an error, not a hang.
        var stallTimeout = 3.0
    }

    /// What one round measured.
    struct Round: Sendable {
        /// Requests completed inside the window.
        var requests: Int
        /// The window's wall time.
        var seconds: Double
        /// The client thread's CPU time inside the window.
        var clientCPUSeconds: Double
        /// The server's CPU time inside the window (all its threads), when it could be read.
        var serverCPUSeconds: Double?
        /// Latency of the window's requests, from the first byte sent to the last byte back.
        var p50Microseconds: Double
        var p99Microseconds: Double
        /// Every byte sent and received in the round, warm-up and tail included.
        var bytesSent: Int
        var bytesReceived: Int

        var requestsPerSecond: Double { seconds > 0 ? Double(requests) / seconds : 0 }

        /// The client's core, not the server, limited the round: the client was busy for (about)
        /// the whole window while the server was less so. Such a round measures the client.
        var clientBound: Bool {
            guard seconds > 0 else { return false }
            let client = clientCPUSeconds / seconds
            return client >= 0.95 && (serverCPUSeconds.map { $0 / seconds < client } ?? true)
        }
    }

    /// One connection's place in its closed loop.
    private struct Connection {
        var fd: Int32
        /// Its place in the client's list: what epoll reports with its events.
        var index: Int
        /// Bytes of the current message written, and of its echo read.
        var sent = 0
        var received = 0
        var startedAt: UInt64 = 0
        /// A request is in flight (false once the round stopped issuing them).
        var busy = false
        var watchingWrite = false
        var echoesVerified = 0
    }

    let configuration: Configuration
    /// The message every request sends: a pattern whose misplaced bytes a check would notice.
    private let message: [UInt8]

    init(_ configuration: Configuration) {
        precondition(configuration.connections > 0 && configuration.messageSize > 0)
        self.configuration = configuration
        message = (0..<configuration.messageSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    }

    /// Runs one round: connect, warm up, measure, finish the requests in flight, close.
    /// `serverCPU` reads the server's CPU seconds so far (sampled at the window's edges).
    func run(serverCPU: () -> Double? = { nil }) throws(EchoBenchError) -> Round {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw .system("epoll_create1", errno) }
        var connections: [Connection] = []
        defer {
            for connection in connections { close(connection.fd) }
            close(epoll)
        }
        for index in 0..<configuration.connections {
            let fd = try Self.connect(port: configuration.port)
            connections.append(Connection(fd: fd, index: index))
            var event = epoll_event()
            event.events = loopviz_epollin()
            event.data.u64 = UInt64(index)
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else { throw .system("epoll_ctl", errno) }
        }

        var scratch = [UInt8](repeating: 0, count: max(64 * 1024, configuration.messageSize))
        var events = [epoll_event](repeating: epoll_event(), count: connections.count)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(1 << 16)
        var bytesSent = 0, bytesReceived = 0

        let begin = Self.now()
        let windowStart = begin + UInt64(configuration.warmup * 1e9)
        let windowLength = UInt64(configuration.duration * 1e9)
        let windowCount = max(1, configuration.windows)
        // The edges as actually crossed (the first pass at or after each planned time), with
        // both CPU clocks sampled there: a window's figures all describe the same interval. One
        // window closes where the next opens, and each is a whole window long from its opening.
        var measuring = false, issuing = true
        var window = 0
        var opened: (wall: UInt64, client: Double, server: Double?) = (0, 0, nil)
        var measured: [Round] = []
        var lastProgress = begin

        for index in connections.indices { try start(&connections[index], at: begin, epoll: epoll, sent: &bytesSent) }
        while connections.contains(where: \.busy) {
            let count = epoll_wait(epoll, &events, Int32(events.count), 100)
            if count < 0 {
                if errno == EINTR { continue }
                throw .system("epoll_wait", errno)
            }
            let now = Self.now()
            for event in events.prefix(Int(count)) {
                let index = Int(event.data.u64)
                if event.events & loopviz_epollout() != 0 {
                    try send(&connections[index], epoll: epoll, sent: &bytesSent)
                    lastProgress = now
                }
                guard event.events & (loopviz_epollin() | loopviz_epollhup() | loopviz_epollerr()) != 0 else { continue }
                let done = try receive(&connections[index], into: &scratch, received: &bytesReceived)
                lastProgress = now
                guard done else { continue }
                connections[index].busy = false
                if measuring { latencies.append(now - connections[index].startedAt) }
                if issuing { try start(&connections[index], at: now, epoll: epoll, sent: &bytesSent) }
            }
            if !measuring && issuing && now >= windowStart {
                measuring = true
                opened = (now, Self.threadCPUSeconds(), serverCPU())
            } else if measuring && now >= opened.wall + windowLength {
                let closed = (wall: now, client: Self.threadCPUSeconds(), server: serverCPU())
                measured.append(Self.round(latencies: &latencies, from: opened, to: closed))
                latencies.removeAll(keepingCapacity: true)
                opened = closed
                window += 1
                if window == windowCount {
                    measuring = false
                    issuing = false
                }
            }
            if Double(now - lastProgress) / 1e9 > configuration.stallTimeout {
                throw .stalled(seconds: configuration.stallTimeout)
            }
        }

        guard var best = measured.max(by: { $0.requestsPerSecond < $1.requestsPerSecond }) else {
            throw .stalled(seconds: configuration.stallTimeout)  // unreachable: issuing stops after the last window
        }
        best.bytesSent = bytesSent
        best.bytesReceived = bytesReceived
        return best
    }

    /// One window's figures: its requests (their latencies, in nanoseconds) and both sides' CPU
    /// time between its edges.
    private static func round(
        latencies: inout [UInt64], from opened: (wall: UInt64, client: Double, server: Double?),
        to closed: (wall: UInt64, client: Double, server: Double?)
    ) -> Round {
        latencies.sort()
        func percentile(_ fraction: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]) / 1e3
        }
        return Round(
            requests: latencies.count, seconds: Double(closed.wall - opened.wall) / 1e9,
            clientCPUSeconds: closed.client - opened.client,
            serverCPUSeconds: closed.server.flatMap { end in opened.server.map { end - $0 } },
            p50Microseconds: percentile(0.5), p99Microseconds: percentile(0.99),
            bytesSent: 0, bytesReceived: 0)
    }

    // MARK: - One connection's closed loop

    private func start(_ connection: inout Connection, at now: UInt64, epoll: Int32, sent: inout Int) throws(EchoBenchError) {
        connection.sent = 0
        connection.received = 0
        connection.startedAt = now
        connection.busy = true
        try send(&connection, epoll: epoll, sent: &sent)
    }

    /// Writes what the socket takes of the current message; watches for room while some is left
    /// (a 100 KiB message does not fit in one send while the echo is not being read yet).
    private func send(_ connection: inout Connection, epoll: Int32, sent total: inout Int) throws(EchoBenchError) {
        while connection.sent < message.count {
            let offset = connection.sent
            let sent = message.withUnsafeBytes { Glibc.send(connection.fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                if errno == EINTR { continue }
                throw .system("send", errno)
            }
            connection.sent += sent
            total += sent
        }
        let wantsWrite = connection.sent < message.count
        guard wantsWrite != connection.watchingWrite else { return }
        connection.watchingWrite = wantsWrite
        var event = epoll_event()
        event.events = loopviz_epollin() | (wantsWrite ? loopviz_epollout() : 0)
        event.data.u64 = UInt64(connection.index)
        guard epoll_ctl(epoll, EPOLL_CTL_MOD, connection.fd, &event) == 0 else { throw .system("epoll_ctl", errno) }
    }

    /// Reads what has arrived; true once the whole echo of the current message is in.
    private func receive(_ connection: inout Connection, into scratch: inout [UInt8], received total: inout Int) throws(EchoBenchError) -> Bool {
        let verify = configuration.verifyAll || connection.echoesVerified == 0
        while true {
            let count = scratch.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress!, $0.count, 0) }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                if errno == EINTR { continue }
                throw .system("recv", errno)
            }
            if count == 0 { throw .serverClosed }
            guard connection.received + count <= message.count else { throw .wrongEcho("more bytes than were sent") }
            if verify {
                let expected = message[connection.received..<(connection.received + count)]
                guard scratch[..<count].elementsEqual(expected) else { throw .wrongEcho("bytes differ from those sent") }
            }
            connection.received += count
            total += count
            if connection.received == message.count { break }
        }
        guard connection.received == message.count else { return false }
        if verify { connection.echoesVerified += 1 }
        return true
    }

    // MARK: - System

    /// A blocking connect to 127.0.0.1:`port` (quick on loopback), then non-blocking with
    /// TCP_NODELAY, as the servers' own sockets are: small echoes go out at once.
    static func connect(port: Int) throws(EchoBenchError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw .system("connect to 127.0.0.1:\(port)", code)
        }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// This thread's CPU time: the client's own cost, whatever else the process runs.
    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// Why an echo measurement could not be made, in one line.
enum EchoBenchError: Error, CustomStringConvertible {
    case system(String, Int32)
    case serverClosed
    case wrongEcho(String)
    case stalled(seconds: Double)
    /// The server program could not be started or did not say its port in time.
    case serverStart(String)

    var description: String {
        switch self {
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        case .serverClosed: "the server closed a connection in the middle of an echo"
        case .wrongEcho(let what): "the server's echo was wrong: \(what)"
        case .stalled(let seconds): "the server stopped answering (nothing moved for \(seconds) s)"
        case .serverStart(let what): what
        }
    }
}
