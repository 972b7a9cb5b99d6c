import Loop
import Scenarios
import Testing
import Trace
@testable import Visualizer

/// What the lane model, the step descriptions and the figures make of I/O records (the echo
/// scenario on real loopback sockets, virtual clock).
@Suite("I/O in the model")
struct IOModelTests {
    @Test func aHandlerWaitsOnItsSocketAndIsWokenByTheClientThatWrote() throws {
        let model = try Runs.model(EchoScenario())
        let handler = try #require(model.lanes.first { $0.name == "handle#1" })
        func waits(_ operation: IOOperation) -> Int {
            model.segments(of: handler).filter { if case .waitingIO(_, operation) = $0.state { true } else { false } }.count
        }
        #expect(waits(.read) == 3)  // two lines, then the end of the stream
        #expect(waits(.close) == 1)  // waitClosed
        // The first line from a: woken at 0.1 s by client#1's write, through the handler's socket.
        let client = try #require(model.lanes.first { $0.name == "client#1" })
        let wake = try #require(model.wakes.first { $0.woken == handler.id && $0.cause == .io && $0.time == 100_000_000 })
        #expect(wake.waker == client.id)
        #expect(model.names.name(wake.via).hasPrefix("fd "))
        #expect(model.markers(of: client).contains { if case .wrote(_, 4, false) = $0.kind { true } else { false } })  // "a 0\n"
        #expect(model.markers(of: handler).contains { $0.kind == .woken(cause: .io, by: client.id) })
    }

    @Test func aSocketBecomingReadyIsAStepDescribedInWords() throws {
        let model = try Runs.model(EchoScenario())
        let ioSteps = model.steps.indices.filter { model.steps[$0].kind == .io }
        #expect(!ioSteps.isEmpty)
        let described = ioSteps.map { StepDescription.describe(step: $0 + 1, in: model) }
        #expect(described.contains { $0.hasPrefix("t=0.100 fd ") && $0.contains(" readable: 4 bytes read from fd ") && $0.hasSuffix("→ handle#1 ready") })
        #expect(described.contains { $0.contains("end of stream on fd ") })
        // The schedule (CPython's format) leaves socket steps out.
        let schedule = ScheduleFormat.lines(Array(model.records), names: model.names)
        #expect(schedule.count == 56)
    }

    @Test func figuresCountIOWaitsAndTheLegendNamesTheGlyphs() throws {
        let model = try Runs.model(EchoScenario())
        let handler = try #require(model.lanes.first { $0.name == "handle#1" })
        let figures = TaskStatistics.of(handler, in: model, now: model.lastTime)
        #expect(figures.ioWaits == 4)
        #expect(figures.lines.contains { $0.hasPrefix("I/O waits ") })
        #expect(figures.suspended.first?.what.hasPrefix("I/O read fd ") == true)
        let count = try Runs.model(CountScenario())
        let counter = try #require(count.lanes.first { $0.name == "count#1" })
        #expect(!TaskStatistics.of(counter, in: count, now: count.lastTime).lines.contains { $0.hasPrefix("I/O") })
        for glyphs in [GlyphSet.unicode, .ascii] {
            let legend = HelpOverlay.legendLines(glyphs).joined(separator: "\n")
            #expect(legend.contains("\(glyphs.waitingIO) waiting on I/O") && legend.contains("\(glyphs.wokenByIO) woken by I/O"))
        }
        #expect(GlyphSet.ascii.waitingIO.isASCII && GlyphSet.ascii.wokenByIO.isASCII && GlyphSet.ascii.wrote.isASCII)
    }

    @Test func theIOStateIsDrawnWithItsOwnGlyph() throws {
        let model = try Runs.model(EchoScenario())
        let grid = ScreenLayout.plain(model: model, view: Runs.view("echo"), width: 80)
        let rows = Runs.laneRows(grid)
        #expect(rows["handle#1"]?.contains("≈") == true)
        #expect(rows["handle#1"]?.contains("↯") == true)
        #expect(rows["count#1"] == nil)
    }
}

