import Loop
import Scenarios
import Testing
import Trace
@testable import Visualizer

/// Finding one's way in a large run: the lane filter, hiding finished lanes, the spawn tree.
@Suite("Lane filter and order")
struct LaneFilterTests {
    @Test func thePromptEditsADraftThatEnterKeepsAndEscapeClears() {
        var view = Runs.view("count")
        view.editFilter(.insert("x"))  // no prompt open: nothing to type into
        #expect(view.filterDraft == nil && view.laneFilter == "")
        view.editFilter(.open)
        #expect(view.filterDraft == "")
        for character in "coux" { view.editFilter(.insert(character)) }
        view.editFilter(.deleteBackward)
        #expect(view.filterDraft == "cou" && view.activeFilter == "cou" && view.laneFilter == "")
        view.editFilter(.apply)
        #expect(view.filterDraft == nil && view.laneFilter == "cou")
        view.editFilter(.open)  // reopened on the filter in force, to edit it
        #expect(view.filterDraft == "cou")
        view.editFilter(.clear)
        #expect(view.filterDraft == nil && view.laneFilter == "")
    }

    @Test func onlyLanesWhoseNameContainsTheTextInAnyCaseAreShownAndTheHeaderSaysHowManyAreHidden() throws {
        let model = try Runs.model(CountScenario(tasks: 40))  // main, count#1 ... count#40
        var view = Runs.view("count")
        view.laneFilter = "COUNT#1"
        let shown = view.shownLanes(in: model).rows.map { model.lanes[$0.lane].name }
        #expect(shown == ["count#1"] + (10...19).map { "count#\($0)" })
        let grid = ScreenLayout.screen(model: model, view: view, width: 100, height: 30)
        let lines = grid.text.split(separator: "\n").map(String.init)
        #expect(lines[0].contains("FINISHED │ /COUNT#1: 30 of 41 lanes hidden │"))
        let laneLines = lines.dropFirst(2).prefix { !$0.hasPrefix("──") }
        #expect(laneLines.map { String($0.prefix(9)).trimmingCharacters(in: .whitespaces) } == shown)
        #expect(!grid.text.contains("count#2 ") && !grid.text.contains("main "))
        // Without the filter every lane is back and the header says nothing of hiding.
        view.laneFilter = ""
        let all = ScreenLayout.screen(model: model, view: view, width: 100, height: 30).text
        #expect(all.contains("main ") && !all.contains("hidden"))
    }

    @Test func whileTypingTheStatusLineIsThePromptAndTheLanesFollowTheDraft() throws {
        let model = try Runs.model(CountScenario(tasks: 40))
        var view = Runs.view("count")
        _ = view.applyViewAction(.filter(.open), model: model)
        for character in "t#3" { _ = view.applyViewAction(.filter(.insert(character)), model: model) }
        let lines = ScreenLayout.screen(model: model, view: view, width: 100, height: 30).text.split(separator: "\n").map(String.init)
        #expect(lines.last == " /t#3_  11 of 41 lanes │ Enter: keep │ Esc: clear")
        #expect(lines[2].hasPrefix("count#3 "))  // main and count#1... are gone already
        _ = view.applyViewAction(.filter(.insert("z")), model: model)
        let none = ScreenLayout.screen(model: model, view: view, width: 100, height: 30).text
        #expect(none.contains("no lane matches /t#3z (Esc clears)"))
        _ = view.applyViewAction(.filter(.clear), model: model)
        #expect(ScreenLayout.screen(model: model, view: view, width: 100, height: 30).text.contains("main "))
    }

    @Test func theSelectionMovesAmongTheShownLanesOnly() throws {
        let model = try Runs.model(CountScenario(tasks: 40))
        let index = { (name: String) in model.lanes.firstIndex { $0.name == name }! }
        var view = Runs.view("count")
        #expect(view.selectedLane == index("main"))
        _ = view.applyViewAction(.filter(.open), model: model)
        for character in "count#2" { _ = view.applyViewAction(.filter(.insert(character)), model: model) }
        _ = view.applyViewAction(.filter(.apply), model: model)
        // main is hidden: the selection goes to the first lane shown.
        #expect(view.selectedLane == index("count#2"))
        _ = view.applyViewAction(.scrollDown, model: model)
        #expect(view.selectedLane == index("count#20"))  // not count#3, which is hidden
        _ = view.applyViewAction(.pageDown, model: model)
        #expect(view.selectedLane == index("count#29"))  // the last of the eleven shown
        _ = view.applyViewAction(.scrollDown, model: model)
        #expect(view.selectedLane == index("count#29"))
        _ = view.applyViewAction(.scrollUp, model: model)
        #expect(view.selectedLane == index("count#28"))
        // The selection is the lane: it stays on count#28 when the filter goes.
        _ = view.applyViewAction(.filter(.clear), model: model)
        #expect(view.selectedLane == index("count#28"))
    }

