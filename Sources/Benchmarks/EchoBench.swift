/// `loopviz bench`'s echo section: each server of ``EchoServer`` in a fresh process on
/// 127.0.0.1, driven by ``EchoClient`` through every setup (1, 10 and 100 KiB messages over 10
/// connections, then over 1), client and server pinned to different cores. The servers take
/// turns round after round (each round starts with the next one), so that a slow patch of the
/// machine falls on all of them; a round in which the client's core was the bottleneck is left
/// out and counted.
public enum EchoBench {
    /// One row group of the table: a message size over a number of connections.
    public struct Setup: Hashable, Sendable {
        public var messageSize: Int
        public var connections: Int

        /// Its name in the JSON keys: `1k_10c`.
        var key: String { "\(messageSize / 1024)k_\(connections)c" }
        var title: String { "\(messageSize / 1024) KiB × \(connections) connection\(connections == 1 ? "" : "s")" }
    }

    /// Every setup, in the order measured and shown.
    public static let setups: [Setup] = [10, 1].flatMap { connections in
        [1, 10, 100].map { Setup(messageSize: $0 * 1024, connections: connections) }
    }

    public struct Options: Sendable {
        /// This loopviz: it serves the loop's echo (`bench --echo-server`).
        public var executable: String
        public var rounds: Int
        /// Seconds of each setup before the window, and of the window.
        public var warmup: Double
        public var window: Double
        public var servers: [EchoServer] = EchoServer.allCases

        /// `quick`: one round of short windows, so that CI proves it runs in a second or two.
        public init(executable: String, quick: Bool) {
            self.executable = executable
            rounds = quick ? 1 : 5
            warmup = quick ? 0.01 : 0.2
            window = quick ? 0.03 : 0.5
        }
    }

    /// Measures every server on every setup.
    /// - Throws: ``EchoBenchError`` when one of loopviz's servers fails to start or to echo, or
    ///   a Python server fails to echo (CPython or uvloop missing is not an error: reported).
    public static func measure(_ options: Options, progress: (String) -> Void = { _ in }) throws -> EchoReport {
        var report = EchoReport()
        report.rounds = options.rounds
        report.window = options.window
        // The client's thread on the first core it may use, each server on the second; the
        // thread's own set comes back afterwards (the bench goes on in this thread).
        let allowed = CPUAffinity.current()
        if allowed.count >= 2, CPUAffinity.set([allowed[0]]) {
            report.cores = (allowed[0], allowed[1])
        }
        defer { if report.cores != nil { CPUAffinity.set(allowed) } }

        var rounds: [Setup: [EchoServer: [EchoClient.Round]]] = [:]
        var servers = options.servers
        for round in 0..<options.rounds {
            let turn = servers.isEmpty ? [] : Array(servers[(round % servers.count)...] + servers[..<(round % servers.count)])
            for server in turn {
                progress("echo: round \(round + 1) of \(options.rounds), \(server.title)")
                let measured: [Setup: EchoClient.Round]
                do {
                    guard let result = try measureOnce(server, options: options, cores: report.cores, report: &report) else {
                        servers.removeAll { $0 == server }
                        continue
                    }
                    measured = result
                } catch {
                    throw EchoBenchError.serverStart("echo bench, \(server.title): \(error)")
                }
                for (setup, figures) in measured { rounds[setup, default: [:]][server, default: []].append(figures) }
            }
        }
        for setup in setups {
            for server in options.servers where report.unavailable[server] == nil {
                report.cells[setup, default: [:]][server] = EchoReport.Cell(rounds[setup]?[server] ?? [])
            }
        }
        return report
    }

    /// One fresh server process through every setup. Nil when the server is not available here
    /// (python3 or uvloop missing): noted in `report.unavailable`.
    private static func measureOnce(
        _ server: EchoServer, options: Options, cores: (client: Int, server: Int)?, report: inout EchoReport
    ) throws(EchoBenchError) -> [Setup: EchoClient.Round]? {
        let process: ServerProcess, greeting: ServerProcess.Greeting
        do {
            (process, greeting) = try ServerProcess.start(server.command(executable: options.executable, cpu: cores?.server))
        } catch {
            guard server == .asyncio || server == .uvloop, case .serverStart(let why) = error, why.hasPrefix("cannot start") else { throw error }
            report.unavailable[server] = "python3 not found"
            return nil
        }
        defer { process.stop() }
        guard case .port(let port) = greeting else {
            report.unavailable[server] = server == .uvloop ? "not installed (pip install uvloop)" : "not available"
            return nil
        }
        var measured: [Setup: EchoClient.Round] = [:]
        for setup in setups {
            let client = EchoClient(.init(port: port, connections: setup.connections, messageSize: setup.messageSize,
                                          warmup: options.warmup, duration: options.window))
            measured[setup] = try client.run(serverCPU: process.cpuSeconds)
        }
        // A traced server's last words: how many records its trace carried, and dropped.
        let words = process.stop().split(whereSeparator: \.isWhitespace)
        if server == .traced, words.count == 4, let records = Int(words[1]), let dropped = Int(words[3]) {
            report.tracedRecords += records
            report.tracedDropped += dropped
        }
        return measured
    }
}