/// One vocabulary: every place that shows a state or a marker takes it from ``Vocabulary``.
@Suite("Vocabulary")
struct VocabularyTests {
    @Test func everyStateAndMarkerHasOneGlyphAnASCIIFallbackAndWords() {
        let all = Vocabulary.legend.joined()
        #expect(Set(all.map(\.unicode)).count == all.count)  // no two share a glyph
        #expect(Set(all.map(\.ascii)).count == all.count)  // nor two ASCII fallbacks
        #expect(all.allSatisfy { $0.ascii.isASCII && !$0.sentence.isEmpty })
        // The glyph sets are built from it.
        #expect(GlyphSet.unicode.glyph(Vocabulary.waitingIO) == GlyphSet.unicode.waitingIO)
        #expect(GlyphSet.ascii.glyph(Vocabulary.waitingIO) == "%")
    }

    @Test func theLegendsTheLanesAndTheExportSpeakTheSameWords() throws {
        let model = try Runs.model(EventScenario())
        let names = model.names
        let waiting = LaneState.waiting(on: try #require(model.lanes.first { $0.name == "coro1#1" }.flatMap { lane in model.segments(of: lane).first {
            if case .waiting = $0.state { true } else { false }
        } }?.state).eventID)
        #expect(Vocabulary.describe(waiting, names: names) == "wait Event#1")
        #expect(ChromeTrace.sliceName(waiting, names) == "wait Event#1")
        let coro = try #require(model.lanes.first { $0.name == "coro1#1" })
        #expect(TaskStatistics.of(coro, in: model, now: model.lastTime).suspended.map(\.what) == ["wait Event#1"])
        #expect(HelpOverlay.legendLines(.unicode).joined(separator: "\n").contains("┈ waiting on an event, lock or queue"))
        #expect(Vocabulary.shortLegend(.unicode, withIO: false).hasPrefix("█ run ▒ ready ░ sleep ┈ wait ╌ await"))
        #expect(Vocabulary.shortLegend(.unicode, withIO: true).unicodeScalars.count <= 80)
        #expect(StepDescription.describe(step: 2, in: model).contains("waits on Event#1"))
    }

    @Test func readyCausesAndSuspendReasonsComeFromTheVocabularyToo() {
        for cause in ReadyCause.allCases {
            let term = Vocabulary.term(for: cause)
            // The lane's marker, the wake edge's words and the panel's reason are the table's.
            #expect(Vocabulary.term(for: LaneMarker.Kind.woken(cause: cause, by: .none)) == term.marker)
            #expect(cause.words == term.label)
            let entry = LoopQueues.Entry(kind: .task, subject: .none, cause: cause)
            #expect(LoopStatePanel.describe(entry, NameTable()).hasSuffix("— \(term.sentence ?? term.label)"))
        }
        #expect(Vocabulary.term(for: ReadyCause.timer).sentence == "its sleep is over")
        // A suspend reason is said with the verb of the state it leads to.
        #expect(Vocabulary.term(for: SuspendReason.primitive) == Vocabulary.waiting)
        #expect(Vocabulary.term(for: SuspendReason.children)?.verb == "awaits")
        #expect(Vocabulary.term(for: SuspendReason.yield) == nil)
    }

    @Test func chromeInstantsAndTheShortLegendUseTheTermsWords() {
        let names = NameTable()
        #expect(ChromeTrace.instant(.timerFired, names)?.0 == Vocabulary.timerFired.label)
        #expect(ChromeTrace.instant(.slowStep(duration: 1), names)?.0 == Vocabulary.slowStep.label)
        #expect(ChromeTrace.instant(.gap(count: 2), names)?.0 == Vocabulary.gap.label)
        // The one-line legend's short words are the terms' own (`run` for running), not code's.
        #expect(Vocabulary.running.legendWord == "run")
        #expect(Vocabulary.shortLegend(.unicode, withIO: false).contains("↑ \(Vocabulary.timerFired.legendWord) "))
    }

    @Test(arguments: [8, 256])
    func everyLaneStateHasAColorOfItsOwn(colorCount: Int) {
        // Waiting on I/O was cyan like awaiting tasks, told apart only by bold.
        let states: [CellStyle] = [.running, .ready, .sleeping, .waiting, .waitingIO, .awaiting]
        let pairs = states.map { CursesRenderer.colors(for: $0, colorCount: colorCount) }
        #expect(Set(pairs.map { "\($0.0)/\($0.1)" }).count == states.count, "\(pairs)")
    }
}

extension LaneState {
    /// The event a waiting state is about (tests).
    var eventID: EntityID {
        if case .waiting(let on) = self { return on }
        return .none
    }
}
