import Foundation
import Loop
import Synchronization
import Testing
import Trace
import Visualizer
@testable import LoopViz

extension AttachTests {
    /// A viewer that never reads: the program runs on at its own pace, the server's queue for
    /// that viewer stays bounded although the program keeps making names (each task its own), and
    /// once the viewer reads it gets a well-formed stream with a gap that counts what it lost.
    @Test func aViewerThatNeverReadsNeitherBlocksTheProgramNorGrowsItsQueue() throws {
        let path = try Self.privateFolder() + "/slow.sock"
        let tasks = 12_000
        let longName = String(repeating: "w", count: 250)
        let backlog = 64 << 10
        let state = SlowRun()
        let options = RunOptions()  // the real clock
        let program = LoopProgram(name: "slow") { loop in
            while !state.viewerIn.load(ordering: .acquiring) { try await loop.sleep(0.005) }
            for index in 0..<tasks {
                _ = loop.spawn("\(longName)\(index)") {}
                state.spawned.add(1, ordering: .releasing)
                // Paced a little, so the server drains the ring in small turns (the ring itself
                // never blocks either; it would count drops of its own).
                if index % 20 == 19 { try await loop.sleep(0.001) }
            }
            state.phaseOneDone.store(true, ordering: .releasing)
            while !state.go.load(ordering: .acquiring) { try await loop.sleep(0.005) }
            try await loop.sleep(0.01)
        }
        Thread {
            state.status.store(LoopViz.serve(program, options: options, path: path, viewerBacklog: backlog) { counters in
                state.counters.withLock { $0 = counters }
            }, ordering: .releasing)
            state.done.signal()
        }.start()
        var tries = 0
        while !FileManager.default.fileExists(atPath: path) && tries < 500 { usleep(10_000); tries += 1 }
        let viewer = try Viewer(path: path)
        state.viewerIn.store(true, ordering: .releasing)
        // Not a timed assertion: the program must get through all its steps while the viewer has
        // read nothing at all (it would stop here forever if the server waited for the viewer).
        while !state.phaseOneDone.load(ordering: .acquiring) { usleep(10_000) }
        #expect(state.spawned.load(ordering: .acquiring) == tasks)
        let counters = try #require(state.counters.withLock { $0 })
        let peak = counters.peakBacklog.load(ordering: .relaxed)
        let nameBytes = tasks * (longName.utf8.count + 20)
        // Bounded: the limit plus what one turn adds, and far below what the program produced
        // for it (its names alone: queued regardless, they would be nearly all of it).
        #expect(peak <= backlog + counters.largestTurn.load(ordering: .relaxed))
        #expect(peak < nameBytes / 4)
        let dropped = counters.droppedForViewers.load(ordering: .relaxed)
        #expect(dropped > 0)

        // Now it reads: the gap comes (after the names it missed), then the program ends.
        _ = try viewer.read(until: " gap ")
        state.go.store(true, ordering: .releasing)
        #expect(state.done.wait(timeout: .now() + 30) == .success)
        #expect(state.status.load(ordering: .acquiring) == 0)
        let text = try viewer.readToClose()
        #expect(counters.peakBacklog.load(ordering: .relaxed) < nameBytes / 4)  // its catch-up did not count
        // The whole stream parses: every record's names came before it, although names were held back.
        var stream = TraceStream(source: path)
        let records = try stream.feed(Array(text.utf8))
        #expect(stream.ended)
        let gaps = records.filter { $0.kind == .gap }.map { Int($0.value) }.reduce(0, +)
        #expect(gaps >= dropped)  // the ring's own gaps, if it overflowed, come on top
        var model = LaneModel(names: stream.names)
        for record in records { model.apply(record) }
        #expect(model.dropped == Int64(gaps))  // what the header shows as "N LOST"
    }

    /// Shared between the test and the served program's thread.
    final class SlowRun: Sendable {
        let viewerIn = Atomic<Bool>(false)
        let phaseOneDone = Atomic<Bool>(false)
        let go = Atomic<Bool>(false)
        let spawned = Atomic<Int>(0)
        let status = Atomic<Int32>(-1)
        let done = DispatchSemaphore(value: 0)
        let counters = Mutex<AttachServer.Counters?>(nil)
    }
}
