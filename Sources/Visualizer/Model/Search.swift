/// Binary search over indices, shared by the model (steps, segment ends, trimming), the layout
/// (the segments and markers in a window) and the plain-text report (the segments a stall
/// overlapped): everything there is kept in time order.
public enum Search {
    /// The first index in `0..<count` for which `isBefore` is false (`isBefore` must hold for a
    /// prefix of the indices). O(log count).
    public static func partition(_ count: Int, _ isBefore: (Int) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if isBefore(mid) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