    @Test func fHidesTheLanesFinishedByTheStepShown() throws {
        let model = try Runs.model(LockScenario())
        var view = Runs.view("lock")
        #expect(view.applyViewAction(.toggleFinished, model: model) && view.hideFinished)
        // worker#1 ends in step 6; the others go on.
        view.cursor = 6
        #expect(view.shownLanes(in: model).rows.map { model.lanes[$0.lane].name } == ["main", "worker#2", "worker#3"])
        let header = ScreenLayout.screen(model: model, view: view, width: 100, height: 30).text.split(separator: "\n")[0]
        #expect(header.contains("FINISHED │ finished: 1 of 4 lanes hidden │"))
        view.laneFilter = "worker"  // both at once: main by the filter, worker#1 as finished
        #expect(view.hiddenLanesSummary(view.shownLanes(in: model)) == "/worker, finished: 2 of 4 lanes hidden")
        view.laneFilter = ""
        // Stepping back, worker#1 has not finished yet: it is shown again.
        view.cursor = 5
        #expect(view.shownLanes(in: model).hidden == 0)
        // At the end every lane has finished, and the screen says why it is empty.
        view.cursor = nil
        #expect(view.shownLanes(in: model).rows.isEmpty)
        #expect(ScreenLayout.screen(model: model, view: view, width: 100, height: 30).text.contains("every lane has finished (f shows them)"))
        _ = view.applyViewAction(.toggleFinished, model: model)
        #expect(view.shownLanes(in: model).rows.count == 4)
    }

    @Test func aCallbackThatHasRunIsFinishedToo() throws {
        let model = try Runs.model(EventScenario())
        var view = Runs.view("event")
        view.hideFinished = true
        view.cursor = 3  // set_event's timer is armed: not finished
        #expect(view.shownLanes(in: model).rows.map { model.lanes[$0.lane].name }.contains("set_event"))
        view.cursor = 4  // it ran
        #expect(!view.shownLanes(in: model).rows.map { model.lanes[$0.lane].name }.contains("set_event"))
    }

