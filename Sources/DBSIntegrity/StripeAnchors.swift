import DBSSystem
internal import Synchronization

/// Where the stripe records of a backup really are, when a byte inserted or a block
/// dropped (a disk rescued with `dd conv=noerror` without `sync`) moved every later
/// record of a copy off its nominal offset (issue 12, item 8; docs/FORMAT.md,
/// "Finding shifted stripes").
///
/// Built once, by the linear layout scan of item 3 (`LayoutScan`: magics with plausible
/// fields, checksums only, a budget of error-correcting decodes per file), the first
/// time a stripe of a copy fails where the layout puts it. A header found counts as an
/// anchor only if it replicates the elected descriptor exactly (same backup identity,
/// geometry, everything) and names a copy and stripe index the layout has, with the
/// right last-stripe flag; a head #1 found counts when it carries the elected descriptor
/// and stripe count. At most `candidatesPerRecord` anchors are kept per record (the
/// nearest to its nominal offset), so a file full of planted headers costs no more than
/// a few reads per stripe, and none of them is believed beyond what its shard checksums
/// then prove (`StripeRecovery` keeps the candidate whose shards verify).
struct StripeAnchors: Sendable {
    /// Per copy: the record offsets found for a stripe index, nearest to nominal first.
    private(set) var records: [[UInt64: [UInt64]]]
    /// Per copy: the anchored stripe indices in order, and the shift of each one's
    /// nearest anchor (for the stripes between anchors, whose headers are unreadable).
    private var indices: [[UInt64]] = []
    private var shifts: [[Int64]] = []
    /// The shift of the boundary before copy c's first record and after its last.
    private var startShift: [Int64]
    private var endShift: [Int64?]

    static let candidatesPerRecord = 4

    /// Scans `file` for the records of `layout` (descriptor `descriptor`).
    init(file: PositionedFile, fileLength: UInt64, descriptor: BackupDescriptor, layout: ContainerLayout) {
        let copies = layout.copies
        let count = layout.stripeCount
        var records = [[UInt64: [UInt64]]](repeating: [:], count: copies)
        var middleHeads: [UInt64] = []
        var scan = LayoutScan(file: file, fileLength: fileLength)
        func keep(_ offset: UInt64, nominal: UInt64, in list: inout [UInt64]) {
            guard !list.contains(offset),
                Self.distance(offset, nominal) <= layout.copyLength + UInt64(layout.headerSize)
            else { return }
            list.append(offset)
            list.sort { Self.distance($0, nominal) < Self.distance($1, nominal) }
            if list.count > Self.candidatesPerRecord { list.removeLast() }
        }
        scan.forEach { found in
            switch found {
            case .stripeHeader(let header, let offset):
                guard header.descriptor == descriptor, header.copy < copies, header.stripeIndex < count,
                    header.isLast == (header.stripeIndex + 1 == count)
                else { return true }
                keep(
                    offset, nominal: layout.recordOffset(copy: header.copy, stripe: header.stripeIndex),
                    in: &records[header.copy][header.stripeIndex, default: []])
            case .head(let head, let offset):
                guard head.headIndex == 1, head.descriptor == descriptor, head.stripeCount == count else { return true }
                keep(offset, nominal: layout.headRegionOffset(1), in: &middleHeads)
            }
            return true
        }
        // `records[c][i, default: []]` stores the empty list even when `keep` refused the
        // header (too far from its nominal offset): no stripe without an anchor is kept.
        records = records.map { $0.filter { !$0.value.isEmpty } }
        self.records = records
        // The file's start and end are fixed points: head #0 is the first block, head
        // #2's region the last; what lies between copy A and copy B is head #1.
        let tailShift = Int64(bitPattern: fileLength &- layout.fileLength)
        let middle = middleHeads.first.map { Int64(bitPattern: $0 &- layout.headRegionOffset(1)) }
        startShift = [0, middle ?? 0]
        endShift = copies == 1 ? [middle ?? tailShift] : [middle, tailShift]
        for copy in 0..<copies {
            let sorted = records[copy].keys.sorted()
            indices.append(sorted)
            shifts.append(
                sorted.map { Int64(bitPattern: records[copy][$0]![0] &- layout.recordOffset(copy: copy, stripe: $0)) })
        }
        if copies == 2, endShift[0] == nil, let first = indices[1].first, first == 0 {
            endShift[0] = shifts[1][0]  // copy B's first record right after head #1
        }
    }

    static func distance(_ a: UInt64, _ b: UInt64) -> UInt64 { a > b ? a - b : b - a }

    /// The shifts of the nearest anchors at or before stripe `index` of `copy` and after
    /// it (the copy's boundaries standing in where no header was found).
    func neighbourShifts(copy: Int, stripe index: UInt64) -> (before: Int64, after: Int64) {
        let list = indices[copy]
        var low = 0
        var high = list.count  // first position with list[p] > index
        while low < high {
            let mid = (low + high) / 2
            if list[mid] <= index { low = mid + 1 } else { high = mid }
        }
        let before = low > 0 ? shifts[copy][low - 1] : startShift[copy]
        let after = low < list.count ? shifts[copy][low] : (endShift[copy] ?? before)
        return (before, after)
    }

    /// Every shift found anywhere is zero: nothing moved (ordinary damage).
    var nothingShifted: Bool {
        shifts.allSatisfy { $0.allSatisfy { $0 == 0 } } && startShift.allSatisfy { $0 == 0 }
            && endShift.allSatisfy { ($0 ?? 0) == 0 }
    }
}

/// The anchors of one recovery, scanned for at most once, on the first stripe that
/// fails where the layout puts it (a healthy file is never scanned).
final class LazyStripeAnchors: Sendable {
    private let build: @Sendable () -> StripeAnchors
    private let built = Mutex<StripeAnchors?>(nil)

    init(file: PositionedFile, fileLength: UInt64, descriptor: BackupDescriptor, layout: ContainerLayout) {
        build = { StripeAnchors(file: file, fileLength: fileLength, descriptor: descriptor, layout: layout) }
    }

    var anchors: StripeAnchors {
        built.withLock { value in
            if let value { return value }
            let fresh = build()
            value = fresh
            return fresh
        }
    }
}
