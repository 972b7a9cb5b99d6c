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
        /// Seconds of each setup before the windows, and of each window.
        public var warmup: Double
        public var window: Double
        /// Windows per server and setup in a round, of which the fastest counts (see
        /// `EchoClient.Configuration.windows`).
        public var windows: Int
        public var servers: [EchoServer] = EchoServer.allCases

        /// `quick`: one round of short windows, so that CI proves it runs in a second or two.
        public init(executable: String, quick: Bool) {
            self.executable = executable
            // Tracing costs a busy echo server about 3 %, and on the VM of the README one round's
            // ratio swings by ±10 %: 12 rounds keep the median within a couple of points (an
            // even count: the order reverses every other round, so each server goes first as often).
            rounds = quick ? 1 : 12
            warmup = quick ? 0.01 : 0.1
            window = quick ? 0.03 : 0.2
            windows = quick ? 1 : 3
        }
    }

    /// Measures every server on every setup.
    /// - Throws: ``EchoBenchError`` when one of loopviz's servers fails to start or to echo, or
    ///   a Python server fails to echo (CPython or uvloop missing is not an error: reported).
    public static func measure(_ options: Options, progress: (String) -> Void = { _ in }) throws -> EchoReport {
        var report = EchoReport()
        report.rounds = options.rounds
        report.window = options.window
        report.windows = options.windows
        // The client's thread on the first core it may use, each server on the second; the
        // thread's own set comes back afterwards (the bench goes on in this thread).
        let allowed = CPUAffinity.current()
        if allowed.count >= 2, CPUAffinity.set([allowed[0]]) {
            report.cores = (allowed[0], allowed[1])
        }
        defer { if report.cores != nil { CPUAffinity.set(allowed) } }

        // Each round starts a fresh process of every server, then measures every setup on each
        // server in turn: a setup's four figures are taken within seconds of each other, so
        // traced and untraced (always neighbours in the order) share the machine's slow spells,
        // and their ratio is taken round by round. The order reverses every other round.
        var measured: [Setup: [EchoServer: [Int: EchoClient.Round]]] = [:]
        var servers = options.servers
        for round in 0..<options.rounds {
            let turn = round % 2 == 0 ? servers : servers.reversed()
            var running: [(server: EchoServer, process: ServerProcess, port: Int)] = []
            defer { for entry in running { stop(entry.server, entry.process, report: &report) } }
            for server in turn {
                progress("echo: round \(round + 1) of \(options.rounds), starting \(server.title)")
                do {
                    guard let (process, port) = try start(server, options: options, cores: report.cores, report: &report) else {
                        servers.removeAll { $0 == server }
                        continue
                    }
                    running.append((server, process, port))
                } catch {
                    throw EchoBenchError.serverStart("echo bench, \(server.title): \(error)")
                }
            }
            for setup in setups {
                for entry in running {
                    progress("echo: round \(round + 1) of \(options.rounds), \(setup.title), \(entry.server.title)")
                    let client = EchoClient(.init(port: entry.port, connections: setup.connections, messageSize: setup.messageSize,
                                                  warmup: options.warmup, duration: options.window, windows: options.windows))
                    do {
                        measured[setup, default: [:]][entry.server, default: [:]][round] = try client.run(serverCPU: entry.process.cpuSeconds)
                    } catch {
                        throw EchoBenchError.serverStart("echo bench, \(entry.server.title): \(error)")
                    }
                }
            }
        }
        for setup in setups {
            for server in options.servers where report.unavailable[server] == nil {
                let byRound = measured[setup]?[server] ?? [:]
                report.cells[setup, default: [:]][server] = EchoReport.Cell(byRound.keys.sorted().compactMap { byRound[$0] })
            }
            report.overheadRounds[setup] = EchoReport.pairedOverhead(traced: measured[setup]?[.traced] ?? [:],
                                                                     untraced: measured[setup]?[.untraced] ?? [:])
        }
        return report
    }

    /// Starts a fresh process of `server`. Nil when the server is not available here (python3 or
    /// uvloop missing): noted in `report.unavailable`.
    private static func start(
        _ server: EchoServer, options: Options, cores: (client: Int, server: Int)?, report: inout EchoReport
    ) throws(EchoBenchError) -> (ServerProcess, Int)? {
        let process: ServerProcess, greeting: ServerProcess.Greeting
        do {
            (process, greeting) = try ServerProcess.start(server.command(executable: options.executable, cpu: cores?.server))
        } catch {
            guard server == .asyncio || server == .uvloop, case .serverStart(let why) = error, why.hasPrefix("cannot start") else { throw error }
            report.unavailable[server] = "python3 not found"
            return nil
        }
        guard case .port(let port) = greeting else {
            _ = process.stop()
            report.unavailable[server] = server == .uvloop ? "not installed (pip install uvloop)" : "not available"
            return nil
        }
        return (process, port)
    }

    /// Stops a server; a traced one's last words say how many records its trace carried, and dropped.
    private static func stop(_ server: EchoServer, _ process: ServerProcess, report: inout EchoReport) {
        let words = process.stop().split(whereSeparator: \.isWhitespace)
        if server == .traced, words.count == 4, let records = Int(words[1]), let dropped = Int(words[3]) {
            report.tracedRecords += records
            report.tracedDropped += dropped
        }
    }
}