    @Test func theTreePutsChildrenUnderTheirSpawnerIndentedAndCallbacksLast() throws {
        let count = try Runs.model(CountScenario())
        #expect(count.spawnTree == [TreeRow(lane: 0, depth: 0), TreeRow(lane: 1, depth: 1), TreeRow(lane: 2, depth: 1), TreeRow(lane: 3, depth: 1)])
        var view = Runs.view("count")
        view.treeOrder = true
        let lines = ScreenLayout.plain(model: count, view: view, width: 60).text.split(separator: "\n").map(String.init)
        #expect(lines[2].hasPrefix("main      █"))
        #expect(lines[3].hasPrefix("  count#1 █"))
        #expect(lines[4].hasPrefix("  count#2 █"))
        #expect(lines[5].hasPrefix("  count#3 █"))
        // Creation order puts the callback second; the tree puts it after the tasks.
        let event = try Runs.model(EventScenario())
        #expect(event.lanes.map(\.name) == ["main", "set_event", "coro1#1", "coro2#1"])
        #expect(event.spawnTree.map { "\(String(repeating: " ", count: 2 * $0.depth))\(event.lanes[$0.lane].name)" }
            == ["main", "  coro1#1", "  coro2#1", "set_event"])
        #expect(KeyMap.action(for: .character("T")) == .toggleTree)
    }

    @Test func theHelpListsEveryNavigationKey() throws {
        let keys = HelpOverlay.keys.map(\.0)
        for key in ["/", "f", "T", ". , ] ["] { #expect(keys.contains(key), "\(key)") }
        var view = Runs.view("count")
        view.showHelp = true
        let help = ScreenLayout.screen(model: try Runs.model(CountScenario()), view: view, width: 100, height: 30).text
        #expect(help.contains("filter lanes by name"))
        #expect(help.contains("next / previous: the lane's event; slow step or warning"))
        #expect(help.contains("lost wake-up: nothing alive"))  // the legend's last line still fits 30 rows
        // At 80×24 the keys fit, and the legend shrinks to its one-line form.
        let small = ScreenLayout.screen(model: try Runs.model(CountScenario()), view: view, width: 80, height: 24).text
        #expect(small.contains("next / previous: the lane's event; slow step or warning"))
        #expect(small.contains("loopviz keys (every glyph: a taller terminal, or --plain)"))
        #expect(small.contains("? help"))
    }

    @Test func grandchildrenGoUnderTheirParentNotAfterEveryChild() {
        // root spawns a and b; a spawns a1 after b was spawned. Creation order: root a b a1.
        let names = NameTable()
        let ids = ["root#1", "a#1", "b#1", "a1#1"].map { names.intern($0, kind: .task) }
        var model = LaneModel(names: names)
        model.apply(TraceRecord(time: 0, kind: .taskSpawned, subject: ids[0], state: .ready))
        model.apply(TraceRecord(time: 0, kind: .taskSpawned, subject: ids[1], other: ids[0], state: .ready))
        model.apply(TraceRecord(time: 0, kind: .taskSpawned, subject: ids[2], other: ids[0], state: .ready))
        model.apply(TraceRecord(time: 1, kind: .taskSpawned, subject: ids[3], other: ids[1], state: .ready))
        var view = Runs.view("tree")
        view.treeOrder = true
        #expect(view.shownLanes(in: model).rows.map { ViewState.label($0, in: model) } == ["root#1", "  a#1", "    a1#1", "  b#1"])
        // Filtered, a lane keeps its depth: the indentation still says where it sits.
        view.laneFilter = "a1"
        #expect(view.shownLanes(in: model).rows.map { ViewState.label($0, in: model) } == ["    a1#1"])
    }
}

@Suite("Jumps")
struct JumpTests {
    @Test func dotAndCommaGoToTheSelectedLanesNextAndPreviousEvent() throws {
        let model = try Runs.model(LockScenario())
        let worker2 = try #require(model.lanes.firstIndex { $0.name == "worker#2" })
        // Steps: 1 main, 2-4 workers, 5 timer, 6 worker#1 lets the lock go (worker#2 woken),
        // 7 worker#2 acquires, 8 its timer, 9 it finishes.
        #expect(model.eventSteps(of: model.lanes[worker2]) == [3, 6, 7, 8, 9])
        #expect(model.jumpTarget(.nextLaneEvent, from: 1, lane: worker2) == 3)
        #expect(model.jumpTarget(.nextLaneEvent, from: 3, lane: worker2) == 6)
        #expect(model.jumpTarget(.previousLaneEvent, from: 8, lane: worker2) == 7)
        #expect(model.jumpTarget(.previousLaneEvent, from: model.steps.count, lane: worker2) == 9)
        #expect(model.jumpTarget(.nextLaneEvent, from: 9, lane: worker2) == nil)
        #expect(model.jumpTarget(.previousLaneEvent, from: 3, lane: worker2) == nil)
        #expect(StepDescription.describe(step: 3, in: model).contains("step worker#2"))
    }

    @Test func bracketsGoToSlowStepsAndWarnings() throws {
        let model = try Runs.model(BlockingScenario())
        let slow = try #require(model.slowSteps.first).step
        // The slow step, then the two tickers it starved (flagged when they finally run).
        let starved = model.warnings.map(\.step).sorted()
        #expect(starved.count == 2 && starved.allSatisfy { $0 > slow })
        #expect(model.warningSteps == [slow] + starved)
        #expect(model.jumpTarget(.nextWarning, from: 0, lane: 0) == slow)
        #expect(model.jumpTarget(.nextWarning, from: slow, lane: 0) == starved[0])
        #expect(model.jumpTarget(.previousWarning, from: model.steps.count, lane: 0) == starved[1])
        #expect(model.jumpTarget(.nextWarning, from: starved[1], lane: 0) == nil)
        // Lost records are warnings too.
        let names = NameTable()
        let task = names.intern("t#1", kind: .task)
        var gappy = LaneModel(names: names)
        gappy.apply(TraceRecord(time: 0, kind: .taskSpawned, subject: task, state: .ready))
        gappy.apply(TraceRecord(time: 0, kind: .taskResumed, subject: task, state: .running))
        gappy.apply(TraceRecord(time: 1, kind: .taskSuspended, subject: task, value: 9, detail: SuspendReason.sleep.rawValue, state: .sleeping))
        gappy.apply(TraceRecord(time: 9, kind: .timerFired, subject: task))
        gappy.apply(TraceRecord(time: 9, kind: .gap, subject: .none, value: 3))
        #expect(gappy.warningSteps == [2])
    }

