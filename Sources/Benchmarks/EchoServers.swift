#if canImport(Glibc)
import Glibc
#endif
import Loop
import Trace

/// The servers the echo bench compares: one program (read what comes, write it back, wait for
/// the writer to drain) on loopviz's loop untraced and traced, and on CPython's asyncio and
/// uvloop streams. Each runs in a fresh process of its own.
public enum EchoServer: String, CaseIterable, Sendable {
    case traced, untraced, asyncio, uvloop

    var title: String {
        switch self {
        case .traced: "loopviz traced"
        case .untraced: "loopviz untraced"
        case .asyncio: "CPython asyncio"
        case .uvloop: "uvloop"
        }
    }

    /// The command line that starts it, pinned to `cpu` when given. `executable`: this loopviz.
    func command(executable: String, cpu: Int?) -> [String] {
        let pin = cpu.map { ["\($0)"] } ?? []
        switch self {
        case .traced, .untraced:
            return [executable, "bench", "--echo-server", rawValue] + (cpu.map { ["--echo-cpu", "\($0)"] } ?? [])
        case .asyncio, .uvloop:
            return ["python3", "-c", EchoServerProgram.python, rawValue] + pin
        }
    }
}

/// The echo server programs themselves.
public enum EchoServerProgram {
    /// `loopviz bench --echo-server traced|untraced`: the echo server on our loop, as a user would
    /// write it with the streams API. Prints `port N`; when its stdin ends (the bench closed it,
    /// or the bench died) it closes the server, lets the loop finish and prints what its trace
    /// counted: `records N dropped N`. Traced, every record goes through the ring to a reader
    /// thread, as in the live UI (and as `LoopBenchmarks.ping(traced:)` does).
    public static func serve(traced: Bool, cpu: Int?) throws {
        // Before the loop and the reader thread exist: every thread of the process inherits it.
        if let cpu, !CPUAffinity.set([cpu]) { throw EchoBenchError.serverStart("cannot pin the server to CPU \(cpu)") }
        let ring = traced ? TraceRing(capacity: 1 << 16) : nil
        let loop = EventLoop(clock: RealClock(), ring: ring)
        let records = Counter()
        let reader = ring.map { ring in
            // Every 5 ms (the live screen drains every 10): the reader shares the server's core,
            // and at 1 ms its wake-ups took 1.4 % of that core's samples and the switches they
            // forced another 1 % (perf, 1 KiB × 10 connections); at 5 ms, 0.5 % in all. The
            // ring holds 65,536 records, 50 ms of this server's.
            TraceReader(ring: ring, pollInterval: .milliseconds(5)) { batch in records.value += batch.count }
        }
        reader?.start()
        try loop.run {
            let server = try await loop.startServer(host: "127.0.0.1", port: 0, name: "echo") { reader, writer in
                do {
                    while true {
                        let data = try await reader.read(max: 65536)
                        if data.isEmpty { break }
                        writer.write(data)
                        try await writer.drain()
                    }
                } catch {
                    // The client left in the middle (reset), or the loop is winding down.
                }
                writer.close()
            }
            say("port \(server.port)")
            // Nobody writes to stdin: it turns readable only at its end.
            try await loop.waitReadable(0)
            server.close()
        }
        reader?.stop()
        say("records \(records.value) dropped \(ring?.dropped ?? 0)")
    }

    /// One line on stdout, unbuffered: the bench waits for it.
    private static func say(_ line: String) {
        var bytes = Array((line + "\n").utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            bytes = bytes.dropFirst(count)
        }
    }

    /// The same server on CPython: `python3 -c PROGRAM asyncio|uvloop [CPU]`. It stops when its
    /// stdin ends, as ours does; without uvloop it says `uvloop not installed`.
    static let python = """
        import asyncio, os, sys

        async def handle(reader, writer):
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    writer.write(data)
                    await writer.drain()
            except ConnectionError:
                pass
            writer.close()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            print("port", server.sockets[0].getsockname()[1], flush=True)
            loop = asyncio.get_running_loop()
            stdin_ended = loop.create_future()
            def stdin_ready():  # nobody writes to stdin: readable only at its end
                loop.remove_reader(0)
                stdin_ended.set_result(None)
            loop.add_reader(0, stdin_ready)
            await stdin_ended
            server.close()

        if __name__ == "__main__":
            if len(sys.argv) > 2:
                os.sched_setaffinity(0, {int(sys.argv[2])})
            if sys.argv[1] == "uvloop":
                try:
                    import uvloop
                except ImportError:
                    print("uvloop not installed", flush=True)
                    sys.exit(0)
                uvloop.run(main())
            else:
                asyncio.run(main())
        """
}
