import Testing
import Trace
@testable import Visualizer

@Suite("Keys")
struct KeyMapTests {
    @Test func keysMapToTheActionsTheHelpPromises() {
        let expected: [(Character, UIAction)] = [
            ("q", .quit), (" ", .togglePause), ("s", .stepForward), ("n", .stepForward), ("b", .stepBack),
            ("c", .runOn), ("p", .enterStepMode), ("t", .toggleAxis), ("+", .zoomIn), ("-", .zoomOut),
            ("j", .scrollDown), ("k", .scrollUp), ("g", .first), ("G", .last), ("?", .toggleHelp), ("i", .toggleStats),
        ]
        for (key, action) in expected {
            #expect(KeyMap.action(for: Int32(key.asciiValue!)) == action, "\(key)")
        }
        #expect(KeyMap.action(for: 3) == .interrupt)  // Ctrl-C in raw mode
        #expect(KeyMap.action(for: Int32(Character("x").asciiValue!)) == nil)
        #expect(KeyMap.action(for: -1) == nil)
    }

    @Test func viewActionsChangeOnlyThePicture() {
        var view = ViewState(scenario: "count", clock: .virtual)
        var handled = view.applyViewAction(.toggleAxis, laneCount: 4)
        #expect(handled && view.axis == .step)
        handled = view.applyViewAction(.zoomIn, laneCount: 4)
        #expect(handled && view.zoom == 1)
        handled = view.applyViewAction(.panBack, laneCount: 4)
        #expect(handled && view.pan == 1)
        handled = view.applyViewAction(.zoomOut, laneCount: 4)
        #expect(handled && view.zoom == 0 && view.pan == 0)
        for _ in 0..<10 { _ = view.applyViewAction(.scrollDown, laneCount: 4) }
        #expect(view.selectedLane == 3)  // clamped to the last lane
        _ = view.applyViewAction(.pageUp, laneCount: 4)
        #expect(view.selectedLane == 0)
        handled = view.applyViewAction(.stepForward, laneCount: 4)
        #expect(!handled)  // the session's own
    }
}
