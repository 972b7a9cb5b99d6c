import Loop
import Scenarios
import Trace
@testable import Visualizer

/// Models of the shipped scenarios, run on the virtual clock.
enum Runs {
    static func model(_ scenario: any Scenario, capacity: Int = 1 << 14) throws -> LaneModel {
        let ring = TraceRing(capacity: capacity)
        let loop = EventLoop(clock: VirtualClock(), ring: ring)
        try scenario.run(on: loop)
        var model = LaneModel(names: loop.names)
        ring.drain { model.apply($0) }
        return model
    }

    static func view(_ name: String, axis: TimeAxis = .time) -> ViewState {
        var view = ViewState(scenario: name, clock: .virtual)
        view.glyphs = .unicode
        view.axis = axis
        view.mode = .finished
        return view
    }

    /// The lane rows of a plain picture, by lane name.
    static func laneRows(_ grid: Grid) -> [String: String] {
        var rows: [String: String] = [:]
        for line in grid.text.split(separator: "\n").dropFirst(2) {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2 { rows[String(parts[0])] = String(parts[1]).trimmingCharacters(in: .whitespaces) }
        }
        return rows
    }
}

extension String {
    func trimmingCharacters(in set: CharacterSet) -> String {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
    enum CharacterSet { case whitespaces }
}
