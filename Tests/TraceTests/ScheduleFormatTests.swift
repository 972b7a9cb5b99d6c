import Testing
import Trace

@Suite("ScheduleFormat and NameTable")
struct ScheduleFormatTests {
    @Test func secondsAreFormattedAsPythonsThreeDecimals() {
        #expect(ScheduleFormat.formatSeconds(0) == "0.000")
        #expect(ScheduleFormat.formatSeconds(1.0026) == "1.003")
        #expect(ScheduleFormat.formatSeconds(0.0004) == "0.000")
        #expect(ScheduleFormat.formatSeconds(1.5) == "1.500")
        #expect(ScheduleFormat.formatSeconds(12.0456) == "12.046")
    }

    @Test func linesComeFromSlicesTimersAndCallbacks() {
        let names = NameTable()
        let main = names.intern("main", kind: .task)
        let callback = names.intern("set_event", kind: .callback)
        let soon = names.intern("tick", kind: .callback)
        let records = [
            TraceRecord(time: 0, kind: .taskSpawned, subject: main),
            TraceRecord(time: 0, kind: .taskResumed, subject: main),
            TraceRecord(time: 0, kind: .taskSuspended, subject: main),
            TraceRecord(time: 1_000_000_000, kind: .timerFired, subject: main),
            TraceRecord(time: 1_000_000_000, kind: .callbackStarted, subject: callback, detail: CallbackOrigin.timer.rawValue),
            TraceRecord(time: 1_000_000_000, kind: .callbackStarted, subject: soon, detail: CallbackOrigin.soon.rawValue),
            TraceRecord(time: 1_500_000_000, kind: .taskResumed, subject: main),
            TraceRecord(time: 1_500_000_000, kind: .taskDone, subject: main),
        ]
        #expect(ScheduleFormat.text(records, names: names) == """
            0.000 step main
            1.000 timer sleep
            1.000 timer set_event
            1.000 call tick
            1.500 step main
            1.500 done main

            """)
    }

    @Test func unknownIdsReadAsPlaceholdersNotCrashes() {
        let names = NameTable()
        #expect(names.name(EntityID(rawValue: 99)) == "?99")
        let id = names.intern("Event#1", kind: .event)
        #expect(names.entry(id) == NameTable.Entry(kind: .event, name: "Event#1"))
    }
}

struct NameTableTests {
    /// Entries keep their kind in the top bits of their text's index.
    @Test func everyKindAndNameSurvivesTheCompactEntry() {
        let names = NameTable()
        var ids: [(EntityID, EntityKind, String)] = []
        for kind in EntityKind.allCases {
            ids.append((names.intern("plain \(kind)", kind: kind), kind, "plain \(kind)"))
            ids.append((names.intern("base", number: 7, kind: kind), kind, "base#7"))
        }
        for (id, kind, name) in ids { #expect(names.entry(id) == NameTable.Entry(kind: kind, name: name)) }
    }
}
