import Foundation
import Loop
import Scenarios
import Testing
import Trace
@testable import Visualizer

@Suite("Recording and export")
struct RecordingTests {
    /// Runs a scenario with a recorder on the reader side, as `--record` does.
    static func recordedRun(_ scenario: any Scenario) throws -> (live: LaneModel, path: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loopviz-\(UUID().uuidString).lvt").path
        let ring = TraceRing(capacity: 1 << 14)
        let loop = EventLoop(clock: VirtualClock(), ring: ring)
        let writer = try TraceFileWriter(path: path, names: loop.names, meta: ["scenario": scenario.name, "clock": "virtual"])
        try scenario.run(on: loop)
        var live = LaneModel(names: loop.names)
        var batch: [TraceRecord] = []
        ring.drain { batch.append($0) }
        for record in batch { live.apply(record) }
        writer.append(batch)
        try writer.finish(dropped: ring.dropped)
        return (live, path)
    }

    @Test(arguments: [CountScenario() as any Scenario, EventScenario(), QueueScenario(), TimeoutScenario(), BlockingScenario(), EchoScenario()])
    func theModelRebuiltFromARecordingEqualsTheLiveOne(scenario: any Scenario) throws {
        let (live, path) = try Self.recordedRun(scenario)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let contents = try TraceFile.read(path: path)
        #expect(contents.complete)
        #expect(contents.meta["scenario"] == scenario.name)
        let replayed = LaneModel(records: contents.records, names: contents.names)
        #expect(Array(replayed.records) == Array(live.records))
        #expect(replayed.lanes == live.lanes)
        #expect(replayed.steps == live.steps)
        #expect(replayed.log == live.log)
        #expect(replayed.wakes == live.wakes)
        #expect(contents.names.snapshot() == live.names.snapshot())
        // Readable and small: a line of text per record.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path)).count
        #expect(Double(bytes) / Double(live.records.count) < 60)
    }

    @Test(arguments: [CountScenario() as any Scenario, EventScenario(), EchoScenario()])
    func chromeTraceFollowsTheFormatsRules(scenario: any Scenario) throws {
        let (model, path) = try Self.recordedRun(scenario)
        try? FileManager.default.removeItem(atPath: path)
        let json = ChromeTrace.json(model, process: "loopviz \(scenario.name)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let events = try #require(object["traceEvents"] as? [[String: Any]])
        var slicesByTrack: [Int: [(start: Double, end: Double, name: String)]] = [:]
        var flowStarts: [Int: Int] = [:], flowEnds: [Int: Int] = [:]
        var threadNames: [String] = []
        for event in events {
            for key in ["ph", "ts", "pid", "tid", "name"] { #expect(event[key] != nil, "\(key) missing in \(event)") }
            let tid = event["tid"] as? Int ?? -1
            switch event["ph"] as? String {
            case "X":
                let start = event["ts"] as? Double ?? 0, duration = event["dur"] as? Double ?? -1
                #expect(duration >= 0)
                slicesByTrack[tid, default: []].append((start, start + duration, event["name"] as? String ?? ""))
            case "s": flowStarts[event["id"] as? Int ?? -1, default: 0] += 1
            case "f":
                #expect(event["bp"] as? String == "e")
                flowEnds[event["id"] as? Int ?? -1, default: 0] += 1
            case "M":
                if event["name"] as? String == "thread_name" { threadNames.append((event["args"] as? [String: Any])?["name"] as? String ?? "") }
            case "i": #expect(event["s"] as? String == "t")
            default: break
            }
        }
        // Slices on one track follow one another (or nest): never a partial overlap.
        for (_, slices) in slicesByTrack {
            for (a, b) in zip(slices, slices.dropFirst()) {
                #expect(b.start >= a.end - 0.001 || b.end <= a.end + 0.001, "\(a) then \(b)")
            }
        }
        #expect(!flowStarts.isEmpty)
        #expect(flowStarts == flowEnds)
        #expect(threadNames == model.lanes.map { $0.kind == .callback ? "\($0.name) (callback)" : $0.name })
        let names = Set(slicesByTrack.values.joined().map(\.name))
        #expect(names.contains("running") && names.contains("ready"))
        switch scenario.name {
        case "count": #expect(names.contains("sleep"))
        case "echo":
            #expect(names.contains { $0.hasPrefix("I/O read fd ") })
            // I/O wake-ups carry the writer: a flow arrow from a client's track to a handler's.
            #expect(events.contains { $0["ph"] as? String == "s" && $0["name"] as? String == "woken: I/O" })
        default: #expect(names.contains("wait Event#1"))
        }
    }
}
