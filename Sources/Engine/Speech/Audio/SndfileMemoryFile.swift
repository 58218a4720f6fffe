// SPDX-License-Identifier: Apache-2.0
import CSndfile

/// A file in memory that libsndfile reads or writes through its virtual I/O (`sf_open_virtual`).
///
/// libsndfile calls back with `user_data` pointing at this object, so it must stay alive while the
/// `SNDFILE` is open: create, open, use and close it inside one synchronous function.
final class SndfileMemoryFile {
    /// The file's bytes: the input when reading, what was written when writing.
    private(set) var bytes: [UInt8]
    private var position = 0

    init(bytes: [UInt8] = []) {
        self.bytes = bytes
    }

    /// Opens `self` with libsndfile (`info` is filled in when reading and read when writing), or
    /// returns libsndfile's reason for refusing. The caller must `sf_close` the handle while `self` lives.
    func open(mode: Int32, info: inout SF_INFO) -> Result<OpaquePointer, SndfileOpenError> {
        var io = Self.virtualIO
        guard let handle = sf_open_virtual(&io, mode, &info, Unmanaged.passUnretained(self).toOpaque()) else {
            return .failure(SndfileOpenError(message: String(cString: sf_strerror(nil))))
        }
        return .success(handle)
    }

    private static func file(_ userData: UnsafeMutableRawPointer?) -> SndfileMemoryFile {
        Unmanaged<SndfileMemoryFile>.fromOpaque(userData!).takeUnretainedValue()
    }

    private func seek(to offset: sf_count_t, whence: Int32) -> sf_count_t {
        let base: Int
        switch whence {
        case SEEK_SET: base = 0
        case SEEK_CUR: base = position
        case SEEK_END: base = bytes.count
        default: return -1
        }
        let (target, overflow) = base.addingReportingOverflow(Int(offset))
        // A writer may seek past the end (the gap is zero-filled on the next write); bound that so
        // a bad offset cannot make a write allocate gigabytes.
        guard !overflow, target >= 0, target <= bytes.count + (1 << 20) else { return -1 }
        position = target
        return sf_count_t(target)
    }

    private func read(into destination: UnsafeMutableRawPointer, count: Int) -> Int {
        guard count > 0, position < bytes.count else { return 0 }
        let length = min(count, bytes.count - position)
        bytes.withUnsafeBytes { source in
            destination.copyMemory(from: source.baseAddress! + position, byteCount: length)
        }
        position += length
        return length
    }

    private func write(from source: UnsafeRawPointer, count: Int) -> Int {
        guard count > 0 else { return 0 }
        if position > bytes.count {
            bytes.append(contentsOf: repeatElement(0, count: position - bytes.count))
        }
        let overlap = min(count, bytes.count - position)
        if overlap > 0 {
            bytes.withUnsafeMutableBytes { target in
                (target.baseAddress! + position).copyMemory(from: source, byteCount: overlap)
            }
        }
        if overlap < count {
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: source + overlap, count: count - overlap))
        }
        position += count
        return count
    }

    /// The callbacks: C function pointers, so they capture nothing and find the file through `user_data`.
    private static var virtualIO: SF_VIRTUAL_IO {
        SF_VIRTUAL_IO(
            get_filelen: { userData in sf_count_t(SndfileMemoryFile.file(userData).bytes.count) },
            seek: { offset, whence, userData in SndfileMemoryFile.file(userData).seek(to: offset, whence: whence) },
            read: { destination, count, userData in
                guard let destination else { return 0 }
                return sf_count_t(SndfileMemoryFile.file(userData).read(into: destination, count: Int(count)))
            },
            write: { source, count, userData in
                guard let source else { return 0 }
                return sf_count_t(SndfileMemoryFile.file(userData).write(from: source, count: Int(count)))
            },
            tell: { userData in sf_count_t(SndfileMemoryFile.file(userData).position) }
        )
    }
}

/// libsndfile refused to open a file (its `sf_strerror` text).
struct SndfileOpenError: Error {
    let message: String
}
