import Loop
import Scenarios
import Testing
import Trace
@testable import Visualizer

@Suite("Layout")
struct LayoutTests {
    @Test func countInTimeOrderAt80Columns() throws {
        let model = try Runs.model(CountScenario())
        let grid = ScreenLayout.plain(model: model, view: Runs.view("count"), width: 80)
        let lines = grid.text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix(" loopviz count │ FINISHED │ t=1.000s │ virtual clock │ ? help │ 48 events │ 0 dr"))
        #expect(lines[1].hasPrefix("time    ┬0s"))
        // Each count lane: a slice that printed, a long sleep, the timer, a slice, done.
        for lane in 3...5 {
            #expect(lines[lane].range(of: #"^count#\d █•░+↑█✓$"#, options: .regularExpression) != nil, "\(lines[lane])")
        }
        #expect(lines[1 + 1].hasPrefix("main    █╌"))
        #expect(lines[1 + 1].hasSuffix("↲█✓"))
    }

    @Test func countInStepOrderReadsLikeASequenceDiagram() throws {
        let model = try Runs.model(CountScenario())
        let grid = ScreenLayout.plain(model: model, view: Runs.view("count", axis: .step), width: 60)
        #expect(grid.text.split(separator: "\n").dropFirst(2).map(String.init) == [
            "main    █╌╌╌╌╌╌╌╌↲█✓",
            "count#1 ▒█•░↑▒▒█✓│",  // count#3 finishing wakes main: the connector crosses count#1
            "count#2 ▒▒█•░↑▒▒█✓",
            "count#3 ▒▒▒█•░↑▒▒█✓",
        ])
    }

    @Test func eventShowsTheCallbackLaneAndTheWakeUps() throws {
        let model = try Runs.model(EventScenario())
        let rows = Runs.laneRows(ScreenLayout.plain(model: model, view: Runs.view("event", axis: .step), width: 60))
        #expect(rows["set_event"] == "···█◆│")  // coro2#1 wakes main: the connector crosses
        #expect(rows["coro1#1"] == "▒█•◇█✓")
        #expect(rows["coro2#1"] == "▒▒█◇▒█✓")
        let timeRows = Runs.laneRows(ScreenLayout.plain(model: model, view: Runs.view("event"), width: 60))
        #expect(timeRows["coro1#1"]?.hasPrefix("█•┈┈┈") == true)
        #expect(timeRows["coro1#1"]?.hasSuffix("◇█✓") == true)
        #expect(timeRows["set_event"]?.hasSuffix("·█◆") == true)
    }

    @Test func twentyColumnsStillShowEveryLaneAndEverySlice() throws {
        let model = try Runs.model(CountScenario())
        let grid = ScreenLayout.plain(model: model, view: Runs.view("count"), width: 20)
        let lines = grid.text.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.unicodeScalars.count <= 20 })
        let lanes = lines.dropFirst(2)
        #expect(lanes.count == 4)
        // Names are cut to the label column, but each lane keeps its first and last slices.
        #expect(lanes.allSatisfy { $0.filter { $0 == "█" }.count == 2 })
    }

    @Test func asciiGlyphsWhenTheLocaleIsNotUTF8() throws {
        let model = try Runs.model(CountScenario())
        var view = Runs.view("count", axis: .step)
        view.glyphs = .ascii
        let text = ScreenLayout.plain(model: model, view: view, width: 60).text
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(text.contains("count#1 =#o.^==#]"))
    }

    @Test func aDroppedRecordGapIsShownOnTheLanesAndInTheHeader() throws {
        let names = NameTable()
        let task = names.intern("t#1", kind: .task)
        var model = LaneModel(names: names)
        model.apply(TraceRecord(time: 0, kind: .taskSpawned, subject: task, state: .ready))
        model.apply(TraceRecord(time: 0, kind: .taskResumed, subject: task, state: .running))
        model.apply(TraceRecord(time: 1_000_000, kind: .taskSuspended, subject: task, value: 9_000_000,
                                detail: SuspendReason.sleep.rawValue, state: .sleeping))
        model.apply(TraceRecord(time: 4_000_000, kind: .gap, subject: .none, value: 12))
        model.apply(TraceRecord(time: 8_000_000, kind: .taskResumed, subject: task, state: .running))
        let grid = ScreenLayout.plain(model: model, view: Runs.view("gap"), width: 60)
        let lines = grid.text.split(separator: "\n").map(String.init)
        #expect(lines[0].contains("12 LOST"))
        #expect(ScreenLayout.plain(model: model, view: Runs.view("gap"), width: 120).text.contains("12 dropped"))
        #expect(lines[2].contains("!?"))
        #expect(lines[2].contains("░"))
    }

    @Test func liveScreenHasHeaderLanesLogAndStatusAndHelp() throws {
        let model = try Runs.model(CountScenario())
        var view = Runs.view("count")
        view.cursor = 5
        let grid = ScreenLayout.screen(model: model, view: view, width: 100, height: 30)
        let lines = grid.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 30)
        #expect(lines[0].contains("FINISHED"))
        #expect(lines.contains { $0.hasPrefix("── output") })
        #expect(lines.contains("0.000 count#1 One"))
        #expect(!lines.contains("1.000 count#1 Two"))  // the log follows the cursor too
        #expect(lines[29] == " step 5/11 │ t=1.000 timer sleep → count#1 ready")
        view.showHelp = true
        let help = ScreenLayout.screen(model: model, view: view, width: 100, height: 30).text
        #expect(help.contains("axis: loop time / step order"))
        #expect(help.contains("one step back"))
    }

    @Test func noSizeCursorZoomOrPanCrashesTheLayout() throws {
        // Every frame the UI could be asked for: tiny and odd sizes, any cursor, zoom and pan.
        for model in [try Runs.model(CountScenario()), try Runs.model(EventScenario()), try Runs.model(CountScenario(tasks: 40))] {
            for (width, height) in [(0, 0), (1, 1), (20, 6), (21, 7), (33, 9), (100, 30), (7, 40)] {
                for axis in [TimeAxis.time, .step] {
                    for cursor in [nil, 0, 1, 3, model.steps.count, model.steps.count + 5] {
                        for (zoom, pan) in [(0, 0), (3, 0), (3, 9), (25, 2)] {
                            var view = Runs.view("any", axis: axis)
                            view.cursor = cursor
                            view.zoom = zoom
                            view.pan = pan
                            view.laneScroll = 3
                            view.showHelp = width > 50
                            let grid = ScreenLayout.screen(model: model, view: view, width: width, height: height)
                            #expect(grid.width == width && grid.height == height)
                        }
                    }
                }
            }
        }
    }

    @Test func manyLanesScrollAndSayHowManyAreHidden() throws {
        let model = try Runs.model(CountScenario(tasks: 40))
        var view = Runs.view("count")
        let top = ScreenLayout.screen(model: model, view: view, width: 80, height: 24).text
        #expect(top.contains("count#1 "))
        #expect(top.contains("+"))
        view.selectedLane = 35  // the list scrolls to keep the selected lane on screen
        let scrolled = ScreenLayout.screen(model: model, view: view, width: 80, height: 24).text
        #expect(!scrolled.contains("count#1 "))
        #expect(scrolled.contains("count#35"))
    }
}

