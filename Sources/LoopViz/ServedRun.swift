import Foundation
import Loop
import Trace
import Visualizer

extension LoopViz {
    /// Runs `program` with its output on stdout as usual while it serves its trace on the Unix
    /// socket at `path` (`loopviz attach PATH` shows it live, steps it, detaches, re-attaches).
    /// It starts running at once (with `--step`, paused until a viewer steps it). Returns the
    /// exit status: 0, 1 when the program failed, 2 when the socket cannot be served.
    public static func serve(_ program: LoopProgram, options: RunOptions, path: String) -> Int32 {
        serve(program, options: options, path: path, viewerBacklog: 4 << 20)
    }

    /// `serve`, with the bytes a viewer may have queued before it loses records, and `started`
    /// given the server's counters once it serves (tests watch a slow viewer's backlog).
    static func serve(_ program: LoopProgram, options: RunOptions, path: String, viewerBacklog: Int,
                      started: (AttachServer.Counters) -> Void = { _ in }) -> Int32 {
        let ring = TraceRing(capacity: options.ringCapacity)
        let names = NameTable()
        let clock = LiveClock(speed: options.speed, flowing: options.clock == .real && !options.step)
        let gate = StepController(stepping: options.step)
        let loop = EventLoop(clock: clock, ring: ring, names: names)
        loop.stepGate = gate
        loop.onOutput = { line, _ in StandardStream.output.write(line + "\n") }
        let meta = ["scenario": program.name, "clock": options.clock == .real ? "real" : "virtual", "attach": "1"]
        let server: AttachServer
        do {
            server = try AttachServer(path: path, ring: ring, names: names, meta: meta, gate: gate, clock: clock,
                                      realTime: options.clock == .real, viewerBacklog: viewerBacklog)
        } catch {
            StandardStream.error.write("\(program.name): \(error)\n")
            return 2
        }
        StandardStream.error.write("\(program.name): serving its loop on \(path) (loopviz attach \(path))\n")
        server.start()
        started(server.counters)
        var status: Int32 = 0
        do {
            try program.run(on: loop)
        } catch {
            StandardStream.error.write("\(program.name): \(error)\n")
            status = 1
        }
        server.finish(dropped: ring.dropped)
        return status
    }
}
