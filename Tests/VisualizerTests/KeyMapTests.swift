import Scenarios
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
            #expect(KeyMap.action(for: KeyCode.key(Int32(key.asciiValue!))!) == action, "\(key)")
        }
        #expect(KeyMap.action(for: KeyCode.key(3)!) == .interrupt)  // Ctrl-C in raw mode
        #expect(KeyMap.action(for: .character("x")) == nil)
        #expect(KeyCode.key(-1) == nil)  // ncurses codes loopviz has no use for
    }

    @Test func viewActionsChangeOnlyThePicture() throws {
        let model = try Runs.model(CountScenario())  // four lanes
        var view = ViewState(scenario: "count", clock: .virtual)
        var handled = view.applyViewAction(.toggleAxis, model: model)
        #expect(handled && view.axis == .step)
        handled = view.applyViewAction(.zoomIn, model: model)
        #expect(handled && view.zoom == 1)
        handled = view.applyViewAction(.panBack, model: model)
        #expect(handled && view.pan == 1)
        handled = view.applyViewAction(.zoomOut, model: model)
        #expect(handled && view.zoom == 0 && view.pan == 0)
        for _ in 0..<10 { _ = view.applyViewAction(.scrollDown, model: model) }
        #expect(view.selectedLane == 3)  // clamped to the last lane
        _ = view.applyViewAction(.pageUp, model: model)
        #expect(view.selectedLane == 0)
        handled = view.applyViewAction(.stepForward, model: model)
        #expect(!handled)  // the session's own
        handled = view.applyViewAction(.jump(.nextLaneEvent), model: model)
        #expect(!handled)  // the cursor is the session's too
    }

    @Test func navigationKeysMapToTheirActions() {
        let expected: [(Character, UIAction)] = [
            ("/", .filter(.open)), ("f", .toggleFinished), ("T", .toggleTree),
            (".", .jump(.nextLaneEvent)), (",", .jump(.previousLaneEvent)),
            ("]", .jump(.nextWarning)), ("[", .jump(.previousWarning)),
        ]
        for (key, action) in expected {
            #expect(KeyMap.action(for: KeyCode.key(Int32(key.asciiValue!))!) == action, "\(key)")
        }
        #expect(KeyMap.action(for: KeyCode.key(27)!) == .filter(.clear))  // Escape drops a filter in force
    }

    @Test func whileThePromptIsOpenKeysAreText() {
        func typing(_ code: Int32) -> UIAction? { KeyCode.key(code).flatMap { KeyMap.action(for: $0, typing: true) } }
        // Command keys are letters of a lane name now.
        #expect(typing(Int32(Character("q").asciiValue!)) == .filter(.insert("q")))
        #expect(typing(Int32(Character("j").asciiValue!)) == .filter(.insert("j")))
        #expect(typing(Int32(Character("#").asciiValue!)) == .filter(.insert("#")))
        #expect(typing(10) == .filter(.apply) && typing(13) == .filter(.apply))
        #expect(typing(27) == .filter(.clear))
        // Backspace as terminals send it: DEL, ^H, or ncurses' keypad code.
        #expect(typing(127) == .filter(.deleteBackward) && typing(8) == .filter(.deleteBackward))
        #expect(typing(KeyCode.backspace) == .filter(.deleteBackward))
        #expect(typing(3) == .interrupt)  // Ctrl-C still leaves
        #expect(typing(KeyCode.left) == nil)
    }
}
