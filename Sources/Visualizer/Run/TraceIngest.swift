import Trace

/// Where records come from: the in-process ring of a running loop, a recording file, or the
/// stream of a program served for `loopviz attach`. Each gives what it has now.
public protocol TraceSource {
    /// The records that arrived since the last call (empty: nothing new now).
    /// - Throws: a damaged source (a stream), in one line.
    mutating func take() throws -> [TraceRecord]
}

/// The ring a running loop writes (one consumer: the caller).
public struct RingSource: TraceSource {
    public let ring: TraceRing
    public init(ring: TraceRing) { self.ring = ring }
    public mutating func take() -> [TraceRecord] {
        var batch: [TraceRecord] = []
        ring.drain(into: &batch)
        return batch
    }
}

/// A recording file, read a chunk at a time: a replay holds no more of it than its model keeps.
public struct FileSource: TraceSource {
    public private(set) var reader: TraceFile.Reader
    /// Opens `path` and reads its header and metadata (`salvage`: stop at damage, keep what came before).
    public init(path: String, salvage: Bool = false, chunkSize: Int = 1 << 20) throws(TraceFileError) {
        reader = try TraceFile.Reader(path: path, salvage: salvage, chunkSize: chunkSize)
    }
    /// The file has nothing more to give (an empty batch alone does not say so).
    public var finished: Bool { reader.finished }
    public mutating func take() throws -> [TraceRecord] { try reader.next() }
}

/// The one path records take into the model, whatever their source, with one error policy:
/// the recording first (it writes the batch's names before the model's bounded history may let
/// old printed text go), then the model. A recording that cannot be written does not stop the
/// run: the first error is kept and reported by ``finish(ringDropped:complete:)``.
public struct TraceIngest {
    public private(set) var model: LaneModel
    private let recorder: TraceFileWriter?
    public private(set) var recordError: String?

    public init(model: LaneModel, recorder: TraceFileWriter?) {
        self.model = model
        self.recorder = recorder
    }

    /// Takes one batch in. Returns whether it held anything.
    @discardableResult
    public mutating func take(_ batch: [TraceRecord]) -> Bool {
        guard !batch.isEmpty else { return false }
        if let recorder {
            recorder.append(batch)
            do { try recorder.flush() } catch where recordError == nil { recordError = "\(error)" } catch {}
        }
        for record in batch { model.apply(record) }
        return true
    }

    /// Everything `source` has now. Returns whether there was anything.
    @discardableResult
    public mutating func take<Source: TraceSource>(from source: inout Source) throws -> Bool {
        try take(source.take())
    }

    /// The run is over: records the ring lost at its very end are counted, and the recording
    /// gets its end line if the run is `complete` (a run cut short leaves a cut file, as a killed
    /// one would). Returns the recording's error, if writing it failed at any point.
    public mutating func finish(ringDropped: Int, complete: Bool = true) -> String? {
        model.accountForTrailingDrops(ringDropped: ringDropped)
        if complete, let recorder {
            do { try recorder.finish(dropped: ringDropped) } catch where recordError == nil { recordError = "\(error)" } catch {}
        }
        return recordError
    }
}
