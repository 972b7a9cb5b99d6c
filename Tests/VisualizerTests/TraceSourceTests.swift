import Foundation
import Loop
import Scenarios
import Testing
import Trace
@testable import Visualizer

/// One ingest path whatever the source: the same records, taken from a ring, a recording file
/// read in small chunks and a stream read from a pipe, build the same model (bounded or not).
@Suite("Trace sources")
struct TraceSourceTests {
    @Test(arguments: [CountScenario() as any Scenario, EchoScenario()], [0, 40])
    func theRingTheFileAndTheStreamGiveTheSameModel(scenario: any Scenario, history: Int) throws {
        let (_, path) = try RecordingTests.recordedRun(scenario)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let contents = try TraceFile.read(path: path)
        func ingest(_ names: NameTable) -> TraceIngest {
            var model = LaneModel(names: names)
            if history > 0 { model.historyLimit = history }
            return TraceIngest(model: model, recorder: nil)
        }

        // The ring, as a running loop fills it.
        let ring = TraceRing(capacity: 1 << 14)
        for record in contents.records { _ = ring.push(record) }
        var fromRing = ingest(contents.names)
        var ringSource = RingSource(ring: ring)
        while try fromRing.take(from: &ringSource) {}

        // The file, a few lines at a time (lines cut across chunks).
        var file = try FileSource(path: path, chunkSize: 97)
        var fromFile = ingest(file.reader.names)
        while !file.finished { try fromFile.take(from: &file) }
        #expect(file.reader.complete)

        // The stream, from a pipe written by another thread, as a socket brings it.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let writer = fds[1]
        let written = Thread {
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { write(writer, $0.baseAddress, min($0.count, 1000)) }
                guard count > 0 else { break }
                offset += count
            }
            close(writer)
        }
        written.start()
        var stream = StreamSource(fd: fds[0], stream: TraceStream(source: "pipe"))
        stream.blocking = true
        var fromStream = ingest(stream.stream.names)
        while !stream.stream.ended && !stream.closed { try fromStream.take(from: &stream) }
        stream.close()

        for other in [fromFile.model, fromStream.model] {
            let model = fromRing.model
            #expect(Array(other.records) == Array(model.records))
            #expect(other.lanes == model.lanes)
            #expect(other.steps == model.steps)
            #expect(other.log == model.log)
            #expect(other.wakes == model.wakes)
            #expect(other.firstRecordIndex == model.firstRecordIndex && other.eventCount == model.eventCount)
            #expect(other.names.snapshot() == model.names.snapshot())
        }
        if history > 0 { #expect(fromRing.model.firstRecordIndex > 0) }  // the bounded case did trim
    }
}