extension LayoutTests {
    @Test func steppingBackInStepOrderShowsNothingThatHasNotHappenedYet() throws {
        // Found by a reviewer: at step 1 of count, the step axis drew count#1 running at step 8.
        let model = try Runs.model(CountScenario())
        var view = Runs.view("count", axis: .step)
        view.mode = .step
        view.cursor = 1
        let rows = Runs.laneRows(ScreenLayout.plain(model: model, view: view, width: 60))
        #expect(rows["main"] == "█╌")
        #expect(rows["count#1"] == "▒▒")  // an open state runs one column past the newest step
        #expect(rows.values.allSatisfy { $0.count <= 2 })
    }
}

extension LayoutTests {
    @Test func aDeadlineYearsAwayDoesNotTrapTheLayout() throws {
        // `loop.sleep(1e9)`, the "sleep forever" idiom, or a hostile stream's absurd numbers.
        let names = NameTable()
        let task = names.intern("main", kind: .task)
        var model = LaneModel(names: names)
        model.apply(TraceRecord(time: 0, kind: .taskSpawned, subject: task, state: .ready))
        model.apply(TraceRecord(time: 1, kind: .taskResumed, subject: task, state: .running))
        model.apply(TraceRecord(time: 2, kind: .taskSuspended, subject: task, value: 1_000_000_000_000_000_000,
                                detail: SuspendReason.sleep.rawValue, state: .sleeping))
        model.apply(TraceRecord(time: 2, kind: .loopIdle, subject: .none, value: 1_000_000_000_000_000_000))
        model.apply(TraceRecord(time: 3, kind: .gap, subject: .none, value: .max))
        model.apply(TraceRecord(time: 3, kind: .gap, subject: .none, value: .max))
        var view = Runs.view("forever")
        view.mode = .live
        for axis in [TimeAxis.time, .step] {
            view.axis = axis
            _ = ScreenLayout.screen(model: model, view: view, width: 80, height: 24)
        }
        #expect(model.dropped == .max)
    }
}
