import Foundation
import Loop
import Trace
import Visualizer

/// Workloads on the history store and the layout.
enum ScreenBenchmarks {
    struct Result {
        var frameP50: Double
        var frameP99: Double
        var bytesPerEvent: Double
        var events: Int
        var applyNanosecondsPerEvent: Double
    }

    /// Records a real run of `tasks` tasks × `yields` yields (about 3 records per yield) into a
    /// ring big enough to keep it all, builds the history, then times `frames` layouts of a
    /// 200×50 screen at windows around the middle of the run, as when scrolling.
    static func frames(tasks: Int, yields: Int, frames: Int) throws -> Result {
        let ring = TraceRing(capacity: tasks * yields * 3 + tasks * 8 + 64)
        let loop = EventLoop(clock: VirtualClock(), ring: ring)
        try loop.run {
            let workers = (0..<tasks).map { index in
                loop.spawn("worker") {
                    for step in 0..<yields {
                        // Some time must pass for a time axis: every 16th yield is a short sleep.
                        try await loop.sleep(step % 16 == 0 ? Double(index % 7 + 1) * 1e-4 : 0)
                    }
                }
            }
            _ = try await loop.gather(workers)
        }
        var model = LaneModel(names: loop.names)
        let applyStart = Stopwatch()
        ring.drain { model.apply($0) }
        let applySeconds = applyStart.seconds
        var view = ViewState(scenario: "bench", clock: .virtual)
        view.mode = .finished
        view.zoom = 4
        var samples: [Double] = []
        let middle = model.stepCount / 2
        for frame in 0..<frames {
            view.cursor = middle + frame * 97
            view.laneScroll = (frame * 13) % max(1, tasks - 40)
            view.axis = frame % 4 == 3 ? .step : .time
            let start = Stopwatch()
            let grid = ScreenLayout.screen(model: model, view: view, width: 200, height: 50)
            samples.append(start.seconds * 1e3)
            precondition(grid.width == 200)
        }
        samples.sort()
        let p50 = samples[samples.count / 2]
        let p99 = samples[min(samples.count - 1, Int((Double(samples.count) * 0.99).rounded(.down)))]
        return Result(frameP50: p50, frameP99: p99, bytesPerEvent: Double(model.approximateBytes) / Double(max(1, model.records.count)),
                      events: model.eventCount, applyNanosecondsPerEvent: applySeconds * 1e9 / Double(max(1, model.records.count)))
    }
}
