import Testing
import Loop
import Trace
import Scenarios

@Test func scratchCount() throws {
    let ring = TraceRing(capacity: 4096)
    let loop = EventLoop(clock: VirtualClock(), ring: ring)
    var out: [String] = []
    loop.onOutput = { line, _ in out.append(line) }
    try CountScenario().run(on: loop)
    var recs: [TraceRecord] = []
    ring.drain { recs.append($0) }
    print(out)
    print(ScheduleFormat.text(recs, names: loop.names))
}