    @Test func aReplayMovesItsCursorToTheJumpAndStopsPlaying() throws {
        let model = try Runs.model(LockScenario())
        let session = ReplaySession(model: model, scenario: "lock", clock: .virtual, speed: 1, startPaused: false)
        for _ in 0..<2 { session.apply(.scrollDown) }  // main → worker#1 → worker#2
        session.apply(.jump(.nextLaneEvent))
        #expect(session.view.cursor == 3 && session.view.mode == .step)
        session.apply(.jump(.nextLaneEvent))
        #expect(session.view.cursor == 6)
        session.apply(.jump(.previousLaneEvent))
        #expect(session.view.cursor == 3)
        // Nowhere to go: the cursor stays and the status line says so, until the next key.
        session.apply(.jump(.previousLaneEvent))
        #expect(session.view.cursor == 3 && session.view.notice == "no earlier event of worker#2")
        let status = ScreenLayout.screen(model: model, view: session.view, width: 100, height: 30).text.split(separator: "\n").last
        #expect(status == " step 3/13 │ no earlier event of worker#2")
        session.apply(.scrollUp)
        #expect(session.view.notice == nil)
    }
}

@Suite("Latency histogram")
struct LatencyHistogramTests {
    @Test func bucketsFromZeroToTheLongestWaitWithBarsAndCounts() throws {
        // ticker#1 of `blocking`: four waits of 0, one of 450 ms behind the blocking call.
        let model = try Runs.model(BlockingScenario())
        let ticker = try #require(model.lanes.first { $0.name == "ticker#1" })
        let histogram = LatencyHistogram(latencies: TaskStatistics.of(ticker, in: model, now: model.lastTime).latencies)
        #expect(histogram.counts == [4, 0, 0, 0, 1])
        #expect(histogram.lines(unicode: true) == [
            "     0–90 ms │████████████████ 4",
            "   90–180 ms │                 0",
            "  180–270 ms │                 0",
            "  270–360 ms │                 0",
            "  360–450 ms │████             1",
        ])
        let ascii = histogram.lines(unicode: false)
        #expect(ascii.allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) })
        #expect(ascii.first == "     0-90 ms |################ 4")
        #expect(ascii.last == "  360-450 ms |####             1")
    }

    @Test func anOutlierIsNeverInvisibleAndNoWaitsDrawNothing() {
        let histogram = LatencyHistogram(latencies: Array(repeating: 1_000, count: 500) + [1_000_000])
        #expect(histogram.counts == [500, 0, 0, 0, 1])
        #expect(histogram.lines(unicode: true).last?.contains("│▏ ") == true)
        #expect(histogram.lines(unicode: false).last?.contains("|# ") == true)
        #expect(LatencyHistogram(latencies: []).lines(unicode: true).isEmpty)
        // The virtual clock: every wait 0, one bucket.
        #expect(LatencyHistogram(latencies: [0, 0, 0]).lines(unicode: true) == ["  0 ms │████████████████ 3"])
    }

    @Test func theFiguresPanelShowsTheSelectedLanesHistogram() throws {
        let model = try Runs.model(BlockingScenario())
        var view = Runs.view("blocking")
        view.selectedLane = try #require(model.lanes.firstIndex { $0.name == "ticker#1" })
        view.showStats = true
        let text = ScreenLayout.screen(model: model, view: view, width: 100, height: 40).text
        #expect(text.contains("360–450 ms │████             1"))
        view.glyphs = .ascii
        let ascii = ScreenLayout.screen(model: model, view: view, width: 100, height: 40).text
        #expect(ascii.contains("360-450 ms |####             1"))
    }
}
