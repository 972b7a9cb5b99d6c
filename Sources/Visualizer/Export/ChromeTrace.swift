import Foundation
import Trace

/// The Chrome Trace Event Format (what Perfetto and chrome://tracing open), from a lane model:
/// one track per lane in creation order, a slice per state segment (running, ready, `sleep`,
/// `wait Event#1`, …: they follow each other, never overlap), instants for timer fires, event
/// sets, output lines and slow steps, and a flow arrow from whoever woke a task to the slice
/// where it resumed. Timestamps in microseconds.
public enum ChromeTrace {
    public static func json(_ model: LaneModel, process: String) -> String {
        var events: [String] = []
        let names = model.names
        func tid(_ lane: Int) -> Int { lane + 1 }
        func micros(_ nanoseconds: Int64) -> String { String(format: "%.3f", Double(nanoseconds) / 1000) }
        func text(_ string: String) -> String { TraceFile.jsonString(string) }

        events.append(#"{"ph":"M","pid":1,"tid":0,"ts":0,"name":"process_name","args":{"name":\#(text(process))}}"#)
        var laneByID: [EntityID: Int] = [:]
        for (index, lane) in model.lanes.enumerated() {
            laneByID[lane.id] = index
            let label = lane.kind == .callback ? "\(lane.name) (callback)" : lane.name
            events.append(#"{"ph":"M","pid":1,"tid":\#(tid(index)),"ts":0,"name":"thread_name","args":{"name":\#(text(label))}}"#)
            events.append(#"{"ph":"M","pid":1,"tid":\#(tid(index)),"ts":0,"name":"thread_sort_index","args":{"sort_index":\#(index)}}"#)
            for segment in model.segments(of: lane) {
                let end = segment.endTime ?? model.lastTime
                events.append(#"{"ph":"X","pid":1,"tid":\#(tid(index)),"ts":\#(micros(segment.startTime)),"dur":\#(micros(max(0, end - segment.startTime))),"name":\#(text(sliceName(segment.state, names))),"cat":"state"}"#)
            }
            for marker in model.markers(of: lane) {
                guard let (name, args) = instant(marker.kind, names) else { continue }
                events.append(#"{"ph":"i","s":"t","pid":1,"tid":\#(tid(index)),"ts":\#(micros(marker.time)),"name":\#(text(name)),"cat":"event","args":{\#(args)}}"#)
            }
        }
        // Flow arrows: waker's slice → the woken task's next running slice.
        var flowID = 0
        for edge in model.wakes {
            guard let from = laneByID[edge.waker], let to = laneByID[edge.woken] else { continue }
            // Segments are in time order: find the first at the wake-up by binary search, then the
            // next running one (a scan from the lane's first segment made the export quadratic).
            let segments = model.segments(of: model.lanes[to])
            let from0 = Search.partition(segments.count) { segments[$0].startTime < edge.time }
            guard let resumed = segments[from0...].first(where: { $0.state == .running }) else { continue }
            flowID += 1
            let name = text("woken: \(edge.cause.words)")
            events.append(#"{"ph":"s","id":\#(flowID),"pid":1,"tid":\#(tid(from)),"ts":\#(micros(edge.time)),"name":\#(name),"cat":"wake"}"#)
            events.append(#"{"ph":"f","bp":"e","id":\#(flowID),"pid":1,"tid":\#(tid(to)),"ts":\#(micros(resumed.startTime)),"name":\#(name),"cat":"wake"}"#)
        }
        return "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" + events.joined(separator: ",\n") + "\n]}\n"
    }

    static func sliceName(_ state: LaneState, _ names: NameTable) -> String {
        Vocabulary.describe(state, names: names)
    }

    /// A marker as a Chrome instant: its name is the marker's label in ``Vocabulary``, with what
    /// it is about; its arguments carry the figures.
    static func instant(_ kind: LaneMarker.Kind, _ names: NameTable) -> (String, String)? {
        let label = Vocabulary.term(for: kind).label
        switch kind {
        case .timerFired: return (label, "")
        case .eventSet(let event): return ("\(label) \(names.name(event))", "")
        case .wrote(let socket, let bytes, let buffered):
            return ("\(label) \(names.name(socket))", #""bytes":\#(bytes),"buffered":\#(buffered)"#)
        case .output(let line): return (label, #""text":\#(TraceFile.jsonString(names.name(line)))"#)
        case .slowStep(let duration): return (label, #""ms":\#(Double(duration) / 1e6)"#)
        case .warning(.starved(let duration)): return (label, #""ms":\#(Double(duration) / 1e6)"#)
        case .warning(.lostWakeup(let primitive)): return (label, #""on":\#(TraceFile.jsonString(names.name(primitive)))"#)
        case .gap(let count): return (label, #""count":\#(count)"#)
        case .woken, .done: return nil
        }
    }
}
